"""One idempotency key, one command, per tenant and actor, across every stream: on both stores,
and with writers racing from two service instances on one embedded store."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.domain.application.ports import (
    EventStore,
)
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared import streams
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import ANALYST, OTHER_ANALYST
from tests.support.commands import envelope, issue
from tests.support.memory_store import InMemoryEventStore, WithoutAtomicChecks
from tests.support.services import command_service
from tests.support.stores import kurrent_store

RACERS = 20


def open_case(case_id: str, key: str, summary: str = "Unlicensed lending") -> CommandEnvelope:
    payload = {"case_id": case_id, "allegation_summary": summary}
    return envelope("open_case", payload, ANALYST, key=key)


def cases_written(store: EventStore, count: int) -> list[str]:
    return [f"c{n}" for n in range(count) if store.read_stream(f"case-t1_c{n}")]


def test_the_same_key_and_payload_again_is_the_original_result(
    service: CommandService, store: EventStore
) -> None:
    first = service.handle(open_case("c1", "k-open"))
    issue(service, "start_case_review", {"case_id": "c1"}, ANALYST)

    again = service.handle(open_case("c1", "k-open"))

    assert first.status is CommandOutcome.ACCEPTED
    assert again.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]
    assert (again.stream_revision, again.commit_position) == (0, first.commit_position)
    assert len(store.read_stream("case-t1_c1")) == 2


def test_the_same_key_on_another_case_is_refused_and_writes_nothing(
    service: CommandService, store: EventStore
) -> None:
    first = service.handle(open_case("c1", "k-open"))

    retried = service.handle(open_case("c2", "k-open"))

    assert first.status is CommandOutcome.ACCEPTED
    assert retried.status is CommandOutcome.REJECTED
    assert retried.reason_code is ReasonCode.IDEMPOTENCY_KEY_REUSED
    assert first.command_id in (retried.reason or "")
    assert store.read_stream("case-t1_c2") == []


def test_a_key_used_on_one_case_refuses_another_command_type_on_another_case(
    service: CommandService, store: EventStore
) -> None:
    service.handle(open_case("c1", "k-1"))
    service.handle(open_case("c2", "k-2"))

    reused = issue(service, "start_case_review", {"case_id": "c2"}, ANALYST, key="k-1")

    assert reused.reason_code is ReasonCode.IDEMPOTENCY_KEY_REUSED
    assert len(store.read_stream("case-t1_c2")) == 1


def test_a_key_already_used_answers_before_the_command_would_be_refused(
    service: CommandService, store: EventStore
) -> None:
    """Idempotency precedes the later layers: a key taken elsewhere is `idempotency_key_reused`
    even where the command itself would be refused (here: no such case)."""
    service.handle(open_case("c1", "k-1"))

    reused = issue(service, "start_case_review", {"case_id": "nobody"}, ANALYST, key="k-1")

    assert reused.reason_code is ReasonCode.IDEMPOTENCY_KEY_REUSED


def test_keys_are_scoped_to_the_actor(service: CommandService, store: EventStore) -> None:
    service.handle(open_case("c1", "k-shared"))

    other = issue(
        service,
        "open_case",
        {"case_id": "c2", "allegation_summary": "Another"},
        OTHER_ANALYST,
        key="k-shared",
    )

    assert other.status is CommandOutcome.ACCEPTED


def test_the_reservation_is_its_own_category_that_no_reader_follows(
    service: CommandService, store: EventStore
) -> None:
    result = service.handle(open_case("c1", "k-open"))

    reservation = streams.reservation_stream("t1", ANALYST.key, "k-open")
    assert reservation.startswith(f"{streams.IDEMPOTENCY}-t1_")
    assert [r.type for r in store.read_stream(reservation)] == ["idempotency.key_reserved"]
    assert store.read_stream("case-t1_c1")[-1].commit_position == result.commit_position
    assert store.head_position(("case",)) == result.commit_position


class WithoutMultiStreamAppends(WithoutAtomicChecks, InMemoryEventStore):
    """As KurrentDB before 26.1: no AppendRecords."""


def test_without_multi_stream_appends_a_key_still_holds_across_cases_once_written() -> None:
    store = WithoutMultiStreamAppends()
    service = command_service(store)
    first = service.handle(open_case("c1", "k-open"))

    again = service.handle(open_case("c1", "k-open"))
    elsewhere = service.handle(open_case("c2", "k-open"))

    assert first.status is CommandOutcome.ACCEPTED
    assert again.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert elsewhere.reason_code is ReasonCode.IDEMPOTENCY_KEY_REUSED
    assert store.read_stream("case-t1_c2") == []
    assert store.read_stream(streams.reservation_stream("t1", ANALYST.key, "k-open"))


@pytest.fixture
def two_instances(server: EmbeddedServer) -> Iterator[tuple[CommandService, CommandService]]:
    """Two services, each on its own connection to one store, as two processes would be."""
    with ExitStack() as stack:
        first, second = (
            command_service(stack.enter_context(kurrent_store(server)), max_attempts=RACERS + 1)
            for _ in range(2)
        )
        yield first, second


def race(
    instances: tuple[CommandService, CommandService], commands: list[CommandEnvelope]
) -> list[CommandResult]:
    """Each command on its own thread, alternating between the two instances, released at
    once."""
    start = threading.Barrier(len(commands))

    def handle(n: int) -> CommandResult:
        start.wait()
        return instances[n % 2].handle(commands[n])

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(handle, range(len(commands))))


def test_twenty_racing_requests_with_one_key_on_different_cases_write_once(
    server: EmbeddedServer, two_instances: tuple[CommandService, CommandService]
) -> None:
    results = race(two_instances, [open_case(f"c{n}", "k-race") for n in range(RACERS)])

    outcomes = Counter((r.status, r.reason_code) for r in results)
    assert outcomes == {
        (CommandOutcome.ACCEPTED, None): 1,
        (CommandOutcome.REJECTED, ReasonCode.IDEMPOTENCY_KEY_REUSED): RACERS - 1,
    }
    with kurrent_store(server) as store:
        assert len(cases_written(store, RACERS)) == 1


def test_twenty_racing_duplicates_from_two_instances_all_get_the_one_result(
    server: EmbeddedServer, two_instances: tuple[CommandService, CommandService]
) -> None:
    results = race(two_instances, [open_case("c1", "k-race") for _ in range(RACERS)])

    assert Counter(r.status for r in results) == {
        CommandOutcome.ACCEPTED: 1,
        CommandOutcome.DUPLICATE_ACCEPTED: RACERS - 1,
    }
    assert len({tuple(e.event_id for e in r.events) for r in results}) == 1
    assert len({r.commit_position for r in results}) == 1
    with kurrent_store(server) as store:
        assert len(store.read_stream("case-t1_c1")) == 1
