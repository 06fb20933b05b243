"""The id grammar, checked before any stream name is built: tenant ids (1-64, never the
separator `_`) and aggregate ids (1-128) of a small ASCII charset; everything else is refused
without echoing it."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from caseledger.domain.application.aggregates import CASE, POLICY
from caseledger.domain.shared.ids import Identifier, TenantId
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from caseledger.domain.shared.streams import (
    InvalidId,
    StreamName,
    aggregate_stream,
    parse_stream,
    tenant_stream,
)
from tests.support.actors import ANALYST
from tests.support.clocks import FixedClock
from tests.support.commands import envelope
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service

TENANT = TypeAdapter(TenantId)
AGGREGATE = TypeAdapter(Identifier)
LOOK_ALIKES = [
    "\u0441" + "1",  # Cyrillic es
    "\uff43" + "1",  # fullwidth c
    "c\u0661",  # Arabic-Indic one
    "c1\u200b",  # zero-width space
    "c1\u00a0",  # no-break space
    "\u212a1",  # Kelvin sign (folds to K)
]
NEVER = [
    "",
    " c1",
    "c1 ",
    "c1\n",
    "c\t1",
    "-c1",
    ".c1",
    "c/1",
    "c@1",
    "c#1",
    "c1\x00",
    *LOOK_ALIKES,
]


@pytest.mark.parametrize("value", ["t1", "acme-eu", "a.b:c", "T" * 64, "9"])
def test_tenant_ids_inside_the_grammar_are_taken(value: str) -> None:
    assert TENANT.validate_python(value) == value


@pytest.mark.parametrize("value", ["t_1", "_t1", "t1_", "T" * 65, *NEVER])
def test_tenant_ids_outside_the_grammar_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="not a tenant id"):
        TENANT.validate_python(value)


@pytest.mark.parametrize("value", ["c1", "c_1", "case-2026-01", "a.b:c_d-e", "x" * 128])
def test_aggregate_ids_inside_the_grammar_are_taken(value: str) -> None:
    assert AGGREGATE.validate_python(value) == value


@pytest.mark.parametrize("value", ["x" * 129, "x" * 100_000, *NEVER])
def test_aggregate_ids_outside_the_grammar_are_refused_without_echoing_them(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AGGREGATE.validate_python(value)
    (error,) = caught.value.errors(include_input=False)
    assert error["type"] == "invalid_id"
    assert len(error["msg"]) < 200


def test_a_stream_name_carries_the_tenant_and_keeps_the_category() -> None:
    assert aggregate_stream("case", "t1", "c1") == "case-t1_c1"
    assert CASE.stream("acme-eu", "c_1-2") == "case-acme-eu_c_1-2"
    assert POLICY.stream("t1", "t1") == tenant_stream("policy", "t1") == "policy-t1"
    assert parse_stream("case-acme-eu_c_1-2") == StreamName("case", "acme-eu", "c_1-2")
    assert parse_stream("policy-t1") == StreamName("policy", "t1", None)
    assert CASE.id_of("case-acme-eu_c_1-2") == "c_1-2"


def test_the_same_id_in_two_tenants_names_two_streams_and_no_tenant_takes_anothers() -> None:
    assert CASE.stream("t1", "c1") != CASE.stream("t2", "c1")
    assert CASE.stream("t1", "x_c1") == "case-t1_x_c1"
    with pytest.raises(InvalidId):  # the tenant that would name the same stream cannot exist
        CASE.stream("t1_x", "c1")


@pytest.mark.parametrize(
    ("tenant", "aggregate_id", "field"),
    [("t_1", "c1", "tenant_id"), ("t1", "c1\n", "id"), ("", "c1", "tenant_id"), ("t1", "", "id")],
)
def test_no_stream_name_is_built_from_an_id_outside_the_grammar(
    tenant: str, aggregate_id: str, field: str
) -> None:
    with pytest.raises(InvalidId) as caught:
        aggregate_stream("case", tenant, aggregate_id)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: not a valid id")


@pytest.mark.parametrize("field", ["case_id", "evidence_id"])
@pytest.mark.parametrize("value", ["x" * 300, "\u0441" + "1", "e\n1", "e_1\u200b", ""])
def test_a_command_naming_an_id_outside_the_grammar_is_invalid_payload_and_writes_nothing(
    field: str, value: str
) -> None:
    store = InMemoryEventStore()
    service = command_service(store, clock=FixedClock())
    payload = {"case_id": "c1", "evidence_id": "e1", "title": "T", "text": "x", field: value}
    result = service.handle(envelope("submit_evidence", payload, ANALYST))
    assert (result.status, result.reason_code) == (
        CommandOutcome.VALIDATION_ERROR,
        ReasonCode.INVALID_PAYLOAD,
    )
    assert result.reason is not None
    assert result.reason.startswith(f"{field}: not an id")
    assert len(result.reason) <= 200
    assert not value or value not in result.reason
    assert store.read_stream("case-t1_c1") == []


def test_an_envelope_of_a_tenant_outside_the_grammar_cannot_be_made() -> None:
    with pytest.raises(ValidationError, match="not a tenant id"):
        envelope("open_case", {"case_id": "c1", "allegation_summary": "x"}, ANALYST, tenant="t_1")
