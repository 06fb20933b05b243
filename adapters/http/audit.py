"""`GET /v1/audit/cases/{id}` and `GET /v1/audit/correlations/{id}`: the audit trail as JSON
(answers to seed §22, causation tree, timeline, Mermaid source).

Same rules as queries: the tenant is the token's; another tenant's case or correlation answers
404 exactly like a missing one; users need a role; the system may read; agents may not (an audit
holds other runs' requests and every decision: it is not agent context)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from caseledger.adapters.audit.service import AuditNotFound, AuditService
from caseledger.adapters.http.auth import Caller
from caseledger.adapters.http.problems import problem, problem_responses
from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.streams import InvalidId
from caseledger.projections.audit.report import document
from caseledger.projections.audit.trail import Trail

SETTLE_WITHIN: Final = 5.0
"""How long an audit waits for the index to reach the store's head before it answers."""
router = APIRouter(prefix="/v1/audit", tags=["audit"])
_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(401, 403, 404, 413, 422, 503)


@router.get("/cases/{case_id}", responses=_RESPONSES, summary="A case's audit trail")
def audit_case(case_id: str, request: Request, caller: Caller) -> JSONResponse:
    return _answer(request, caller, lambda audit: audit.case(case_id, caller.tenant_id))


@router.get(
    "/correlations/{correlation_id}", responses=_RESPONSES, summary="A request's audit trail"
)
def audit_correlation(correlation_id: str, request: Request, caller: Caller) -> JSONResponse:
    return _answer(
        request, caller, lambda audit: audit.correlation(correlation_id, caller.tenant_id)
    )


def _answer(
    request: Request, caller: Principal, trail_of: Callable[[AuditService], Trail]
) -> JSONResponse:
    denial = _denial(caller)
    if denial is not None:
        return problem(403, "forbidden", "forbidden", denial)
    app = request.app.state.caseledger
    audit = AuditService.for_data_dir(app.store, app.views, app.settings.data_dir, SETTLE_WITHIN)
    try:
        trail = trail_of(audit)
    except InvalidId as error:
        return problem(422, "validation_error", "invalid_payload", str(error))
    except AuditNotFound:
        return problem(404, "not_found", "not_found", "no such case or correlation for this tenant")
    finally:
        audit.close()
    return JSONResponse(document(trail))


def _denial(caller: Principal) -> str | None:
    actor = caller.actor
    if actor.type is ActorType.SYSTEM:
        return None
    if actor.type is ActorType.AGENT:
        return "agents may not read audit trails"
    return None if actor.roles else "an audit needs a role"
