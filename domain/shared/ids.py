"""Identifiers, digests and the id source.

Ids that name streams (`case-<id>`) are short printable tokens. Ids the domain mints (approval
requests, proposals) are derived deterministically from a seed the service hands in, so a retried
command mints the same ids. Event ids are fresh for every write: see `IdGenerator.event_id`.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any, Final, Protocol

import orjson
from pydantic import StringConstraints

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", strip_whitespace=False)
]
"""A tenant, case, draft, evidence or brief id: 1-128 printable characters, no spaces."""

LARGEST_STORED: Final = 2**63 - 1
"""The largest number caseledger takes for a revision, a position or a count: every store it
writes to keeps them as signed 64-bit integers (KurrentDB, SQLite, PostgreSQL `bigint`), so a
larger one is invalid input, not a crash later."""

NAMESPACE: Final = uuid.UUID("6f3d9c52-8a0e-4f53-9a51-3c5e0b2c7d11")
"""The uuid5 namespace of every id caseledger derives."""


def derived_uuid(*parts: str) -> uuid.UUID:
    """A uuid5 over `parts`: the same parts always give the same id."""
    return uuid.uuid5(NAMESPACE, "\x1f".join(parts))


def digest_of(value: Any) -> str:
    """sha256 (hex) of `value` as canonical JSON (sorted keys): equal values, equal digests."""
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


class IdGenerator(Protocol):
    """Where the application service gets the ids of what a command writes."""

    def command_seed(
        self, tenant_id: str, actor_key: str, idempotency_key: str, stream: str
    ) -> uuid.UUID:
        """The seed every id of one command is derived from."""
        ...

    def event_id(self, seed: uuid.UUID, index: int) -> uuid.UUID:
        """The id of the `index`-th event of one write of the command: a new id for every
        write. Idempotency is the key index in the aggregate's state plus the expected
        revision (a retry of a written command finds its stream moved, reloads and finds its
        key); ids that repeated across writes would instead let the store's idempotent append
        answer a retry from stale state as if it were the first."""
        ...


class DerivedIds:
    """Seeds: uuid5 over tenant, actor, idempotency key and stream. Event ids: uuid4."""

    def command_seed(
        self, tenant_id: str, actor_key: str, idempotency_key: str, stream: str
    ) -> uuid.UUID:
        return derived_uuid(tenant_id, actor_key, idempotency_key, stream)

    def event_id(self, seed: uuid.UUID, index: int) -> uuid.UUID:
        return uuid.uuid4()
