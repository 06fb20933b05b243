"""`caseledger command`: issue one command to a running `caseledger serve` over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from caseledger.adapters.cli.remote import DEFAULT_URL, parse_payload, post


def command(
    command_type: Annotated[
        str, typer.Option("--type", help="The command type, e.g. open_case (docs/catalogue.md).")
    ],
    payload: Annotated[str, typer.Option(help="The payload as a JSON object.")],
    token: Annotated[
        str, typer.Option(envvar="CASELEDGER_TOKEN", help="Bearer token: who issues it.")
    ],
    url: Annotated[
        str, typer.Option(envvar="CASELEDGER_API_URL", help="The running API.")
    ] = DEFAULT_URL,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Retry safety: the same key answers duplicate_accepted.")
    ] = None,
    expected_version: Annotated[
        int | None, typer.Option(help="The stream's revision you expect (conflict otherwise).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON answer.")] = False,
) -> None:
    """Issue one command over HTTP to `caseledger serve` (POST /v1/commands).

    The tenant and the actor are the token's. Exit codes: 0 accepted, duplicate_accepted or
    requires_approval; 1 refused (rejected, conflict, validation error, not found, bad token);
    2 bad arguments; 3 the API is unreachable.
    """
    body: dict[str, Any] = {"command_type": command_type, "payload": parse_payload(payload)}
    if idempotency_key is not None:
        body["idempotency_key"] = idempotency_key
    if expected_version is not None:
        body["expected_aggregate_version"] = expected_version
    post(url, "/v1/commands", token, body, as_json)
