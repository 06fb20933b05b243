"""Hash chains: every event the command service appends to an aggregate's stream carries, in its
metadata under `chainLink`, a link to the event before it.

The rule: `link = sha256(canonical([previous, event_id, type, data, metadata]))`, hex, where
`previous` is the link of the stream's previous event (`GENESIS`, the empty string, for the
first chained event of a stream), `event_id` the event's id (lowercase, hyphenated), `type` its
type, `data` its data parsed as JSON and `metadata` its metadata parsed as JSON without
`chainLink` (nor the properties a store adds of its own, `$schema.*`: KurrentDB's record of a
record's format and schema, never written by caseledger). The canonical form is JSON with keys
sorted at every level, no whitespace, UTF-8 (non-ASCII characters unescaped): what
`orjson.dumps(value, option=OPT_SORT_KEYS)` writes. The chain is over parsed JSON, not over
stored bytes, because a store may hand back what it was given in another layout (KurrentDB's
AppendRecords keeps metadata as properties, not bytes).

The stream name and revision are not hashed: an event deleted from the middle of a stream
breaks the link of the event after it. An event deleted from the end, or a chain recomputed
whole after an edit, leaves a chain that is consistent by itself: only a head pinned elsewhere
(`caseledger audit heads`) catches those.

Chained: the aggregates' streams (`CHAINED`), appended at the revision the service loaded, so
the previous link is known exactly. Never chained: the command log (appended without an
expected revision), snapshots (a cache, truncated), run budgets and key reservations
(bookkeeping) and the store-format marker.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

import orjson

from caseledger.domain.application.ports import NewEvent, RecordedEvent
from caseledger.domain.shared import streams

LINK: Final = "chainLink"
"""The metadata key holding an event's link."""
STORE_PROPERTIES: Final = "$schema."
"""Metadata keys a store adds of its own (KurrentDB's AppendRecords): not hashed."""
GENESIS: Final = ""
"""The previous link of a stream's first chained event."""
CHAINED: Final = (streams.CASE, streams.NOTICE_DRAFT, streams.AGENT_RUN, streams.POLICY)
"""Categories whose streams are chained: the aggregates the command service appends to."""


def canonical(value: Any) -> bytes:
    """`value` as canonical JSON: keys sorted at every level, no whitespace, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def link_of(previous: str, event_id: str, event_type: str, data: bytes, metadata: bytes) -> str:
    """The link of an event whose `data` and `metadata` (without its link) are already in
    canonical form: the digest of `canonical([previous, event_id, event_type, data,
    metadata])`, built from the parts without parsing them again."""
    hashed = b"".join(
        (
            b'["',
            previous.encode(),
            b'","',
            event_id.encode(),
            b'",',
            orjson.dumps(event_type),
            b",",
            data,
            b",",
            metadata,
            b"]",
        )
    )
    return hashlib.sha256(hashed).hexdigest()


def sealed(events: list[NewEvent], previous: str) -> tuple[list[NewEvent], list[str]]:
    """`events` (data and metadata in canonical form, as the codec writes them) each with its
    link added to its metadata, chained on from `previous`; and the links, in order."""
    out: list[NewEvent] = []
    links: list[str] = []
    for event in events:
        previous = link_of(previous, str(event.id), event.type, event.data, event.metadata)
        metadata = with_link(event.metadata, previous)
        out.append(NewEvent(event.type, event.data, metadata, event.content_type, event.id))
        links.append(previous)
    return out, links


def with_link(metadata: bytes, link: str) -> bytes:
    """`metadata` (a JSON object) with `chainLink` added as its last key."""
    entry = b'"' + LINK.encode() + b'":"' + link.encode() + b'"}'
    body = metadata.strip()
    return b"{" + entry if body in (b"", b"{}") else body[:-1] + b"," + entry


class Unreadable(Exception):
    """The event's data or metadata is not JSON (or its metadata not an object): no link can be
    computed for it."""


@dataclass(frozen=True)
class Recomputed:
    """An event's link as recomputed from its content, beside the one it carries (None: no
    link, an event written before chains)."""

    link: str
    stored: str | None


def recompute(recorded: RecordedEvent, previous: str) -> Recomputed:
    """The link `recorded` should carry after `previous`; raises `Unreadable`."""
    try:
        data = orjson.loads(recorded.data)
        metadata = orjson.loads(recorded.metadata) if recorded.metadata else {}
    except orjson.JSONDecodeError as error:
        raise Unreadable(f"its data or metadata is not JSON ({error})") from None
    if not isinstance(metadata, dict):
        raise Unreadable("its metadata is not a JSON object")
    stored = metadata.pop(LINK, None)
    metadata = {k: v for k, v in metadata.items() if not k.startswith(STORE_PROPERTIES)}
    link = link_of(previous, str(recorded.id), recorded.type, canonical(data), canonical(metadata))
    return Recomputed(link, stored if isinstance(stored, str) else None)


def carried_link(recorded: RecordedEvent) -> str | None:
    """The link `recorded` carries, read without checking it (None if it has none or its
    metadata does not decode)."""
    try:
        metadata = orjson.loads(recorded.metadata) if recorded.metadata else {}
    except orjson.JSONDecodeError:
        return None
    return stored_link(metadata) if isinstance(metadata, dict) else None


def stored_link(metadata: dict[str, Any]) -> str | None:
    """The link an event's decoded metadata carries, if any."""
    link = metadata.get(LINK)
    return link if isinstance(link, str) else None
