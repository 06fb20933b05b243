"""Without a server: outcomes map to statuses, and a body never overrides the token."""

from __future__ import annotations

import orjson
import pytest

from caseledger.adapters.envelopes import command_envelope
from caseledger.adapters.http.answers import command_answer
from caseledger.adapters.http.binding import CommandRequest, IdentityRefused
from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.envelopes import CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode

RITA = Principal("t1", Actor(ActorType.USER, "rita", frozenset({Role.REVIEWER})))
ENVELOPE = command_envelope(RITA, "start_case_review", {"case_id": "c1"})


@pytest.mark.parametrize(
    ("outcome", "reason", "status"),
    [
        (CommandOutcome.ACCEPTED, None, 200),
        (CommandOutcome.DUPLICATE_ACCEPTED, None, 200),
        (CommandOutcome.REQUIRES_APPROVAL, None, 202),
        (CommandOutcome.VALIDATION_ERROR, ReasonCode.INVALID_PAYLOAD, 422),
        (CommandOutcome.REJECTED, ReasonCode.FOUR_EYES, 403),
        (CommandOutcome.CONFLICT, ReasonCode.STALE_VERSION, 409),
        (CommandOutcome.REJECTED, ReasonCode.NOT_FOUND, 404),
        (CommandOutcome.REJECTED, ReasonCode.TENANT_MISMATCH, 404),
    ],
)
def test_each_outcome_has_its_status(
    outcome: CommandOutcome, reason: ReasonCode | None, status: int
) -> None:
    result = CommandResult(command_id="x", status=outcome, reason_code=reason, reason="why")
    response = command_answer(ENVELOPE, result)
    assert response.status_code == status
    if status >= 400:
        assert response.media_type == "application/problem+json"
        assert orjson.loads(response.body)["outcome"] == outcome.value


def test_another_tenants_aggregate_is_answered_like_a_missing_one() -> None:
    mismatch = CommandResult(
        command_id="x",
        status=CommandOutcome.REJECTED,
        reason_code=ReasonCode.TENANT_MISMATCH,
        reason="case-t1_c1 is not this tenant's",
    )
    missing = CommandResult(
        command_id="x",
        status=CommandOutcome.REJECTED,
        reason_code=ReasonCode.NOT_FOUND,
        reason="case-t1_c1 does not exist",
    )
    assert command_answer(ENVELOPE, mismatch).body == command_answer(ENVELOPE, missing).body


def test_the_envelope_takes_tenant_and_actor_from_the_token() -> None:
    request = CommandRequest(command_type="start_case_review", payload={"case_id": "c1"})
    envelope = request.envelope(RITA)
    assert (envelope.tenant_id, envelope.requested_by_actor_id) == ("t1", "rita")
    assert envelope.requested_by_roles == frozenset({Role.REVIEWER})
    assert envelope.idempotency_key == envelope.command_id == envelope.correlation_id
    assert envelope.payload_schema == "start_case_review.v1"


@pytest.mark.parametrize(
    "claim",
    [
        {"tenant_id": "t2"},
        {"requested_by_actor_id": "sam"},
        {"requested_by_actor_type": "system"},
        {"requested_by_roles": ["supervisor"]},
        {"run_id": "run-9"},
    ],
)
def test_a_body_claiming_another_identity_is_refused(claim: dict[str, object]) -> None:
    request = CommandRequest.model_validate(
        {"command_type": "start_case_review", "payload": {"case_id": "c1"}, **claim}
    )
    with pytest.raises(IdentityRefused):
        request.envelope(RITA)
