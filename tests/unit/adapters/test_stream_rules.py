"""The embedded store's expected-version rules as pure functions (`stream_rules`): the table
every write path applies, KurrentDB's commit check."""

from __future__ import annotations

import orjson
import pytest

from caseledger.adapters.eventstore.embedded.records import (
    DELETED_STREAM,
    EXPECT_ANY,
    EXPECT_NO_STREAM,
    EXPECT_STREAM_EXISTS,
    StreamState,
)
from caseledger.adapters.eventstore.embedded.stream_rules import (
    Verdict,
    check_expected,
    recreated_metadata,
)

PASS, WRONG, DELETED = Verdict.PASS, Verdict.WRONG_VERSION, Verdict.DELETED
STATES = {
    "never existed": StreamState(),
    "live": StreamState(last_revision=1),
    "soft-deleted": StreamState(last_revision=1, truncate_before=DELETED_STREAM, has_metadata=True),
    "tombstoned": StreamState(last_revision=1, tombstoned=True),
}
EXPECTED = {
    "any": EXPECT_ANY,
    "no stream": EXPECT_NO_STREAM,
    "exists": EXPECT_STREAM_EXISTS,
    "1": 1,
    "5": 5,
}
TABLE = {
    "never existed": [PASS, PASS, WRONG, WRONG, WRONG],
    "live": [PASS, WRONG, PASS, PASS, WRONG],
    "soft-deleted": [PASS, PASS, DELETED, PASS, WRONG],
    "tombstoned": [DELETED] * 5,
}


@pytest.mark.parametrize(
    ("state", "expected", "verdict"),
    [
        pytest.param(state, expected, verdict, id=f"{state}, expected {expected}")
        for state, verdicts in TABLE.items()
        for expected, verdict in zip(EXPECTED, verdicts, strict=True)
    ],
)
def test_the_expected_version_table(state: str, expected: str, verdict: Verdict) -> None:
    assert check_expected(STATES[state], EXPECTED[expected]) is verdict


def test_a_stream_with_only_metadata_exists() -> None:
    assert check_expected(StreamState(has_metadata=True), EXPECT_STREAM_EXISTS) is PASS


def test_a_stream_truncated_past_its_end_is_live_not_deleted() -> None:
    truncated = StreamState(last_revision=1, truncate_before=7, has_metadata=True)

    assert check_expected(truncated, EXPECT_NO_STREAM) is WRONG
    assert check_expected(truncated, EXPECT_STREAM_EXISTS) is PASS
    assert truncated.is_readable


def test_recreating_keeps_the_metadata_and_moves_truncate_before() -> None:
    current = orjson.dumps({"$tb": DELETED_STREAM, "$maxCount": 3, "owner": "ops"})

    recreated = recreated_metadata(current, 2)

    assert recreated is not None
    assert orjson.loads(recreated) == {"$tb": 2, "$maxCount": 3, "owner": "ops"}


@pytest.mark.parametrize("current", [None, b"not json", b"[1, 2]"])
def test_metadata_that_is_not_a_json_object_is_not_rewritten(current: bytes | None) -> None:
    assert recreated_metadata(current, 2) is None
