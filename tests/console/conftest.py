"""A live caseledger with its console (the e2e service: real HTTP on a free port), tokens for
two tenants, and helpers to put a case with an agent's proposal (or a notice awaiting
approval) in front of a reviewer — through the HTTP API, as agents and analysts would."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.live_service import TOKENS, Live, live_service

CONSOLE_TOKENS = (
    TOKENS
    + """
[tokens."tok-pat-t1"]
tenant = "t1"
actor_type = "user"
actor_id = "pat"
roles = ["analyst", "reviewer"]

[tokens."tok-system-t1"]
tenant = "t1"
actor_type = "system"
actor_id = "notifier"

[tokens."tok-reviewer-t2"]
tenant = "t2"
actor_type = "user"
actor_id = "ted"
roles = ["reviewer"]
"""
)
_numbers = itertools.count(1)
WAIT = 20.0
"""Seconds a test waits at most for something the views will show (a busy machine)."""


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_service(tmp_path_factory.mktemp("console"), CONSOLE_TOKENS) as service:
        yield service


@dataclass
class Api:
    """The HTTP API as agents and analysts use it (bearer tokens)."""

    http: httpx.Client

    def command(self, token: str, command_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.post(
            "/v1/commands",
            json={"command_type": command_type, "payload": payload},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code in (200, 202), answer.text
        body: dict[str, Any] = answer.json()
        return body

    def query(self, token: str, query_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.post(
            "/v1/queries",
            json={"query_type": query_type, "payload": payload},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def case_with_evidence(
        self, title: str = "Bank statement", text: str = "Transfers", allegation: str = "x"
    ) -> str:
        case_id = f"cc-{next(_numbers)}"
        self.command(
            "tok-analyst-t1", "open_case", {"case_id": case_id, "allegation_summary": allegation}
        )
        self.command(
            "tok-analyst-t1",
            "submit_evidence",
            {"case_id": case_id, "evidence_id": "e1", "title": title, "text": text},
        )
        self.command(
            "tok-reviewer-t1",
            "review_evidence",
            {"case_id": case_id, "evidence_id": "e1", "verdict": "approve"},
        )
        return case_id

    def propose(
        self, case_id: str, token: str = "tok-agent-t1", rationale: str = "Large transfers"
    ) -> dict[str, Any]:
        """A risk update proposal (requires approval): the command's answer."""
        return self.command(
            token,
            "propose_risk_update",
            {
                "case_id": case_id,
                "proposed_risk_level": "high",
                "rationale": rationale,
                "evidence_refs": ["e1"],
                "confidence": 0.87,
            },
        )

    def notice_awaiting_approval(self, case_id: str, body: str) -> str:
        draft_id = f"n-{case_id}"
        self.command(
            "tok-agent-t1",
            "create_notice_draft",
            {
                "draft_id": draft_id,
                "case_id": case_id,
                "recipient": "lender@example.org",
                "subject": "Notice of inquiry",
                "body": body,
            },
        )
        self.command("tok-agent-t1", "request_notice_approval", {"draft_id": draft_id})
        return draft_id

    def risk_level(self, case_id: str, after: int | None = None) -> str | None:
        payload: dict[str, Any] = {"case_id": case_id}
        if after is not None:
            payload.update(min_position=after, max_wait_ms=5000)
        answer = self.query("tok-analyst-t1", "get_case_summary", payload)
        level: str | None = answer["data"]["case_summary"]["risk_level"]
        return level


@pytest.fixture
def api(live: Live) -> Iterator[Api]:
    with httpx.Client(base_url=live.url, timeout=30.0) as http:
        yield Api(http)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Visitor:
    """A browser without JavaScript: keeps cookies, posts forms with their hidden fields."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30.0, follow_redirects=False)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.http.post(path, data=data)

    def csrf(self, page: str | None = None) -> str:
        if page is None:
            login = self.get("/console/login")
            page = self.get("/console/logout").text if login.status_code == 303 else login.text
        text = page
        found = CSRF.search(text)
        assert found, "the page carries no CSRF token"
        return found.group(1)

    def sign_in(self, token: str) -> httpx.Response:
        return self.post("/console/login", {"csrf_token": self.csrf(), "token": token})

    def decision_form(self, approval_request_id: str) -> dict[str, str]:
        """The hidden fields of the inbox's form for one approval request (waiting, within a
        generous deadline, for the view to list it)."""
        marker = f'id="decide-{approval_request_id}"'
        deadline = time.monotonic() + WAIT
        page = self.get("/console").text
        while marker not in page and time.monotonic() < deadline:
            time.sleep(0.1)
            page = self.get("/console").text
        start = page.index(marker)
        form = page[start : page.index("</form>", start)]
        return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def visitor(live: Live) -> Iterator[Visitor]:
    v = Visitor(live.url)
    yield v
    v.close()
