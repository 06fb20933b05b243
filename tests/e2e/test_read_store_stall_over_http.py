"""The read store goes away under a running service: the runner stalls instead of parking, and
`/readyz` answers 503 problem+json `projections_stalled` with the reason in `detail`, until
the store answers again; then the view holds every command's effect and nothing is parked."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.live_service import live_service


def _eventually(check: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_readyz_says_projections_stalled_while_the_read_store_is_locked(tmp_path: Path) -> None:
    with live_service(tmp_path) as live:
        analyst = live.client("tok-analyst-t1")
        anonymous = live.client(None)
        locker = sqlite3.connect(tmp_path / "readmodels.db", isolation_level=None, timeout=60)
        stalled: list[httpx.Response] = []
        try:
            opened = {"case_id": "case-stall-1", "allegation_summary": "Unlicensed lending"}
            assert analyst.command("open_case", opened).status_code == 200
            locker.execute("BEGIN EXCLUSIVE")
            review = analyst.command("start_case_review", {"case_id": "case-stall-1"})
            assert review.status_code == 200  # the write side does not need the views

            def reports_stalled() -> bool:
                response = anonymous.get("/readyz")
                if response.status_code == 503 and "stalled" in response.text:
                    stalled.append(response)
                    return True
                return False

            assert _eventually(reports_stalled)
            locker.execute("ROLLBACK")
            assert _eventually(lambda: anonymous.get("/readyz").status_code == 200)
            position = review.json()["commit_position"]
            summary = analyst.query(
                "get_case_summary", {"case_id": "case-stall-1", "min_position": position}
            )
            parked = [
                p for s in live.app.views.states() for p in live.app.views.parked(s.projection_id)
            ]
        finally:
            locker.close()
            analyst.close()
            anonymous.close()
    (response,) = stalled
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["outcome"], body["reason_code"]) == ("unavailable", "projections_stalled")
    assert "SQLITE_BUSY" in body["detail"]
    assert summary.json()["data"]["case_summary"]["status"] == "under_review"
    assert parked == []
