"""The aggregates the application service can load: stream category, decider and owner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from caseledger.domain.agent_run import decider as run_decider
from caseledger.domain.agent_run.decider import AgentRunState
from caseledger.domain.case import decider as case_decider
from caseledger.domain.case.state import CaseState
from caseledger.domain.notice_draft import decider as notice_decider
from caseledger.domain.notice_draft.state import NoticeDraftState
from caseledger.domain.policy import decider as policy_decider
from caseledger.domain.policy.decider import PolicyState
from caseledger.domain.shared import streams
from caseledger.domain.shared.commands import Command
from caseledger.domain.shared.events import DomainEvent

S = TypeVar("S")


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """One kind of stream: `<category>-<tenant>_<id>` (or, `per_tenant`, `<category>-<tenant>`),
    folded by `evolve`, decided by `decide`. Names are built by `shared.streams` only."""

    name: str
    category: str
    initial_state: Callable[[], S]
    evolve: Callable[[S, DomainEvent], S]
    decide: Callable[[Command[Any], S], list[DomainEvent]]
    tenant_of: Callable[[S], str | None]
    """The tenant owning the stream, once it exists (None for a new stream)."""

    per_tenant: bool = False
    """One stream per tenant, named by the tenant alone (the policy)."""

    def stream(self, tenant_id: str, aggregate_id: str) -> str:
        """The tenant's stream of `aggregate_id`; raises InvalidId for ids outside the grammar."""
        if self.per_tenant:
            return streams.tenant_stream(self.category, tenant_id)
        return streams.aggregate_stream(self.category, tenant_id, aggregate_id)

    def id_of(self, stream: str) -> str:
        """The aggregate id `stream` names (the tenant, for a per-tenant stream)."""
        name = streams.parse_stream(stream)
        if name is None or name.category != self.category:
            raise ValueError(f"not a {self.name} stream: {stream[:200]!r}")
        return name.aggregate_id if name.aggregate_id is not None else name.tenant_id


CASE: Final = Aggregate[CaseState](
    "case",
    streams.CASE,
    case_decider.initial_state,
    case_decider.evolve,
    case_decider.decide,
    lambda state: state.tenant_id,
)
NOTICE_DRAFT: Final = Aggregate[NoticeDraftState](
    "notice_draft",
    streams.NOTICE_DRAFT,
    notice_decider.initial_state,
    notice_decider.evolve,
    notice_decider.decide,
    lambda state: state.tenant_id,
)
POLICY: Final = Aggregate[PolicyState](
    "policy",
    streams.POLICY,
    policy_decider.initial_state,
    policy_decider.evolve,
    policy_decider.decide,
    lambda state: None,
    per_tenant=True,
)
"""A tenant's policy stream is named by the tenant itself (`policy-<tenant>`)."""

AGENT_RUN: Final = Aggregate[AgentRunState](
    "agent_run",
    streams.AGENT_RUN,
    run_decider.initial_state,
    run_decider.evolve,
    run_decider.decide,
    lambda state: state.tenant_id,
)
"""An agent run as its runtime reported it (`run-<tenant>_<run_id>`)."""

AGGREGATES: Final = {a.name: a for a in (CASE, NOTICE_DRAFT, POLICY, AGENT_RUN)}
