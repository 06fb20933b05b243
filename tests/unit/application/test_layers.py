"""Each validation layer on its own."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from caseledger.domain.application import layers
from caseledger.domain.application.aggregates import CASE
from caseledger.domain.application.layers import Refused
from caseledger.domain.application.loading import IdempotencyRecord, IdempotencyScope, Loaded
from caseledger.domain.application.routes import ROUTES
from caseledger.domain.case.commands import OpenCase
from caseledger.domain.case.state import CaseState
from caseledger.domain.shared.actors import Actor, ActorType
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.policy_rules import PolicyRules
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, ANALYST, REVIEWER, SUPERVISOR, SYSTEM
from tests.support.commands import envelope

OPEN = {"case_id": "c1", "allegation_summary": "Unlicensed lending"}


def refusal(call: Callable[..., object], *args: object) -> Refused:
    with pytest.raises(Refused) as caught:
        call(*args)
    return caught.value


def loaded(
    tenant: str | None = "t1",
    revision: int = 0,
    keys: dict[IdempotencyScope, IdempotencyRecord] | None = None,
) -> Loaded[CaseState]:
    return Loaded(
        CASE, "case-t1_c1", CaseState(case_id="c1", tenant_id=tenant), revision, keys or {}
    )


def test_schema_an_unknown_command_type_is_a_validation_error() -> None:
    caught = refusal(layers.route_for, ROUTES, envelope("teleport_case", {}, ANALYST))
    assert (caught.outcome, caught.reason) == (
        CommandOutcome.VALIDATION_ERROR,
        ReasonCode.UNKNOWN_COMMAND,
    )


def test_schema_the_payload_is_validated_against_its_declared_schema() -> None:
    route = ROUTES["open_case"]
    assert layers.validate_payload(route, envelope("open_case", OPEN, ANALYST)) == OpenCase(
        case_id="c1", allegation_summary="Unlicensed lending"
    )
    missing = refusal(
        layers.validate_payload, route, envelope("open_case", {"case_id": "c1"}, ANALYST)
    )
    assert missing.reason is ReasonCode.INVALID_PAYLOAD
    other = envelope("open_case", OPEN, ANALYST).model_copy(
        update={"payload_schema": "open_case.v2"}
    )
    assert refusal(layers.validate_payload, route, other).reason is ReasonCode.UNSUPPORTED_SCHEMA


def test_schema_a_refusal_names_each_invalid_field_without_echoing_the_input() -> None:
    secret = "account 12345678 of Jane Doe"
    bad = envelope("open_case", {"case_id": {"holder": secret}}, ANALYST)
    caught = refusal(layers.validate_payload, ROUTES["open_case"], bad)
    assert caught.detail == (
        "case_id: Input should be a valid string; allegation_summary: Field required"
    )
    assert secret not in str(caught)


def test_identity_an_agent_acts_within_a_run_and_holds_no_roles() -> None:
    no_run = envelope("propose_risk_update", {}, AGENT).model_copy(update={"run_id": None})
    assert refusal(layers.identify, no_run).reason is ReasonCode.MISSING_RUN_ID
    with_roles = envelope("propose_risk_update", {}, AGENT).model_copy(
        update={"requested_by_roles": SUPERVISOR.roles}
    )
    assert refusal(layers.identify, with_roles).reason is ReasonCode.NOT_PERMITTED
    actor = layers.identify(envelope("propose_risk_update", {}, AGENT))
    assert (actor.type, actor.id, actor.run_id) == (ActorType.AGENT, "risk-bot", "run-1")


@pytest.mark.parametrize(
    ("command_type", "allowed", "refused"),
    [
        ("approve_notice_draft", [REVIEWER, SUPERVISOR], [AGENT, ANALYST, SYSTEM]),
        ("send_approved_notice", [ANALYST, SUPERVISOR, SYSTEM], [AGENT]),
        ("close_case", [SUPERVISOR, SYSTEM], [AGENT, ANALYST, REVIEWER]),
        ("decide_proposal", [REVIEWER, SUPERVISOR], [AGENT, ANALYST, SYSTEM]),
        ("propose_case_escalation", [AGENT, ANALYST], [SYSTEM]),
        ("publish_policy", [SUPERVISOR], [AGENT, ANALYST, REVIEWER, SYSTEM]),
        ("record_notice_sent", [SYSTEM], [AGENT, SUPERVISOR]),
    ],
)
def test_authorization_follows_the_catalogue(
    command_type: str, allowed: list[Actor], refused: list[Actor]
) -> None:
    route = ROUTES[command_type]
    for actor in allowed:
        layers.authorize(route, actor)
    for actor in refused:
        assert refusal(layers.authorize, route, actor).reason is ReasonCode.NOT_PERMITTED


def test_agents_can_never_approve_send_close_or_delete() -> None:
    agent_commands = {name for name, route in ROUTES.items() if route.may_be_issued_by(AGENT)}
    assert agent_commands == {
        "propose_risk_update",
        "propose_case_escalation",
        "create_analyst_brief",
        "create_notice_draft",
        "revise_notice_draft",
        "request_notice_approval",
    }


def test_tenant_a_payload_naming_another_tenant_is_rejected() -> None:
    foreign = envelope("open_case", {**OPEN, "tenant_id": "t2"}, ANALYST)
    assert refusal(layers.check_payload_tenant, foreign).reason is ReasonCode.TENANT_MISMATCH
    layers.check_payload_tenant(envelope("open_case", {**OPEN, "tenant_id": "t1"}, ANALYST))


def test_tenant_an_aggregate_of_another_tenant_looks_like_one_that_does_not_exist() -> None:
    foreign = layers.as_seen_by(loaded("t2", revision=4), "t1")
    assert (foreign.exists, foreign.revision, foreign.keys) == (False, -1, {})
    assert foreign.state == CaseState()
    own = loaded("t1")
    assert layers.as_seen_by(own, "t1") is own
    new = loaded(None, -1)
    assert layers.as_seen_by(new, "t1") is new


def test_idempotency_a_known_key_with_the_same_digest_is_a_duplicate() -> None:
    record = IdempotencyRecord("cmd-0", "digest-a", "accepted")
    state = loaded(keys={("user:alice", "k1"): record})
    command = envelope("open_case", OPEN, ANALYST, key="k1")
    assert layers.check_idempotency(state, ANALYST, command, "digest-a") is record
    reused = refusal(layers.check_idempotency, state, ANALYST, command, "digest-b")
    assert reused.reason is ReasonCode.IDEMPOTENCY_KEY_REUSED
    assert layers.check_idempotency(state, REVIEWER, command, "digest-b") is None


def test_version_an_expected_version_other_than_the_head_conflicts() -> None:
    layers.check_version(None, 5)
    layers.check_version(5, 5)
    caught = refusal(layers.check_version, 4, 5)
    assert (caught.outcome, caught.reason) == (CommandOutcome.CONFLICT, ReasonCode.STALE_VERSION)


def test_stream_rule_creating_needs_a_new_stream_the_rest_an_existing_one() -> None:
    assert refusal(layers.check_stream_rule, ROUTES["open_case"], loaded()).reason is (
        ReasonCode.ALREADY_EXISTS
    )
    assert refusal(layers.check_stream_rule, ROUTES["close_case"], loaded(None, -1)).reason is (
        ReasonCode.NOT_FOUND
    )
    taken = refusal(layers.check_stream_rule, ROUTES["open_case"], loaded(None, -1), True)
    assert taken.reason is ReasonCode.ALREADY_EXISTS


def test_policy_gate_narrows_what_agents_may_do() -> None:
    briefs_only = PolicyRules(agent_commands=frozenset({"create_analyst_brief"}))
    route = ROUTES["propose_risk_update"]
    caught = refusal(layers.policy_gate, route, AGENT, briefs_only)
    assert caught.reason is ReasonCode.POLICY_FORBIDS_AGENT
    layers.policy_gate(route, ANALYST, briefs_only)
    layers.policy_gate(ROUTES["create_analyst_brief"], AGENT, briefs_only)
