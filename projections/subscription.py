"""The checkpointed subscription engine: for each event and its tracking position, process it.

At its heart (eventsourcing's process application, Eventuous's subscription with a checkpoint
store and a handler around it):

    resume after the handler's checkpoint -> subscribe to `$all` -> for each batch of events
    and the position the feed has looked at: the handler processes it (its effects and its
    checkpoint in one transaction of its store) -> when the feed fails: resubscribe from the
    checkpoint, after a backoff (`RetryPolicy.forever`).

Used by the projection runner (and so the audit index) and the outbox relay. What differs
between them is an option, not a shape:
- batching: at most `batch_size` items a call (1: one event at a time, the relay); while
  catching up a batch waits up to `catch_up_linger` to fill, once caught up (the handler has
  `reached` the head seen at subscribing) batches are paced by `live_interval`;
- prefetch: `read_ahead` > 0 reads the feed in a second thread into a bounded `ReadAhead` (a
  paged feed hands over a page at a time); 0 reads it in the engine's own thread, one item a
  call (the relay);
- a handler that builds and commits (`transactions.Transactional`, the runner) is driven by
  the engine's commit rules (`transactions.Transactions`); `overlap_commits` commits a batch
  in a second thread while the next is built (catching up only). The engine tells a handler
  when the feed is quiet (`quiet`) and when a subscription ends (`ended`), where it settles
  what it holds.

Fault rules, once for every user: the feed's failure is retried (resubscribe, backoff, never
fatal); a failure of the handler's own store is waited out (`wait_out`: `stalled` with the
reason, capped backoff, as long as it takes, the same batch again, `Stopped` on `stop()`);
an event's own failure is retried by the policy, then parked (`RetryPolicy`); for a
transactional handler, a commit that keeps failing is taken apart so only the event that
breaks it is parked (`transactions`). `Stopped` raised anywhere inside ends the run with the
batch in hand uncommitted (replayed).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.ports import Checkpoint, FeedSubscription, PagedSubscription
from caseledger.projections.read_ahead import ReadAhead
from caseledger.projections.retry import RetryPolicy
from caseledger.projections.stall import Stall, Stopped
from caseledger.projections.transactions import Transactional, Transactions

_END: Final = object()
"""Put on the read-ahead by the reader when the subscription ends."""
_LINGER_POLL: Final = 0.002
"""Seconds between looks at the read-ahead while a catch-up batch waits to fill."""


class SubscriptionFailed:
    """Put on the read-ahead by the reader when the feed broke: the engine resubscribes."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


@dataclass(frozen=True)
class SubscriptionOptions:
    batch_size: int = 1
    """Items (events) per `process` call at most; more than 1 needs `read_ahead`."""
    read_ahead: int = 0
    """Events read ahead by a reader thread (bounds memory); 0: no reader thread."""
    catch_up_linger: float = 0.25
    """While catching up, how long a batch may wait for more events to fill it."""
    live_interval: float = 0.002
    """Once caught up, the least time between two batches closing."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """The pauses before resubscribing and, while stalled, between tries."""
    stall_max_delay: float = 5.0
    """The longest pause between two tries while the handler's store fails (at most 5 s)."""
    stall: RetryPolicy | None = None
    """The pauses while stalled, exactly as this policy says (its `max_delay` the longest);
    None: `retry`'s, at most `stall_max_delay`."""
    resubscribe_when_ended: bool = False
    """A feed that ends (not stopped, not failed) is followed again at once (the relay);
    False: the run ends with it (the runner)."""
    overlap_commits: bool = False
    """For a `Transactional` handler, while catching up: commit a batch in a second thread
    while the next is built on top of it (worth it when the store's commits are mostly work
    outside this interpreter)."""


class Handler(Protocol):
    """What the engine drives: a checkpoint store (`resume_from`) and the processing. A class
    that names `Handler` as its base inherits the hooks' defaults (do nothing, never reached)."""

    def resume_from(self) -> int | None:
        """The position to subscribe after (None: from the start): the stored checkpoint."""
        ...

    def process(self, events: Sequence[RecordedEvent], checkpoint: int | None) -> None:
        """Process `events` (in `$all` order) and move the checkpoint to the last of them or to
        `checkpoint` (the feed looked at everything up to it), whichever is further."""
        ...

    def between(self) -> None:
        """Before each batch is taken (e.g. an operator's retry of parked events)."""
        return

    def quiet(self) -> None:
        """The feed had nothing for a while (e.g. let readers see a commit in flight)."""
        return

    def reached(self, target: int) -> bool:
        """Whether the checkpoint is at or past `target` (`$all`'s head at subscribing)."""
        return False

    def ended(self) -> None:
        """A subscription ended (stop, feed failure): settle what is in hand."""
        return


