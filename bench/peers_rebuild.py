"""`bench_peers`' rebuild rows: every view rebuilt into a fresh SQLite read store from one
seeded embedded store, in process (`InProcessEventStore`) and over gRPC (the client on the same
store's endpoint in the same process, as `CASELEDGER_EMBEDDED_PATH=grpc` runs), in turns.

The seeded store is written once per event count and seeding code: whole cases (20 events,
`bench_rebuild.case_events`) in transactions of `CASES_PER_TRANSACTION` cases straight through
the embedded writer, into `/tmp/caseledger-bench-peers-<events>-<version>`; later runs reuse it.
The rows only read it.
"""

from __future__ import annotations

import hashlib
import inspect
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bench.bench_rebuild import EVENTS_PER_CASE, case_events, rebuild_from
from caseledger.adapters.eventstore.embedded import transactions
from caseledger.adapters.eventstore.embedded.database import SCHEMA_VERSION
from caseledger.adapters.eventstore.embedded.records import EXPECT_NO_STREAM, ProposedEvent
from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.embedded.store import EmbeddedStore
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore

CASES_PER_TRANSACTION = 500
SEEDED = "seeded"
"""The file that marks a finished seeding (a store without it is written again)."""


def seeding_version() -> str:
    """What the seeded store depends on: the store's schema and the code that writes it."""
    schema = resources.files("caseledger.adapters.eventstore.embedded") / "schema.sql"
    parts = [schema.read_text(), SCHEMA_VERSION, inspect.getsource(case_events)]
    parts.append(inspect.getsource(_seed))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def seeded_store(events: int, cache: Path | None = None) -> Path:
    """The data dir of an embedded store holding `events` (whole cases) in `cache` (default:
    the temporary directory, /tmp), seeded if need be."""
    cache = cache or Path(tempfile.gettempdir())
    target = cache / f"caseledger-bench-peers-{events}-{seeding_version()}"
    if (target / SEEDED).exists():
        return target
    building = target.with_name(f"{target.name}.building-{uuid.uuid4().hex[:6]}")
    building.mkdir()
    try:
        _seed(building, events)
        (building / SEEDED).write_text(f"{events}\n")
        shutil.rmtree(target, ignore_errors=True)
        try:
            building.rename(target)
        except OSError:  # another run seeded it meanwhile
            if not (target / SEEDED).exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _seed(directory: Path, events: int) -> None:
    store = EmbeddedStore(directory)
    try:
        cases = events // EVENTS_PER_CASE
        for first in range(0, cases, CASES_PER_TRANSACTION):
            records: list[tuple[str, ProposedEvent]] = []
            checks: list[transactions.Check] = []
            for n in range(first, min(cases, first + CASES_PER_TRANSACTION)):
                case_id, tenant = f"c{n}", f"t{n % 10}"
                stream = f"case-{tenant}_{case_id}"
                checks.append(transactions.Check(stream, EXPECT_NO_STREAM))
                records += [
                    (stream, ProposedEvent(str(uuid.uuid4()), e.type, e.content_type, e.data,
                                           e.metadata))
                    for e in case_events(case_id, tenant)
                ]  # fmt: skip
            outcome = transactions.commit(store.writer, transactions.Transaction(records, checks))
            if not isinstance(outcome, transactions.Committed):
                raise RuntimeError(f"seeding refused: {outcome}")
    finally:
        store.close()


@dataclass(frozen=True)
class Rebuilt:
    events: int
    rate: float
    """Events a second."""


class SeededStore:
    """The seeded store served as `caseledger serve` hosts it: its gRPC endpoint and, beside
    it, the in-process adapter on the same storage."""

    def __init__(self, server: EmbeddedServer) -> None:
        self._server = server

    def feed(self, path: str) -> InProcessEventStore | KurrentEventStore:
        if path == "inprocess":
            return InProcessEventStore(self._server.store)
        return KurrentEventStore.connect(self._server.url)

    def rebuild(self, path: str, scratch: Path) -> Rebuilt:
        """Every view rebuilt into a new SQLite read store in `scratch`, through `path`."""
        feed = self.feed(path)
        views = SqliteProjectionStore(scratch / f"views-{path}-{uuid.uuid4().hex[:6]}.db")
        try:
            events, rate, _, _ = rebuild_from(feed, views)
        finally:
            views.close()
            feed.close()
            for leftover in scratch.glob("views-*"):
                leftover.unlink()
        return Rebuilt(events, rate)


@contextmanager
def serving(events: int, cache: Path | None = None) -> Iterator[SeededStore]:
    server = EmbeddedServer.start(seeded_store(events, cache), "127.0.0.1", 0)
    try:
        yield SeededStore(server)
    finally:
        server.stop(grace=5.0)
