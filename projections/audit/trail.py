"""The trail: a timeline in commit order and a causation tree from the user's request through
the agent run, proposal, policy decision, approval, command and committed event to the side
effect.

Every edge of the tree is recorded causation, never stream order: an event under its command
(`$causationId`); a command under what caused it (`commandCausationId`: an event, an approval
request's policy decision, a tool call of its run, or the integration record that delivered its
cause, such as the SMTP delivery a `record_notice_sent` reports); a command a tool call names
under that call; an agent's command with no recorded cause under its run; side effects under
the event that caused them. A request with no cause is a root; roots are ordered by time (the
position of their first event). A command that names an approval, approval request, send request
or proposal introduced by another command's event is not caused by it: the reference is kept as
a `binds_to` link beside the tree (drawn dotted in Mermaid). A proposal or notice that required
approval gets a policy-decision node (the policy version in force and the approval request)
between it and the approving command.

Actors are named `type:id` everywhere (`user:rita`, `agent:risk-bot`,
`system:notification-worker`); each command node carries its actor's kind (human, agent or
system) so the text and the diagram can show them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from caseledger.projections.audit.records import AuditEvent, SideEffect

REF_FIELDS: Final = ("approval_id", "approval_request_id", "send_request_id", "proposal_id")
OPENS_APPROVAL: Final = frozenset(
    {
        "case.risk_update_proposed",
        "case.escalation_proposed",
        "case.proposal_reevaluated",
        "notice_draft.approval_requested",
        "notice_draft.approval_request_renewed",
    }
)
"""Events that open an approval request under the policy in force: a policy decision."""
EFFECT_ACTORS: Final = {
    "smtp_delivery": "system:notification-worker",
    "integration_publication": "system:outbox-relay",
}
"""The system actor behind each kind of integration record."""
ACTOR_KINDS: Final = {"user": "human", "agent": "agent", "system": "system"}
"""An actor's type as the audit shows it apart: human, agent or system."""


def actor_kind(actor: str | None) -> str:
    """`human`, `agent` or `system` for a `type:id` actor name (`unknown` otherwise)."""
    kind = (actor or "").partition(":")[0]
    return ACTOR_KINDS.get(kind, "unknown")


@dataclass
class Node:
    id: str
    kind: str
    """user_request, agent_run, model_response, tool_call, command, event, policy_decision,
    command_log (a command not accepted: refused, conflict, requires approval), side_effect,
    unreadable_event (an event this code cannot read: listed, never interpreted)."""
    label: str
    detail: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    parent: str | None = None
    actor: str | None = None
    """Who acted (`user:rita`, `agent:risk-bot`, `system:notification-worker`), where one did."""
    position: int | None = None
    """The commit position of the first event behind this node (roots are ordered by it)."""
    binds_to: list[str] = field(default_factory=list)
    """Nodes this command refers to (an approval, a proposal) without being caused by them."""

    @property
    def actor_kind(self) -> str | None:
        """human, agent or system; None for a node no actor stands behind."""
        return actor_kind(self.actor) if self.actor else None


@dataclass
class Trail:
    subject: str
    tenant_id: str
    events: list[AuditEvent]
    side_effects: list[SideEffect]
    nodes: dict[str, Node]
    roots: list[str]
    incomplete: list[str] = field(default_factory=list)
    """Why this trail may lack facts (the index behind, an event unreadable); empty: complete."""
    index_as_of_position: int | None = None
    """The `$all` position the audit index was as of when the trail was gathered."""
    chain_heads: list[dict[str, Any]] = field(default_factory=list)
    """Each stream the trail covers at its head when gathered: `stream`, `revision`,
    `event_id` and the hash chain's `link` there (None: the stream is not chained, or its
    last event was written before chains) — to compare with heads pinned elsewhere."""

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


