"""How results become HTTP answers. Commands: accepted and duplicate_accepted 200,
requires_approval 202; a refusal takes its reason code's status from the table of reasons
(`reasons.TABLE`: validation_error 422, rejected 403, conflict 409, `already_exists`,
`idempotency_key_reused` and `unreadable_event` 409), and an unknown case or draft 404 (ids
are a tenant's own: another tenant's same id is never seen, so a caller cannot tell it exists).
Queries: ok and stale 200 (the body says which), not_found 404, forbidden 403,
validation_error 422, unavailable 503."""

from __future__ import annotations

from typing import Final

from fastapi.responses import JSONResponse

from caseledger.adapters.http.problems import problem
from caseledger.adapters.http.reasons import STATUS
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult, QueryResult
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode

NOT_FOUND_DETAIL: Final = "no such case or notice draft for this tenant"

_COMMAND_STATUS: Final = {
    CommandOutcome.ACCEPTED: 200,
    CommandOutcome.DUPLICATE_ACCEPTED: 200,
    CommandOutcome.REQUIRES_APPROVAL: 202,
    CommandOutcome.VALIDATION_ERROR: 422,
    CommandOutcome.REJECTED: 403,
    CommandOutcome.CONFLICT: 409,
}

_QUERY_STATUS: Final = {
    "ok": 200,
    "stale": 200,
    "not_found": 404,
    "forbidden": 403,
    "validation_error": 422,
    "unavailable": 503,
}


def command_answer(envelope: CommandEnvelope, result: CommandResult) -> JSONResponse:
    status = _COMMAND_STATUS[result.status]
    if status < 400:
        return JSONResponse(result.model_dump(mode="json"), status_code=status)
    if result.status is CommandOutcome.REJECTED and _hidden(envelope, result.reason_code):
        return problem(
            404,
            result.status.value,
            ReasonCode.NOT_FOUND.value,
            NOT_FOUND_DETAIL,
            command_id=result.command_id,
        )
    reason = (result.reason_code or ReasonCode.INVALID_PAYLOAD).value
    return problem(
        STATUS.get(reason, status),
        result.status.value,
        reason,
        result.reason,
        command_id=result.command_id,
    )


def query_answer(result: QueryResult) -> JSONResponse:
    status = _QUERY_STATUS.get(result.status, 422)
    if status == 200:
        return JSONResponse(result.model_dump(mode="json"), status_code=status)
    return problem(
        status, result.status, result.status, result.error_message, query_id=result.query_id
    )


def _hidden(envelope: CommandEnvelope, reason: ReasonCode | None) -> bool:
    """A missing aggregate, or another tenant's: both answer 404. A payload that itself names
    another tenant is the caller's own mistake and stays a 403."""
    if reason is ReasonCode.NOT_FOUND:
        return True
    named = envelope.payload.get("tenant_id")
    return reason is ReasonCode.TENANT_MISMATCH and named in (None, envelope.tenant_id)
