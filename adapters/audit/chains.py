"""Verifying the store's hash chains (`caseledger audit verify`) and pinning their heads
(`caseledger audit heads`): every chained stream (`chains.CHAINED`) read from the store, walked
event by event (`chain_walk`), and compared with heads pinned earlier.

The whole store is read as `$all` filtered to the chained categories, up to its head as of the
start (events appended meanwhile are left to the next run); one stream is read by name. Only
reads.

A heads file is JSON: `{"format": "caseledger.chain_heads.v1", "exported_at", "position",
"tenant", "streams": {stream: {"revision", "event_id", "link"}}}` — `position` is the `$all`
position the export read up to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from caseledger.adapters.eventstore.up_to_head import events_up_to
from caseledger.domain.application.chain_walk import Head, Status, StreamWalk, not_reached
from caseledger.domain.application.chains import CHAINED
from caseledger.domain.application.ports import EventStore, RecordedEvent
from caseledger.domain.shared import streams

HEADS_FORMAT: Final = "caseledger.chain_heads.v1"
MAX_HEADS_FILE: Final = 1 << 30
"""Bytes of a heads file read at most (a million streams take about 200 MB)."""


class HeadsFileError(Exception):
    """The heads file cannot be read or is not one `audit heads` wrote."""


@dataclass
class ChainReport:
    """What a verification found: each stream's walk, and the pinned heads not reached."""

    position: int
    walks: dict[str, StreamWalk]
    unreached: dict[str, str] = field(default_factory=dict)
    """Stream -> why it no longer reaches the head pinned for it."""

    @property
    def intact(self) -> bool:
        """No stream broken or unreadable, and every pinned head reached."""
        bad = (Status.BROKEN, Status.UNREADABLE)
        return not self.unreached and all(w.status not in bad for w in self.walks.values())

    def summary(self) -> dict[str, int]:
        counted = dict.fromkeys(Status, 0)
        for walk in self.walks.values():
            counted[walk.status] += 1
        return {
            "streams": len(self.walks),
            "events": sum(w.events for w in self.walks.values()),
            **{status.value: n for status, n in counted.items()},
            "heads_not_reached": len(self.unreached),
        }

    def document(self) -> dict[str, Any]:
        """The report as JSON-ready data: every stream not intact, and unreached heads."""
        return {
            "intact": self.intact,
            "position": self.position,
            "summary": self.summary(),
            "streams": [
                stream_document(w) for w in self.walks.values() if w.status is not Status.INTACT
            ],
            "heads_not_reached": [
                {"stream": stream, "reason": reason} for stream, reason in self.unreached.items()
            ],
        }

    def heads(self, at: datetime, tenant: str | None) -> dict[str, Any]:
        """Every stream's head, as a heads file holds them."""
        return {
            "format": HEADS_FORMAT,
            "exported_at": at.isoformat(),
            "position": self.position,
            "tenant": tenant,
            "streams": {
                stream: {"revision": h.revision, "event_id": h.event_id, "link": h.link}
                for stream, walk in sorted(self.walks.items())
                if (h := walk.head) is not None
            },
        }


def stream_document(walk: StreamWalk) -> dict[str, Any]:
    head = walk.head
    broke = walk.first_break
    return {
        "stream": walk.stream,
        "status": walk.status.value,
        "events": walk.events,
        "head": None if head is None else head_document(head),
        "unchained_up_to_revision": walk.unchained_up_to,
        "first_break": None
        if broke is None
        else {"revision": broke.revision, "kind": broke.kind.value, "differs": broke.differs},
    }


def head_document(head: Head) -> dict[str, Any]:
    return {"revision": head.revision, "event_id": head.event_id, "link": head.link}


def verify(
    store: EventStore,
    *,
    tenant: str | None = None,
    stream: str | None = None,
    pinned: Mapping[str, Head] | None = None,
) -> ChainReport:
    """Walk the chained streams (of `tenant`, or only `stream`) and compare them with the
    `pinned` heads that fall in that scope."""
    in_scope = {
        name: head
        for name, head in (pinned or {}).items()
        if (stream is None or name == stream) and (tenant is None or _tenant(name) == tenant)
    }
    walks: dict[str, StreamWalk] = {}
    position = store.head_position(CHAINED)
    for recorded in _events(store, position, stream):
        if tenant is not None and _tenant(recorded.stream) != tenant:
            continue
        walk = walks.get(recorded.stream)
        if walk is None:
            watched = in_scope.get(recorded.stream)
            walk = StreamWalk(recorded.stream, None if watched is None else watched.revision)
            walks[recorded.stream] = walk
        walk.add(recorded)
    unreached = {
        name: reason
        for name, head in sorted(in_scope.items())
        if (reason := not_reached(walks.get(name), head)) is not None
    }
    return ChainReport(position, walks, unreached)


def _events(store: EventStore, head: int, stream: str | None) -> Iterable[RecordedEvent]:
    if stream is not None:
        yield from store.read_stream(stream)
        return
    yield from events_up_to(store, head, CHAINED)


def _tenant(stream: str) -> str | None:
    name = streams.parse_stream(stream)
    return None if name is None else name.tenant_id


def is_chained(stream: str) -> bool:
    """`stream` is a name caseledger builds, in a chained category."""
    name = streams.parse_stream(stream)
    return name is not None and name.category in CHAINED


def read_heads(path: Path) -> dict[str, Head]:
    """The heads a file written by `audit heads` pins; raises HeadsFileError."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_HEADS_FILE + 1)
    except OSError as error:
        raise HeadsFileError(f"cannot read {path}: {error.strerror}") from None
    if len(raw) > MAX_HEADS_FILE:
        raise HeadsFileError(f"{path} is over {MAX_HEADS_FILE} bytes")
    try:
        document = orjson.loads(raw)
        if document.get("format") != HEADS_FORMAT:
            raise HeadsFileError(f"{path} is not a heads file ({HEADS_FORMAT})")
        return {str(stream): _head(entry) for stream, entry in dict(document["streams"]).items()}
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        raise HeadsFileError(f"{path} is not a heads file ({HEADS_FORMAT})") from None


def _head(entry: Mapping[str, Any]) -> Head:
    revision, event_id, link = entry["revision"], entry["event_id"], entry["link"]
    if not (
        isinstance(revision, int)
        and not isinstance(revision, bool)
        and revision >= 0
        and isinstance(event_id, str)
        and (link is None or isinstance(link, str))
    ):
        raise ValueError("not a head")
    return Head(revision, event_id, link)
