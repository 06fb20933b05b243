"""The command table: for each command type, its payload schema, the one stream it appends to,
whether that stream must be new or exist, who may issue it, and what it reads of its case."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from caseledger.domain.agent_run import commands as run
from caseledger.domain.application.aggregates import (
    AGENT_RUN,
    CASE,
    NOTICE_DRAFT,
    POLICY,
    Aggregate,
)
from caseledger.domain.case import commands as case
from caseledger.domain.notice_draft import commands as notice
from caseledger.domain.notice_draft.state import NoticeDraftState
from caseledger.domain.policy import commands as policy
from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.commands import CommandBody


class StreamRule(Enum):
    NEW = "new"
    EXISTING = "existing"
    ANY = "any"


Issuer = Role | ActorType
ANALYST, REVIEWER, SUPERVISOR = Role.ANALYST, Role.REVIEWER, Role.SUPERVISOR
AGENT, SYSTEM = ActorType.AGENT, ActorType.SYSTEM


@dataclass(frozen=True)
class Route:
    command_type: str
    body: type[CommandBody]
    aggregate: Aggregate[Any]
    aggregate_id: Callable[[Any, str], str]
    """(body, tenant id) -> the aggregate id; the stream is the tenant's (`Aggregate.stream`)."""
    stream_rule: StreamRule
    issuers: frozenset[Issuer]
    related_case: Callable[[Any, Any], str | None] | None = None
    """(body, loaded state) -> the case whose facts the decision reads, if any."""
    command_version: str = "1"

    @property
    def payload_schema(self) -> str:
        return f"{self.command_type}.v{self.command_version}"

    def stream(self, body: CommandBody, tenant_id: str) -> str:
        return self.aggregate.stream(tenant_id, self.aggregate_id(body, tenant_id))

    def may_be_issued_by(self, actor: Actor) -> bool:
        """Users by role; agents and the system by their type."""
        if actor.type is ActorType.USER:
            return bool(actor.roles & self.issuers)
        return actor.type in self.issuers


def _case_id(body: Any, tenant_id: str) -> str:
    return str(body.case_id)


def _draft_id(body: Any, tenant_id: str) -> str:
    return str(body.draft_id)


def _run_id(body: Any, tenant_id: str) -> str:
    return str(body.run_id)


def _tenant(body: Any, tenant_id: str) -> str:
    return tenant_id


def _body_case(body: Any, state: Any) -> str | None:
    return str(body.case_id)


def _draft_case(body: Any, state: NoticeDraftState) -> str | None:
    return state.case_id


def _case(name: str, body: type[CommandBody], rule: StreamRule, *issuers: Issuer) -> Route:
    return Route(name, body, CASE, _case_id, rule, frozenset(issuers))


def _notice(
    name: str,
    body: type[CommandBody],
    rule: StreamRule,
    issuers: frozenset[Issuer],
    related_case: Callable[[Any, Any], str | None] | None = None,
) -> Route:
    return Route(name, body, NOTICE_DRAFT, _draft_id, rule, issuers, related_case)


NEW, EXISTING = StreamRule.NEW, StreamRule.EXISTING
DRAFTERS: Final[frozenset[Issuer]] = frozenset({AGENT, ANALYST})
APPROVERS: Final[frozenset[Issuer]] = frozenset({REVIEWER, SUPERVISOR})

ROUTES: Final[Mapping[str, Route]] = {
    route.command_type: route
    for route in (
        _case("open_case", case.OpenCase, NEW, ANALYST, SUPERVISOR, SYSTEM),
        _case("start_case_review", case.StartCaseReview, EXISTING, ANALYST, REVIEWER, SUPERVISOR),
        _case("submit_evidence", case.SubmitEvidence, EXISTING, ANALYST, SYSTEM),
        _case("review_evidence", case.ReviewEvidence, EXISTING, REVIEWER, SUPERVISOR),
        _case("propose_risk_update", case.ProposeRiskUpdate, EXISTING, AGENT, ANALYST),
        _case("propose_case_escalation", case.ProposeCaseEscalation, EXISTING, AGENT, ANALYST),
        _case("decide_proposal", case.DecideProposal, EXISTING, REVIEWER, SUPERVISOR),
        _case("create_analyst_brief", case.CreateAnalystBrief, EXISTING, AGENT, ANALYST),
        _case("close_case", case.CloseCase, EXISTING, SUPERVISOR, SYSTEM),
        _case("dismiss_case", case.DismissCase, EXISTING, SUPERVISOR),
        _notice("create_notice_draft", notice.CreateNoticeDraft, NEW, DRAFTERS, _body_case),
        _notice("revise_notice_draft", notice.ReviseNoticeDraft, EXISTING, DRAFTERS),
        _notice("request_notice_approval", notice.RequestNoticeApproval, EXISTING, DRAFTERS),
        _notice(
            "approve_notice_draft", notice.ApproveNoticeDraft, EXISTING, APPROVERS, _draft_case
        ),
        _notice("reject_notice_draft", notice.RejectNoticeDraft, EXISTING, APPROVERS),
        _notice(
            "withdraw_notice_draft",
            notice.WithdrawNoticeDraft,
            EXISTING,
            frozenset({ANALYST, SUPERVISOR}),
        ),
        _notice(
            "send_approved_notice",
            notice.SendApprovedNotice,
            EXISTING,
            frozenset({ANALYST, REVIEWER, SUPERVISOR, SYSTEM}),
            _draft_case,
        ),
        _notice("record_notice_sent", notice.RecordNoticeSent, EXISTING, frozenset({SYSTEM})),
        Route(
            "publish_policy",
            policy.PublishPolicy,
            POLICY,
            _tenant,
            StreamRule.ANY,
            frozenset({SUPERVISOR}),
        ),
        # Agent runs (seed §11): reported by the agent runtime, a system actor, under the run id.
        Route("start_run", run.StartRun, AGENT_RUN, _run_id, NEW, frozenset({SYSTEM})),
        Route(
            "record_model_response",
            run.RecordModelResponse,
            AGENT_RUN,
            _run_id,
            EXISTING,
            frozenset({SYSTEM}),
        ),
        Route(
            "record_tool_call",
            run.RecordToolCall,
            AGENT_RUN,
            _run_id,
            EXISTING,
            frozenset({SYSTEM}),
        ),
    )
}
