"""`POST /v1/audit/what-if`: a draft policy's rules in the body, the JSON what-if report back
(`caseledger.domain.application.whatif`): which of the caller's tenant's past decisions the
draft would have decided otherwise, and by which rule. Writes nothing.

Supervisors only (a reviewer, an analyst, an agent or the system is 403 `forbidden`), checked
before the body is read; a draft `publish_policy` would refuse is 422 `invalid_payload`, naming
the fields."""

from __future__ import annotations

from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from caseledger.adapters.audit.whatif import WhatIfService
from caseledger.adapters.http.auth import Caller
from caseledger.adapters.http.problems import problem, problem_responses
from caseledger.domain.application.whatif import WhatIfReport, document
from caseledger.domain.application.whatif.draft import InvalidDraft, draft_rules, since_of
from caseledger.domain.shared.actors import Role

SETTLE_WITHIN: Final = 5.0
"""How long it waits for the audit index to reach the store's head before it reads."""
SUPERVISORS: Final = frozenset({Role.SUPERVISOR})
router = APIRouter(prefix="/v1/audit", tags=["audit"])
BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "The draft policy's `rules` object: the one `publish_policy` takes.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PolicyRules"}}},
    }
}


async def _raw_body(request: Request) -> bytes:
    """The body unparsed: the caller is checked before the draft is read."""
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]
Since = Annotated[
    str | None,
    Query(
        description="Only decisions from this ISO-8601 date or date-time on (UTC unless it "
        "names an offset), e.g. `2026-12-01`."
    ),
]


@router.post(
    "/what-if",
    response_model=WhatIfReport,
    responses=problem_responses(401, 403, 413, 422, 503),
    openapi_extra=BODY,
    summary="Which past decisions a draft policy would have decided otherwise",
    description="Re-decides, writing nothing, every past decision of the caller's tenant that "
    "depended on policy under the draft rules in the body, and lists each whose outcome would "
    "differ, with the rule that makes the difference; then totals by rule. Supervisors only. "
    "`since`: an ISO-8601 date or date-time (UTC unless it names an offset).",
)
def what_if(request: Request, caller: Caller, body: RawBody, since: Since = None) -> JSONResponse:
    if not caller.actor.has_any_role(SUPERVISORS):
        return problem(403, "forbidden", "forbidden", "a what-if is for supervisors")
    try:
        window = since_of(since) if since is not None else None
        draft = draft_rules(orjson.loads(body))
    except orjson.JSONDecodeError:
        return problem(422, "validation_error", "invalid_payload", "the body is not UTF-8 JSON")
    except InvalidDraft as error:
        return problem(422, "validation_error", "invalid_payload", str(error))
    app = request.app.state.caseledger
    report = WhatIfService(app.store, app.views, SETTLE_WITHIN).run(draft, caller.tenant_id, window)
    return JSONResponse(document(report).model_dump(mode="json"))
