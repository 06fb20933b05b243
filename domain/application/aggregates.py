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
from caseledger.domain.shared.commands import Command
from caseledger.domain.shared.events import DomainEvent

S = TypeVar("S")


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """One kind of stream: `<category>-<id>`, folded by `evolve`, decided by `decide`."""

    name: str
    category: str
    initial_state: Callable[[], S]
    evolve: Callable[[S, DomainEvent], S]
    decide: Callable[[Command[Any], S], list[DomainEvent]]
    tenant_of: Callable[[S], str | None]
    """The tenant owning the stream, once it exists (None for a new stream)."""

    def stream(self, aggregate_id: str) -> str:
        return f"{self.category}-{aggregate_id}"

    def id_of(self, stream: str) -> str:
        return stream.removeprefix(f"{self.category}-")


CASE: Final = Aggregate[CaseState](
    "case",
    "case",
    case_decider.initial_state,
    case_decider.evolve,
    case_decider.decide,
    lambda state: state.tenant_id,
)
NOTICE_DRAFT: Final = Aggregate[NoticeDraftState](
    "notice_draft",
    "noticedraft",
    notice_decider.initial_state,
    notice_decider.evolve,
    notice_decider.decide,
    lambda state: state.tenant_id,
)
POLICY: Final = Aggregate[PolicyState](
    "policy",
    "policy",
    policy_decider.initial_state,
    policy_decider.evolve,
    policy_decider.decide,
    lambda state: None,
)
"""A tenant's policy stream is named by the tenant itself (`policy-<tenant>`)."""

AGENT_RUN: Final = Aggregate[AgentRunState](
    "agent_run",
    "run",
    run_decider.initial_state,
    run_decider.evolve,
    run_decider.decide,
    lambda state: state.tenant_id,
)
"""An agent run as its runtime reported it (`run-<run_id>`)."""

AGGREGATES: Final = {a.name: a for a in (CASE, NOTICE_DRAFT, POLICY, AGENT_RUN)}
