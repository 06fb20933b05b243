"""Envelopes validate their own shape; outcomes are exactly the seed's §17."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from caseledger.domain.shared.envelopes import CommandEnvelope, CommandProposal
from caseledger.domain.shared.outcomes import CommandOutcome

BASE = {
    "command_id": "cmd-1",
    "command_type": "open_case",
    "tenant_id": "t1",
    "requested_by_actor_type": "user",
    "requested_by_actor_id": "alice",
    "requested_by_roles": ["analyst"],
    "correlation_id": "corr-1",
    "idempotency_key": "k1",
    "payload_schema": "open_case.v1",
    "payload": {},
}


def test_outcomes_are_exactly_the_seeds() -> None:
    assert [o.value for o in CommandOutcome] == [
        "accepted",
        "rejected",
        "requires_approval",
        "duplicate_accepted",
        "conflict",
        "validation_error",
    ]


def test_a_command_envelope_carries_its_operational_metadata() -> None:
    envelope = CommandEnvelope.model_validate(BASE)
    assert envelope.expected_aggregate_version is None
    assert envelope.command_version == "1"


@pytest.mark.parametrize(
    "change",
    [
        {"tenant_id": "has space"},
        {"requested_by_actor_type": "robot"},
        {"requested_by_roles": ["janitor"]},
        {"expected_aggregate_version": -2},
        {"expected_aggregate_version": 2**63},
        {"idempotency_key": ""},
        {"surprise": 1},
    ],
)
def test_a_malformed_command_envelope_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CommandEnvelope.model_validate({**BASE, **change})


def test_a_command_proposal_bounds_its_confidence() -> None:
    proposal = {
        "proposal_id": "p1",
        "run_id": "run-1",
        "agent_name": "risk-bot",
        "proposed_command_type": "propose_risk_update",
        "payload": {},
        "rationale": "r",
        "confidence": 1.5,
    }
    with pytest.raises(ValidationError):
        CommandProposal.model_validate(proposal)
