"""Idempotency across restarts: a retried command is recognised by a new service on the same
store, and by a new service after the store itself restarted on its data dir."""

from __future__ import annotations

from pathlib import Path

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import AGENT
from tests.support.commands import envelope
from tests.support.desk import case_under_review
from tests.support.services import command_service
from tests.support.stores import embedded_store, kurrent_store

ESCALATE = {"case_id": "c1", "rationale": "Pattern", "evidence_refs": ["e1"], "confidence": 0.7}


def the_same_answer(first: CommandResult, again: CommandResult) -> None:
    assert first.status is CommandOutcome.REQUIRES_APPROVAL
    assert again.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert again.original_outcome is CommandOutcome.REQUIRES_APPROVAL
    assert [(e.event_id, e.payload) for e in again.events] == [
        (e.event_id, e.payload) for e in first.events
    ]
    assert (again.stream_revision, again.commit_position, again.approval_request_id) == (
        first.stream_revision,
        first.commit_position,
        first.approval_request_id,
    )


def escalation(expected: int | None = None) -> CommandEnvelope:
    return envelope("propose_case_escalation", ESCALATE, AGENT, key="esc-1", expected=expected)


def test_a_retry_is_a_duplicate_for_a_new_service_on_the_same_store(
    server: EmbeddedServer,
) -> None:
    with kurrent_store(server) as store:
        head = case_under_review(command_service(store)).stream_revision
        command = escalation(expected=head)
        first = command_service(store).handle(command)
    with kurrent_store(server) as store:
        again = command_service(store).handle(command)
        proposals = [r for r in store.read_stream("case-t1_c1") if r.type.endswith("_proposed")]
    the_same_answer(first, again)
    assert len(proposals) == 1


def test_a_retry_is_a_duplicate_after_the_store_restarted(tmp_path: Path) -> None:
    data_dir = tmp_path / "eventstore"
    data_dir.mkdir()
    command = escalation()
    with embedded_store(data_dir) as server, kurrent_store(server) as store:
        case_under_review(command_service(store))
        first = command_service(store).handle(command)
    with embedded_store(data_dir) as server, kurrent_store(server) as store:
        again = command_service(store).handle(command)
        proposals = [r for r in store.read_stream("case-t1_c1") if r.type.endswith("_proposed")]
        log = store.read_stream("commandlog-t1")
    the_same_answer(first, again)
    assert len(proposals) == 1
    assert len(log) == 1  # the requires_approval answer, audited once
