"""`$all` read once, from its start to a head taken before: what audits and migrations that
walk the whole store read, without following it live."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from caseledger.domain.application.ports import EventStore, RecordedEvent


def events_up_to(
    store: EventStore,
    head: int,
    categories: Sequence[str] = (),
    *,
    within: float | None = None,
) -> Iterator[RecordedEvent]:
    """Every event of `$all` (of `categories` only, if named) from the start through the one at
    `head`, then the subscription is stopped. Nothing when `head` is 0. It ends early, without
    an error, when the subscription ends first or is stopped by the timer of `within` seconds:
    a caller that must have reached `head` compares the last position it was given."""
    if head == 0:
        return
    subscription = store.subscribe_all(None, categories)
    timer = None if within is None else threading.Timer(within, subscription.stop)
    if timer is not None:
        timer.start()
    try:
        for recorded in subscription:
            yield recorded
            if recorded.commit_position >= head:
                return
    finally:
        if timer is not None:
            timer.cancel()
        subscription.stop()
