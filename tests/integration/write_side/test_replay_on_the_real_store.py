"""Replay for audits from the Python API, on the embedded store through the real client: the
state at a revision and the history with its metadata -- and replay never writes."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from kurrentdbclient import KurrentDBClient

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.domain.application.replay import replay, replay_document
from caseledger.domain.case.state import CaseStatus, EvidenceStatus, RiskLevel
from tests.support.actors import AGENT, REVIEWER
from tests.support.builders import TENANT
from tests.support.clocks import FixedClock
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.services import command_service
from tests.support.stores import CountingKurrentStore, kurrent_store


@pytest.fixture
def store(server: EmbeddedServer) -> Iterator[CountingKurrentStore]:
    """A case under review whose risk an agent proposed and a reviewer raised to high."""
    with kurrent_store(server) as adapter:
        service = command_service(adapter, clock=FixedClock())
        case_under_review(service)
        proposal = issue(
            service,
            "propose_risk_update",
            {
                "case_id": "c1",
                "proposed_risk_level": "high",
                "rationale": "40% a month",
                "evidence_refs": ["e1"],
                "confidence": 0.8,
            },
            AGENT,
        )
        decision = {
            "case_id": "c1",
            "approval_request_id": proposal.approval_request_id,
            "proposal_digest": proposal.events[0].payload["digest"],
            "decision": "approve",
        }
        accepted(issue(service, "decide_proposal", decision, REVIEWER))
        yield adapter


@pytest.fixture
def raw(server: EmbeddedServer) -> Iterator[KurrentDBClient]:
    client = KurrentDBClient(uri=server.url)
    yield client
    client.close()


def everything(raw: KurrentDBClient) -> list[tuple[str, int]]:
    return [(e.stream_name, e.stream_position) for e in raw.read_all()]


def test_replay_shows_the_state_at_a_revision_and_the_history_with_metadata(
    store: CountingKurrentStore, raw: KurrentDBClient
) -> None:
    full = replay(store, "case", TENANT, "c1")
    assert (full.revision, full.state.status, full.state.risk_level) == (
        5,
        CaseStatus.UNDER_REVIEW,
        RiskLevel.HIGH,
    )
    before_risk = replay(store, "case", TENANT, "c1", as_of_revision=3)
    assert (before_risk.revision, before_risk.state.risk_level) == (3, None)
    assert before_risk.state.evidence == {"e1": EvidenceStatus.APPROVED}
    assert [e.event_type for e in before_risk.history] == [
        "case.opened",
        "case.review_started",
        "case.evidence_submitted",
        "case.evidence_approved",
    ]

    proposed = full.history[4]
    stored = raw.get_stream("case-t1_c1")[4]
    meta = orjson.loads(stored.metadata)
    assert (proposed.event_id, proposed.stream_revision, proposed.commit_position) == (
        str(stored.id),
        4,
        stored.commit_position,
    )
    assert (proposed.actor_type, proposed.actor_id, proposed.run_id) == (
        "agent",
        "risk-bot",
        "run-1",
    )
    assert (proposed.correlation_id, proposed.causation_id, proposed.command_id) == (
        meta["$correlationId"],
        meta["$causationId"],
        meta["commandId"],
    )
    assert (proposed.idempotency_key, proposed.policy_version, proposed.tenant_id) == (
        meta["idempotencyKey"],
        "default",
        "t1",
    )
    assert full.history[5].event_type == "case.risk_level_changed"
    assert full.history[5].actor_id == "rita"

    document = orjson.loads(orjson.dumps(replay_document(before_risk)))
    assert (document["revision"], document["state"]["status"]) == (3, "under_review")
    assert len(document["history"]) == 4


def test_replay_never_writes(store: CountingKurrentStore, raw: KurrentDBClient) -> None:
    head, stored, appends = store.head_position(), everything(raw), store.appends
    replay(store, "case", TENANT, "c1")
    replay(store, "case", TENANT, "c1", as_of_revision=0)
    replay_document(replay(store, "policy", "t1", "t1"))
    nothing = replay(store, "notice_draft", TENANT, "no-such-draft")
    assert (nothing.revision, nothing.history) == (-1, [])
    assert (store.head_position(), raw.get_commit_position()) == (head, head)
    assert everything(raw) == stored
    assert store.appends == appends
