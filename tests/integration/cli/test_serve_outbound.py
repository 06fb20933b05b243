"""`caseledger serve` with the outbox relay and the notification worker, as a real process on the
machine's NATS JetStream (a stream of the test's own) and an SMTP sink: a notice approved and
sent over HTTP reaches the recipient once and is recorded as sent; SIGTERM stops everything."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from caseledger.adapters.integration.jetstream import JetStream
from caseledger.adapters.notifications.sink import SmtpSink
from tests.support.cli import Served, serve_env, start_serve
from tests.support.nats import require_nats

pytestmark = [pytest.mark.slow, pytest.mark.nats]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    started = SmtpSink.start()
    yield started
    started.stop()


@pytest.fixture
def served(tmp_path: Path, sink: SmtpSink) -> Iterator[Served]:
    nats_url = require_nats()
    tag = uuid.uuid4().hex[:10]
    env = serve_env(
        tmp_path,
        nats_url=nats_url,
        nats_stream=f"CLTEST_{tag}",
        nats_prefix=f"cltest{tag}",
        outbox="on",
        smtp_host=sink.host,
        smtp_port=str(sink.port),
    )
    started = start_serve(tmp_path, env)
    try:
        yield started
    finally:
        started.stop()
        broker = JetStream.connect(nats_url)
        broker.delete_stream(f"CLTEST_{tag}")
        broker.close()


def _command(served: Served, who: str, command_type: str, payload: dict[str, Any]) -> Any:
    answer = httpx.post(
        f"{served.url}/v1/commands",
        json={"command_type": command_type, "payload": payload},
        headers={"Authorization": f"Bearer {served.tokens[who]}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _drafts(served: Served, case_id: str) -> list[dict[str, Any]]:
    answer = httpx.post(
        f"{served.url}/v1/queries",
        json={"query_type": "list_notice_drafts", "payload": {"case_id": case_id}},
        headers={"Authorization": f"Bearer {served.tokens['reviewer']}"},
    )
    assert answer.status_code == 200, answer.text
    drafts: list[dict[str, Any]] = answer.json()["data"]["notice_drafts"]
    return drafts


def _send_a_notice_over_http(served: Served, case_id: str, draft_id: str) -> None:
    _command(served, "analyst", "open_case", {"case_id": case_id, "allegation_summary": "x"})
    notice = {
        "draft_id": draft_id,
        "case_id": case_id,
        "recipient": "lender@example.com",
        "subject": "Cease and desist",
        "body": "Stop lending above the legal cap.",
    }
    drafted = _command(served, "agent", "create_notice_draft", notice)
    asked = _command(served, "agent", "request_notice_approval", {"draft_id": draft_id})
    approval = {
        "draft_id": draft_id,
        "approval_request_id": asked["approval_request_id"],
        "digest": drafted["events"][0]["payload"]["digest"],
    }
    _command(served, "reviewer", "approve_notice_draft", approval)
    _command(served, "supervisor", "send_approved_notice", {"draft_id": draft_id})


def test_serve_relays_the_send_request_and_its_worker_delivers_the_notice_once(
    served: Served, sink: SmtpSink
) -> None:
    text = served.log.read_text()
    assert "outbox relay integration events to" in text, text
    assert f"sent over SMTP {sink.host}:{sink.port}" in text, text

    _send_a_notice_over_http(served, "out-1", "out-notice-1")

    deadline = time.monotonic() + 30
    while [d["status"] for d in _drafts(served, "out-1")] != ["sent"]:
        assert time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.1)
    (message,) = sink.messages
    assert (message["To"], message["Subject"]) == ("lender@example.com", "Cease and desist")
    assert served.stop() == 0
    assert "stopped cleanly" in served.log.read_text()
    assert sink.message_ids() == [message["Message-ID"]]
