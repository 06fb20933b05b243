"""Checking one stream's hash chain (`chains`), its events fed in revision order.

A stream is **intact** when every event carries the link recomputed from its content and the
link before it, from revision 0 on, with no revision missing. Events written before chains
existed carry no link: a stream whose first events have none and whose later ones chain on from
`GENESIS` is **unchained up to revision N** (its last unlinked event), not broken. It is
**broken** at the first revision where a link differs from the one recomputed, a revision is
missing, or an event has no link once the chain began; **unreadable** where an event's data or
metadata is not JSON. Only the first break of a stream is reported: what follows it cannot be
told apart from its consequences.

A head pinned earlier (`caseledger audit heads`) is **reached** when the stream still holds, at
the pinned revision, the pinned event with the pinned link: events deleted from the end, or a
chain recomputed whole by someone able to rewrite the store, fail that.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from caseledger.domain.application.chains import GENESIS, Unreadable, carried_link, recompute
from caseledger.domain.application.ports import RecordedEvent

SHOWN: Final = 12
"""Hex digits of a link a message shows."""


class Status(StrEnum):
    INTACT = "intact"
    UNCHAINED = "unchained"
    BROKEN = "broken"
    UNREADABLE = "unreadable"


class BreakKind(StrEnum):
    LINK = "link_differs"
    GAP = "revision_missing"
    NO_LINK = "link_missing"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Break:
    revision: int
    kind: BreakKind
    differs: str
    """What differs, in one line."""


@dataclass(frozen=True)
class Head:
    """A stream's event at a revision: its id and the link it carries (None: none)."""

    revision: int
    event_id: str
    link: str | None


class StreamWalk:
    """One stream's chain, checked as its events come (oldest first). `watch`: a revision
    whose event is kept (`seen`), to compare with a pinned head."""

    def __init__(self, stream: str, watch: int | None = None) -> None:
        self.stream = stream
        self.events = 0
        self.head: Head | None = None
        self.seen: Head | None = None
        self.unchained_up_to: int | None = None
        self.first_break: Break | None = None
        self._watch = watch
        self._previous = GENESIS
        self._chained = False

    @property
    def status(self) -> Status:
        if self.first_break is not None:
            unreadable = self.first_break.kind is BreakKind.UNREADABLE
            return Status.UNREADABLE if unreadable else Status.BROKEN
        return Status.INTACT if self.unchained_up_to is None else Status.UNCHAINED

    def add(self, recorded: RecordedEvent) -> None:
        expected = self.head.revision + 1 if self.head is not None else 0
        self.events += 1
        link = (
            self._check(recorded, expected) if self.first_break is None else carried_link(recorded)
        )
        self.head = Head(recorded.revision, str(recorded.id), link)
        if recorded.revision == self._watch:
            self.seen = self.head

    def _check(self, recorded: RecordedEvent, expected: int) -> str | None:
        """The link `recorded` carries, noting the stream's first break if it is one."""
        revision = recorded.revision
        if revision != expected:
            missing = f"{expected}" if revision == expected + 1 else f"{expected}-{revision - 1}"
            differs = (
                f"revision {missing} missing before {revision}"
                if revision > expected
                else f"revision {revision} again, after {expected - 1}"
            )
            self._broke(revision, BreakKind.GAP, differs)
            return carried_link(recorded)
        try:
            found = recompute(recorded, self._previous)
        except Unreadable as error:
            self._broke(revision, BreakKind.UNREADABLE, f"unreadable: {error}")
            return None
        if found.stored is None:
            if self._chained:
                self._broke(revision, BreakKind.NO_LINK, "no link, after chained events")
            else:
                self.unchained_up_to = revision
        elif found.stored != found.link:
            self._broke(
                revision,
                BreakKind.LINK,
                f"link differs: stored {found.stored[:SHOWN]}, "
                f"recomputed from its content {found.link[:SHOWN]}",
            )
        else:
            self._chained, self._previous = True, found.link
        return found.stored

    def _broke(self, revision: int, kind: BreakKind, differs: str) -> None:
        self.first_break = Break(revision, kind, differs)


def not_reached(walk: StreamWalk | None, pinned: Head) -> str | None:
    """Why the stream walked no longer reaches `pinned` (None: it does)."""
    if walk is None or walk.head is None:
        return f"the stream is gone (pinned at revision {pinned.revision})"
    if walk.seen is None:
        return (
            f"the stream ends at revision {walk.head.revision}, "
            f"before the pinned head at revision {pinned.revision}"
        )
    if walk.seen.event_id != pinned.event_id:
        return f"revision {pinned.revision} holds another event than the one pinned"
    if walk.seen.link != pinned.link:
        return (
            f"revision {pinned.revision} carries another link than the one pinned: "
            f"{(walk.seen.link or 'none')[:SHOWN]}, pinned {(pinned.link or 'none')[:SHOWN]}"
        )
    return None
