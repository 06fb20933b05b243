"""POST /v1/queries, health, readiness and the OpenAPI document over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.api_client import ApiClient

Clients = Callable[[str | None], ApiClient]


def test_a_query_reads_its_own_write_through_min_position(as_: Clients, case_id: str) -> None:
    analyst = as_("tok-analyst-t1")
    opened = analyst.command("open_case", {"case_id": case_id, "allegation_summary": "Lending"})
    position = opened.json()["commit_position"]
    response = analyst.query("get_case_summary", {"case_id": case_id, "min_position": position})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "ok"
    assert answer["data"]["case_summary"]["status"] == "opened"
    assert answer["data"]["freshness"]["reached"] is True
    assert answer["source_refs"]


def test_another_tenants_case_is_not_found_by_query(as_: Clients, case_id: str) -> None:
    opened = as_("tok-analyst-t1").command(
        "open_case", {"case_id": case_id, "allegation_summary": "Lending"}
    )
    position = opened.json()["commit_position"]
    response = as_("tok-analyst-t2").query(
        "get_case_summary", {"case_id": case_id, "min_position": position}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["outcome"] == "not_found"


def test_an_agent_may_not_read_the_reviewers_queue(as_: Clients) -> None:
    response = as_("tok-agent-t1").query("list_pending_approvals", {})
    assert response.status_code == 403
    assert response.json()["reason_code"] == "forbidden"


def test_an_unknown_query_answers_422(as_: Clients) -> None:
    response = as_("tok-analyst-t1").query("get_everything", {})
    assert response.status_code == 422
    assert response.json()["outcome"] == "validation_error"


def test_a_min_position_no_store_can_hold_answers_422(as_: Clients, case_id: str) -> None:
    response = as_("tok-analyst-t1").query(
        "get_case_summary", {"case_id": case_id, "min_position": 2**63}
    )
    assert response.status_code == 422
    assert response.json()["outcome"] == "validation_error"
    assert "min_position" in response.json()["detail"]


def test_a_query_without_a_token_answers_401(as_: Clients) -> None:
    assert as_(None).query("list_cases", {}).status_code == 401


def test_health_and_readiness_answer_200(as_: Clients) -> None:
    anonymous = as_(None)
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_the_openapi_document_names_both_endpoints_and_the_bearer_scheme(as_: Clients) -> None:
    spec = as_(None).get("/openapi.json").json()
    assert {"/v1/commands", "/v1/queries", "/healthz", "/readyz"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    responses = spec["paths"]["/v1/commands"]["post"]["responses"]
    assert {"200", "202", "401", "403", "404", "409", "422"} <= set(responses)


def test_an_unknown_route_answers_404_problem(as_: Clients) -> None:
    response = as_(None).get("/v2/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
