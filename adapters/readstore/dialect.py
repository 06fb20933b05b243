"""One schema for both read stores: what SQLite and PostgreSQL spell differently.

A view version's schema is written once, in `schemas/<name>_v<version>.sql` (and the read
side's own tables in `schemas/readside.sql`), with the words the dialects spell differently as
tokens, which each store renders in its own dialect:

- `{{bigint}}`: a 64-bit integer (positions, revisions, generations): SQLite's `INTEGER` (64
  bits already), PostgreSQL's `BIGINT`;
- `{{json}}`: a view row's document: `TEXT` holding JSON in SQLite, `JSONB` in PostgreSQL;
- `{{double}}`: seconds since the epoch: `REAL`, `DOUBLE PRECISION`;
- `{{without_rowid}}`: ` WITHOUT ROWID` in SQLite (a table stored in its primary key's order),
  nothing in PostgreSQL.

A schema whose dialects differ in kind, not in words, has a file of its own in each store's
`migrations` package, which takes the shared one's place: evidence search (SQLite's FTS5 table
and the triggers that keep it, PostgreSQL's generated `tsvector` and GIN index).

Rule: **a shipped schema renders to the text it always had.** Nothing records which scripts
ran: every statement is `IF NOT EXISTS` (or guarded) and runs again on every `migrate` and
`prepare`, so a store made by an earlier release sees the same statements. A new shape is a new
version, never an edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

SCHEMAS: Final = "caseledger.adapters.readstore.schemas"
"""The package holding the schemas both dialects share."""
_TOKEN: Final = re.compile(r"\{\{(\w+)\}\}")


class UnknownToken(ValueError):
    """A schema names a token no dialect defines (a typo would otherwise reach the database)."""


@dataclass(frozen=True)
class Dialect:
    """How one store spells each token, and where its own schemas (which take the shared one's
    place) live."""

    name: str
    migrations_package: str
    bigint: str
    json: str
    double: str
    without_rowid: str

    def schema(self, name: str) -> str | None:
        """`name`'s schema rendered in this dialect: the dialect's own file if it has one, else
        the shared one; None if neither exists."""
        for package in (self.migrations_package, SCHEMAS):
            path = resources.files(package) / f"{name}.sql"
            if path.is_file():
                return self.render(path.read_text(encoding="utf-8"))
        return None

    def render(self, script: str) -> str:
        """`script` with every `{{token}}` replaced by this dialect's word for it."""
        words = {
            "bigint": self.bigint,
            "json": self.json,
            "double": self.double,
            "without_rowid": self.without_rowid,
        }

        def word(match: re.Match[str]) -> str:
            token = match.group(1)
            if token not in words:
                raise UnknownToken(f"{{{{{token}}}}} is not a schema token ({', '.join(words)})")
            return words[token]

        return _TOKEN.sub(word, script)
