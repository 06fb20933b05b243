"""The engine's commit rules, for a handler that processes a batch by building a unit of work
and committing it in one transaction of its store (`Transactional`: the projection runner).
One place for [B1]'s fault rules and for overlapped commits; the handler only builds, commits
and keeps what it committed.

Per batch (`Transactions.process`), the unit is built from the batch's items and the feed's
checkpoint, then committed:
- the store refused it because another commit came first (`CheckpointConflict`): what was
  built is forgotten (`reload`) and it is built again at once, on theirs;
- the store itself failed (`ReadStoreUnavailable`): never the events' fault, nothing parks —
  the engine is `stalled` (`CheckpointedSubscription.wait_out`: capped backoff, as long as it
  takes, `Stopped` on `stop()`) and the same batch is tried again;
- anything else: tried again after each of the policy's delays (`RetryPolicy.delays`); then
  the batch is taken apart and each item committed alone (isolate), so only the item that
  breaks it is parked: committed as parked (`build(..., park=reason)`); if even that fails, the
  store cannot record anything: stalled until it can.

Overlapped commits (`SubscriptionOptions.overlap_commits`, while catching up only): the unit
is committed in a second thread while the next is built on top of it (`launched`); readers
learn of it once the store holds it (`published`). At most one is in flight; if its commit
fails, what was built on it is forgotten and both are redone the one-at-a-time way. `settle`
waits for it: before the next commit, when the feed is quiet, when the subscription ends, and
wherever the handler needs the store to hold everything (an operator's retry).
"""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.ports import CheckpointConflict, ReadStoreUnavailable
from caseledger.projections.stall import Stopped

if TYPE_CHECKING:
    from caseledger.projections.subscription import CheckpointedSubscription

log = logging.getLogger(__name__)

T = TypeVar("T")
"""An item of a batch as the handler reads it (the runner: a decoded event)."""
W = TypeVar("W")
"""A unit of work built from a batch: what one transaction commits."""


class Transactional(ABC, Generic[T, W]):
    """A handler of the engine that builds and commits; `Transactions` drives it."""

    @abstractmethod
    def resume_from(self) -> int | None:
        """The position to subscribe after (None: from the start): the stored checkpoint."""

    @abstractmethod
    def items(self, events: Sequence[RecordedEvent]) -> Sequence[T]:
        """A batch's events as the units are built from them (once a batch)."""

    @abstractmethod
    def build(self, items: Sequence[T], checkpoint: int | None, park: str | None) -> W:
        """The unit committing `items` on top of the last one committed or launched, moving
        the checkpoint to `checkpoint` if further; `park`: park every item with that reason."""

    @abstractmethod
    def commit(self, work: W) -> None:
        """Commit `work` in one transaction (in the committer thread when overlapped)."""

    @abstractmethod
    def committed(self, work: W) -> None:
        """The store holds `work`: keep it as the committed state."""

    @abstractmethod
    def reload(self) -> None:
        """Forget everything built since the last commit the store holds; read it again."""

    @abstractmethod
    def failed(self, message: str) -> None:
        """A step failed (`message` says which and why): report it as the last error."""

    @property
    @abstractmethod
    def last_error(self) -> str | None:
        """The last error reported: what an item parked for good is parked with."""

    def launched(self, work: W) -> None:
        """`work` is being committed in the committer thread: the next builds on it."""
        return

    def published(self, work: W) -> None:
        """In the committer thread, as soon as the store holds `work` (wake readers)."""
        return

    def describe(self, item: T) -> str:
        """How `item` is named when even parking it fails."""
        return repr(item)

    def stalling(self, reason: str, began: bool) -> None:
        """The store failed for `reason` (`began`: the stall begins); the engine waits next."""
        return

    def resumed(self, reason: str) -> None:
        """The store answered again after a stall for `reason`."""
        return

    def between(self) -> None:
        """Before each batch is taken (e.g. an operator's retry of parked events)."""
        return

    def reached(self, target: int) -> bool:
        """Whether the checkpoint is at or past `target` (`$all`'s head at subscribing)."""
        return False


@dataclass
class _InFlight(Generic[T, W]):
    """A catch-up commit running in the committer thread."""

    items: Sequence[T]
    work: W
    done: Future[None]
    checkpoint: int | None


