"""Read models in SQLite (WAL): the zero-setup default, in the data dir."""

from caseledger.adapters.readstore.sqlite.store import SqliteProjectionStore

__all__ = ["SqliteProjectionStore"]
