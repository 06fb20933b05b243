"""The head position for queries' freshness, which may be unknown: a query whose view is fine
must not wait on an event store that has stopped answering."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from time import monotonic

from caseledger.domain.application.ports import EventStoreUnavailable
from caseledger.projections.queries.freshness import HeadPosition


class HeadUnlessSilent:
    """`source`'s head, except for `pause` seconds after a lookup found the store unavailable:
    then EventStoreUnavailable at once (freshness unknown) instead of every query waiting out
    the deadline; the first lookup after the pause asks the store again."""

    def __init__(
        self, source: HeadPosition, pause: float, clock: Callable[[], float] = monotonic
    ) -> None:
        self._source = source
        self._pause = pause
        self._clock = clock
        self._silent_until = 0.0

    def head_position(self, categories: Sequence[str] = ()) -> int:
        if self._clock() < self._silent_until:
            raise EventStoreUnavailable("the event store did not answer just now")
        try:
            return self._source.head_position(categories)
        except EventStoreUnavailable:
            self._silent_until = self._clock() + self._pause
            raise
