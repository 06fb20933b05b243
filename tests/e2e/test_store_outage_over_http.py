"""The event store goes away under a running service: a command answers 503 problem+json
(`unavailable`, `event_store_unavailable`, Retry-After), not a 500, and says how to retry."""

from __future__ import annotations

from pathlib import Path

from tests.support.live_service import live_service


def test_a_command_while_the_event_store_is_down_is_503_with_retry_after(
    tmp_path: Path,
) -> None:
    with live_service(tmp_path) as live:
        analyst = live.client("tok-analyst-t1")
        try:
            opened = {"case_id": "case-outage-1", "allegation_summary": "Unlicensed lending"}
            assert analyst.command("open_case", opened).status_code == 200
            assert live.app.embedded is not None
            live.app.embedded.stop(grace=1.0)

            response = analyst.command(
                "start_case_review", {"case_id": "case-outage-1"}, idempotency_key="review-1"
            )
        finally:
            analyst.close()
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert (body["outcome"], body["reason_code"]) == ("unavailable", "event_store_unavailable")
    assert "retry with the same idempotency key" in body["detail"]
    assert "127.0.0.1" not in body["detail"]  # the store's address stays inside


def test_refusals_before_a_command_are_still_answered_while_the_store_is_down(
    tmp_path: Path,
) -> None:
    """Their command-log record cannot be written then; the answer does not wait on it."""
    with live_service(tmp_path) as live:
        analyst = live.client("tok-analyst-t1")
        try:
            assert live.app.embedded is not None
            live.app.embedded.stop(grace=1.0)
            opened = {"case_id": "case-outage-2", "allegation_summary": "x"}

            spoofed = analyst.command("open_case", opened, tenant_id="t2")
            not_an_envelope = analyst.post("/v1/commands", json={"payload": {}})
            too_large = analyst.command("open_case", {"x": "y" * 2_000_000})
        finally:
            analyst.close()
    assert (spoofed.status_code, spoofed.json()["reason_code"]) == (403, "tenant_mismatch")
    assert not_an_envelope.status_code == 422
    assert too_large.status_code == 413
