"""The reviewer's inbox: the tenant's pending approvals, each with what a reviewer must see
to decide it — a proposal's value, rationale, confidence, cited evidence with its text and who
proposed it (agent and run, or user); a notice's recipient, subject, exact body and digest —
and the decision (approve or decline, with a comment) as the signed-in user's command.

Contracts:
- The list is `list_pending_approvals` asked as the user: a role that may not see it gets the
  service's refusal, and nothing else.
- A notice is shown only when the content folded from its stream has the digest the request
  names (and that digest is the content's own); otherwise it is marked changed and offers no
  approval, since approving would bind to content the reviewer did not see.
- A decision names the approval request and the digest shown: content changed since is
  refused by the command service (`digest_mismatch`), never decided blind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from caseledger.adapters.console.casefile import CaseFile, Evidence, Notice, Proposal
from caseledger.adapters.console.casefile import case_file as read_case_file
from caseledger.adapters.console.casefile import notice as read_notice
from caseledger.adapters.console.services import ConsoleServices
from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.envelopes import CommandResult, QueryResult

PAGE: Final = 100
"""Pending approvals shown at most (the oldest first, as the view lists them)."""


@dataclass
class Item:
    kind: str
    """risk_update, escalation or notice."""
    case_id: str
    subject_id: str
    approval_request_id: str
    digest: str
    requested_by: str
    requested_at: str | None
    policy_version: str
    details: dict[str, Any]
    proposal: Proposal | None = None
    evidence: list[Evidence] = field(default_factory=list)
    missing_evidence: list[str] = field(default_factory=list)
    notice: Notice | None = None

    @property
    def decidable(self) -> bool:
        """A notice only when the body shown is the one the request binds to."""
        return self.kind != "notice" or (self.notice is not None and self.notice.shows(self.digest))


@dataclass
class Inbox:
    items: list[Item]
    refused: str | None = None
    """Why the list could not be shown (the query service's words)."""
    more: bool = False


def pending(
    services: ConsoleServices, principal: Principal, after_position: int | None = None
) -> Inbox:
    """The pending approvals as `principal` may see them; `after_position` (a decision's
    commit position) makes the list reflect that decision."""
    payload: dict[str, Any] = {"limit": PAGE}
    if after_position is not None:
        payload.update(min_position=after_position, max_wait_ms=2000)
    answer = services.ask(principal, "list_pending_approvals", payload)
    if answer.status not in ("ok", "stale") or answer.data is None:
        return Inbox([], refused=_refusal(answer))
    cases: dict[str, CaseFile | None] = {}
    items = [_item(services, principal, raw, cases) for raw in answer.data["pending_approvals"]]
    items.sort(key=lambda item: item.requested_at or "")
    return Inbox(items, more=answer.data.get("next_offset") is not None)


def _item(
    services: ConsoleServices,
    principal: Principal,
    raw: dict[str, Any],
    cases: dict[str, CaseFile | None],
) -> Item:
    item = Item(
        kind=raw["kind"],
        case_id=raw["case_id"],
        subject_id=raw["subject_id"],
        approval_request_id=raw["approval_request_id"],
        digest=raw["digest"],
        requested_by=raw["requested_by"],
        requested_at=raw.get("requested_at"),
        policy_version=raw["policy_version"],
        details=raw.get("details", {}),
    )
    if item.kind == "notice":
        item.notice = read_notice(services.store, principal.tenant_id, item.subject_id)
        return item
    if item.case_id not in cases:
        cases[item.case_id] = read_case_file(services.store, principal.tenant_id, item.case_id)
    file = cases[item.case_id]
    if file is None:
        return item
    item.proposal = file.proposals.get(item.subject_id)
    refs = item.proposal.evidence_refs if item.proposal else item.details.get("evidence_refs", [])
    item.evidence = [file.evidence[r] for r in refs if r in file.evidence]
    item.missing_evidence = [r for r in refs if r not in file.evidence]
    return item


def decide(
    services: ConsoleServices,
    principal: Principal,
    form: dict[str, str],
    idempotency_key: str | None,
) -> CommandResult | str:
    """Approve or decline one pending item as `principal`: the command's result, or why the
    form itself cannot be a decision (a plain message; nothing is issued)."""
    action, kind = form.get("decision", ""), form.get("kind", "")
    comment = form.get("comment", "").strip() or None
    if action not in ("approve", "decline"):
        return "Choose approve or decline."
    ids = {k: form.get(k, "") for k in ("case_id", "subject_id", "approval_request_id", "digest")}
    if not all(ids.values()):
        return "The form is incomplete; reload the inbox and try again."
    if kind in ("risk_update", "escalation"):
        payload: dict[str, Any] = {
            "case_id": ids["case_id"],
            "approval_request_id": ids["approval_request_id"],
            "proposal_digest": ids["digest"],
            "decision": action,
        }
        if comment:
            payload["comment"] = comment
        return services.issue(principal, "decide_proposal", payload, idempotency_key)
    if kind != "notice":
        return "Unknown kind of approval; reload the inbox."
    if action == "approve":
        payload = {
            "draft_id": ids["subject_id"],
            "approval_request_id": ids["approval_request_id"],
            "digest": ids["digest"],
        }
        if comment:
            payload["comment"] = comment
        return services.issue(principal, "approve_notice_draft", payload, idempotency_key)
    if not comment:
        return "Declining a notice needs a reason: write it in the comment."
    payload = {
        "draft_id": ids["subject_id"],
        "approval_request_id": ids["approval_request_id"],
        "reason": comment,
    }
    return services.issue(principal, "reject_notice_draft", payload, idempotency_key)


def _refusal(answer: QueryResult) -> str:
    if answer.status == "forbidden":
        return f"You may not see pending approvals: {answer.error_message or 'forbidden'}."
    if answer.status == "unavailable":
        return "The pending approvals cannot be read just now; this page retries by itself."
    return answer.error_message or answer.status
