"""A case file and a notice as a reviewer reads them, folded from the tenant's own streams
(`domain.application.replay`, which only reads and never uses snapshots): evidence with its
text, every proposal with its rationale and who proposed it (agent and run, or user), the
decisions, and a timeline of who did what; a notice's exact recipient, subject and body.

Contract: the stream read is always `<category>-<tenant>_<id>` of the signed-in tenant, so
another tenant's id reads a stream that does not exist (None), exactly like an unknown id.
The caller has already been allowed to read the case by the query service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.replay import replay
from caseledger.domain.notice_draft.state import NoticeDraftState, content_digest
from caseledger.domain.shared.envelopes import EventEnvelope

_PROPOSED: Final = {
    "case.risk_update_proposed": ("risk_update", "proposed_risk_level"),
    "case.escalation_proposed": ("escalation", "proposed_status"),
}
_DECIDED: Final = {
    "case.risk_level_changed": "approved",
    "case.escalated": "approved",
    "case.proposal_declined": "declined",
}
_NOTICE_DECIDED: Final = {"notice_draft.approved": "approved", "notice_draft.rejected": "declined"}


@dataclass
class Evidence:
    evidence_id: str
    title: str
    text: str
    source_ref: str | None
    submitted_by: str
    status: str = "submitted"


@dataclass
class Proposal:
    proposal_id: str
    kind: str
    value: str | None
    rationale: str
    confidence: float | None
    evidence_refs: list[str]
    proposer: str
    """`agent:risk-bot` or `user:alice`."""
    agent_name: str | None
    run_id: str | None
    approval_request_id: str | None
    digest: str
    policy_version: str
    proposed_at: datetime
    status: str = "open"


@dataclass
class Decision:
    at: datetime
    subject: str
    """What was decided: `proposal p1` or `notice n1`."""
    outcome: str
    """approved, declined, or renewed (the policy changed: decide again)."""
    by: str
    comment: str | None
    policy_version: str | None


@dataclass
class Entry:
    """One line of a timeline."""

    at: datetime
    event_type: str
    actor_type: str
    """user, agent or system (as the event's metadata names it)."""
    actor: str
    run_id: str | None
    summary: str
    correlation_id: str


@dataclass
class CaseFile:
    case_id: str
    status: str
    allegation_summary: str
    evidence: dict[str, Evidence] = field(default_factory=dict)
    proposals: dict[str, Proposal] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    timeline: list[Entry] = field(default_factory=list)


@dataclass
class Notice:
    draft_id: str
    case_id: str
    status: str
    recipient: str
    subject: str
    body: str
    digest: str
    content_version: int
    authors: list[str]
    decisions: list[Decision]
    timeline: list[Entry]

    def shows(self, digest: str) -> bool:
        """True when this content is the one `digest` names (and its digest is its own)."""
        own = content_digest(self.recipient, self.subject, self.body)
        return self.digest == digest and own == digest


def case_file(store: EventStore, tenant_id: str, case_id: str) -> CaseFile | None:
    """The tenant's case `case_id`, or None when the tenant holds no such case."""
    result = replay(store, "case", tenant_id, case_id)
    if result.revision < 0:
        return None
    state = result.state
    file = CaseFile(case_id, state.status.value, state.allegation_summary)
    for event in result.history:
        _fold(file, event)
    for evidence_id, status in state.evidence.items():
        if evidence_id in file.evidence:
            file.evidence[evidence_id].status = status.value
    return file


def notice(store: EventStore, tenant_id: str, draft_id: str) -> Notice | None:
    """The tenant's notice draft `draft_id` as it stands, or None when there is none."""
    result = replay(store, "notice_draft", tenant_id, draft_id)
    if result.revision < 0:
        return None
    state: NoticeDraftState = result.state
    decisions = [
        Decision(
            e.occurred_at,
            f"notice {draft_id}",
            _NOTICE_DECIDED[e.event_type],
            str(e.payload.get("approved_by") or e.payload.get("rejected_by") or _actor(e)),
            e.payload.get("comment") or e.payload.get("reason"),
            e.payload.get("policy_version") or e.policy_version,
        )
        for e in result.history
        if e.event_type in _NOTICE_DECIDED
    ]
    return Notice(
        draft_id=draft_id,
        case_id=state.case_id or "",
        status=state.status.value,
        recipient=state.recipient,
        subject=state.subject,
        body=state.body,
        digest=state.digest,
        content_version=state.content_version,
        authors=sorted(state.authors),
        decisions=decisions,
        timeline=[_entry(e) for e in result.history],
    )


def _fold(file: CaseFile, event: EventEnvelope) -> None:
    p = event.payload
    kind = event.event_type
    if kind == "case.evidence_submitted":
        file.evidence[p["evidence_id"]] = Evidence(
            p["evidence_id"], p["title"], p["text"], p.get("source_ref"), _actor(event)
        )
    elif kind in _PROPOSED:
        proposal_kind, value_field = _PROPOSED[kind]
        file.proposals[p["proposal_id"]] = Proposal(
            proposal_id=p["proposal_id"],
            kind=proposal_kind,
            value=p.get(value_field),
            rationale=p.get("rationale", ""),
            confidence=p.get("confidence"),
            evidence_refs=list(p.get("evidence_refs") or []),
            proposer=f"{p.get('proposed_by_type')}:{p.get('proposed_by_id')}",
            agent_name=p.get("agent_name"),
            run_id=p.get("run_id"),
            approval_request_id=p.get("approval_request_id"),
            digest=p.get("digest", ""),
            policy_version=p.get("policy_version", ""),
            proposed_at=event.occurred_at,
        )
    elif kind == "case.proposal_reevaluated" and p["proposal_id"] in file.proposals:
        file.proposals[p["proposal_id"]].approval_request_id = p["approval_request_id"]
        file.proposals[p["proposal_id"]].policy_version = p["policy_version"]
        file.decisions.append(
            Decision(
                event.occurred_at,
                f"proposal {p['proposal_id']}",
                "renewed",
                f"policy:{p['policy_version']}",
                f"policy {p['previous_policy_version']} -> {p['policy_version']}",
                p["policy_version"],
            )
        )
    elif kind in _DECIDED:
        _decided(file, event)
    file.timeline.append(_entry(event))


def _decided(file: CaseFile, event: EventEnvelope) -> None:
    p = event.payload
    outcome = _DECIDED[event.event_type]
    proposal = file.proposals.get(p["proposal_id"])
    if proposal is not None:
        proposal.status = outcome
    by_type = p.get("approved_by_actor_type") or p.get("declined_by_type")
    by_id = p.get("approved_by_actor_id") or p.get("declined_by_id")
    file.decisions.append(
        Decision(
            event.occurred_at,
            f"proposal {p['proposal_id']}",
            outcome,
            f"{by_type}:{by_id}",
            p.get("comment"),
            p.get("policy_version"),
        )
    )


def _actor(event: EventEnvelope) -> str:
    return f"{event.actor_type}:{event.actor_id}"


def _entry(event: EventEnvelope) -> Entry:
    return Entry(
        at=event.occurred_at,
        event_type=event.event_type,
        actor_type=event.actor_type,
        actor=_actor(event),
        run_id=event.run_id,
        summary=_summary(event.event_type, event.payload),
        correlation_id=event.correlation_id,
    )


_SUMMARY_FIELDS: Final = (
    "evidence_id",
    "title",
    "proposal_id",
    "proposed_risk_level",
    "proposed_status",
    "to_risk_level",
    "to_status",
    "draft_id",
    "subject",
    "recipient",
    "resolution",
    "reason",
    "comment",
)


def _summary(event_type: str, payload: dict[str, Any]) -> str:
    """A short line: the event's identifying fields (bounded; shown escaped)."""
    parts = [f"{k}={payload[k]}" for k in _SUMMARY_FIELDS if payload.get(k) not in (None, "")]
    text = ", ".join(parts)
    return text if len(text) <= 300 else text[:297] + "..."