class Transactions(Generic[T, W]):
    """The engine's handler for a `Transactional` one: the commit rules above."""

    def __init__(self, work: Transactional[T, W], engine: CheckpointedSubscription) -> None:
        self._work = work
        self._engine = engine
        self._overlap = engine.options.overlap_commits
        self._retry = engine.options.retry
        self._sleep: Callable[[float], None] = engine.sleep
        self._committer: ThreadPoolExecutor | None = None
        self._in_flight: _InFlight[T, W] | None = None

    # -- the engine's handler ------------------------------------------------------------

    def resume_from(self) -> int | None:
        return self._work.resume_from()

    def between(self) -> None:
        self._work.between()

    def reached(self, target: int) -> bool:
        return self._work.reached(target)

    def quiet(self) -> None:
        self.settle()  # the feed is quiet: let readers see the batch in flight

    def ended(self) -> None:
        with contextlib.suppress(Stopped):  # stopped while the store failed: not committed
            self.settle()
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None

    def process(self, events: Sequence[RecordedEvent], checkpoint: int | None) -> None:
        items = self._work.items(events)
        if self._overlap and not self._engine.caught_up.is_set():
            work = self._build_ahead(items, checkpoint)
            if self.settle() and work is not None:
                self._launch(items, work, checkpoint)
                return
        else:
            self.settle()
        self._commit_or_isolate(items, checkpoint)

    # -- overlapped commits ---------------------------------------------------------------

    def _build_ahead(self, items: Sequence[T], checkpoint: int | None) -> W | None:
        """The unit of `items` on top of the one in flight; None if the store could not be
        read (the one-at-a-time way retries)."""
        try:
            return self._work.build(items, checkpoint, None)
        except Exception as error:
            self._work.failed(f"building a batch failed: {type(error).__name__}: {error}")
            return None

    def _launch(self, items: Sequence[T], work: W, checkpoint: int | None) -> None:
        """Commit `work` in the committer thread; the next batch builds on it meanwhile."""
        if self._committer is None:
            self._committer = ThreadPoolExecutor(
                1, thread_name_prefix=f"{self._engine.name}-commit"
            )
        self._work.launched(work)
        done = self._committer.submit(self._work.commit, work)
        done.add_done_callback(lambda future: self._published(future, work))
        self._in_flight = _InFlight(items, work, done, checkpoint)

    def _published(self, done: Future[None], work: W) -> None:
        if done.exception() is None:
            self._work.published(work)

    def settle(self) -> bool:
        """Wait for the commit in flight; True if there was none or it succeeded. If it failed,
        everything built on it is forgotten and its items are committed again the
        one-at-a-time way (retries, isolation, parking)."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return True
        error = in_flight.done.exception()
        if error is None:
            self._work.committed(in_flight.work)
            return True
        if isinstance(error, CheckpointConflict):
            log.warning("%s; rebuilding the batch", error)
        else:
            self._work.failed(f"commit failed: {type(error).__name__}: {error}")
        self._work.reload()
        self._commit_or_isolate(in_flight.items, in_flight.checkpoint)
        return False

    # -- one at a time --------------------------------------------------------------------

    def _commit_or_isolate(self, items: Sequence[T], checkpoint: int | None) -> None:
        if self._commit(items, checkpoint=checkpoint):
            return
        for item in items:  # isolate the item that breaks the batch
            if not self._commit([item]):
                self._park_for_good(item)

    def _commit(
        self, items: Sequence[T], park: str | None = None, checkpoint: int | None = None
    ) -> bool:
        """Build and commit `items` as one transaction, retried with backoff; False if it
        keeps failing (what was built is then forgotten). While the store itself fails it
        stalls: tries again (capped backoff) until it succeeds or `stop()`."""
        delays = self._retry.delays()
        work = self._work
        while True:
            try:
                built = work.build(items, checkpoint, park)
                work.commit(built)
            except CheckpointConflict as conflict:  # someone committed first: rebuild on theirs
                log.warning("%s; rebuilding the batch", conflict)
                work.reload()
                continue
            except ReadStoreUnavailable as error:  # the store's fault, never the items'
                self._stalled(str(error))
                work.reload()
                continue
            except Exception as error:
                work.failed(f"commit failed: {type(error).__name__}: {error}")
                work.reload()
                delay = next(delays, None)
                if delay is None:
                    return False
                self._sleep(delay)
                continue
            work.committed(built)
            reason = self._engine.resumed()
            if reason is not None:
                work.resumed(reason)
            return True

    def _park_for_good(self, item: T) -> None:
        """Park the item whose changes cannot be stored. If even parking it fails, the store
        cannot record anything: stalled, retried until it can."""
        reason = f"could not be stored: {self._work.last_error}"
        while not self._commit([item], park=reason):
            self._stalled(f"cannot even park {self._work.describe(item)}: {self._work.last_error}")

    def _stalled(self, reason: str) -> None:
        """Report `stalled` with `reason`, then wait before the next try (the engine's)."""
        self._work.stalling(reason, not self._engine.stall.stalled)
        self._engine.wait_out(reason)
