"""A command's answer as one plain sentence for the person who clicked, and how loud to say it.

Rule: a refusal is explained in the reviewer's words (four eyes, role, content changed, policy
changed), followed by the service's own reason code, so what the screen says can be found in
the command log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from caseledger.domain.shared.envelopes import CommandResult

PLAIN: Final = {
    "four_eyes": "You cannot decide this: you proposed or wrote it yourself. Another "
    "reviewer must decide it (four eyes).",
    "approver_role_required": "Your role may not decide this: the tenant's policy requires "
    "another role.",
    "not_permitted": "Your role may not do this.",
    "digest_mismatch": "The content changed since this page showed it. Nothing was decided: "
    "review the current version and decide again.",
    "approval_request_not_open": "This request is no longer open: it was decided, voided by a "
    "revision, or renewed under a new policy.",
    "case_not_active": "The case is closed or dismissed: nothing more can be decided on it.",
    "evidence_not_approved": "The evidence this proposal cites is not all approved yet.",
    "evidence_required": "The proposal cites fewer approved evidence items than the policy "
    "requires.",
    "invalid_transition": "The case is not in a state that allows this.",
    "not_found": "There is no such case or notice in your tenant.",
    "unknown_reference": "The request names something that does not exist (any more).",
    "invalid_payload": "The decision was not valid (a comment too long?).",
    "idempotency_key_reused": "This form was already used for another decision; reload.",
    "concurrent_write": "Someone else changed this at the same moment; reload and try again.",
    "stale_version": "Someone else changed this at the same moment; reload and try again.",
    "event_store_unavailable": "The event store does not answer just now. Nothing was lost; "
    "try again in a moment.",
}


@dataclass(frozen=True)
class Said:
    text: str
    tone: str
    """ok, warn (decide again) or refused."""
    status: int
    """The page's HTTP status."""


_STATUS: Final = {"not_found": 404, "event_store_unavailable": 503}
_OUTCOME_STATUS: Final = {"conflict": 409, "validation_error": 422}


def said(result: CommandResult, what: str) -> Said:
    """How the outcome of deciding `what` (e.g. "proposal p1 of case c1") reads."""
    status = result.status.value
    if status in ("accepted", "duplicate_accepted"):
        again = " (this decision had already been recorded)" if status != "accepted" else ""
        return Said(f"Recorded: {what}{again}.", "ok", 200)
    if status == "requires_approval":
        return Said(
            f"The tenant's policy changed since {what} was requested: the request was renewed "
            "under the policy now in force. Nothing was decided; review it again below.",
            "warn",
            200,
        )
    code = result.reason_code.value if result.reason_code else status
    plain = PLAIN.get(code, result.reason or "The decision was refused.")
    http = _STATUS.get(code, _OUTCOME_STATUS.get(status, 403))
    return Said(f"{plain} [{code}]", "refused", http)
