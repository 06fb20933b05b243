"""What projections produce: row changes to their view. A row is a JSON document with the
columns its view filters on, its tenant, and the sources it was built from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Scalar = str | int | float | None
"""A column value: what a view filters, sorts or searches on."""


@dataclass(frozen=True)
class Row:
    """One row of a view. `document` is the view's full JSON shape; `columns` repeat the fields
    the view filters on (declared by the projection, created by its migration); `position` is
    the `$all` position of the last event that changed it."""

    key: str
    tenant_id: str
    columns: Mapping[str, Scalar]
    document: Mapping[str, Any]
    position: int


@dataclass(frozen=True)
class Put:
    """Insert or replace a row."""

    row: Row

    @property
    def key(self) -> str:
        return self.row.key


@dataclass(frozen=True)
class Remove:
    """Delete a row (absent rows are fine: replays may remove twice)."""

    key: str


RowChange = Put | Remove


@dataclass
class ViewChanges:
    """A batch's net effect on one view: the final state of every key it touched."""

    rows: dict[str, Row | None] = field(default_factory=dict)

    def record(self, change: RowChange) -> None:
        self.rows[change.key] = change.row if isinstance(change, Put) else None

    @property
    def puts(self) -> list[Row]:
        return [row for row in self.rows.values() if row is not None]

    @property
    def removals(self) -> list[str]:
        return [key for key, row in self.rows.items() if row is None]
