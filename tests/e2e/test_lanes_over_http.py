"""A command or query answered by its lane (`Content-Type: application/json`) answers as the
route answers the same request (any other JSON content type goes to the route): same status,
same headers, same body but for the ids the request leaves to the server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.api_client import ApiClient

Clients = Callable[[str | None], ApiClient]
LANE = "application/json"
ROUTE = "application/json; charset=utf-8"
FRESH = {"command_id", "query_id", "correlation_id", "event_id", "commit_position"}


def _post(client: ApiClient, path: str, content_type: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(path, content=json.dumps(body), headers={"Content-Type": content_type})


def _same(response: httpx.Response) -> tuple[int, str, set[str], Any]:
    """What must be equal: status, content type, header names, the body but fresh ids."""
    return (
        response.status_code,
        response.headers["content-type"],
        {name for name in response.headers if name not in {"date"}},
        _without(response.json(), FRESH),
    )


def _without(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def test_a_command_answers_alike_by_its_lane_and_by_its_route(as_: Clients, case_id: str) -> None:
    analyst = as_("tok-analyst-t1")
    opening = {"allegation_summary": "Unlicensed lending"}
    answers = [
        _post(analyst, "/v1/commands", kind, {"command_type": "open_case", "payload": payload})
        for kind, payload in (
            (LANE, {"case_id": f"{case_id}-lane", **opening}),
            (ROUTE, {"case_id": f"{case_id}-route", **opening}),
        )
    ]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    lane, route = answers
    assert _same(lane)[:3] == _same(route)[:3]
    assert lane.json().keys() == route.json().keys()
    assert lane.json()["status"] == route.json()["status"] == "accepted"


def test_a_refused_command_answers_alike_by_its_lane_and_by_its_route(as_: Clients) -> None:
    analyst = as_("tok-analyst-t1")
    body = {"command_type": "start_case_review", "payload": {"case_id": "no-such-case"}}
    lane, route = (_post(analyst, "/v1/commands", kind, body) for kind in (LANE, ROUTE))
    assert lane.status_code == 404, lane.text
    assert _same(lane) == _same(route)


def test_a_query_answers_alike_by_its_lane_and_by_its_route(as_: Clients) -> None:
    analyst = as_("tok-analyst-t1")
    body = {"query_type": "get_case_summary", "payload": {"case_id": "no-such-case"}}
    lane, route = (_post(analyst, "/v1/queries", kind, body) for kind in (LANE, ROUTE))
    assert lane.status_code == 404, lane.text
    assert _same(lane) == _same(route)
