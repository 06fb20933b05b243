"""The store's naming format, so that streams named before tenant-scoped names (`case-<id>`) are
never mixed with tenant-scoped ones (`case-<tenant>_<id>`).

A store caseledger writes holds one marker: the stream `caseledger-storeformat`, whose event
`caseledger.store_format` names the format (`2`: tenant-scoped names), written when the store
is first used, before any command. Checking a store costs one read of that stream's last event;
only a store without it costs one more (the newest event of caseledger's categories):

- marker at this format: the store is this code's;
- marker at another format: written by another version of caseledger, refused;
- no marker, but events in caseledger's categories: written before tenant-scoped names
  (format 1, unmarked), refused, naming the fix (`caseledger migrate`);
- no marker and none of caseledger's events: a new store, marked by a process that writes.

Old and new names cannot be told apart by their shape alone (`case-a_b` is the old case `a_b` or
tenant `a`'s case `b`): the marker, not the names, says which a store holds.
"""

from __future__ import annotations

from typing import Final

import orjson

from caseledger.domain.application.ports import (
    NO_STREAM,
    EventStore,
    NewEvent,
    StreamRead,
    WrongExpectedVersion,
)
from caseledger.domain.shared import streams
from caseledger.domain.shared.ids import derived_uuid

FORMAT_STREAM: Final = "caseledger-storeformat"
FORMAT_EVENT: Final = "caseledger.store_format"
STORE_FORMAT: Final = 2
"""1: `<category>-<id>` (unmarked); 2: `<category>-<tenant>_<id>`."""
STREAM_NAMES: Final = "<category>-<tenant>_<id>"
MIGRATING: Final = "migrating"
"""The marker of a store `caseledger migrate` is still copying into (or failed to finish)."""
MIGRATE_HINT: Final = (
    "copy it into a new data dir with `caseledger migrate --from OLD_DATA_DIR --to "
    "NEW_DATA_DIR` and serve that one (a KurrentDB cluster: see the README, 'Migrating a store')"
)


class StoreFormatError(Exception):
    """The store holds streams this code must not write beside: the message names the fix."""


def check_store_format(store: EventStore, *, mark: bool) -> None:
    """Raise StoreFormatError unless the store is in this code's format; with `mark`, a new
    store is marked (idempotent: racing processes write the same marker once)."""
    found = read_store_format(store)
    if found == STORE_FORMAT:
        return
    if found == MIGRATING:
        raise StoreFormatError(
            "the event store is an unfinished migration (`caseledger migrate` did not "
            "complete): delete its data dir and migrate again"
        )
    if found is not None:
        raise StoreFormatError(
            f"the event store is in format {found}, not {STORE_FORMAT} ({STREAM_NAMES}): it "
            "was written by another version of caseledger"
        )
    if store.head_position(streams.CATEGORIES) > 0:
        raise StoreFormatError(
            "the event store holds streams named before tenant-scoped names (case-<id>, "
            f"noticedraft-<id>, ...); caseledger now names them {STREAM_NAMES} and will not "
            f"mix the two: {MIGRATE_HINT}"
        )
    if mark:
        mark_store_format(store)


def read_store_format(store: EventStore) -> int | str | None:
    """The format the store's marker names (None: no marker)."""
    (last,) = store.read_streams([StreamRead.last(FORMAT_STREAM)])
    if not last:
        return None
    try:
        value = orjson.loads(last[0].data)["format"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return "unreadable"
    return value if isinstance(value, int) else str(value)[:40]


def mark_store_format(store: EventStore, expected: int = NO_STREAM) -> None:
    """Write the marker of this code's format into a store that has none (or, `expected` 0,
    over the marker of a migration that just finished)."""
    try:
        store.append(FORMAT_STREAM, [format_marker()], expected)
    except WrongExpectedVersion:
        found = read_store_format(store)  # another process marked it first
        if found != STORE_FORMAT:
            raise StoreFormatError(f"the event store was marked with format {found}") from None


def mark_migrating(store: EventStore) -> None:
    """Mark a new store as being migrated into: refused by every command until
    `mark_store_format(store, expected=0)` says the copy is complete."""
    store.append(FORMAT_STREAM, [format_marker(MIGRATING)], NO_STREAM)


def format_marker(store_format: int | str = STORE_FORMAT) -> NewEvent:
    return NewEvent(
        type=FORMAT_EVENT,
        data=orjson.dumps({"format": store_format, "streamNames": STREAM_NAMES}),
        id=derived_uuid(FORMAT_STREAM, str(store_format)),
    )
