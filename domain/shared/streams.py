"""Stream names: the one place they are built and taken apart.

Every stream caseledger writes carries its tenant, and keeps KurrentDB's category convention
(the category is what precedes the first `-`):

- `<category>-<tenant>_<id>`: an aggregate of a tenant (`case`, `noticedraft`, `run`), or a
  run's command budget (`runbudget`: not an aggregate, and no read model follows it);
- `<category>-<tenant>`: a tenant's own stream (`policy`, `commandlog`);
- `snapshot-<stream>`: the snapshots of `<stream>` (so also tenant-scoped);
- `idempotency-<tenant>_<digest>`: the reservation of one idempotency key of one actor.

A name is built only from ids inside their grammar (`caseledger.domain.shared.ids`): the tenant
never holds `_`, so the first `_` after the category ends it, and the same id in two tenants
names two streams. A name that could not be taken apart again is refused (`InvalidId`), never
built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from caseledger.domain.shared.ids import (
    AGGREGATE_ID_RULE,
    TENANT_ID_RULE,
    TENANT_SEPARATOR,
    digest_of,
    is_aggregate_id,
    is_tenant_id,
)

CASE: Final = "case"
NOTICE_DRAFT: Final = "noticedraft"
AGENT_RUN: Final = "run"
RUN_BUDGET: Final = "runbudget"
POLICY: Final = "policy"
COMMAND_LOG: Final = "commandlog"
SNAPSHOT: Final = "snapshot"
IDEMPOTENCY: Final = "idempotency"
CATEGORIES: Final = (
    CASE,
    NOTICE_DRAFT,
    AGENT_RUN,
    RUN_BUDGET,
    POLICY,
    COMMAND_LOG,
    SNAPSHOT,
    IDEMPOTENCY,
)
"""Every category caseledger writes (besides its store-format marker)."""

NOT_FACTS: Final = (SNAPSHOT, IDEMPOTENCY)
"""Categories that record no fact, only the write side's bookkeeping (snapshots, idempotency-key
reservations): views, the outbox relay, audits and causation chains ignore them by name (each
follows only the categories it names, none of these)."""


class InvalidId(ValueError):
    """An id outside its grammar: no stream name is built from it. The message names the field
    and the rule, never the value (it may be large or hostile)."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: not a valid id: {rule}")
        self.field = field


def check_tenant_id(tenant_id: str, field: str = "tenant_id") -> str:
    if not is_tenant_id(tenant_id):
        raise InvalidId(field, TENANT_ID_RULE)
    return tenant_id


def check_aggregate_id(aggregate_id: str, field: str = "id") -> str:
    if not is_aggregate_id(aggregate_id):
        raise InvalidId(field, AGGREGATE_ID_RULE)
    return aggregate_id


def aggregate_stream(category: str, tenant_id: str, aggregate_id: str) -> str:
    """`<category>-<tenant>_<id>`, e.g. `case-t1_c1`."""
    check_tenant_id(tenant_id)
    check_aggregate_id(aggregate_id)
    return f"{category}-{tenant_id}{TENANT_SEPARATOR}{aggregate_id}"


def tenant_stream(category: str, tenant_id: str) -> str:
    """`<category>-<tenant>`, e.g. `policy-t1`: one stream per tenant."""
    return f"{category}-{check_tenant_id(tenant_id)}"


def snapshot_stream(stream: str) -> str:
    """`snapshot-<stream>`, e.g. `snapshot-case-t1_c1`."""
    return f"{SNAPSHOT}-{stream}"


def reservation_stream(tenant_id: str, actor_key: str, idempotency_key: str) -> str:
    """`idempotency-<tenant>_<digest>`: the one stream that reserves `idempotency_key` for
    `actor_key` in the tenant (the digest, sha256 hex over both, keeps any actor and key inside
    the id grammar)."""
    return aggregate_stream(IDEMPOTENCY, tenant_id, digest_of([actor_key, idempotency_key]))


@dataclass(frozen=True)
class StreamName:
    category: str
    tenant_id: str
    aggregate_id: str | None
    """None for a tenant's own stream (`policy-<tenant>`)."""


def parse_stream(stream: str) -> StreamName | None:
    """`stream` taken apart, if it is a tenant-scoped name (None otherwise, e.g. a snapshot's
    or one written before tenant-scoped names)."""
    category, dash, rest = stream.partition("-")
    tenant_id, separator, aggregate_id = rest.partition(TENANT_SEPARATOR)
    if not dash or not is_tenant_id(tenant_id):
        return None
    if not separator:
        return StreamName(category, tenant_id, None)
    if not is_aggregate_id(aggregate_id):
        return None
    return StreamName(category, tenant_id, aggregate_id)