Subscribe = Callable[[int | None], FeedSubscription]
"""Subscribe after a position (None: from the start)."""


class CheckpointedSubscription:
    def __init__(
        self,
        subscribe: Subscribe,
        head: Callable[[], int],
        handler: Handler | Transactional[Any, Any],
        options: SubscriptionOptions,
        *,
        name: str,
        sleep: Callable[[float], None] = time.sleep,
        on_failure: Callable[[BaseException], None] = lambda error: None,
        on_state: Callable[[], None] = lambda: None,
        on_caught_up: Callable[[], None] | None = None,
    ) -> None:
        """`on_failure` hears each failure of the feed before the backoff; `on_state` is
        called when the engine starts, stalls (each failed try), resumes and stops. A
        `Transactional` handler is driven through the engine's commit rules."""
        self._subscribe = subscribe
        self._head = head
        self.options = options
        self.name = name
        self.sleep = sleep
        self._on_failure = on_failure
        self._on_state = on_state
        self._on_caught_up = on_caught_up
        self.stopping = threading.Event()
        self.caught_up = threading.Event()
        self.read_ahead = ReadAhead(max(options.read_ahead, 1))
        self.stall = _stall(options, self.stopping)
        self.state = "created"
        self.target: int | None = None
        """`$all`'s head when the engine last subscribed."""
        self._live_batch_at = -math.inf
        """When the last live batch closed (monotonic; none yet: the first is not held back,
        however recently the clock started): `live_interval` paces the next."""
        self._subscription: FeedSubscription | None = None
        self._thread: threading.Thread | None = None
        self._transactions: Transactions[Any, Any] | None = None
        if isinstance(handler, Transactional):
            self._transactions = Transactions(handler, self)
            handler = self._transactions
        self._handler: Handler = handler

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread until `stop()`."""
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Let the batch in hand finish, end the subscription, join the thread."""
        self.stopping.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Follow the feed until stopped; resubscribe (with backoff) when the feed fails."""
        delays = self.options.retry.forever()
        while not self.stopping.is_set():
            self.state = "running"
            self._on_state()
            try:
                failure = self.follow()
            except Stopped:
                break
            except Exception as error:  # the feed is unreachable: try again later
                failure = error
            if self.stopping.is_set():
                break
            if failure is None:
                if self.options.resubscribe_when_ended:
                    continue
                break
            self._on_failure(failure)
            self.sleep(next(delays))
        self.state = "stopped"
        self._on_state()

    # -- the handler's store fails --------------------------------------------------------

    def wait_out(self, reason: str) -> bool:
        """The handler's store failed (not the event): note `reason` (True if that begins the
        stall), report, then pause before the next try; raises `Stopped` on `stop()`."""
        began = self.stall.note(reason)
        self._on_state()
        self.stall.pause()
        return began

    def resumed(self) -> str | None:
        """The store answered: the stall (its reason) is over, if there was one."""
        reason = self.stall.end()
        if reason is not None:
            self._on_state()
        return reason

    def settle(self) -> bool:
        """Wait for a transactional handler's commit in flight (see `Transactions.settle`)."""
        return True if self._transactions is None else self._transactions.settle()

    # -- one subscription -----------------------------------------------------------------

    def follow(self, until: int | None = None, start: int | None = None) -> BaseException | None:
        """Subscribe after `start` (default: the handler's checkpoint) and process until
        stopped, until the feed ends or breaks (its error is returned), or — with `until` —
        once a batch reaches that position."""
        if start is None:
            start = self._handler.resume_from()
        target = self._head()  # `$all`'s head, before subscribing: reachable
        self.target = target
        subscription = self._subscribe(start)
        self._subscription = subscription
        reader: threading.Thread | None = None
        if self.options.read_ahead > 0:
            reader = threading.Thread(
                target=self._read, args=(subscription,), name=f"{self.name}-reader", daemon=True
            )
            reader.start()
            take: Callable[[], tuple[list[RecordedEvent], int | None, object]] = self._take
        else:
            items = iter(subscription)
            take = lambda: self._take_one(items)  # noqa: E731
        try:
            return self._consume(take, target, until)
        finally:
            self._handler.ended()
            subscription.stop()
            if reader is not None:
                self.read_ahead.clear()
                reader.join(5.0)

    def _consume(
        self,
        take: Callable[[], tuple[list[RecordedEvent], int | None, object]],
        target: int,
        until: int | None,
    ) -> BaseException | None:
        while not self.stopping.is_set():
            self._handler.between()
            batch, checkpoint, ending = take()
            if batch or checkpoint is not None:
                self._handler.process(batch, checkpoint)
            else:
                self._handler.quiet()
            if self._handler.reached(target):
                self._mark_caught_up()
            if isinstance(ending, SubscriptionFailed):
                return ending.error
            if ending is _END:
                return None
            if until is not None and _reach(batch, checkpoint) >= until:
                return None
        return None

    def _mark_caught_up(self) -> None:
        if self.caught_up.is_set():
            return
        self.caught_up.set()
        if self._on_caught_up is not None:
            self._on_caught_up()

    # -- taking batches -------------------------------------------------------------------

    def _take_one(
        self, items: Iterator[RecordedEvent | Checkpoint]
    ) -> tuple[list[RecordedEvent], int | None, object]:
        """Without a reader thread: the next item (waiting for it), or how the feed ended."""
        try:
            item = next(items)
        except StopIteration:
            return [], None, _END
        except Exception as error:  # the feed broke: resubscribe
            return [], None, SubscriptionFailed(error)
        if isinstance(item, Checkpoint):
            return [], item.position, None
        return [item], None, None

    def _read(self, subscription: FeedSubscription) -> None:
        stopping = self.stopping
        try:
            if isinstance(subscription, PagedSubscription):  # one hand-off a page
                for page in subscription.pages():
                    if not self.read_ahead.put_all(page, stopping):
                        return
            else:
                for event in subscription:
                    if not self.read_ahead.put(event, stopping):
                        return
        except BaseException as error:  # the feed broke: the engine resubscribes
            self.read_ahead.put(SubscriptionFailed(error), stopping)
            return
        self.read_ahead.put(_END, stopping)

    def _take(self) -> tuple[list[RecordedEvent], int | None, object]:
        """Up to `batch_size` events and the last checkpoint among them: wait briefly for the
        first, then take what is there — and, while catching up, what arrives within
        `catch_up_linger` of the first; once caught up, what arrives until `live_interval`
        after the last batch closed."""
        events: list[RecordedEvent] = []
        checkpoint: int | None = None
        item = self.read_ahead.get(timeout=0.05)
        if item is None:
            return events, checkpoint, None
        now = time.monotonic()
        if self.caught_up.is_set():
            deadline = max(now, self._live_batch_at + self.options.live_interval)
            self._live_batch_at = deadline
        else:
            deadline = now + self.options.catch_up_linger
        batch_size = self.options.batch_size
        while True:
            if isinstance(item, Checkpoint):
                checkpoint = max(item.position, checkpoint or 0)
            elif isinstance(item, RecordedEvent):
                events.append(item)
                if len(events) >= batch_size:
                    return events, checkpoint, None
            else:
                return events, checkpoint, item
            item = self._next_by(deadline)
            if item is None:
                return events, checkpoint, None

    def _next_by(self, deadline: float) -> object | None:
        """The next item if there is one by `deadline`. Polls rather than waits for it: a
        batch's later events must not make the reader wake the engine on every put (a thread
        switch per event); only a batch's first item is waited for (`_take`)."""
        while True:
            item = self.read_ahead.get_nowait()
            if item is not None:
                return item
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.stopping.is_set():
                return None
            time.sleep(min(remaining, _LINGER_POLL))


def _stall(options: SubscriptionOptions, stopping: threading.Event) -> Stall:
    if options.stall is None:
        return Stall(options.retry, options.stall_max_delay, stopping)
    most = options.stall.max_delay
    return Stall(options.stall, most, stopping, ceiling=most)


def _reach(events: Sequence[RecordedEvent], checkpoint: int | None) -> int:
    """The furthest position a batch covers (-1: none)."""
    last = events[-1].commit_position if events else -1
    return max(last, -1 if checkpoint is None else checkpoint)
