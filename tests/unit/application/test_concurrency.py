"""Many writers on one case, and duplicates racing each other: nothing lost, nothing doubled."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import orjson

from caseledger.domain.application.ports import RecordedEvent
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import AGENT, ANALYST
from tests.support.commands import envelope
from tests.support.desk import case_under_review
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service

WRITERS = 12


class SlowReads(InMemoryEventStore):
    """Widens the window between a load and its append, so writers really interleave."""

    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        records = super().read_stream(stream, from_revision, limit)
        time.sleep(0.002)
        return records


def run_together(service: CommandService, commands: list[CommandEnvelope]) -> list[CommandResult]:
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(service.handle, commands))


def briefs(store: InMemoryEventStore) -> list[str]:
    return [
        orjson.loads(r.data)["brief_id"]
        for r in store.read_stream("case-t1_c1")
        if r.type == "case.analyst_brief_created"
    ]


def brief(n: int) -> CommandEnvelope:
    payload = {"case_id": "c1", "brief_id": f"b{n}", "title": "Brief", "body": f"finding {n}"}
    return envelope("create_analyst_brief", payload, ANALYST, key=f"brief-{n}")


def test_concurrent_writers_without_expected_versions_lose_and_double_nothing() -> None:
    store = SlowReads()
    service = command_service(store, max_attempts=WRITERS + 1)
    case_under_review(service)
    results = run_together(service, [brief(n) for n in range(WRITERS)])
    assert {r.status for r in results} == {CommandOutcome.ACCEPTED}
    assert sorted(briefs(store)) == sorted(f"b{n}" for n in range(WRITERS))
    revisions = [r.revision for r in store.read_stream("case-t1_c1")]
    assert revisions == list(range(len(revisions)))


def test_concurrent_writers_that_give_up_wrote_nothing() -> None:
    store = SlowReads()
    service = command_service(store, max_attempts=1)
    case_under_review(service)
    results = run_together(service, [brief(n) for n in range(WRITERS)])
    won = [r for r in results if r.status is CommandOutcome.ACCEPTED]
    lost = [r for r in results if r.status is CommandOutcome.CONFLICT]
    assert len(won) + len(lost) == WRITERS
    assert won
    assert sorted(briefs(store)) == sorted(r.events[0].payload["brief_id"] for r in won)


def test_writers_with_the_same_expected_version_have_one_winner() -> None:
    store = SlowReads()
    service = command_service(store)
    head = case_under_review(service).stream_revision
    commands = [brief(n).model_copy(update={"expected_aggregate_version": head}) for n in range(8)]
    outcomes = Counter(r.status for r in run_together(service, commands))
    assert outcomes == {CommandOutcome.ACCEPTED: 1, CommandOutcome.CONFLICT: 7}
    assert len(briefs(store)) == 1


def test_concurrent_duplicates_of_one_command_are_written_once() -> None:
    store = SlowReads()
    service = command_service(store)
    case_under_review(service)
    payload = {"case_id": "c1", "rationale": "Pattern", "evidence_refs": ["e1"], "confidence": 0.7}
    command = envelope("propose_case_escalation", payload, AGENT, key="same")
    results = run_together(service, [command] * WRITERS)
    proposals = [r for r in store.read_stream("case-t1_c1") if r.type == "case.escalation_proposed"]
    assert len(proposals) == 1
    assert {r.status for r in results} <= {
        CommandOutcome.REQUIRES_APPROVAL,
        CommandOutcome.DUPLICATE_ACCEPTED,
    }
    assert {r.events[0].event_id for r in results} == {str(proposals[0].id)}
    assert {r.approval_request_id for r in results} == {results[0].approval_request_id}
