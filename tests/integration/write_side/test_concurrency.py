"""Many writers on one case through the real client, and duplicates racing each other: nothing
lost, nothing doubled. Writers share one service (and adapter) or each run their own service on
their own connection, as separate processes would."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import orjson
import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, ANALYST
from tests.support.commands import envelope
from tests.support.desk import case_under_review
from tests.support.services import command_service
from tests.support.stores import kurrent_store

WRITERS = 12
Services = Callable[..., list[CommandService]]


@pytest.fixture
def services(server: EmbeddedServer) -> Iterator[Services]:
    """`services(n, shared, max_attempts)`: n services, sharing one adapter or each on its
    own connection."""
    with ExitStack() as stack:

        def make(n: int, shared: bool, max_attempts: int = WRITERS + 1) -> list[CommandService]:
            if shared:
                one = command_service(
                    stack.enter_context(kurrent_store(server)), max_attempts=max_attempts
                )
                return [one] * n
            return [
                command_service(
                    stack.enter_context(kurrent_store(server)), max_attempts=max_attempts
                )
                for _ in range(n)
            ]

        yield make


def run_together(
    services: list[CommandService], commands: list[CommandEnvelope]
) -> list[CommandResult]:
    """Each command on its own thread and service, released at once."""
    start = threading.Barrier(len(commands))

    def handle(pair: tuple[CommandService, CommandEnvelope]) -> CommandResult:
        start.wait()
        return pair[0].handle(pair[1])

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(handle, zip(services, commands, strict=True)))


def brief(n: int) -> CommandEnvelope:
    payload = {"case_id": "c1", "brief_id": f"b{n}", "title": "Brief", "body": f"finding {n}"}
    return envelope("create_analyst_brief", payload, ANALYST, key=f"brief-{n}")


def stored(store: EventStore, event_type: str) -> list[dict[str, object]]:
    return [orjson.loads(r.data) for r in store.read_stream("case-t1_c1") if r.type == event_type]


@pytest.fixture
def store(server: EmbeddedServer) -> Iterator[EventStore]:
    with kurrent_store(server) as adapter:
        case_under_review(command_service(adapter))
        yield adapter


@pytest.mark.parametrize("shared", [True, False], ids=["one-service", "own-services"])
def test_concurrent_writers_without_expected_versions_lose_and_double_nothing(
    services: Services, store: EventStore, shared: bool
) -> None:
    results = run_together(services(WRITERS, shared), [brief(n) for n in range(WRITERS)])
    assert {r.status for r in results} == {CommandOutcome.ACCEPTED}
    briefs = [b["brief_id"] for b in stored(store, "case.analyst_brief_created")]
    assert sorted(briefs) == sorted(f"b{n}" for n in range(WRITERS))
    revisions = [r.revision for r in store.read_stream("case-t1_c1")]
    assert revisions == list(range(4 + WRITERS))
    assert sorted(r.stream_revision for r in results) == list(range(4, 4 + WRITERS))


def test_writers_with_the_same_expected_version_have_one_winner(
    services: Services, store: EventStore
) -> None:
    head = len(store.read_stream("case-t1_c1")) - 1
    commands = [brief(n).model_copy(update={"expected_aggregate_version": head}) for n in range(8)]
    results = run_together(services(8, False), commands)
    assert Counter(r.status for r in results) == {
        CommandOutcome.ACCEPTED: 1,
        CommandOutcome.CONFLICT: 7,
    }
    assert len(stored(store, "case.analyst_brief_created")) == 1
    assert {r.reason_code for r in results if r.status is CommandOutcome.CONFLICT} <= {
        ReasonCode.STALE_VERSION,
        ReasonCode.CONCURRENT_WRITE,
    }


def test_writers_that_give_up_wrote_nothing(services: Services, store: EventStore) -> None:
    results = run_together(services(WRITERS, False, 1), [brief(n) for n in range(WRITERS)])
    won = [r for r in results if r.status is CommandOutcome.ACCEPTED]
    assert won
    assert len(won) + sum(r.status is CommandOutcome.CONFLICT for r in results) == WRITERS
    briefs = [b["brief_id"] for b in stored(store, "case.analyst_brief_created")]
    assert sorted(briefs) == sorted(str(r.events[0].payload["brief_id"]) for r in won)


@pytest.mark.parametrize("shared", [True, False], ids=["one-service", "own-services"])
def test_concurrent_duplicates_of_one_command_are_written_once(
    services: Services, store: EventStore, shared: bool
) -> None:
    payload = {"case_id": "c1", "rationale": "Pattern", "evidence_refs": ["e1"], "confidence": 0.7}
    command = envelope("propose_case_escalation", payload, AGENT, key="same")
    results = run_together(services(WRITERS, shared), [command] * WRITERS)
    proposals = [r for r in store.read_stream("case-t1_c1") if r.type == "case.escalation_proposed"]
    assert len(proposals) == 1
    assert {r.status for r in results} <= {
        CommandOutcome.REQUIRES_APPROVAL,
        CommandOutcome.DUPLICATE_ACCEPTED,
    }
    assert {r.events[0].event_id for r in results} == {str(proposals[0].id)}
    assert {(r.approval_request_id, r.commit_position) for r in results} == {
        (results[0].approval_request_id, results[0].commit_position)
    }
    assert len(store.read_stream("case-t1_c1")) == 5
    assert len(store.read_stream("commandlog-t1")) == 1  # requires_approval, audited once
