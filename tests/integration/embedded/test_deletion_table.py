"""Every expected state against every stream state, for append, v2 AppendRecords checks, delete
and tombstone, through the real client — KurrentDB's answers (`stream_rules` has the table; its
source: KurrentDB's `IndexWriter.CheckCommit` and `StorageWriterService`, and the .NET client's
SoftDeleteTests and DeleteTests run against real servers)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient.events import NewRecord, StreamStateCheck
from kurrentdbclient.exceptions import (
    ConsistencyChecksFailedError,
    NotFoundError,
    StreamIsDeletedError,
    WrongCurrentVersionError,
)

from tests.support.kurrent_helpers import append, new_events, stream_name

NO_STREAM, DELETED, TOMBSTONED = -1, -5, -6
LAST = 1
"""Every stream but the new one holds revisions 0 and 1 before it is deleted (or not)."""
WRONG = 5

EXPECTED: dict[str, int | StreamState] = {
    "no stream": StreamState.NO_STREAM,
    "any": StreamState.ANY,
    "exists": StreamState.EXISTS,
    "last revision": LAST,
    "another revision": WRONG,
}


def never_existed(client: KurrentDBClient) -> str:
    return stream_name()


def live(client: KurrentDBClient) -> str:
    name = stream_name()
    append(client, name, new_events(2), StreamState.NO_STREAM)
    return name


def soft_deleted(client: KurrentDBClient) -> str:
    name = live(client)
    client.delete_stream(name, current_version=LAST)
    return name


def tombstoned(client: KurrentDBClient) -> str:
    name = live(client)
    client.tombstone_stream(name, current_version=LAST)
    return name


STATES: dict[str, Callable[[KurrentDBClient], str]] = {
    "never existed": never_existed,
    "live": live,
    "soft-deleted": soft_deleted,
    "tombstoned": tombstoned,
}

# Outcomes: "ok"; "wrong N" (a wrong expected version, actual N); "not found" (a wrong version
# with actual -1, which the client raises as NotFoundError); "deleted" (stream deleted);
# "fails N" (a v2 check fails with actual state N).
APPEND = {
    "never existed": ["ok", "ok", "wrong -1", "wrong -1", "wrong -1"],
    "live": ["wrong 1", "ok", "ok", "ok", "wrong 1"],
    "soft-deleted": ["ok", "ok", "deleted", "ok", "wrong 1"],
    "tombstoned": ["deleted"] * 5,
}
RECORDS_CHECK = {
    "never existed": ["ok", "ok", f"fails {NO_STREAM}", f"fails {NO_STREAM}", f"fails {NO_STREAM}"],
    "live": ["fails 1", "ok", "ok", "ok", "fails 1"],
    "soft-deleted": ["ok", "ok", f"fails {DELETED}", "ok", f"fails {DELETED}"],
    "tombstoned": [f"fails {TOMBSTONED}"] * 5,
}
DELETE = {
    "never existed": ["not found"] * 5,
    "live": ["wrong 1", "ok", "ok", "ok", "wrong 1"],
    "soft-deleted": ["ok", "ok", "deleted", "ok", "wrong 1"],
    "tombstoned": ["deleted"] * 5,
}
TOMBSTONE = {
    "never existed": ["ok", "ok", "not found", "not found", "not found"],
    "live": ["wrong 1", "ok", "ok", "ok", "wrong 1"],
    "soft-deleted": ["ok", "ok", "deleted", "ok", "wrong 1"],
    "tombstoned": ["deleted"] * 5,
}


def cells(table: dict[str, list[str]]) -> list[object]:
    return [
        pytest.param(state, expected, outcome, id=f"{state}, expected {expected}: {outcome}")
        for state, outcomes in table.items()
        for expected, outcome in zip(EXPECTED, outcomes, strict=True)
    ]


def outcome_of(action: Callable[[], object]) -> str:
    try:
        action()
    except StreamIsDeletedError:
        return "deleted"
    except NotFoundError:
        return "not found"
    except WrongCurrentVersionError as error:
        actual = error.actual_version  # StreamState.NO_STREAM for -1
        return f"wrong {actual if isinstance(actual, int) else -1}"
    except ConsistencyChecksFailedError as error:
        (failure,) = error.failures
        return f"fails {failure.stream_state_failure.actual_state}"  # type: ignore[attr-defined]
    return "ok"


def revisions(client: KurrentDBClient, stream: str) -> list[int] | str:
    try:
        return [e.stream_position for e in client.get_stream(stream)]
    except NotFoundError:
        return "not found"
    except StreamIsDeletedError:
        return "deleted"


@pytest.mark.parametrize(("state", "expected", "outcome"), cells(APPEND))
def test_append(kurrent_client: KurrentDBClient, state: str, expected: str, outcome: str) -> None:
    stream = STATES[state](kurrent_client)
    before = revisions(kurrent_client, stream)

    seen = outcome_of(lambda: append(kurrent_client, stream, new_events(1), EXPECTED[expected]))

    assert seen == outcome
    if outcome != "ok":
        assert revisions(kurrent_client, stream) == before
    elif state == "never existed":
        assert revisions(kurrent_client, stream) == [0]
    else:  # revisions continue after the last one; a re-created stream shows only the new
        assert revisions(kurrent_client, stream) == ([0, 1, 2] if state == "live" else [2])


@pytest.mark.parametrize(("state", "expected", "outcome"), cells(RECORDS_CHECK))
def test_append_records_check(
    kurrent_client: KurrentDBClient, state: str, expected: str, outcome: str
) -> None:
    stream = STATES[state](kurrent_client)
    before = revisions(kurrent_client, stream)
    record = NewRecord(stream_name=stream, type="OrderUpdated", data=b"{}")

    seen = outcome_of(
        lambda: kurrent_client.append_records(record, StreamStateCheck(stream, EXPECTED[expected]))
    )

    assert seen == outcome
    if outcome != "ok":
        assert revisions(kurrent_client, stream) == before
    else:
        assert (
            revisions(kurrent_client, stream)
            == {
                "never existed": [0],
                "live": [0, 1, 2],
                "soft-deleted": [2],
            }[state]
        )


@pytest.mark.parametrize(("state", "expected", "outcome"), cells(DELETE))
def test_delete(kurrent_client: KurrentDBClient, state: str, expected: str, outcome: str) -> None:
    stream = STATES[state](kurrent_client)
    before = kurrent_client.get_stream_metadata(stream) if state != "tombstoned" else None

    seen = outcome_of(
        lambda: kurrent_client.delete_stream(stream, current_version=EXPECTED[expected])
    )

    assert seen == outcome
    if outcome == "ok":
        assert revisions(kurrent_client, stream) == "not found"
        assert kurrent_client.get_current_version(stream) is StreamState.NO_STREAM
        metadata, _ = kurrent_client.get_stream_metadata(stream)
        assert metadata == {"$tb": 2**63 - 1}
    elif before is not None:
        assert kurrent_client.get_stream_metadata(stream) == before


@pytest.mark.parametrize(("state", "expected", "outcome"), cells(TOMBSTONE))
def test_tombstone(
    kurrent_client: KurrentDBClient, state: str, expected: str, outcome: str
) -> None:
    stream = STATES[state](kurrent_client)
    before = revisions(kurrent_client, stream)

    seen = outcome_of(
        lambda: kurrent_client.tombstone_stream(stream, current_version=EXPECTED[expected])
    )

    assert seen == outcome
    after = revisions(kurrent_client, stream)
    assert after == ("deleted" if outcome == "ok" else before)
