"""The projection contract: given an event and the view's current rows, the row changes.

A projection is pure: it reads rows only through the `RowLookup` it is handed and returns
changes; the runner stores them with the checkpoint in one transaction. It has a name and a
version: a new version is built beside the old one and switched to atomically (blue/green).
"""

from __future__ import annotations

import copy
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, Protocol

from caseledger.domain.shared.ids import TENANT_SEPARATOR
from caseledger.projections.events import ProjectedEvent
from caseledger.projections.rows import Put, Row, RowChange, Scalar

MAX_SOURCE_REFS: Final = 20
"""A row keeps the refs of the last events that shaped it (its first one is kept too)."""
_GENERATION: Final = re.compile(r"_g(\d+)$")


class RowLookup(Protocol):
    """The view's rows as of the event being applied (including earlier changes in the batch)."""

    def get(self, key: str) -> Row | None: ...


class MissingRow(Exception):
    """An event refers to a row its view never saw created: an earlier event is missing."""


class Projection(ABC):
    """One read model. `columns` are the filterable fields its migration creates; `handles`
    the event types it reacts to; `categories` the streams it follows (whose revisions it
    checks for gaps); `ignores` the types of those categories it leaves alone by name."""

    name: ClassVar[str]
    version: ClassVar[int]
    columns: ClassVar[tuple[str, ...]] = ()
    handles: ClassVar[frozenset[str]]
    categories: ClassVar[frozenset[str]]
    ignores: ClassVar[frozenset[str]] = frozenset()
    """Event types of its categories it deliberately leaves alone. Rule: nothing is skipped
    silently — an event of a followed category whose type is neither handled nor ignored is
    parked (a type this code does not know yet)."""
    searchable: ClassVar[bool] = False
    """True if the view has a full-text index (over the `title` and `body` columns)."""

    generation: int = 1
    """The build generation: 1 for a version's first build; a rebuild of the same version
    beside itself is the next one (`at_generation`), stored under `<id>_g<generation>`."""

    @property
    def id(self) -> str:
        """The view's storage name at this version and generation, e.g. `case_summary_v1`
        (first build) or `case_summary_v1_g2` (its first rebuild in place)."""
        return storage_id(self.name, self.version, self.generation)

    @property
    def base_id(self) -> str:
        """The version's storage name whatever the generation (its migration's name)."""
        return f"{self.name}_v{self.version}"

    def at_generation(self, generation: int) -> Projection:
        """The same projection built as `generation` (rebuilt in place beside another)."""
        clone = copy.copy(self)
        clone.generation = generation
        return clone

    @abstractmethod
    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        """The changes `event` makes to the view; [] if it does not concern it."""

    def reads(self, event: ProjectedEvent) -> Sequence[str]:
        """The keys `apply(event, ...)` looks up, so the runner loads a whole batch's rows in
        one query. A key left out is still found (one query for that key alone); a key that
        cannot be named (a malformed event) is left out and `apply` refuses the event."""
        return ()


def storage_id(name: str, version: int, generation: int = 1) -> str:
    """Where a view's version and build generation is stored: `<name>_v<version>` for its
    first build, `<name>_v<version>_g<generation>` for a later one."""
    base = f"{name}_v{version}"
    return base if generation <= 1 else f"{base}_g{generation}"


def generation_of(projection_id: str) -> int:
    """The build generation a storage name names (see `storage_id`)."""
    found = _GENERATION.search(projection_id)
    return 1 if found is None else int(found.group(1))


def base_of(projection_id: str) -> str:
    """The version's storage name (its migration's) of a generation's storage name."""
    return _GENERATION.sub("", projection_id)


def tenant_key(tenant_id: str, key: str) -> str:
    """A row key within one tenant (`<tenant>_<key>`, as stream names are): the same case id in
    two tenants is two rows, never one overwritten by the other."""
    return f"{tenant_id}{TENANT_SEPARATOR}{key}"


def existing(rows: RowLookup, key: str, event: ProjectedEvent) -> Row:
    """The row `event` updates; its absence means an earlier event was not applied."""
    row = rows.get(key)
    if row is None:
        raise MissingRow(f"{event.ref}: {event.type} refers to {key!r}, which the view lacks")
    return row


def put(
    event: ProjectedEvent,
    key: str,
    document: Mapping[str, Any],
    columns: Mapping[str, Scalar],
    previous: Row | None = None,
) -> Put:
    """A row for `key` after `event`: its document gains the event's source ref, the stream
    revision it reflects (`version`) and the position it is as of. A `document` or `columns`
    that is a `dict` is taken over, not copied (projections build them fresh for the row):
    do not change them afterwards."""
    refs = list(previous.document.get("source_refs", [])) if previous else []
    refs.append(event.ref)
    if len(refs) > MAX_SOURCE_REFS:
        refs = [refs[0], *refs[-(MAX_SOURCE_REFS - 1) :]]
    body = document if type(document) is dict else dict(document)
    body["source_refs"] = refs
    body["version"] = event.revision
    body["as_of_position"] = event.position
    owned = columns if type(columns) is dict else dict(columns)
    return Put(Row(key, event.tenant_id, owned, body, event.position))


def document_of(row: Row) -> dict[str, Any]:
    """A mutable copy of a row's document to build the next one from."""
    return dict(row.document)
