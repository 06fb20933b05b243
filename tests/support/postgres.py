"""PostgreSQL for tests: the machine's server (127.0.0.1:5432, trust auth, unless
CASELEDGER_TEST_POSTGRES_URL), a fresh database per test — skipped with the reason when
unreachable, except under CI=true, where it must answer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "CASELEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def postgres_database() -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {error}")
    name = f"caseledger_rs_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
