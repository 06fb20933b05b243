"""Errors as RFC 9457 problem details (`application/problem+json`), always carrying the
`outcome` and `reason_code` a client branches on: the document, framework-free, as every HTTP
entry point answers it (the API's `http.problems`, and the guards in front of MCP over HTTP)."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from caseledger.domain.shared.errors import MAX_REASON, clip

PROBLEM_JSON: Final = "application/problem+json"

TITLES: Final = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(BaseModel):
    """A refused or failed request."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    outcome: str
    reason_code: str
    command_id: str | None = None
    query_id: str | None = None


def problem_body(
    status: int, outcome: str, reason_code: str, detail: str | None, **ids: str | None
) -> dict[str, Any]:
    """The problem document; `detail` is cut to `MAX_REASON` characters (input in it is
    already cut where it was quoted)."""
    body = Problem(
        title=TITLES.get(status, "Error"),
        status=status,
        detail=None if detail is None else clip(detail, MAX_REASON),
        outcome=outcome,
        reason_code=reason_code,
        **ids,
    )
    return body.model_dump(exclude_none=True)
