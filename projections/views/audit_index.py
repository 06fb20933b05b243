"""The audit index: where each audited fact is, by the questions an auditor starts from.

One `event` row per event of every category the audit covers (cases, notice drafts, policy,
the command log, agent runs), keyed by `stream@revision`, with its correlation id, causation id,
case, actor (`type:id`) and run as columns, so an audit of a case or a correlation finds its
events' `(stream, revision)` without reading `$all`. A notice draft's and a run's case are
remembered in `draft` and `run` rows (a draft's later events, a run's later events and the
command log's refusals on them carry no case id of their own). `locator` rows, kept under no
tenant, say which tenants hold a case id or a correlation id, for operators who audit across
tenants. Integration records (SMTP deliveries, publications) are not events: the audit reads
them from their own ledgers by the events it found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from caseledger.domain.shared import streams
from caseledger.projections.events import CATALOGUED_TYPES, ProjectedEvent
from caseledger.projections.projection import Projection, RowLookup, tenant_key
from caseledger.projections.rows import Put, Row, RowChange, Scalar

NAME: Final = "audit_index"
OPERATORS: Final = ""
"""The tenant of locator rows: only operators (who see every tenant) read them."""
EVENT, DRAFT, RUN, LOCATOR = "event", "draft", "run", "locator"
AUDITED: Final = frozenset(
    {streams.CASE, streams.NOTICE_DRAFT, streams.POLICY, streams.COMMAND_LOG, streams.AGENT_RUN}
)


def event_key(stream: str, revision: int) -> str:
    """An event row's key; stream names carry their tenant, so keys never collide."""
    return f"ev:{stream}@{revision}"


def locator_key(kind: str, subject: str, tenant_id: str) -> str:
    return f"{kind}:{subject}@{tenant_id}"


class AuditIndexProjection(Projection):
    """Rule: every event of an audited category gets exactly one row, written once; a row never
    changes afterwards, so the index rebuilt equals the index built live."""

    name: ClassVar[str] = NAME
    version: ClassVar[int] = 1
    columns: ClassVar[tuple[str, ...]] = (
        "kind",
        "correlation_id",
        "causation_id",
        "case_id",
        "actor",
        "run_id",
    )
    categories: ClassVar[frozenset[str]] = AUDITED
    handles: ClassVar[frozenset[str]] = frozenset().union(*(CATALOGUED_TYPES[c] for c in AUDITED))

    def reads(self, event: ProjectedEvent) -> Sequence[str]:
        owner = _owner_key(event)
        return [owner] if owner is not None else []

    def apply(self, event: ProjectedEvent, rows: RowLookup) -> Sequence[RowChange]:
        tenant = event.tenant_id
        case_id = self._case_of(event, rows)
        run_id = _text(event.metadata.get("runId")) or event.optional_text("run_id")
        correlation = _text(event.metadata.get("$correlationId"))
        columns: dict[str, Scalar] = {
            "kind": EVENT,
            "correlation_id": correlation,
            "causation_id": _text(event.metadata.get("$causationId")),
            "case_id": case_id,
            "actor": _actor(event),
            "run_id": run_id,
        }
        document = {
            "stream": event.stream,
            "revision": event.revision,
            "position": event.position,
            "event_type": event.type,
            "event_id": event.event_id,
        }
        changes: list[RowChange] = [
            Put(
                Row(
                    event_key(event.stream, event.revision),
                    tenant,
                    columns,
                    document,
                    event.position,
                )
            )
        ]
        changes += self._owners(event, tenant, case_id)
        if case_id is not None:
            changes.append(_locator(event, "case", case_id, tenant))
        if correlation is not None:
            changes.append(_locator(event, "correlation", correlation, tenant))
        return changes

    def _case_of(self, event: ProjectedEvent, rows: RowLookup) -> str | None:
        addressed = _addressed(event)
        if addressed is not None and addressed.category == streams.CASE:
            return addressed.aggregate_id
        if event.type in ("notice_draft.drafted", "run.started"):
            return event.optional_text("case_id")
        owner = _owner_key(event)
        row = rows.get(owner) if owner is not None else None
        if row is not None:
            return _text(row.columns.get("case_id"))
        return None

    def _owners(self, event: ProjectedEvent, tenant: str, case_id: str | None) -> list[RowChange]:
        """A draft's or a run's case, remembered from the event that names it."""
        kind = {"notice_draft.drafted": DRAFT, "run.started": RUN}.get(event.type)
        owner = _owner_key(event)
        if kind is None or owner is None or case_id is None:
            return []
        columns: dict[str, Scalar] = {"kind": kind, "case_id": case_id}
        document = {"stream": event.stream, "case_id": case_id}
        return [Put(Row(owner, tenant, columns, document, event.position))]


def _owner_key(event: ProjectedEvent) -> str | None:
    """The draft or run row holding the case of `event`'s stream (or, for a refusal, of the
    stream the refused command addressed)."""
    name = _addressed(event)
    if name is None or name.aggregate_id is None:
        return None
    kind = {streams.NOTICE_DRAFT: DRAFT, streams.AGENT_RUN: RUN}.get(name.category)
    if kind is None:
        return None
    return tenant_key(name.tenant_id, f"{kind}:{name.aggregate_id}")


def _addressed(event: ProjectedEvent) -> streams.StreamName | None:
    """The stream `event` is about: its own, or for a refusal the one the command addressed
    (within the refusal's own tenant only)."""
    stream = event.stream
    if event.category == streams.COMMAND_LOG:
        stream = event.optional_text("stream_id") or ""
    name = streams.parse_stream(stream)
    if name is None or name.tenant_id != event.tenant_id:
        return None
    return name


def _locator(event: ProjectedEvent, kind: str, subject: str, tenant: str) -> Put:
    column = "case_id" if kind == "case" else "correlation_id"
    columns: dict[str, Scalar] = {"kind": LOCATOR, column: subject}
    document = {"tenant_id": tenant, kind: subject}
    key = locator_key(kind, subject, tenant)
    return Put(Row(key, OPERATORS, columns, document, event.position))


def _actor(event: ProjectedEvent) -> str | None:
    kind, who = event.metadata.get("actorType"), event.metadata.get("actorId")
    if not isinstance(kind, str) or not isinstance(who, str):
        kind = event.optional_text("actor_type")
        who = event.optional_text("actor_id")
    return f"{kind}:{who}" if kind and who else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
