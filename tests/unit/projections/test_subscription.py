"""The checkpointed subscription engine: it resumes after the handler's checkpoint, hands over
each batch of events with the position the feed has looked at, resubscribes from the
checkpoint after the feed breaks, and its options (batching with a read-ahead, one event at a
time without one, following until a position) change how much a call gets, not what."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence

from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.ports import Checkpoint
from caseledger.projections.retry import RetryPolicy
from caseledger.projections.subscription import CheckpointedSubscription, SubscriptionOptions

NO_WAIT = RetryPolicy(first_delay=0.0, factor=1.0, max_delay=0.0)


def event(position: int) -> RecordedEvent:
    return RecordedEvent(uuid.uuid4(), "case-1", position - 1, "t", b"{}", b"{}", "json", position)


class Feed:
    """`$all` as a list of items; `breaks_at` makes a subscription fail once there."""

    def __init__(self, items: Sequence[RecordedEvent | Checkpoint], breaks_at: int = 0) -> None:
        self.items = list(items)
        self.breaks_at = breaks_at
        self.starts: list[int | None] = []

    def subscribe(self, start: int | None) -> Sub:
        self.starts.append(start)
        return Sub(self, start or 0)

    def head(self) -> int:
        return max((_position(i) for i in self.items), default=0)


class Sub:
    def __init__(self, feed: Feed, start: int) -> None:
        self.feed, self.start = feed, start

    def __iter__(self) -> Iterator[RecordedEvent | Checkpoint]:
        for item in self.feed.items:
            if _position(item) <= self.start:
                continue
            if self.feed.breaks_at and _position(item) == self.feed.breaks_at:
                self.feed.breaks_at = 0
                raise ConnectionError("the feed broke")
            yield item

    def stop(self) -> None:
        return None


def _position(item: RecordedEvent | Checkpoint) -> int:
    return item.position if isinstance(item, Checkpoint) else item.commit_position


class Handler:
    def __init__(self) -> None:
        self.checkpoint: int | None = None
        self.calls: list[tuple[list[int], int | None]] = []
        self.done = threading.Event()
        self.last = 0

    def resume_from(self) -> int | None:
        return self.checkpoint

    def process(self, events: Sequence[RecordedEvent], checkpoint: int | None) -> None:
        self.calls.append(([e.commit_position for e in events], checkpoint))
        reach = max([e.commit_position for e in events] + [checkpoint or 0])
        self.checkpoint = max(reach, self.checkpoint or 0)
        if self.checkpoint >= self.last:
            self.done.set()

    def between(self) -> None:
        return None

    def quiet(self) -> None:
        return None

    def reached(self, target: int) -> bool:
        return (self.checkpoint or 0) >= target

    def ended(self) -> None:
        return None


def engine(feed: Feed, handler: Handler, **options: object) -> CheckpointedSubscription:
    return CheckpointedSubscription(
        feed.subscribe,
        feed.head,
        handler,
        SubscriptionOptions(retry=NO_WAIT, **options),  # type: ignore[arg-type]
        name="test-engine",
        sleep=lambda delay: None,
    )


def test_one_event_a_call_without_read_ahead_and_follow_stops_at_until() -> None:
    feed = Feed([event(1), event(2), Checkpoint(5), event(7), event(9)])
    handler = Handler()

    assert engine(feed, handler).follow(until=7) is None

    assert handler.calls == [([1], None), ([2], None), ([], 5), ([7], None)]
    assert feed.starts == [None]


def test_batches_with_a_read_ahead_carry_the_feeds_checkpoint() -> None:
    feed = Feed([event(1), event(2), Checkpoint(4), event(6), Checkpoint(8)])
    handler = Handler()
    handler.last = 8
    subscription = engine(feed, handler, batch_size=100, read_ahead=10)

    subscription.start()
    assert handler.done.wait(30)
    subscription.stop()

    events = [p for call in handler.calls for p in call[0]]
    assert events == [1, 2, 6]
    assert handler.checkpoint == 8
    assert subscription.caught_up.is_set()


def test_a_broken_feed_is_followed_again_from_the_checkpoint() -> None:
    feed = Feed([event(1), event(2), event(3), event(4)], breaks_at=3)
    handler = Handler()
    handler.last = 4
    failures: list[BaseException] = []
    subscription = CheckpointedSubscription(
        feed.subscribe,
        feed.head,
        handler,
        SubscriptionOptions(retry=NO_WAIT),
        name="test-engine",
        sleep=lambda delay: None,
        on_failure=failures.append,
    )

    subscription.start()
    assert handler.done.wait(30)
    subscription.stop()

    assert [type(f) for f in failures] == [ConnectionError]
    assert feed.starts[:2] == [None, 2]
    assert [p for call in handler.calls for p in call[0]] == [1, 2, 3, 4]


class LiveFeed(Feed):
    """`$all` that stays open: a subscription waits for appended items until stopped."""

    def __init__(self, items: Sequence[RecordedEvent | Checkpoint]) -> None:
        super().__init__(items)
        self.appended = threading.Condition()
        self.stopped = threading.Event()

    def subscribe(self, start: int | None) -> LiveSub:
        self.starts.append(start)
        return LiveSub(self, start or 0)

    def append(self, item: RecordedEvent) -> None:
        with self.appended:
            self.items.append(item)
            self.appended.notify_all()


class LiveSub(Sub):
    feed: LiveFeed

    def __iter__(self) -> Iterator[RecordedEvent | Checkpoint]:
        seen = 0
        while not self.feed.stopped.is_set():
            with self.feed.appended:
                if seen == len(self.feed.items):
                    self.feed.appended.wait(0.05)
                fresh, seen = self.feed.items[seen:], len(self.feed.items)
            yield from (i for i in fresh if _position(i) > self.start)

    def stop(self) -> None:
        self.feed.stopped.set()


def test_the_first_live_batch_is_not_held_back_by_the_live_interval() -> None:
    feed = LiveFeed([event(1)])
    handler = Handler()
    handler.last = 2
    interval = 1e12  # longer than any monotonic clock has run
    subscription = engine(feed, handler, batch_size=100, read_ahead=10, live_interval=interval)

    subscription.start()
    assert subscription.caught_up.wait(30)
    feed.append(event(2))
    reached = handler.done.wait(30)
    subscription.stop()

    assert reached
    assert [p for call in handler.calls for p in call[0]] == [1, 2]
