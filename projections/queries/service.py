"""The query service (seed §8): `handle(QueryEnvelope) -> QueryResult`.

Contracts: a query is authorized (agents need a run id and may read what agents may read;
users need a role the query allows); tenant-isolated (another tenant's case is `not_found`);
bounded (capped limits, truncated texts); side-effect free (it only reads); source-referenced;
and it reports freshness. With `min_position` it waits, at most `max_wait_ms`, for the view to
reach that position; past the bound it answers with status `stale`, never silently — also when
the position is beyond `$all`'s head (`reached: false`: the view cannot have seen it), and when
the aggregate is not in the view yet (`stale`, not `not_found`: it may be in what is missing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import ValidationError

from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.envelopes import QueryEnvelope, QueryResult
from caseledger.domain.shared.errors import describe_invalid
from caseledger.projections.events import CATEGORIES
from caseledger.projections.ports import ReadStoreUnavailable, ViewReader
from caseledger.projections.queries import answers
from caseledger.projections.queries.freshness import HeadPosition, PollingWaiter, ViewWaiter
from caseledger.projections.queries.payloads import (
    CaseQuery,
    ListCases,
    ListNoticeDrafts,
    ListPendingApprovals,
    QueryPayload,
    SearchEvidence,
)
from caseledger.projections.queries.views import Freshness

MAX_SOURCE_REFS: Final = 100
READ_STORE_UNAVAILABLE: Final = "the read models cannot be read for now; retry"
_ALL_ROLES: Final = frozenset(Role)
_DECIDERS: Final = frozenset({Role.REVIEWER, Role.SUPERVISOR})


class QueryStatus(StrEnum):
    OK = "ok"
    STALE = "stale"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    VALIDATION_ERROR = "validation_error"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Question:
    """A validated query: who asks, for which tenant, with what payload."""

    tenant_id: str
    caller: Actor
    payload: Any


Answer = tuple[dict[str, Any] | None, list[str]]
"""The view as JSON (None: not found) and the refs it was built from."""


@dataclass(frozen=True)
class QueryRoute:
    payload: type[QueryPayload]
    view: str
    agents: bool
    roles: frozenset[Role]
    answer: Callable[[ViewReader, Question], Answer]


ROUTES: Final[dict[str, QueryRoute]] = {
    "get_case_summary": QueryRoute(
        CaseQuery, "case_summary", True, _ALL_ROLES, answers.case_summary
    ),
    "list_cases": QueryRoute(ListCases, "case_summary", True, _ALL_ROLES, answers.dashboard),
    "get_case_agent_context": QueryRoute(
        CaseQuery, "case_agent_context", True, _ALL_ROLES, answers.agent_context
    ),
    "search_evidence": QueryRoute(
        SearchEvidence, "evidence_search", True, _ALL_ROLES, answers.evidence
    ),
    "list_pending_approvals": QueryRoute(
        ListPendingApprovals, "pending_approvals", False, _DECIDERS, answers.pending_approvals
    ),
    "list_notice_drafts": QueryRoute(
        ListNoticeDrafts, "notice_drafts", True, _ALL_ROLES, answers.notice_drafts
    ),
}


class QueryService:
    def __init__(
        self,
        reader: ViewReader,
        head: HeadPosition | None = None,
        waiter: ViewWaiter | None = None,
    ) -> None:
        self._reader = reader
        self._head = head
        self._waiter = waiter or PollingWaiter(reader)

    def handle(self, query: QueryEnvelope) -> QueryResult:
        route = ROUTES.get(query.query_type)
        if route is None:
            return _refused(
                query, QueryStatus.VALIDATION_ERROR, f"unknown query {query.query_type!r}"
            )
        schema = f"{query.query_type}.v1"
        if query.payload_schema != schema or query.query_version != "1":
            return _refused(query, QueryStatus.VALIDATION_ERROR, f"supported schema: {schema}")
        caller = _caller(query)
        denial = _authorize(route, caller)
        if denial:
            return _refused(query, QueryStatus.FORBIDDEN, denial)
        try:
            payload = route.payload.model_validate(query.payload)
        except ValidationError as error:
            return _refused(query, QueryStatus.VALIDATION_ERROR, describe_invalid(error.errors()))
        try:
            return self._answer(query, route, Question(query.tenant_id, caller, payload))
        except ReadStoreUnavailable:  # its reason names hosts and files: it stays inside
            return _refused(query, QueryStatus.UNAVAILABLE, READ_STORE_UNAVAILABLE)

    def _answer(self, query: QueryEnvelope, route: QueryRoute, question: Question) -> QueryResult:
        version = self._reader.active_version(route.view)
        if version is None:
            return _refused(query, QueryStatus.UNAVAILABLE, f"view {route.view} is not built yet")
        payload: QueryPayload = question.payload
        reached = True
        if payload.min_position is not None:
            reached = self._waiter.wait_until(
                route.view, self._target(payload.min_position), payload.max_wait_ms / 1000
            )
        as_of = self._reader.as_of(route.view)  # read before the rows: they are at least this fresh
        data, refs = route.answer(self._reader, question)
        freshness = self._freshness(route.view, version, as_of, payload.min_position, reached)
        unreached = (
            f"{route.view} had not reached position {payload.min_position} "
            f"within {payload.max_wait_ms} ms; the answer is as of {as_of}"
        )
        if data is None:
            return QueryResult(
                query_id=query.query_id,
                status=QueryStatus.NOT_FOUND if reached else QueryStatus.STALE,
                data={"freshness": freshness.model_dump()},
                error_message=f"not found in {route.view}"
                if reached
                else f"{unreached}, which does not hold it (yet)",
            )
        data["freshness"] = freshness.model_dump()
        status = QueryStatus.OK if reached else QueryStatus.STALE
        message = None if reached else unreached
        return QueryResult(
            query_id=query.query_id,
            status=status,
            data=data,
            source_refs=refs[:MAX_SOURCE_REFS],
            error_message=message,
        )

    def _freshness(
        self, view: str, version: int, as_of: int | None, requested: int | None, reached: bool
    ) -> Freshness:
        head = self._head_position()
        lag = None if head is None else max(0, head - (as_of if as_of is not None else 0))
        return Freshness(
            view=view,
            view_version=version,
            as_of_position=as_of,
            head_position=head,
            lag=lag,
            requested_position=requested,
            reached=reached,
        )

    def _target(self, min_position: int) -> int:
        """What a view must reach to include everything up to `min_position`: no further than
        the newest event it follows. (A position the caller already holds was committed before
        this head was read, so any followed event before it is at or below that head.) So a
        position from a stream the views do not follow — e.g. a `commandlog-` record — is
        reached once the followed events are. A position beyond `$all`'s head was never
        written: the view must reach it itself (only events written later can take it there)."""
        if self._head is None:
            return min_position
        try:
            newest = self._head.head_position()
            followed = self._head.head_position(CATEGORIES)
        except Exception:  # the event store is unreachable: wait for the position itself
            return min_position
        return min_position if min_position > newest else min(min_position, followed)

    def _head_position(self) -> int | None:
        """The newest position in the categories the views follow (None: unknown)."""
        if self._head is None:
            return None
        try:
            return self._head.head_position(CATEGORIES)
        except Exception:  # the event store is unreachable: freshness says "unknown"
            return None


def _caller(query: QueryEnvelope) -> Actor:
    return Actor(
        type=query.requested_by_actor_type,
        id=query.requested_by_actor_id,
        roles=query.requested_by_roles,
        run_id=query.run_id,
    )


def _authorize(route: QueryRoute, caller: Actor) -> str | None:
    """Why `caller` may not run the query, or None."""
    if caller.type is ActorType.SYSTEM:
        return None
    if caller.type is ActorType.AGENT:
        if not route.agents:
            return "agents may not run this query"
        return None if caller.run_id else "an agent query needs a run id"
    if not caller.has_any_role(route.roles):
        wanted = ", ".join(sorted(r.value for r in route.roles))
        return f"this query needs one of the roles: {wanted}"
    return None


def _refused(query: QueryEnvelope, status: QueryStatus, message: str) -> QueryResult:
    return QueryResult(query_id=query.query_id, status=status, error_message=message)
