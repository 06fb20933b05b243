"""Identifiers, digests and the id source.

Ids that name streams follow a grammar checked before any stream name is built
(`caseledger.domain.shared.streams`): tenant ids are 1-64 characters of a small ASCII charset
without the tenant separator `_`, aggregate ids 1-128 of the same charset with `_`. Unicode
look-alikes, spaces and control characters are outside it. Ids the domain mints (approval
requests, proposals) are derived deterministically from a seed the service hands in, so a retried
command mints the same ids. Event ids are fresh for every write: see `IdGenerator.event_id`.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from typing import Annotated, Any, Final, Protocol

import orjson
from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

TENANT_ID_MAX: Final = 64
AGGREGATE_ID_MAX: Final = 128
IDEMPOTENCY_KEY_MAX: Final = 200
TENANT_SEPARATOR: Final = "_"
"""What separates the tenant from the aggregate id in a stream name (`case-<tenant>_<id>`):
tenant ids never contain it, so the first one after the category ends the tenant."""

_TENANT_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]{0,63}")
_AGGREGATE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_IDEMPOTENCY_KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
TENANT_ID_RULE: Final = (
    f"1-{TENANT_ID_MAX} ASCII letters, digits, '.', ':' or '-', starting with a letter or digit "
    f"(never {TENANT_SEPARATOR!r})"
)
AGGREGATE_ID_RULE: Final = (
    f"1-{AGGREGATE_ID_MAX} ASCII letters, digits, '.', '_', ':' or '-', starting with a letter "
    "or digit"
)

IDEMPOTENCY_KEY_RULE: Final = (
    f"1-{IDEMPOTENCY_KEY_MAX} ASCII letters, digits, '.', '_', ':' or '-', starting with a letter "
    "or digit"
)


def is_tenant_id(value: str) -> bool:
    """The tenant id grammar: a small ASCII charset (no look-alikes), never the separator."""
    return len(value) <= TENANT_ID_MAX and _TENANT_ID.fullmatch(value) is not None


def is_aggregate_id(value: str) -> bool:
    """The grammar of ids that name streams or things in them (case, draft, run, evidence, brief,
    proposal, approval request ...)."""
    return len(value) <= AGGREGATE_ID_MAX and _AGGREGATE_ID.fullmatch(value) is not None


def is_idempotency_key(value: str) -> bool:
    """An idempotency key: the aggregate ids' charset, at most 200 characters."""
    return len(value) <= IDEMPOTENCY_KEY_MAX and _IDEMPOTENCY_KEY.fullmatch(value) is not None


def _idempotency_key(value: str) -> str:
    if not is_idempotency_key(value):
        raise PydanticCustomError(
            "invalid_idempotency_key",
            "not an idempotency key: {rule}",
            {"rule": IDEMPOTENCY_KEY_RULE},
        )
    return value


def _tenant_id(value: str) -> str:
    if not is_tenant_id(value):
        raise PydanticCustomError(
            "invalid_tenant_id", "not a tenant id: {rule}", {"rule": TENANT_ID_RULE}
        )
    return value


def _aggregate_id(value: str) -> str:
    if not is_aggregate_id(value):
        raise PydanticCustomError("invalid_id", "not an id: {rule}", {"rule": AGGREGATE_ID_RULE})
    return value


TenantId = Annotated[
    str,
    AfterValidator(_tenant_id),
    WithJsonSchema(
        {"type": "string", "pattern": f"^{_TENANT_ID.pattern}$", "maxLength": TENANT_ID_MAX}
    ),
]
"""A tenant id (see `is_tenant_id`). An invalid one is refused with a message naming the rule,
never the value."""

Identifier = Annotated[
    str,
    AfterValidator(_aggregate_id),
    WithJsonSchema(
        {"type": "string", "pattern": f"^{_AGGREGATE_ID.pattern}$", "maxLength": AGGREGATE_ID_MAX}
    ),
]
"""A case, draft, run, evidence, brief, proposal or approval id (see `is_aggregate_id`). An
invalid one is refused with a message naming the rule, never the value."""

IdempotencyKey = Annotated[
    str,
    AfterValidator(_idempotency_key),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{_IDEMPOTENCY_KEY.pattern}$",
            "maxLength": IDEMPOTENCY_KEY_MAX,
        }
    ),
]
"""An idempotency key (see `is_idempotency_key`). An invalid one is refused with a message
naming the rule, never the value."""

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


class _RandomIds:
    """Version-4 UUIDs as `uuid.uuid4` makes them (`UUID(bytes=os.urandom(16), version=4)`),
    from `os.urandom` drawn `BLOCK` ids at a time: one system call per block rather than one
    per id. Thread-safe; a forked child drops what its parent had drawn and not used, which
    would otherwise repeat the parent's next ids."""

    BLOCK: Final = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._next = 0

    def __call__(self) -> uuid.UUID:
        with self._lock:
            if self._next >= len(self._pool):
                self._pool, self._next = os.urandom(16 * self.BLOCK), 0
            start = self._next
            self._next = start + 16
            raw = self._pool[start : start + 16]
        return uuid.UUID(bytes=raw, version=4)

    def forget(self) -> None:
        self._lock = threading.Lock()  # the parent's may have been held as it forked
        self._pool, self._next = b"", 0


random_id: Final = _RandomIds()
"""A fresh version-4 UUID (see `_RandomIds`)."""
os.register_at_fork(after_in_child=random_id.forget)


class DerivedIds:
    """Seeds: uuid5 over tenant, actor, idempotency key and stream. Event ids: random version-4
    UUIDs (`random_id`)."""

    def command_seed(
        self, tenant_id: str, actor_key: str, idempotency_key: str, stream: str
    ) -> uuid.UUID:
        return derived_uuid(tenant_id, actor_key, idempotency_key, stream)

    def event_id(self, seed: uuid.UUID, index: int) -> uuid.UUID:
        return random_id()
