"""Streamable HTTP: the session's bearer token names the agent (tokens file); requests without
an agent token never reach a tool."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from caseledger.domain.shared.envelopes import CommandResult
from tests.support.mcp import AGENT_TOKEN, OTHER_TENANT_TOKEN, USER_TOKEN, structured


def call_as(url: str, token: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            return structured(await client.call_tool(tool, arguments))

    result: dict[str, Any] = anyio.run(main)
    return result


def test_the_bearer_token_names_the_agent_and_its_run(url: str, case: CommandResult) -> None:
    answer = call_as(url, AGENT_TOKEN, "get_case_summary", {"case_id": "c1"})

    assert answer["status"] == "ok"
    assert answer["acting_as"] == {
        "tenant_id": "t1",
        "agent_name": "risk-bot",
        "run_id": "run-http",
    }


def test_an_agent_of_another_tenant_does_not_see_the_case(url: str, case: CommandResult) -> None:
    answer = call_as(url, OTHER_TENANT_TOKEN, "get_case_summary", {"case_id": "c1"})

    assert answer["status"] == "not_found"
    assert answer["acting_as"]["tenant_id"] == "t2"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-known-token", f"Bearer {USER_TOKEN}", f"Basic {AGENT_TOKEN}"],
    ids=["no token", "unknown token", "a user's token", "not a bearer"],
)
def test_requests_without_an_agent_token_are_refused(url: str, authorization: str | None) -> None:
    headers = {"Accept": "application/json, text/event-stream"}
    if authorization is not None:
        headers["Authorization"] = authorization
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "0"},
        },
    }

    response = httpx2.post(url, json=initialize, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert AGENT_TOKEN not in response.text
