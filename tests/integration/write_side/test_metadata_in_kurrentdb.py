"""Event metadata as KurrentDB sees it: read back with the raw `kurrentdbclient`, not through
the adapter, so the conventions hold for anything else that reads the store."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kurrentdbclient import KurrentDBClient

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import AGENT, ANALYST
from tests.support.clocks import FixedClock
from tests.support.commands import envelope
from tests.support.desk import case_under_review
from tests.support.services import command_service
from tests.support.stores import kurrent_store

PROPOSAL = {
    "case_id": "c1",
    "proposed_risk_level": "high",
    "rationale": "Interest far above the cap",
    "evidence_refs": ["e1"],
    "confidence": 0.8,
}


@pytest.fixture
def raw(server: EmbeddedServer) -> Iterator[KurrentDBClient]:
    client = KurrentDBClient(uri=server.url)
    yield client
    client.close()


@pytest.fixture
def service(server: EmbeddedServer) -> Iterator[CommandService]:
    with kurrent_store(server) as store:
        yield command_service(store, clock=FixedClock())


def test_an_agents_proposal_carries_its_provenance_in_kurrentdb_metadata(
    service: CommandService, raw: KurrentDBClient
) -> None:
    case_under_review(service)
    command = envelope(
        "propose_risk_update", PROPOSAL, AGENT, key="prop-1", command_id="cmd-prop"
    ).model_copy(update={"thread_id": "thread-9", "causation_id": "req-42"})
    result = service.handle(command)
    assert result.status is CommandOutcome.REQUIRES_APPROVAL

    recorded = raw.get_stream("case-t1_c1")[-1]
    meta = json.loads(recorded.metadata)
    assert (recorded.type, recorded.content_type) == (
        "case.risk_update_proposed",
        "application/json",
    )
    assert (meta["$correlationId"], meta["$causationId"]) == ("corr-1", "cmd-prop")
    assert (meta["tenantId"], meta["aggregateType"], meta["aggregateId"]) == ("t1", "case", "c1")
    assert (meta["actorType"], meta["actorId"], meta["runId"], meta["threadId"]) == (
        "agent",
        "risk-bot",
        "run-1",
        "thread-9",
    )
    assert (meta["commandId"], meta["commandType"], meta["commandCausationId"]) == (
        "cmd-prop",
        "propose_risk_update",
        "req-42",
    )
    assert meta["idempotencyKey"] == "prop-1"
    assert meta["commandDigest"]
    assert (meta["outcome"], meta["policyVersion"]) == ("requires_approval", "default")
    assert (meta["schemaVersion"], meta["payloadSchema"]) == ("1", "case.risk_update_proposed.v1")
    assert meta["occurredAt"] == "2025-01-02T03:04:05+00:00"
    assert "factsRead" not in meta  # nothing read: left out, as every absent value

    assert str(recorded.id) == result.events[0].event_id
    assert (recorded.stream_position, recorded.commit_position) == (
        result.stream_revision,
        result.commit_position,
    )
    assert json.loads(recorded.data)["approval_request_id"] == result.approval_request_id


def test_a_notice_records_the_case_revision_it_read(
    service: CommandService, raw: KurrentDBClient
) -> None:
    head = case_under_review(service).stream_revision
    draft = {"draft_id": "n1", "case_id": "c1", "recipient": "r", "subject": "s", "body": "b"}
    service.handle(envelope("create_notice_draft", draft, ANALYST))
    meta = json.loads(raw.get_stream("noticedraft-t1_n1")[0].metadata)
    assert meta["factsRead"] == f"case-t1_c1@{head}"


def test_a_refused_command_is_audited_in_the_tenants_commandlog(
    service: CommandService, raw: KurrentDBClient
) -> None:
    case_under_review(service)
    close = {"case_id": "c1", "resolution": "done"}
    service.handle(envelope("close_case", close, AGENT, command_id="cmd-close"))
    recorded = raw.get_stream("commandlog-t1")[-1]
    meta, data = json.loads(recorded.metadata), json.loads(recorded.data)
    assert recorded.type == "commandlog.command_not_accepted"
    assert (meta["$correlationId"], meta["$causationId"], meta["tenantId"]) == (
        "corr-1",
        "cmd-close",
        "t1",
    )
    assert (meta["actorType"], meta["actorId"], meta["runId"], meta["commandId"]) == (
        "agent",
        "risk-bot",
        "run-1",
        "cmd-close",
    )
    assert meta["payloadSchema"] == "commandlog.command_not_accepted.v1"
    assert (data["outcome"], data["reason_code"], data["stream_id"]) == (
        "rejected",
        "not_permitted",
        "case-t1_c1",
    )
