"""Errors as RFC 9457 problem details (`application/problem+json`), always carrying the
`outcome` and `reason_code` a client branches on."""

from __future__ import annotations

from typing import Any, Final

from fastapi.responses import JSONResponse
from pydantic import BaseModel

PROBLEM_JSON: Final = "application/problem+json"

_TITLES: Final = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
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


def problem(
    status: int,
    outcome: str,
    reason_code: str,
    detail: str | None,
    *,
    headers: dict[str, str] | None = None,
    **ids: str | None,
) -> JSONResponse:
    body = Problem(
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        outcome=outcome,
        reason_code=reason_code,
        **ids,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses an operation may answer."""
    return {
        status: {
            "description": _TITLES.get(status, "Error"),
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
