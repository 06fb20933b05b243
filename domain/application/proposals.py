"""From an agent's `CommandProposal` (seed §15) to the command that records it. The agent's
rationale, evidence refs and confidence travel into `propose_*` payloads; the proposal id is the
idempotency key, so an agent retrying the same proposal records it once."""

from __future__ import annotations

from typing import Final

from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandProposal

PROPOSING: Final = frozenset({"propose_risk_update", "propose_case_escalation"})


def command_for(
    proposal: CommandProposal,
    tenant_id: str,
    correlation_id: str,
    thread_id: str | None = None,
) -> CommandEnvelope:
    """The agent's command; authorization and policy still decide what becomes of it."""
    payload = dict(proposal.payload)
    if proposal.proposed_command_type in PROPOSING:
        payload |= {
            "rationale": proposal.rationale,
            "evidence_refs": list(proposal.evidence_refs),
            "confidence": proposal.confidence,
        }
    return CommandEnvelope(
        command_id=f"cmd-{proposal.proposal_id}",
        command_type=proposal.proposed_command_type,
        tenant_id=tenant_id,
        requested_by_actor_type=ActorType.AGENT,
        requested_by_actor_id=proposal.agent_name,
        run_id=proposal.run_id,
        thread_id=thread_id,
        correlation_id=correlation_id,
        idempotency_key=proposal.proposal_id,
        payload_schema=f"{proposal.proposed_command_type}.v1",
        payload=payload,
    )
