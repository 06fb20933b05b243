"""The OpenAPI document over real HTTP: one typed body per command and query type (the
services' own route tables, no more, no fewer), discriminated by its type, with one example
each that the services take as schema-valid. Validation stays the services': a payload the
document would refuse is still answered and recorded by the command service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from caseledger.adapters.http.openapi import QUERY_ANSWERS
from caseledger.domain.application.commandlog import commandlog_stream
from caseledger.domain.application.routes import ROUTES as COMMAND_ROUTES
from caseledger.projections.queries.service import ROUTES as QUERY_ROUTES
from tests.support.api_client import ApiClient
from tests.support.live_service import Live

SCHEMA_REASONS = {"unknown_command", "unsupported_schema", "invalid_payload", "validation_error"}


@pytest.fixture(scope="module")
def document(live: Live) -> dict[str, Any]:
    answer = httpx.get(f"{live.url}/openapi.json")
    assert answer.status_code == 200
    return dict(answer.json())


def body_of(document: dict[str, Any], path: str) -> dict[str, Any]:
    return dict(document["paths"][path]["post"]["requestBody"]["content"]["application/json"])


def resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    return dict(document["components"]["schemas"][ref.rsplit("/", 1)[1]])


@pytest.mark.parametrize(
    ("path", "discriminator", "routes"),
    [
        ("/v1/commands", "command_type", set(COMMAND_ROUTES)),
        ("/v1/queries", "query_type", set(QUERY_ROUTES)),
    ],
)
def test_the_document_and_the_services_routes_list_the_same_types(
    document: dict[str, Any], path: str, discriminator: str, routes: set[str]
) -> None:
    body = body_of(document, path)
    union = body["schema"]
    mapping = union["discriminator"]["mapping"]

    assert union["discriminator"]["propertyName"] == discriminator
    assert set(mapping) == routes
    assert sorted(ref["$ref"] for ref in union["oneOf"]) == sorted(mapping.values())
    assert set(body["examples"]) == routes
    for name, ref in mapping.items():
        variant = resolve(document, ref)
        assert variant["properties"][discriminator]["const"] == name
        payload = resolve(document, variant["properties"]["payload"]["$ref"])
        assert payload["type"] == "object"
        assert payload["properties"], name
        assert variant["examples"] == [body["examples"][name]["value"]]


def test_each_command_payload_schema_names_its_fields_and_what_it_requires(
    document: dict[str, Any],
) -> None:
    mapping = body_of(document, "/v1/commands")["schema"]["discriminator"]["mapping"]
    variant = resolve(document, mapping["open_case"])
    open_case = resolve(document, variant["properties"]["payload"]["$ref"])

    assert set(open_case["properties"]) == {"case_id", "allegation_summary", "assigned_team"}
    assert set(open_case["required"]) == {"case_id", "allegation_summary"}
    assert open_case["additionalProperties"] is False


def test_every_command_example_passes_the_command_services_schema_layer(
    document: dict[str, Any], as_: Callable[[str | None], ApiClient]
) -> None:
    examples = body_of(document, "/v1/commands")["examples"]
    analyst = as_("tok-analyst-t1")
    for name, example in examples.items():
        answer = analyst.post("/v1/commands", json=example["value"])
        if answer.status_code >= 300:
            assert answer.json()["reason_code"] not in SCHEMA_REASONS, (name, answer.text)


def test_every_query_example_passes_and_answers_what_the_document_says(
    document: dict[str, Any], as_: Callable[[str | None], ApiClient]
) -> None:
    analyst = as_("tok-analyst-t1")
    analyst.command("open_case", {"case_id": "case-42", "allegation_summary": "Unlicensed lending"})
    # case-42 may be open already (another test's examples); a new case's position comes
    # after its opening in `$all`, so views at that position have it.
    later = analyst.command("open_case", {"case_id": "case-after-42", "allegation_summary": "x"})
    position = later.json()["commit_position"]
    examples = body_of(document, "/v1/queries")["examples"]
    supervisor = as_("tok-supervisor-t1")
    for name, example in examples.items():
        value = {**example["value"], "payload": {**example["value"]["payload"]}}
        value["payload"]["min_position"] = position  # the views have the case when asked
        answer = supervisor.post("/v1/queries", json=value)
        assert answer.status_code == 200, (name, answer.text)
        data = answer.json()["data"]
        assert set(data) == {*QUERY_ANSWERS[name].keys, "freshness"}, name


def test_a_payload_the_document_refuses_is_answered_and_recorded_by_the_command_service(
    live: Live, as_: Callable[[str | None], ApiClient]
) -> None:
    answer = as_("tok-agent-t1").command(
        "propose_risk_update", {"case_id": "case-x", "proposed_risk_level": "extreme"}
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert (problem["outcome"], problem["reason_code"]) == ("validation_error", "invalid_payload")
    assert "proposed_risk_level" in problem["detail"]
    records = [orjson.loads(r.data) for r in live.app.store.read_stream(commandlog_stream("t1"))]
    assert problem["command_id"] in {r["command_id"] for r in records}
