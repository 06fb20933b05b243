"""Read-model stores: SQLite (the embedded default) and PostgreSQL (production)."""
