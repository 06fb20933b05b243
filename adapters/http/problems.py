"""Errors as RFC 9457 problem details (`application/problem+json`), always carrying the
`outcome` and `reason_code` a client branches on: the API's answers (the document itself is
`caseledger.adapters.problem_details`)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from caseledger.adapters.problem_details import PROBLEM_JSON, TITLES, Problem, problem_body

__all__ = ["PROBLEM_JSON", "Problem", "problem", "problem_body", "problem_responses"]


def problem(
    status: int,
    outcome: str,
    reason_code: str,
    detail: str | None,
    *,
    headers: dict[str, str] | None = None,
    **ids: str | None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, outcome, reason_code, detail, **ids),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses an operation may answer."""
    return {
        status: {
            "description": TITLES.get(status, "Error"),
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
