"""The engine's commit rules for a handler that builds and commits: a commit that keeps failing
is taken apart so only the item that breaks it is parked; a failing store is waited out and
parks nothing; a conflict is rebuilt at once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.ports import CheckpointConflict, ReadStoreUnavailable
from caseledger.projections.retry import RetryPolicy
from caseledger.projections.subscription import CheckpointedSubscription, SubscriptionOptions
from caseledger.projections.transactions import Transactional

NO_WAIT = RetryPolicy(first_delay=0.0, factor=1.0, max_delay=0.0)


def event(position: int) -> RecordedEvent:
    return RecordedEvent(uuid.uuid4(), "case-1", position - 1, "t", b"{}", b"{}", "json", position)


@dataclass(frozen=True)
class Unit:
    items: tuple[int, ...]
    park: str | None


@dataclass
class Store(Transactional[int, Unit]):
    """Commits fail as told: `poison` items always (unless parked), then the queued failures."""

    poison: set[int] = field(default_factory=set)
    failures: list[Exception] = field(default_factory=list)
    commits: list[Unit] = field(default_factory=list)
    tries: int = 0
    reloads: int = 0
    stalls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def resume_from(self) -> int | None:
        return None

    def items(self, events: Sequence[RecordedEvent]) -> Sequence[int]:
        return [e.commit_position for e in events]

    def build(self, items: Sequence[int], checkpoint: int | None, park: str | None) -> Unit:
        return Unit(tuple(items), park)

    def commit(self, work: Unit) -> None:
        self.tries += 1
        if self.failures:
            raise self.failures.pop(0)
        if work.park is None and self.poison & set(work.items):
            raise ValueError("a row the store refuses")

    def committed(self, work: Unit) -> None:
        self.commits.append(work)

    def reload(self) -> None:
        self.reloads += 1

    def failed(self, message: str) -> None:
        self.errors.append(message)

    @property
    def last_error(self) -> str | None:
        return self.errors[-1] if self.errors else None

    def stalling(self, reason: str, began: bool) -> None:
        self.stalls.append(reason)


class ListSubscription(list[RecordedEvent]):
    def stop(self) -> None:
        return None


def run(store: Store, positions: Sequence[int]) -> CheckpointedSubscription:
    events = ListSubscription(event(p) for p in positions)
    subscription = CheckpointedSubscription(
        lambda start: events,
        lambda: events[-1].commit_position,
        store,
        SubscriptionOptions(batch_size=100, read_ahead=10, retry=NO_WAIT),
        name="test-transactions",
        sleep=lambda delay: None,
    )
    assert subscription.follow() is None
    return subscription


def test_a_batch_that_keeps_failing_is_taken_apart_and_only_the_breaking_item_parked() -> None:
    store = Store(poison={3})

    run(store, [1, 2, 3, 4])

    assert store.commits == [
        Unit((1,), None),
        Unit((2,), None),
        Unit((3,), "could not be stored: commit failed: ValueError: a row the store refuses"),
        Unit((4,), None),
    ]
    assert store.stalls == []


def test_a_failing_store_is_waited_out_and_parks_nothing() -> None:
    down = ReadStoreUnavailable("SQLite SQLITE_BUSY: database is locked")
    store = Store(failures=[down, down])

    subscription = run(store, [1, 2])

    assert store.commits == [Unit((1, 2), None)]
    assert store.stalls == [str(down), str(down)]
    assert not subscription.stall.stalled


def test_a_conflict_is_rebuilt_at_once() -> None:
    store = Store(failures=[CheckpointConflict("view-1", 0, 2)])

    run(store, [1, 2])

    assert (store.commits, store.tries, store.reloads, store.errors) == (
        [Unit((1, 2), None)],
        2,
        1,
        [],
    )
