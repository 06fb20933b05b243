"""A frozen event store never hangs the service. The store runs as its own process and is
paused with SIGSTOP (a disk stall, a network black hole, a long GC pause) for several times a
short deadline while commands, queries, an MCP tool call and health checks run, then resumed
with SIGCONT. The bounds asserted are the issue's contract: a command answers 503 within the
deadline plus one second, `/healthz` within 1 s, `/readyz` 503 within 2 s; afterwards the
service recovers without a restart and retried keys are answered as what happened to them."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
from mcp import Client

from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.eventstore.deadlines import within
from caseledger.adapters.http.app import create_app
from caseledger.adapters.http.server import HttpServer
from caseledger.adapters.integration.contracts import IntegrationEvent
from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.integration.relay import RELAY_NAME
from caseledger.adapters.mcp.identity import AgentIdentity, IdentitySource
from caseledger.adapters.mcp.server import build_server
from caseledger.adapters.mcp.tools import CaseTools
from caseledger.adapters.outbound import Outbound
from caseledger.adapters.settings import Settings
from caseledger.adapters.store_calls import THREADS
from caseledger.domain.application.ports import EventStoreUnavailable
from tests.support.actors import ANALYST
from tests.support.commands import envelope
from tests.support.live_service import TOKENS
from tests.support.nats import require_nats
from tests.support.ports import free_port
from tests.support.store_process import StoreProcess

pytestmark = pytest.mark.slow

DEADLINE = 1.0
"""CASELEDGER_EVENTSTORE_TIMEOUT for these tests."""
FROZEN_FOR = 4 * DEADLINE
COMMAND_BOUND = DEADLINE + 1.0
HEALTH_BOUND = 1.0
READY_BOUND = 2.0
CLIENTS = THREADS + 4
"""Concurrent command clients: more than the request threads that may wait on the store."""


@dataclass
class Service:
    app: App
    url: str
    store: StoreProcess

    def client(self, token: str = "tok-analyst-t1") -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60.0)


@dataclass
class Answered:
    """What a caller got, and how long it took."""

    status: int
    seconds: float
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    key: str = ""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    (tmp_path / "store").mkdir()
    store = StoreProcess(free_port(), tmp_path / "store", tmp_path / "store.log")
    store.start()
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(TOKENS)
    settings = Settings(
        data_dir=tmp_path / "data",
        eventstore_url=store.url,
        eventstore_timeout=DEADLINE,
        tokens_file=tokens,
    )
    app = bootstrap(settings).start()
    server = HttpServer.start(create_app(app))
    try:
        _until(lambda: app.ready()[0], "the service is ready")
        yield Service(app, server.url, store)
    finally:
        store.process.send_signal(signal.SIGCONT)
        server.stop()
        app.close()
        store.kill()


def _until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.05)


def _timed(call: Callable[[], httpx.Response], key: str = "") -> Answered:
    started = time.monotonic()
    response = call()
    seconds = time.monotonic() - started
    body = response.json() if response.content else {}
    return Answered(response.status_code, seconds, body, dict(response.headers), key)


def _open_case(client: httpx.Client, case_id: str) -> Answered:
    body = {
        "command_type": "open_case",
        "idempotency_key": f"open-{case_id}",
        "payload": {"case_id": case_id, "allegation_summary": "Unlicensed lending"},
    }
    return _timed(lambda: client.post("/v1/commands", json=body), key=case_id)


def _case_summary(client: httpx.Client, case_id: str) -> Answered:
    body = {"query_type": "get_case_summary", "payload": {"case_id": case_id}}
    return _timed(lambda: client.post("/v1/queries", json=body))


def _poll(
    service: Service, path: str, until: threading.Event, into: list[Answered], pause: float
) -> None:
    with httpx.Client(base_url=service.url, timeout=60.0) as client:
        while not until.is_set():
            into.append(_timed(lambda: client.get(path)))
            until.wait(pause)


def _commands(service: Service, worker: int, until: threading.Event, into: list[Answered]) -> None:
    with service.client() as client:
        n = 0
        while not until.is_set():
            n += 1
            into.append(_open_case(client, f"case-frozen-{worker}-{n}"))


def _mcp_proposal(service: Service, into: list[Answered]) -> None:
    identity = AgentIdentity("t1", "risk-bot", "run-1")
    tools = CaseTools(service.app.commands, service.app.queries, IdentitySource(identity).current)
    server = build_server(tools, timeout=DEADLINE)

    async def main() -> Any:
        async with Client(server) as client:
            started = time.monotonic()
            result = await client.call_tool(
                "create_notice_draft",
                {
                    "case_id": "case-before",
                    "recipient": "lender@example.com",
                    "subject": "Notice",
                    "body": "Stop lending",
                    "idempotency_key": "draft-frozen",
                },
            )
            seconds = time.monotonic() - started
            text = result.content[0].text if result.content else ""
            into.append(Answered(0, seconds, {"is_error": result.is_error, "text": text}))

    anyio.run(main)


@dataclass
class Freeze:
    """Everything asked while the store was frozen, and of the health checks since."""

    commands: list[Answered] = field(default_factory=list)
    health: list[Answered] = field(default_factory=list)
    ready: list[Answered] = field(default_factory=list)
    queries: list[Answered] = field(default_factory=list)
    tools: list[Answered] = field(default_factory=list)
    health_checks: threading.Thread | None = None


def _freeze(service: Service, checks_until: threading.Event) -> Freeze:
    """With commands running, SIGSTOP the store; run callers for FROZEN_FOR seconds; SIGCONT.
    Health checks go on until `checks_until` is set."""
    seen = Freeze()
    frozen_until = threading.Event()
    seen.health_checks = threading.Thread(
        target=_poll, args=(service, "/healthz", checks_until, seen.health, 0.1)
    )
    seen.health_checks.start()
    commands = [
        threading.Thread(target=_commands, args=(service, i, frozen_until, seen.commands))
        for i in range(CLIENTS)
    ]
    for thread in commands:
        thread.start()
    _until(lambda: len(seen.commands) >= CLIENTS, "commands are being answered")
    service.store.process.send_signal(signal.SIGSTOP)  # some commands are inside the store now
    threads = [
        *commands,
        threading.Thread(target=_poll, args=(service, "/readyz", frozen_until, seen.ready, 0.3)),
        threading.Thread(target=_mcp_proposal, args=(service, seen.tools)),
    ]
    for thread in threads[CLIENTS:]:
        thread.start()
    with service.client() as client:
        for _ in range(3):  # the first waits for the head (freshness), the others need not
            seen.queries.append(_case_summary(client, "case-before"))
    time.sleep(max(0.0, FROZEN_FOR - DEADLINE))
    frozen_until.set()
    for thread in threads:
        thread.join(COMMAND_BOUND + 30)
    service.store.process.send_signal(signal.SIGCONT)
    return seen


def test_a_frozen_store_gets_bounded_answers_and_the_service_recovers_without_a_restart(
    service: Service,
) -> None:
    with service.client() as client:
        opened = _open_case(client, "case-before")
        assert opened.status == 200, opened.body
        assert service.app.wait_for_views(opened.body["commit_position"], timeout=30)

    checks_until = threading.Event()
    seen = Freeze()
    try:
        seen = _freeze(service, checks_until)
        _assert_bounded_while_frozen(seen)
        retried = _retry_until_answered(service, [a for a in seen.commands if a.status != 200])
        _until(lambda: _ready(service), "/readyz answers 200 again")
        with service.client() as client:
            after = _open_case(client, "case-after")
        assert after.status == 200, after.body
        assert service.app.wait_for_views(after.body["commit_position"], timeout=30)
    finally:
        checks_until.set()
        if seen.health_checks is not None:
            seen.health_checks.join(30)
    _assert_retried_keys_answered_as_what_happened(retried)
    assert max(h.seconds for h in seen.health) <= HEALTH_BOUND, _slowest(seen.health)
    assert all(h.status == 200 for h in seen.health)


def _assert_bounded_while_frozen(seen: Freeze) -> None:
    refused = [a for a in seen.commands if a.status != 200]
    assert len(refused) >= CLIENTS  # every client was refused at least once
    for answered in refused:
        assert answered.status == 503, answered.body
        assert answered.body["reason_code"] == "event_store_unavailable"
        assert answered.headers["retry-after"] == "1"
    assert max(a.seconds for a in seen.commands) <= COMMAND_BOUND, _slowest(seen.commands)
    assert seen.ready, "no readiness check ran"
    for answered in seen.ready:
        assert answered.status == 503, answered.body
        assert "event store" in answered.body["detail"]
        assert answered.seconds <= READY_BOUND, _slowest(seen.ready)
    for answered in seen.queries:
        assert answered.status == 200, answered.body
        assert answered.body["data"]["case_summary"]["case_id"] == "case-before"
        assert answered.seconds <= COMMAND_BOUND, _slowest(seen.queries)
    [tool] = seen.tools
    assert tool.body["is_error"], tool.body
    assert "event store is unavailable" in tool.body["text"]  # ... saying to retry
    assert tool.seconds <= COMMAND_BOUND


def _retry_until_answered(
    service: Service, timed_out: list[Answered]
) -> list[tuple[bool, Answered]]:
    """Each timed-out key retried once the store answers again, with whether its first try
    had landed (its case was opened) before the retry."""
    with service.client() as client:
        _until(lambda: _open_case(client, "case-probe").status == 200, "commands succeed again")
        landed = _opened_cases(service.app)
        return [(a.key in landed, _open_case(client, a.key)) for a in timed_out]


def _opened_cases(app: App) -> set[str]:
    """The ids of the cases opened in the store so far (read from `$all`, whatever the
    streams are named)."""
    head = app.store.head_position()
    subscription = app.store.subscribe_all(None)
    opened: set[str] = set()
    try:
        for event in subscription:
            if event.type == "case.opened":
                opened.add(orjson.loads(event.data)["case_id"])
            if event.commit_position >= head:
                return opened
    finally:
        subscription.stop()
    return opened


def _assert_retried_keys_answered_as_what_happened(retried: list[tuple[bool, Answered]]) -> None:
    for landed, answered in retried:
        expected = "duplicate_accepted" if landed else "accepted"
        assert answered.status == 200, answered.body
        assert answered.body["status"] == expected, (answered.key, answered.body)


def _ready(service: Service) -> bool:
    return httpx.get(f"{service.url}/readyz", timeout=10).status_code == 200


def _slowest(answers: list[Answered]) -> str:
    slowest = max(answers, key=lambda a: a.seconds)
    return f"slowest {slowest.seconds:.2f}s: {slowest.status} {slowest.body}"


@pytest.mark.nats
def test_the_runner_and_the_relay_resume_from_their_checkpoints_after_a_freeze(
    tmp_path: Path,
) -> None:
    nats_url = require_nats()
    tag = uuid.uuid4().hex[:10]
    (tmp_path / "store").mkdir()
    store = StoreProcess(free_port(), tmp_path / "store", tmp_path / "store.log")
    store.start()
    settings = Settings(
        data_dir=tmp_path / "data",
        eventstore_url=store.url,
        eventstore_timeout=DEADLINE,
        nats_url=nats_url,
        nats_stream=f"CLTEST_{tag}",
        nats_prefix=f"cltest{tag}",
        outbox="on",
    )
    app = bootstrap(settings).start()
    outbound = app.start_outbound()
    try:
        assert outbound.outbox is not None
        before = _opened(app, "case-relay-before")
        _until(lambda: _relayed_past(outbound.outbox, before), "the relay published it")

        store.process.send_signal(signal.SIGSTOP)
        time.sleep(FROZEN_FOR)
        store.process.send_signal(signal.SIGCONT)

        after = _opened(app, "case-relay-after")
        assert app.wait_for_views(after, timeout=60)
        _until(lambda: _relayed_past(outbound.outbox, after), "the relay published it")
        published = _published(outbound, settings.nats_prefix, settings.nats_stream)
        assert sorted(published) == ["case-relay-after", "case-relay-before"]
    finally:
        store.process.send_signal(signal.SIGCONT)
        outbound.stop(discard_stream=True)
        app.close()
        store.kill()


def _opened(app: App, case_id: str) -> int:
    """Open a case through the command service (retried while the store is not back)."""
    opening = envelope(
        "open_case",
        {"case_id": case_id, "allegation_summary": "Lending"},
        ANALYST,
        key=f"open-{case_id}",
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with within(DEADLINE):
                result = app.commands.handle(opening)
        except EventStoreUnavailable:
            assert time.monotonic() < deadline, "the store did not come back"
            continue
        assert result.commit_position is not None, result
        return result.commit_position


def _relayed_past(outbox: SqliteOutbox | None, position: int) -> bool:
    assert outbox is not None
    checkpoint = outbox.checkpoint(RELAY_NAME)
    return checkpoint is not None and checkpoint >= position


def _published(outbound: Outbound, prefix: str, stream: str) -> list[str]:
    """The case ids of the `case.opened` contracts in the stream, each message once."""
    assert outbound.broker is not None
    consumer = outbound.broker.pull(f"{prefix}.>", "freeze-test", stream, ack_wait=30)
    cases: list[str] = []
    while batch := consumer.fetch(50, timeout=0.5):
        for message in batch:
            cases.append(IntegrationEvent.parse(message.data).data["case_id"])
            message.ack()
    return cases
