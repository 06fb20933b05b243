"""The console's "done when": a newcomer runs `caseledger serve`, runs the commands it prints
(an agent proposes a risk update), opens `/console`, signs in with the printed reviewer token
and approves the proposal by clicking (no JSON), and the decision is committed."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.console.conftest import Visitor
from tests.support.cli import serve_env, start_serve

pytestmark = pytest.mark.slow


def test_a_newcomer_approves_the_agents_proposal_printed_by_serve(tmp_path: Path) -> None:
    served = start_serve(tmp_path, serve_env(tmp_path, outbox="off"))
    try:
        text = served.log.read_text()
        assert f"web console  {served.url}/console" in text
        steps = [line.strip() for line in text.splitlines() if " command --url " in line.strip()]
        assert len(steps) == 4
        for step in steps:
            done = subprocess.run(
                step, shell=True, env=served.env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stdout + done.stderr
        reviewer = served.tokens["reviewer"]
        assert f"sign in with the reviewer token {reviewer}" in text
        case_id = re.search(r'"case_id": "(demo-\d+)"', steps[0])
        assert case_id is not None

        visitor = Visitor(served.url)
        try:
            assert visitor.sign_in(reviewer).status_code == 303
            deadline = time.monotonic() + 30
            page = visitor.get("/console").text
            while 'class="decide"' not in page and time.monotonic() < deadline:
                time.sleep(0.2)
                page = visitor.get("/console").text
            apr = re.search(r'id="decide-(apr-[^"]+)"', page)
            assert apr is not None, page
            form = visitor.decision_form(apr.group(1))
            answer = visitor.post("/console", {**form, "decision": "approve"})
            assert "Recorded: approval" in answer.text
        finally:
            visitor.close()
        summary = httpx.post(
            f"{served.url}/v1/queries",
            json={
                "query_type": "get_case_summary",
                "payload": {"case_id": case_id.group(1), "max_wait_ms": 5000},
            },
            headers={"Authorization": f"Bearer {served.tokens['analyst']}"},
        ).json()
        deadline = time.monotonic() + 30
        while summary["data"]["case_summary"]["risk_level"] != "high":
            assert time.monotonic() < deadline, summary
            time.sleep(0.2)
            summary = httpx.post(
                f"{served.url}/v1/queries",
                json={"query_type": "get_case_summary", "payload": {"case_id": case_id.group(1)}},
                headers={"Authorization": f"Bearer {served.tokens['analyst']}"},
            ).json()
    finally:
        assert served.stop() == 0
