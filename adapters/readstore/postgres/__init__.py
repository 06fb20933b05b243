"""Read models in PostgreSQL (production)."""

from caseledger.adapters.readstore.postgres.store import PostgresProjectionStore

__all__ = ["PostgresProjectionStore"]
