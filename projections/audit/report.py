"""The trail as a document: timeline, causation tree, the answers to seed §22's questions, and a
Mermaid flowchart an auditor can open."""

from __future__ import annotations

from typing import Any, Final

from caseledger.projections.audit.records import AuditEvent
from caseledger.projections.audit.trail import Node, Trail

PROPOSALS: Final = ("case.risk_update_proposed", "case.escalation_proposed")
DECISIONS: Final = (
    "case.risk_level_changed",
    "case.escalated",
    "case.proposal_declined",
    "notice_draft.approved",
    "notice_draft.rejected",
)
QUESTIONS: Final = (
    "what_did_the_user_ask",
    "what_did_the_agent_infer",
    "what_command_did_it_propose",
    "which_policy_applied",
    "who_approved",
    "which_command_handler_committed",
    "which_event_was_emitted",
    "which_external_side_effect_occurred",
)


def answers(trail: Trail) -> dict[str, list[dict[str, Any]]]:
    """Seed §22, one list of facts per question (empty: the trail holds no such fact)."""
    events = [e for e in trail.events if not e.refused and e.unreadable is None]
    committed = [e for e in events if not e.event_type.startswith("run.")]
    return {
        "what_did_the_user_ask": [
            {
                "run_id": e.payload.get("run_id"),
                "requested_by": e.payload.get("requested_by"),
                "user_request": e.payload.get("user_request"),
                "agent": e.payload.get("agent_name"),
            }
            for e in events
            if e.event_type == "run.started"
        ],
        "what_did_the_agent_infer": [
            {
                "run_id": e.payload.get("run_id"),
                "response_id": e.payload.get("response_id"),
                "model": e.payload.get("model"),
                "summary": e.payload.get("summary"),
            }
            for e in events
            if e.event_type == "run.model_response_recorded"
        ],
        "what_command_did_it_propose": [_proposal(e) for e in events if _proposed_by_agent(e)],
        "which_policy_applied": _policies(committed),
        "who_approved": [_decision(e) for e in committed if e.event_type in DECISIONS],
        "which_command_handler_committed": _commands(committed),
        "which_event_was_emitted": [
            {
                "event_id": e.event_id,
                "event_type": e.event_type,
                "stream": e.stream,
                "revision": e.revision,
                "position": e.position,
            }
            for e in committed
        ],
        "which_external_side_effect_occurred": [
            {
                "kind": s.kind,
                "id": s.effect_id,
                "caused_by_event_id": s.caused_by_event_id,
                "status": s.status,
                "attempts": s.attempts,
                "at": s.at,
                **s.detail,
            }
            for s in trail.side_effects
        ]
        + [
            {
                "kind": "notice_sent_committed",
                "id": e.payload.get("message_id"),
                "caused_by_event_id": e.event_id,
                "status": "committed",
                "draft_id": e.payload.get("draft_id"),
            }
            for e in committed
            if e.event_type == "notice_draft.sent"
        ],
    }


def _proposed_by_agent(event: AuditEvent) -> bool:
    if event.event_type in PROPOSALS:
        return True
    return event.metadata.get("actorType") == "agent" and not event.event_type.startswith("run.")


def _proposal(e: AuditEvent) -> dict[str, Any]:
    keys = ("proposal_id", "proposed_risk_level", "proposed_status", "rationale")
    return {
        "command_id": e.command_id,
        "command_type": e.command_type,
        "event_type": e.event_type,
        "agent": e.actor,
        "run_id": e.run_id,
        "outcome": e.outcome,
        **{k: e.payload[k] for k in keys if k in e.payload},
        **{k: e.payload[k] for k in ("evidence_refs", "confidence") if k in e.payload},
    }


def _policies(events: list[AuditEvent]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.command_id and e.command_id not in seen:
            seen[e.command_id] = {
                "command_id": e.command_id,
                "command_type": e.command_type,
                "policy_version": e.policy_version,
                "outcome": e.outcome,
                "approval_request_id": e.payload.get("approval_request_id"),
            }
    return list(seen.values())


def _decision(e: AuditEvent) -> dict[str, Any]:
    p = e.payload
    return {
        "event_type": e.event_type,
        "decided_by": _decider(p),
        "actor": e.actor,
        "approval_request_id": p.get("approval_request_id"),
        "approval_id": p.get("approval_id") or p.get("decision_id"),
        "digest": p.get("digest"),
        "policy_version": p.get("policy_version") or e.policy_version,
    }


def _decider(p: dict[str, Any]) -> str | None:
    """Who decided, named `type:id` as every actor is in the audit."""
    for kind, who in (
        ("approved_by_actor_type", "approved_by_actor_id"),
        ("declined_by_type", "declined_by_id"),
    ):
        if p.get(who):
            return f"{p.get(kind) or '?'}:{p[who]}"
    named = p.get("approved_by") or p.get("rejected_by")
    return str(named) if named else None


def _commands(events: list[AuditEvent]) -> list[dict[str, Any]]:
    commands: dict[str, dict[str, Any]] = {}
    for e in events:
        entry = commands.setdefault(
            e.command_id or e.event_id,
            {
                "command_id": e.command_id,
                "command_type": e.command_type,
                "handler": f"{e.metadata.get('aggregateType')}.{e.command_type}",
                "actor": e.actor,
                "outcome": e.outcome,
                "caused_by": e.command_causation_id,
                "events": [],
            },
        )
        entry["events"].append(e.event_type)
    return list(commands.values())


def timeline(trail: Trail) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "position": e.position,
            "at": e.occurred_at,
            "kind": "unreadable" if e.unreadable else "refused" if e.refused else "event",
            "event_type": e.event_type,
            "event_id": e.event_id,
            "stream": e.stream,
            "revision": e.revision,
            "actor": e.actor,
            "command_id": e.command_id,
            "command_type": e.command_type,
            "correlation_id": e.correlation_id,
            "policy_version": e.policy_version,
            "payload": e.shown_payload(),
        }
        for e in trail.events
    ]
    rows += [
        {
            "position": None,
            "at": s.at,
            "kind": "side_effect",
            "event_type": s.kind,
            "event_id": s.effect_id,
            "caused_by_event_id": s.caused_by_event_id,
            "status": s.status,
            "attempts": s.attempts,
        }
        for s in sorted(trail.side_effects, key=lambda s: s.at or "")
    ]
    return rows