def build_trail(
    subject: str, tenant_id: str, events: Iterable[AuditEvent], side_effects: Iterable[SideEffect]
) -> Trail:
    ordered = sorted(events, key=lambda e: e.position)
    effects = list(side_effects)
    builder = _Builder()
    for event in ordered:
        builder.add_event(event)
    for effect in effects:
        builder.add_side_effect(effect)
    builder.link_commands(ordered)
    return Trail(subject, tenant_id, ordered, effects, builder.nodes, builder.roots())


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.origin: dict[tuple[str, str], str] = {}
        """(ref field, value) -> the event node that introduced it."""
        self.tool_calls: dict[tuple[str, str], str] = {}
        """(run id, call id) -> node."""
        self.command_of_call: dict[str, str] = {}
        """command id -> the tool call node that issued it."""

    def _add(self, node: Node, parent: str | None = None) -> Node:
        existing = self.nodes.get(node.id)
        if existing is not None:
            return existing
        self.nodes[node.id] = node
        if parent is not None:
            self._link(parent, node.id)
        return node

    def _link(self, parent: str, child: str) -> None:
        node = self.nodes[child]
        if node.parent is not None or parent == child or parent not in self.nodes:
            return
        node.parent = parent
        self.nodes[parent].children.append(child)

    def add_event(self, event: AuditEvent) -> None:
        if event.unreadable is not None:
            self._add(
                Node(
                    f"unreadable:{event.event_id}",
                    "unreadable_event",
                    f"{event.event_type} ({event.stream}@{event.revision}) cannot be read",
                    {"reason": event.unreadable, "position": event.position},
                    position=event.position,
                )
            )
            return
        if event.event_type.startswith("run."):
            self._add_run_event(event)
            return
        if event.refused:
            code = event.payload.get("reason_code")
            self._add(
                Node(
                    f"refused:{event.event_id}",
                    "command_log",
                    f"{event.payload.get('command_type')} answered {event.payload.get('outcome')}"
                    + (f" ({code})" if code else ""),
                    {"actor": event.actor, "reason": event.payload.get("reason")},
                    actor=event.actor,
                    position=event.position,
                )
            )
            return
        command = self._command_node(event)
        node = self._add(
            Node(
                f"event:{event.event_id}",
                "event",
                f"{event.event_type} ({event.stream}@{event.revision})",
                {"payload": event.shown_payload(), "position": event.position},
                position=event.position,
            ),
            command.id,
        )
        for ref in REF_FIELDS:
            value = event.payload.get(ref)
            if isinstance(value, str):
                self.origin.setdefault((ref, value), node.id)
        request_id = event.payload.get("approval_request_id")
        if event.event_type in OPENS_APPROVAL and isinstance(request_id, str):
            version = event.payload.get("policy_version") or event.policy_version
            self._add(
                Node(
                    f"policy:{request_id}",
                    "policy_decision",
                    f"policy {version}: requires approval ({request_id})",
                    {"policy_version": version, "approval_request_id": request_id},
                ),
                node.id,
            )
            self.origin[("approval_request_id", request_id)] = f"policy:{request_id}"

    def _command_node(self, event: AuditEvent) -> Node:
        command_id = event.command_id or f"unknown-{event.event_id}"
        return self._add(
            Node(
                f"command:{command_id}",
                "command",
                f"{event.command_type} by {event.actor} -> {event.outcome}",
                {
                    "command_id": command_id,
                    "command_type": event.command_type,
                    "actor": event.actor,
                    "run_id": event.run_id,
                    "outcome": event.outcome,
                    "policy_version": event.policy_version,
                    "causation_id": event.command_causation_id,
                    "handler": f"{event.metadata.get('aggregateType')}.{event.command_type}",
                },
                actor=event.actor,
                position=event.position,
            )
        )

    def _add_run_event(self, event: AuditEvent) -> None:
        run_id = str(event.payload.get("run_id"))
        run = f"run:{run_id}"
        payload = event.payload
        if event.event_type == "run.started":
            request = self._add(
                Node(
                    f"request:{run_id}",
                    "user_request",
                    f"{payload.get('requested_by')} asked: {payload.get('user_request')}",
                    {
                        "requested_by": payload.get("requested_by"),
                        "case_id": payload.get("case_id"),
                    },
                    actor=str(payload.get("requested_by") or "") or None,
                    position=event.position,
                )
            )
            self._add(
                Node(
                    run,
                    "agent_run",
                    f"agent run {run_id} (agent:{payload.get('agent_name')})",
                    actor=f"agent:{payload.get('agent_name')}",
                    position=event.position,
                ),
                request.id,
            )
        elif event.event_type == "run.model_response_recorded":
            self._add(
                Node(
                    f"response:{run_id}:{payload.get('response_id')}",
                    "model_response",
                    f"model {payload.get('model')} inferred: {payload.get('summary')}",
                    position=event.position,
                ),
                run,
            )
        elif event.event_type == "run.tool_call_recorded":
            response = f"response:{run_id}:{payload.get('response_id')}"
            node = self._add(
                Node(
                    f"call:{run_id}:{payload.get('call_id')}",
                    "tool_call",
                    f"tool {payload.get('tool_name')} -> {payload.get('outcome')}",
                    {"command_id": payload.get("command_id")},
                    position=event.position,
                ),
                response if response in self.nodes else run,
            )
            self.tool_calls[(run_id, str(payload.get("call_id")))] = node.id
            if payload.get("command_id"):
                self.command_of_call[str(payload["command_id"])] = node.id

    def add_side_effect(self, effect: SideEffect) -> None:
        self._add(
            Node(
                f"effect:{effect.kind}:{effect.effect_id}",
                "side_effect",
                f"{effect.kind} {effect.effect_id}: {effect.status} ({effect.attempts} attempts)",
                {"at": effect.at, **effect.detail},
                actor=EFFECT_ACTORS.get(effect.kind),
            ),
            f"event:{effect.caused_by_event_id}",
        )

    def link_commands(self, events: list[AuditEvent]) -> None:
        """Each command under its recorded cause; an agent's without one under its run; any
        other command without a cause stays a root (a request of its own). References to
        another command's facts are kept as `binds_to`, never as parents."""
        for event in events:
            node_id = f"command:{event.command_id}"
            if event.refused or event.event_type.startswith("run.") or node_id not in self.nodes:
                continue
            node = self.nodes[node_id]
            if node.parent is not None:
                continue
            parent = self._cause_of(event)
            if parent is None and event.metadata.get("actorType") == "agent":
                parent = f"run:{event.run_id}" if f"run:{event.run_id}" in self.nodes else None
            own = self._descendants(node_id)
            if parent is not None and parent not in own:
                self._link(parent, node_id)
            for ref in self._references(event):
                if ref not in own and ref not in node.binds_to:
                    node.binds_to.append(ref)
        for event in events:  # a run belongs under nothing else; refusals under their cause
            if event.refused:
                cause = event.metadata.get("$causationId")
                self._link_if(f"command:{cause}", f"refused:{event.event_id}")

    def _link_if(self, parent: str, child: str) -> None:
        if parent in self.nodes and child in self.nodes:
            self._link(parent, child)

    def _cause_of(self, event: AuditEvent) -> str | None:
        cause = event.command_causation_id
        if cause:
            delivered = self._delivery_of(event, cause)
            for candidate in (
                delivered,
                f"event:{cause}",
                f"policy:{cause}",
                self.tool_calls.get((event.run_id or "", cause)),
            ):
                if candidate and candidate in self.nodes:
                    return candidate
        return self.command_of_call.get(event.command_id or "")

    def _delivery_of(self, event: AuditEvent, cause: str) -> str | None:
        """The integration record between `cause` and this command: the SMTP delivery of the
        send request a `notice_draft.sent` reports."""
        message_id = event.payload.get("message_id")
        node = self.nodes.get(f"effect:smtp_delivery:{message_id}")
        if node is not None and node.parent == f"event:{cause}":
            return node.id
        return None

    def _references(self, event: AuditEvent) -> list[str]:
        found = []
        for ref in REF_FIELDS:
            value = event.payload.get(ref)
            origin = self.origin.get((ref, value)) if isinstance(value, str) else None
            if origin is not None and origin not in found:
                found.append(origin)
        return found

    def _descendants(self, node_id: str) -> set[str]:
        found, todo = set(), [node_id]
        while todo:
            for child in self.nodes[todo.pop()].children:
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def roots(self) -> list[str]:
        """Nodes with no recorded cause, ordered by time (first event's position)."""
        roots = [n for n in self.nodes.values() if n.parent is None]
        return [n.id for n in sorted(roots, key=lambda n: _sort_position(n.position))]


def _sort_position(position: int | None) -> int:
    return position if position is not None else 2**63
