"""Which projection store settings name: PostgreSQL for a `postgresql://` URL, else SQLite in
the data dir (`readmodels.db`)."""

from __future__ import annotations

from caseledger.adapters.readstore.postgres import PostgresProjectionStore
from caseledger.adapters.readstore.sql_store import SqlProjectionStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.adapters.settings import Settings


def open_projection_store(settings: Settings) -> SqlProjectionStore:
    """The store, with the read side's bookkeeping tables migrated."""
    store = _store(settings)
    store.migrate()
    return store


def _store(settings: Settings) -> SqlProjectionStore:
    url = settings.readstore_url
    if url and url.startswith(("postgresql://", "postgres://")):
        return PostgresProjectionStore(url)
    if url:
        raise ValueError(f"CASELEDGER_READSTORE_URL must be postgresql://...; got {url!r}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteProjectionStore(settings.data_dir / "readmodels.db")