def tree(trail: Trail) -> list[dict[str, Any]]:
    def doc(node: Node) -> dict[str, Any]:
        return {
            "id": node.id,
            "kind": node.kind,
            "label": node.label,
            "actor": node.actor,
            "actor_kind": node.actor_kind,
            "detail": node.detail,
            "binds_to": node.binds_to,
            "children": [doc(trail.nodes[c]) for c in node.children],
        }

    return [doc(trail.nodes[r]) for r in trail.roots]


def document(trail: Trail) -> dict[str, Any]:
    """The whole trail as JSON-ready data (the CLI's `--json`, the HTTP API's body)."""
    return {
        "subject": trail.subject,
        "tenant_id": trail.tenant_id,
        "complete": not trail.incomplete,
        "incomplete_because": trail.incomplete,
        "index_as_of_position": trail.index_as_of_position,
        "chain_heads": trail.chain_heads,
        "answers": answers(trail),
        "causation_tree": tree(trail),
        "timeline": timeline(trail),
        "unreadable": unreadable(trail),
        "mermaid": mermaid(trail),
    }


def unreadable(trail: Trail) -> list[dict[str, Any]]:
    """The trail's events this code cannot read, each with why."""
    return [
        {
            "stream": e.stream,
            "revision": e.revision,
            "event_id": e.event_id,
            "event_type": e.event_type,
            "reason": e.unreadable,
        }
        for e in trail.events
        if e.unreadable is not None
    ]


_SHAPES: Final = {
    "user_request": ('(["', '"])'),
    "agent_run": ('[["', '"]]'),
    "policy_decision": ('{{"', '"}}'),
    "side_effect": ('[/"', '"/]'),
    "command_log": ('>"', '"]'),
}


def mermaid(trail: Trail) -> str:
    """A `flowchart TD` with the causation tree's edges: one node per step, solid arrows from
    cause to effect (roots first, in time order), dotted `binds to` arrows from a command to the
    approval or proposal it refers to, and human, agent and system actors in their own class."""
    order = _tree_order(trail)
    ids = {node_id: f"n{i}" for i, node_id in enumerate(order)}
    lines = ["flowchart TD", *_ACTOR_CLASSES]
    for node_id in order:
        node = trail.nodes[node_id]
        left, right = _SHAPES.get(node.kind, ('["', '"]'))
        who = f" [{node.actor_kind} {node.actor}]" if node.actor else ""
        label = _escape(f"{node.kind}: {node.label}{who}")
        lines.append(f"    {ids[node_id]}{left}{label}{right}")
        if node.actor_kind in _KINDS:
            lines.append(f"    class {ids[node_id]} {node.actor_kind}")
    for node_id in order:
        node = trail.nodes[node_id]
        lines.extend(f"    {ids[node_id]} --> {ids[child]}" for child in node.children)
        lines.extend(
            f"    {ids[node_id]} -.->|binds to| {ids[ref]}" for ref in node.binds_to if ref in ids
        )
    return "\n".join(lines) + "\n"


_KINDS: Final = ("human", "agent", "system")
_ACTOR_CLASSES: Final = (
    "    classDef human fill:#dbeafe,stroke:#1d4ed8",
    "    classDef agent fill:#fef3c7,stroke:#b45309,stroke-dasharray:4 2",
    "    classDef system fill:#e5e7eb,stroke:#374151",
)


def _tree_order(trail: Trail) -> list[str]:
    """Every node, depth first from the roots in time order."""
    order: list[str] = []
    todo = list(reversed(trail.roots))
    while todo:
        node_id = todo.pop()
        order.append(node_id)
        todo.extend(reversed(trail.nodes[node_id].children))
    return order


def _escape(text: str) -> str:
    short = text if len(text) <= 120 else text[:117] + "..."
    return short.replace('"', "#quot;").replace("\n", " ")
