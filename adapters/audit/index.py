"""Reading the audit index (projections/views/audit_index.py): which events answer an audit,
as `(stream, revision)`, how fresh the index is, and fetching those events by stream and
revision. Never a scan of `$all`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from caseledger.domain.application.ports import EventStore, RecordedEvent, StreamRead
from caseledger.domain.shared import streams
from caseledger.projections.ports import ParkedEvent, ViewReader
from caseledger.projections.rows import Row, Scalar
from caseledger.projections.views.audit_index import AUDITED, EVENT, LOCATOR, NAME, OPERATORS

PAGE: Final = 1000
"""Index rows read per query."""
SETTLE_POLL: Final = 0.05


class AuditViews(ViewReader, Protocol):
    """The read store as the audit reads it: the index's rows and the events it parked."""

    def parked(self, projection_id: str) -> list[ParkedEvent]: ...


@dataclass(frozen=True)
class IndexedEvent:
    stream: str
    revision: int
    run_id: str | None


@dataclass(frozen=True)
class Freshness:
    """The index's as-of position against the newest event of the audited categories."""

    as_of_position: int | None
    head_position: int

    @property
    def behind(self) -> bool:
        return self.as_of_position is None or self.as_of_position < self.head_position

    def reason(self) -> str | None:
        if not self.behind:
            return None
        as_of = "never built" if self.as_of_position is None else f"as of {self.as_of_position}"
        return (
            f"the audit index is behind ({as_of}; the audited streams reach position "
            f"{self.head_position}): events after it are missing from this audit"
        )


@dataclass
class AuditIndex:
    views: AuditViews
    events: EventStore

    def freshness(self) -> Freshness:
        return Freshness(self.views.as_of(NAME), self.events.head_position(sorted(AUDITED)))

    def settle(self, within: float) -> Freshness:
        """The index's freshness once it reached the store's head as of now, or as it is after
        `within` seconds (whoever runs the runner: this process or another)."""
        fresh = self.freshness()
        deadline = time.monotonic() + within
        while fresh.behind and time.monotonic() < deadline:
            time.sleep(SETTLE_POLL)
            fresh = Freshness(self.views.as_of(NAME), fresh.head_position)
        return fresh

    def parked_in(self, names: Sequence[str]) -> list[IndexedEvent]:
        """Events of these streams the index parked (undecodable, or waiting behind one that
        is): the audit fetches and shows them, readable or not."""
        version = self.views.active_version(NAME)
        if version is None:
            return []
        wanted = set(names)
        return [
            IndexedEvent(p.stream, p.revision, None)
            for p in self.views.parked(f"{NAME}_v{version}")
            if p.stream in wanted
        ]

    def tenants_holding(self, column: str, subject: str) -> list[str]:
        """The tenants with a case or correlation of that id (operators' audits)."""
        rows = self._all(OPERATORS, {"kind": LOCATOR, column: subject})
        return sorted({str(r.document.get("tenant_id")) for r in rows})

    def tenants(self) -> list[str]:
        """Every tenant holding a case or a correlation (operators' what-ifs)."""
        rows = self._all(OPERATORS, {"kind": LOCATOR})
        return sorted({str(r.document.get("tenant_id")) for r in rows})

    def streams_of(self, tenant_id: str) -> list[str]:
        """Every stream of `tenant_id` the index names an event of."""
        rows = self._all(tenant_id, {"kind": EVENT})
        return sorted({str(r.document["stream"]) for r in rows})

    def find(self, tenant_id: str, column: str, value: str) -> list[IndexedEvent]:
        rows = self._all(tenant_id, {"kind": EVENT, column: value})
        return [
            IndexedEvent(
                str(r.document["stream"]),
                int(r.document["revision"]),
                _text(r.columns.get("run_id")),
            )
            for r in rows
        ]

    def fetch(self, indexed: Iterable[IndexedEvent]) -> tuple[list[RecordedEvent], list[str]]:
        """The events named, read by stream and revision range, and the ones the store did
        not return (named `stream@revision`)."""
        wanted: dict[str, set[int]] = {}
        for event in indexed:
            wanted.setdefault(event.stream, set()).add(event.revision)
        names = sorted(wanted)
        reads = [StreamRead(s, min(wanted[s]), max(wanted[s]) - min(wanted[s]) + 1) for s in names]
        found: list[RecordedEvent] = []
        missing: list[str] = []
        for stream, answer in zip(names, self.events.read_streams(reads), strict=True):
            got = {e.revision: e for e in answer if e.revision in wanted[stream]}
            found += got.values()
            missing += [f"{stream}@{r}" for r in sorted(wanted[stream] - set(got))]
        return found, missing

    def _all(self, tenant_id: str, equals: Mapping[str, Scalar]) -> list[Row]:
        rows: list[Row] = []
        offset: int | None = 0
        while offset is not None:
            page = self.views.find(NAME, tenant_id, equals, PAGE, offset)
            rows += page.rows
            offset = page.next_offset
        return rows


def run_streams(indexed: Iterable[IndexedEvent]) -> set[tuple[str, str]]:
    """`(tenant, run id)` of every agent run the events were part of."""
    found = set()
    for event in indexed:
        name = streams.parse_stream(event.stream)
        if name is not None and event.run_id:
            found.add((name.tenant_id, event.run_id))
    return found


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
