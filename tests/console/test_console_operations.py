"""Operations in the console: a supervisor sees the tenant's parked events (and retries them),
never another tenant's; a case holding an event this code cannot read is answered, not a 500."""

from __future__ import annotations

import re
import time

import orjson
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient import NewEvent as RawEvent

from tests.console.conftest import WAIT, Api, Visitor
from tests.support.live_service import Live


def _unreadable(live: Live, tenant: str, case_id: str) -> None:
    """An event whose data is not JSON, appended by a raw client to the tenant's case."""
    raw = KurrentDBClient(uri=live.app.eventstore_url)
    try:
        meta = orjson.dumps({"tenantId": tenant, "occurredAt": "2026-12-07T00:00:00+00:00"})
        raw.append_to_stream(
            f"case-{tenant}_{case_id}",
            current_version=StreamState.ANY,
            events=[RawEvent(type="case.review_started", data=b"\xff{not json", metadata=meta)],
        )
    finally:
        raw.close()


def test_a_supervisor_sees_and_retries_the_tenants_parked_events_only(
    visitor: Visitor, api: Api, live: Live
) -> None:
    mine = api.case_with_evidence()
    theirs = f"{mine}-t2"
    api.command(
        "tok-analyst-t2", "open_case", {"case_id": theirs, "allegation_summary": "other tenant"}
    )
    _unreadable(live, "t1", mine)
    _unreadable(live, "t2", theirs)
    visitor.sign_in("tok-supervisor-t1")
    deadline = time.monotonic() + WAIT
    page = visitor.get("/console/ops").text
    while f"case-t1_{mine}@" not in page and time.monotonic() < deadline:
        time.sleep(0.2)
        page = visitor.get("/console/ops").text
    assert f"case-t1_{mine}@" in page
    assert "case-t2_" not in page
    found = re.search(
        rf'name="projection_id" value="([^"]+)">\s*<input type="hidden" name="stream" '
        rf'value="(case-t1_{mine})"',
        page,
    )
    assert found is not None
    retried = visitor.post(
        "/console/ops",
        {
            "csrf_token": visitor.csrf(page),
            "retry": "stream",
            "projection_id": found.group(1),
            "stream": found.group(2),
        },
    )
    assert retried.status_code == 200
    assert f"case-t1_{mine}: 0 applied, " in retried.text  # it still cannot be read


def test_a_case_holding_an_unreadable_event_is_answered_not_failed(
    visitor: Visitor, api: Api, live: Live
) -> None:
    case_id = api.case_with_evidence()
    _unreadable(live, "t1", case_id)
    visitor.sign_in("tok-reviewer-t1")
    answer = visitor.get(f"/console/cases/{case_id}")
    assert answer.status_code == 409
    assert "cannot be read" in answer.text or "unreadable" in answer.text
    audit = visitor.get(f"/console/audit/cases/{case_id}")
    assert audit.status_code == 200
    assert "Possibly incomplete" in audit.text
