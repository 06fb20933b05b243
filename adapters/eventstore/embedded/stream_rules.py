"""KurrentDB's rules for an expected version against a stream's state, and for the metadata a
soft delete and a re-creation write. Pure: the writer applies them (`writer.py`), v1 appends,
deletes and tombstones and v2 transactions alike, and any other write path must too.

The check is KurrentDB's commit check (`IndexWriter.CheckCommit`), idempotent repeats aside:

| expected \\ stream | never existed | live (last r) | soft-deleted (last r) | tombstoned |
|-------------------|---------------|---------------|-----------------------|------------|
| any               | pass          | pass          | pass                  | deleted    |
| no stream         | pass          | wrong (r)     | pass                  | deleted    |
| exists            | wrong (-1) *  | pass          | deleted               | deleted    |
| revision e        | wrong (-1)    | pass iff e=r  | pass iff e=r          | deleted    |

* a stream with metadata but no events passes "exists". A wrong version reports the last
revision whatever `$tb` hides. On top of the check, a soft delete of a stream with neither
events nor metadata is "not found" (wrong version, actual -1), as KurrentDB answers it.

A soft delete writes `{"$tb": DELETED_STREAM}` as the stream's whole metadata. A write that
passes on a soft-deleted stream re-creates it: its revisions continue after the last one, and
the current metadata is written again with `$tb` at the first new revision, in the same commit.
Writing metadata to a soft-deleted stream's `$$` stream does the same after the new metadata
(`$tb` at last revision + 1), so the stream is found again, empty.
"""

from __future__ import annotations

import enum

import orjson

from caseledger.adapters.eventstore.embedded.records import (
    DELETED_STREAM,
    EXPECT_ANY,
    EXPECT_NO_STREAM,
    EXPECT_STREAM_EXISTS,
    StreamState,
)

SOFT_DELETE_METADATA = orjson.dumps({"$tb": DELETED_STREAM})


class Verdict(enum.Enum):
    PASS = "pass"
    WRONG_VERSION = "wrong expected version"
    DELETED = "stream deleted"


def check_expected(state: StreamState, expected: int) -> Verdict:
    """`expected` (a revision >= 0, NO_STREAM, ANY or STREAM_EXISTS) against `state`."""
    if state.tombstoned:
        return Verdict.DELETED
    if expected == EXPECT_STREAM_EXISTS:
        if state.is_soft_deleted:
            return Verdict.DELETED
        exists = state.last_revision >= 0 or state.has_metadata
        return Verdict.PASS if exists else Verdict.WRONG_VERSION
    if expected == EXPECT_ANY or expected == state.last_revision:
        return Verdict.PASS
    if expected == EXPECT_NO_STREAM and state.is_soft_deleted:
        return Verdict.PASS
    return Verdict.WRONG_VERSION


def recreated_metadata(current: bytes | None, first_revision: int) -> bytes | None:
    """The metadata that re-creates a soft-deleted stream from `first_revision`: the current
    metadata with `$tb` replaced. None when the current metadata is not a JSON object
    (KurrentDB then writes nothing)."""
    try:
        metadata = orjson.loads(current) if current is not None else None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(metadata, dict):
        return None
    metadata["$tb"] = first_revision
    return orjson.dumps(metadata)
