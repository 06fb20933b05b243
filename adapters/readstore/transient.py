"""Which read-store failures are the store's own (transient: wait for it) and which belong to
one event (the runner parks that event). The stores raise `ReadStoreUnavailable` for the first
kind, so the runner never needs to know a driver.

Transient: PostgreSQL SQLSTATE classes 08 (connection exception), 53 (insufficient
resources), 57P (operator intervention: shutdown, cannot connect now), codes 40001
(serialization failure) and 40P01 (deadlock), and a connection that cannot be opened or was
lost (no SQLSTATE); SQLite BUSY, LOCKED, FULL and IOERR (extended codes by their primary
code)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

import psycopg

from caseledger.projections.ports import ReadStoreUnavailable

POSTGRES_CLASSES: Final = ("08", "53", "57P")
POSTGRES_CODES: Final = frozenset({"40001", "40P01"})
SQLITE_CODES: Final = {
    sqlite3.SQLITE_BUSY: "SQLITE_BUSY",
    sqlite3.SQLITE_LOCKED: "SQLITE_LOCKED",
    sqlite3.SQLITE_FULL: "SQLITE_FULL",
    sqlite3.SQLITE_IOERR: "SQLITE_IOERR",
}
_REASON_LENGTH: Final = 300


def postgres_transient(error: BaseException) -> str | None:
    """Why `error` is the PostgreSQL store's own failure, or None if it is not."""
    if not isinstance(error, psycopg.Error):
        return None
    sqlstate = error.sqlstate
    if sqlstate is None:
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return _reason("PostgreSQL connection", error)
        return None
    if sqlstate.startswith(POSTGRES_CLASSES) or sqlstate in POSTGRES_CODES:
        return _reason(f"PostgreSQL {sqlstate}", error)
    return None


def sqlite_transient(error: BaseException) -> str | None:
    """Why `error` is the SQLite store's own failure, or None if it is not."""
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    name = SQLITE_CODES.get(code & 0xFF)
    return None if name is None else _reason(f"SQLite {name}", error)


def _reason(kind: str, error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{kind}: {text}"[:_REASON_LENGTH]


@contextmanager
def unavailable_when_transient(
    classify: Callable[[BaseException], str | None], forget: Callable[[], None] = lambda: None
) -> Iterator[None]:
    """Raise `ReadStoreUnavailable` for a failure `classify` finds transient (after `forget`,
    which drops a connection that may be broken); let every other failure through as it is."""
    try:
        yield
    except ReadStoreUnavailable:
        raise
    except Exception as error:
        reason = classify(error)
        if reason is None:
            raise
        forget()
        raise ReadStoreUnavailable(reason) from error
