"""Multi-stream transactions with consistency checks (KurrentDB's v2 AppendRecords and
AppendSession), decided in the writer's group commits like any v1 append.

Rules, as KurrentDB's own tests state them:
- Every check is judged against the streams as they were before the transaction; any failed
  check refuses the whole transaction and nothing is written. All failures are reported.
- A written stream with a check uses that check as its expected state; one without has an
  implicit ANY check, numbered after the explicit ones (`len(checks)`, `len(checks) + 1`, ...
  in the order the streams first appear among the records).
- A tombstoned stream fails every check but TOMBSTONED, and can never be written.
- A soft-deleted stream passes NO_STREAM, ANY, DELETED and its last revision, and writing to
  it re-creates it as a v1 append does (`stream_rules`); EXISTS fails on it.
- Idempotency is v1's rule per written stream (`writer.idempotent_repeat`): when every written
  stream's records are already there, at the place the check expects, the transaction answers
  with the original revisions and position and writes nothing. Repeated records in some streams
  and new ones in others, or known ids followed by new ones, fail the repeated streams' checks
  with their actual state (KurrentDB's multi-stream write does the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from caseledger.adapters.eventstore.embedded.records import (
    EXPECT_ANY,
    EXPECT_NO_STREAM,
    Appended,
    ProposedEvent,
    StreamState,
)
from caseledger.adapters.eventstore.embedded.writer import (
    CommitGroup,
    Writer,
    expected_matches,
    idempotent_repeat,
    recreate_if_deleted,
)

DELETED: Final = -5
"""A check's expected or actual state: the stream is soft-deleted."""
TOMBSTONED: Final = -6
"""A check's expected or actual state: the stream is tombstoned."""


@dataclass(frozen=True, slots=True)
class Check:
    stream: str
    expected: int
    """A revision >= 0, or NO_STREAM, ANY, STREAM_EXISTS, DELETED, TOMBSTONED."""


@dataclass(frozen=True, slots=True)
class Transaction:
    records: Sequence[tuple[str, ProposedEvent]]
    """(stream, event) in log order. Never to a system stream (`$...`): the v2 API refuses
    those, so a `$metadata` record needs no handling here."""
    checks: Sequence[Check]
    """At most one per stream."""


@dataclass(frozen=True, slots=True)
class Violation:
    check_index: int
    stream: str
    expected: int
    actual: int
    """A revision >= 0, or NO_STREAM, DELETED, TOMBSTONED."""


@dataclass(frozen=True, slots=True)
class Committed:
    revisions: tuple[tuple[str, int], ...]
    """The last revision of each written stream, in the order the streams first appear."""
    position: int
    """The commit position of the last record."""


@dataclass(frozen=True, slots=True)
class Refused:
    violations: tuple[Violation, ...]


TransactionOutcome = Committed | Refused


def commit(writer: Writer, transaction: Transaction) -> TransactionOutcome:
    """Decide and write `transaction` in the next group commit; return once it is durable."""
    return writer.transact(lambda group: decide(group, transaction))


def actual_state(state: StreamState) -> int:
    if state.tombstoned:
        return TOMBSTONED
    if state.is_soft_deleted:
        return DELETED
    return state.last_revision if state.last_revision >= 0 else EXPECT_NO_STREAM


def passes(state: StreamState, expected: int) -> bool:
    if expected == TOMBSTONED:
        return state.tombstoned
    if state.tombstoned:
        return False
    if expected == DELETED:
        return state.is_soft_deleted
    return expected_matches(state, expected)


def _state(group: CommitGroup, stream: str) -> StreamState:
    """A metadata stream (`$$name`) is as gone as its tombstoned stream."""
    state = group.state(stream)
    if stream.startswith("$$") and group.state(stream[2:]).tombstoned:
        return replace(state, tombstoned=True)
    return state


def decide(group: CommitGroup, transaction: Transaction) -> TransactionOutcome:
    writes: dict[str, list[ProposedEvent]] = {}
    for stream, event in transaction.records:
        writes.setdefault(stream, []).append(event)
    checks = list(enumerate(transaction.checks))
    checked = {check.stream for _, check in checks}
    checks += [
        (len(transaction.checks) + k, Check(stream, EXPECT_ANY))
        for k, stream in enumerate(s for s in writes if s not in checked)
    ]
    violations: list[Violation] = []
    repeats: dict[str, Appended] = {}
    for index, check in checks:
        state = _state(group, check.stream)
        events = writes.get(check.stream)
        if events and not state.tombstoned:
            repeat = idempotent_repeat(group, check.stream, state, check.expected, events)
            if isinstance(repeat, Appended):
                repeats[check.stream] = repeat
                continue
            refused = repeat is not None  # known ids followed by new ones
        else:
            refused = bool(events) and state.tombstoned
        if refused or not passes(state, check.expected):
            violations.append(Violation(index, check.stream, check.expected, actual_state(state)))
    if violations:
        return Refused(tuple(sorted(violations, key=lambda v: v.check_index)))
    if len(repeats) == len(writes):
        revisions = tuple((stream, repeats[stream].revision) for stream in writes)
        return Committed(revisions, max(repeat.position for repeat in repeats.values()))
    if repeats:
        return Refused(tuple(_repeat_violations(group, checks, repeats)))
    return _write(group, transaction.records, writes)


def _repeat_violations(
    group: CommitGroup, checks: list[tuple[int, Check]], repeats: dict[str, Appended]
) -> list[Violation]:
    """Records already written in some streams while others are new: a retry that cannot be
    told from a conflicting write, so the repeated streams fail."""
    return [
        Violation(index, check.stream, check.expected, actual_state(_state(group, check.stream)))
        for index, check in checks
        if check.stream in repeats
    ]


def _write(
    group: CommitGroup,
    records: Sequence[tuple[str, ProposedEvent]],
    writes: dict[str, list[ProposedEvent]],
) -> Committed:
    before = {stream: group.state(stream) for stream in writes}
    revisions = {stream: state.last_revision for stream, state in before.items()}
    position = 0
    for stream, event in records:
        revisions[stream] += 1
        position = group.insert(stream, revisions[stream], event)
    for stream, revision in revisions.items():
        group.set_state(stream, before[stream].at_revision(revision))
    for stream, state in before.items():
        recreate_if_deleted(group, stream, state)
    return Committed(tuple(revisions.items()), position)
