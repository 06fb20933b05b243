"""Renaming a store's events from the names before tenant-scoped ones (format 1: `case-<id>`,
`noticedraft-<id>`, `run-<id>`) to this code's (format 2: `<category>-<tenant>_<id>`), one
event at a time in `$all` order; the copying is the adapter's (`caseledger migrate`).

Rules: an aggregate stream's tenant is its events' `tenantId` (an event without one takes its
stream's, learned from the stream's earlier events); `policy-<tenant>` and `commandlog-<tenant>`
keep their names; snapshots (a cache naming old streams) and `$` streams are not copied; any
other stream is copied unchanged. Ids, types, data, metadata and order are kept, except that
the references to renamed streams inside an event follow the rename: `factsRead` in the
metadata and a command-log record's `stream_id`. An id outside today's grammar cannot be
renamed: the migration fails naming the stream.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from caseledger.domain.application.ports import NewEvent, RecordedEvent
from caseledger.domain.application.storeformat import FORMAT_STREAM
from caseledger.domain.shared import streams

RENAMED: Final = (streams.CASE, streams.NOTICE_DRAFT, streams.AGENT_RUN)
KEPT: Final = (streams.POLICY, streams.COMMAND_LOG)


class MigrationError(Exception):
    """An event cannot be carried into the new names: the message names its stream."""


@dataclass(frozen=True)
class Renamed:
    stream: str
    event: NewEvent
    revision: int
    """The event's revision in its stream (kept: streams are copied whole, in order)."""


@dataclass
class Renaming:
    """Renames events in `$all` order and counts what it copied and skipped."""

    tenants: dict[str, str] = field(default_factory=dict)
    """Old stream -> its tenant, from its events' metadata."""
    copied: Counter[str] = field(default_factory=Counter)
    """Events copied, by category."""
    streams_copied: dict[str, set[str]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    """Events not copied, by why."""

    def rename(self, recorded: RecordedEvent) -> Renamed | None:
        """The event under its new name, or None when it is not copied."""
        stream = recorded.stream
        if stream == FORMAT_STREAM:
            raise MigrationError("the store is already in tenant-scoped names: nothing to migrate")
        category = stream.partition("-")[0]
        if stream.startswith("$") or category == streams.SNAPSHOT:
            self.skipped["snapshot" if category == streams.SNAPSHOT else "system"] += 1
            return None
        metadata = _object(recorded.metadata)
        tenant = self._tenant_of(stream, metadata)
        new_stream = self._new_name(stream, tenant)
        data, metadata_bytes = self._references(recorded, tenant, metadata)
        self.copied[category if category in (*RENAMED, *KEPT) else "other"] += 1
        self.streams_copied.setdefault(category, set()).add(new_stream)
        event = NewEvent(
            type=recorded.type,
            data=data,
            metadata=metadata_bytes,
            content_type=recorded.content_type,
            id=recorded.id,
        )
        return Renamed(new_stream, event, recorded.revision)

    def _tenant_of(self, stream: str, metadata: dict[str, Any] | None) -> str | None:
        tenant = metadata.get("tenantId") if metadata else None
        if isinstance(tenant, str) and tenant:
            self.tenants.setdefault(stream, tenant)
            return tenant
        return self.tenants.get(stream)

    def _new_name(self, stream: str, tenant: str | None) -> str:
        category, _, rest = stream.partition("-")
        try:
            if category in KEPT:
                return streams.tenant_stream(category, rest)
            if category not in RENAMED:
                return stream
            if tenant is None:
                raise MigrationError(f"{stream[:200]}: no event names its tenant (tenantId)")
            return streams.aggregate_stream(category, tenant, rest)
        except streams.InvalidId as error:
            raise MigrationError(f"{stream[:200]}: {error}") from error

    def _references(
        self, recorded: RecordedEvent, tenant: str | None, metadata: dict[str, Any] | None
    ) -> tuple[bytes, bytes]:
        """Data and metadata with the stream names they hold renamed (unchanged bytes when
        they hold none)."""
        data, metadata_bytes = recorded.data, recorded.metadata
        if metadata and isinstance(metadata.get("factsRead"), str) and tenant:
            metadata["factsRead"] = ",".join(
                self._fact(fact, tenant) for fact in metadata["factsRead"].split(",")
            )
            metadata_bytes = orjson.dumps(metadata)
        if recorded.stream.startswith(f"{streams.COMMAND_LOG}-") and tenant:
            payload = _object(recorded.data)
            if payload and isinstance(payload.get("stream_id"), str):
                payload["stream_id"] = self._reference(payload["stream_id"], tenant)
                data = orjson.dumps(payload)
        return data, metadata_bytes

    def _fact(self, fact: str, tenant: str) -> str:
        stream, at, revision = fact.rpartition("@")
        return f"{self._reference(stream, tenant)}@{revision}" if at else fact

    def _reference(self, stream: str, tenant: str) -> str:
        """A stream an event of `tenant` names, renamed as its own events are (kept as it is
        where it cannot be: it names nothing this store holds)."""
        try:
            return self._new_name(stream, self.tenants.get(stream, tenant))
        except MigrationError:
            return stream


def _object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
