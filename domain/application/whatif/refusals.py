"""Refused commands, re-checked from the command log. A record keeps who asked what and which
rule refused it, never the payload, so a refusal is re-checked against the rule that refused it
only: the draft still refuses it (nothing to list), lets it past that rule (listed; what the
rest of the decision would have been is unknown), or may let it past (undetermined: the record
lacks the value the rule weighed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from caseledger.domain.application import layers
from caseledger.domain.application.commandlog import CommandNotAccepted
from caseledger.domain.application.routes import ROUTES
from caseledger.domain.application.whatif.past import Who
from caseledger.domain.application.whatif.rules import value_of
from caseledger.domain.shared.actors import Role
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.guards import require_approver
from caseledger.domain.shared.policy_rules import PolicyRules
from caseledger.domain.shared.reasons import ReasonCode

PAST_THE_RULE: Final = "unknown"
"""The draft outcome of a refusal the draft lets past its rule: the rest is not recorded."""


@dataclass(frozen=True)
class Recheck:
    """What the draft does to one refusal: `passes` True (listed under `rules`), None (may
    pass: `why` it cannot be told), False (still refused)."""

    passes: bool | None
    rules: tuple[str, ...] = ()
    why: str = ""


STILL_REFUSED: Final = Recheck(False)


def _agent_gate(
    record: CommandNotAccepted, who: Who, then: PolicyRules, draft: PolicyRules
) -> Recheck:
    route = ROUTES.get(record.command_type)
    if route is None or then.agent_commands == draft.agent_commands:
        return STILL_REFUSED
    try:
        layers.policy_gate(route, who.actor, draft)
    except layers.Refused:
        return STILL_REFUSED
    return Recheck(True, ("agent_commands",))


APPROVER_RULES: Final = {
    "decide_proposal": ("risk_update.approver_roles", "escalation.approver_roles"),
    "approve_notice_draft": ("notice_approver_roles",),
    "reject_notice_draft": ("notice_approver_roles",),
}
"""The approver-role rules a refused decision may have been refused by (a refused
`decide_proposal` does not record which kind of proposal it decided)."""


def _approver(
    record: CommandNotAccepted, who: Who, then: PolicyRules, draft: PolicyRules
) -> Recheck:
    candidates = APPROVER_RULES.get(record.command_type, ())
    changed = tuple(p for p in candidates if value_of(then, p) != value_of(draft, p))
    if not changed:
        return STILL_REFUSED
    if not who.roles_recorded:
        return Recheck(None, changed, "the refusal predates recorded roles")
    passing = [_approves(who, value_of(draft, p)) for p in candidates]
    if all(passing):
        return Recheck(True, changed)
    if any(passing):
        return Recheck(None, changed, "the command log does not record which kind of proposal")
    return STILL_REFUSED


def _approves(who: Who, roles: frozenset[Role]) -> bool:
    try:
        require_approver(who.actor, roles, "it")
    except Rejected:
        return False
    return True


def _minimum(
    path: str, what: str
) -> Callable[[CommandNotAccepted, Who, PolicyRules, PolicyRules], Recheck]:
    def recheck(
        record: CommandNotAccepted, who: Who, then: PolicyRules, draft: PolicyRules
    ) -> Recheck:
        if value_of(draft, path) >= value_of(then, path):
            return STILL_REFUSED
        return Recheck(None, (path,), f"the command log does not record the {what}")

    return recheck


RECHECKS: Final[
    Mapping[str, Callable[[CommandNotAccepted, Who, PolicyRules, PolicyRules], Recheck]]
] = {
    ReasonCode.POLICY_FORBIDS_AGENT.value: _agent_gate,
    ReasonCode.APPROVER_ROLE_REQUIRED.value: _approver,
    ReasonCode.CONFIDENCE_TOO_LOW.value: _minimum("min_proposal_confidence", "confidence"),
    ReasonCode.EVIDENCE_REQUIRED.value: _minimum("min_escalation_evidence", "evidence refs"),
}
"""Policy reasons a refusal can carry -> how the draft is checked against it."""


def recheck(record: CommandNotAccepted, who: Who, then: PolicyRules, draft: PolicyRules) -> Recheck:
    rule = RECHECKS.get(record.reason_code or "")
    return rule(record, who, then, draft) if rule else STILL_REFUSED
