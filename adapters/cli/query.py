"""`caseledger query`: ask one query of a running `caseledger serve` over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from caseledger.adapters.cli.remote import DEFAULT_URL, parse_payload, post


def query(
    query_type: Annotated[
        str,
        typer.Option(
            "--type",
            help="get_case_summary, list_cases, get_case_agent_context, search_evidence, "
            "list_pending_approvals or list_notice_drafts.",
        ),
    ],
    token: Annotated[str, typer.Option(envvar="CASELEDGER_TOKEN", help="Bearer token: who asks.")],
    payload: Annotated[str, typer.Option(help="The payload as a JSON object.")] = "{}",
    url: Annotated[
        str, typer.Option(envvar="CASELEDGER_API_URL", help="The running API.")
    ] = DEFAULT_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON answer.")] = False,
) -> None:
    """Ask one query over HTTP of `caseledger serve` (POST /v1/queries).

    Add "min_position" (a command's commit_position) to the payload to read your own write.
    Exit codes: 0 ok or stale (the answer says which); 1 refused or not found; 2 bad
    arguments; 3 the API is unreachable.
    """
    post(
        url,
        "/v1/queries",
        token,
        {"query_type": query_type, "payload": parse_payload(payload)},
        as_json,
    )
