"""Generated histories: a seeded random walk of commands through the service, so properties
(e.g. "loading from a snapshot equals loading from the events") are checked over many shapes
of streams, not one hand-written example. Refused commands are part of the walk too."""

from __future__ import annotations

import random
from collections.abc import Callable

from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.actors import Actor
from caseledger.domain.shared.envelopes import CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import AGENT, ANALYST, OTHER_ANALYST, REVIEWER, SUPERVISOR
from tests.support.commands import issue

Step = Callable[[random.Random, "Walk"], tuple[str, dict[str, object], Actor]]


class Walk:
    """What the walk has made so far, for the next step to refer to."""

    def __init__(self, service: CommandService, case_id: str, draft_id: str) -> None:
        self.service, self.case_id, self.draft_id = service, case_id, draft_id
        self.evidence: list[str] = []
        self.requests: list[tuple[str, str]] = []
        """(approval request id, proposal digest) of proposals."""
        self.notice_requests: list[tuple[str, str]] = []
        """(approval request id, digest) of notice approval requests."""
        self.results: list[CommandResult] = []


def _case(walk: Walk, **payload: object) -> dict[str, object]:
    return {"case_id": walk.case_id, **payload}


def _evidence(rng: random.Random, walk: Walk) -> tuple[str, dict[str, object], Actor]:
    evidence_id = f"e{len(walk.evidence)}"
    walk.evidence.append(evidence_id)
    payload = _case(walk, evidence_id=evidence_id, title="Exhibit", text="ledger")
    return "submit_evidence", payload, ANALYST


def _review(rng: random.Random, walk: Walk) -> tuple[str, dict[str, object], Actor]:
    evidence_id = rng.choice(walk.evidence or ["e-none"])
    verdict = rng.choice(["approve", "approve", "reject"])
    return "review_evidence", _case(walk, evidence_id=evidence_id, verdict=verdict), REVIEWER


def _brief(rng: random.Random, walk: Walk) -> tuple[str, dict[str, object], Actor]:
    payload = _case(walk, brief_id=f"b{rng.randrange(10_000)}", title="Brief", body="finding")
    return "create_analyst_brief", payload, rng.choice([ANALYST, AGENT])


def _propose(rng: random.Random, walk: Walk) -> tuple[str, dict[str, object], Actor]:
    refs = rng.sample(walk.evidence, min(len(walk.evidence), 1))
    common = {"rationale": f"r{rng.randrange(99)}", "evidence_refs": refs, "confidence": 0.7}
    if rng.random() < 0.7:
        level = rng.choice(["low", "medium", "high", "critical"])
        return "propose_risk_update", _case(walk, proposed_risk_level=level, **common), AGENT
    return "propose_case_escalation", _case(walk, **common), AGENT


def _decide(rng: random.Random, walk: Walk) -> tuple[str, dict[str, object], Actor]:
    request, digest = rng.choice(walk.requests or [("apr-none", "d")])
    payload = _case(
        walk,
        approval_request_id=request,
        proposal_digest=digest,
        decision=rng.choice(["approve", "decline"]),
    )
    return "decide_proposal", payload, rng.choice([REVIEWER, SUPERVISOR])


def _draft(rng: random.Random, walk: Walk) -> tuple[str, dict[str, object], Actor]:
    if rng.random() < 0.5:
        payload: dict[str, object] = {
            "draft_id": walk.draft_id,
            "case_id": walk.case_id,
            "recipient": "lender@example.org",
            "subject": "Notice",
            "body": "Stop",
        }
        return "create_notice_draft", payload, AGENT
    payload = {"draft_id": walk.draft_id, "subject": "Notice", "body": f"v{rng.randrange(99)}"}
    return "revise_notice_draft", payload, rng.choice([AGENT, OTHER_ANALYST])


def _notice_approval(rng: random.Random, walk: Walk) -> tuple[str, dict[str, object], Actor]:
    if rng.random() < 0.5 or not walk.notice_requests:
        return "request_notice_approval", {"draft_id": walk.draft_id}, AGENT
    request, digest = rng.choice(walk.notice_requests)
    payload = {"draft_id": walk.draft_id, "approval_request_id": request, "digest": digest}
    return "approve_notice_draft", payload, REVIEWER


STEPS: list[Step] = [
    _evidence,
    _review,
    _brief,
    _brief,
    _propose,
    _decide,
    _draft,
    _notice_approval,
]


def random_history(
    service: CommandService, seed: int, steps: int, case_id: str = "c1", draft_id: str = "d1"
) -> Walk:
    """Open and start reviewing `case_id`, then `steps` random commands on it and its notice
    draft `draft_id`; now and then one repeated with its idempotency key (a retry)."""
    rng = random.Random(seed)
    walk = Walk(service, case_id, draft_id)
    opening = _case(walk, allegation_summary="Unlicensed lending")
    walk.results.append(issue(service, "open_case", opening, ANALYST))
    walk.results.append(issue(service, "start_case_review", _case(walk), ANALYST))
    for n in range(steps):
        command_type, payload, actor = rng.choice(STEPS)(rng, walk)
        key = f"{seed}-{n}"
        result = issue(service, command_type, payload, actor, key=key)
        if rng.random() < 0.1:
            issue(service, command_type, payload, actor, key=key)
        walk.results.append(result)
        _remember(walk, result)
    return walk


def _remember(walk: Walk, result: CommandResult) -> None:
    if result.status not in (CommandOutcome.ACCEPTED, CommandOutcome.REQUIRES_APPROVAL):
        return
    for event in result.events:
        payload = event.payload
        if event.event_type in ("case.risk_update_proposed", "case.escalation_proposed"):
            if payload["approval_request_id"]:
                walk.requests.append((payload["approval_request_id"], payload["digest"]))
        elif event.event_type == "notice_draft.approval_requested":
            walk.notice_requests.append((payload["approval_request_id"], payload["digest"]))
