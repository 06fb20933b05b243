"""The trail: a timeline in commit order and a causation tree from the user's request through
the agent run, proposal, policy decision, approval, command and committed event to the side
effect.

Links, strongest first: a command caused by an event, an approval request or a tool call
(`commandCausationId`); a tool call naming the command it became; an event's command
(`$causationId`); a command whose events name an approval, approval request, send request or
proposal first introduced by another command's event; side effects by the event that caused
them. A proposal or notice that required approval gets a policy-decision node (the policy
version in force and the approval request) between it and the approving command.
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


@dataclass
class Trail:
    subject: str
    tenant_id: str
    events: list[AuditEvent]
    side_effects: list[SideEffect]
    nodes: dict[str, Node]
    roots: list[str]

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
                )
            )
            self._add(
                Node(run, "agent_run", f"agent run {run_id} ({payload.get('agent_name')})"),
                request.id,
            )
        elif event.event_type == "run.model_response_recorded":
            self._add(
                Node(
                    f"response:{run_id}:{payload.get('response_id')}",
                    "model_response",
                    f"model {payload.get('model')} inferred: {payload.get('summary')}",
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
            ),
            f"event:{effect.caused_by_event_id}",
        )

    def link_commands(self, events: list[AuditEvent]) -> None:
        """Each command under its cause; without one, an agent's under its run and anyone
        else's under the last fact of its stream before it (the state it acted on)."""
        previous: dict[str, str] = {}
        for event in events:
            node_id = f"command:{event.command_id}"
            if event.refused or event.event_type.startswith("run."):
                continue
            if node_id in self.nodes and self.nodes[node_id].parent is None:
                parent = self._cause_of(event, node_id)
                if parent is None and event.metadata.get("actorType") == "agent":
                    parent = f"run:{event.run_id}" if f"run:{event.run_id}" in self.nodes else None
                if parent is None:
                    parent = previous.get(event.stream)
                if parent is not None and parent not in self._descendants(node_id):
                    self._link(parent, node_id)
            if self.nodes.get(node_id) is not None:
                previous[event.stream] = f"event:{event.event_id}"
        for event in events:  # a run belongs under nothing else; refusals under their cause
            if event.refused:
                cause = event.metadata.get("$causationId")
                self._link_if(f"command:{cause}", f"refused:{event.event_id}")

    def _link_if(self, parent: str, child: str) -> None:
        if parent in self.nodes and child in self.nodes:
            self._link(parent, child)

    def _cause_of(self, event: AuditEvent, command_node: str) -> str | None:
        cause = event.command_causation_id
        if cause:
            for candidate in (
                f"event:{cause}",
                f"policy:{cause}",
                self.tool_calls.get((event.run_id or "", cause)),
            ):
                if candidate and candidate in self.nodes:
                    return candidate
        call = self.command_of_call.get(event.command_id or "")
        if call is not None:
            return call
        own = self._descendants(command_node)
        for ref in REF_FIELDS:
            value = event.payload.get(ref)
            origin = self.origin.get((ref, value)) if isinstance(value, str) else None
            if origin is not None and origin not in own:
                return origin
        return None

    def _descendants(self, node_id: str) -> set[str]:
        found, todo = set(), [node_id]
        while todo:
            for child in self.nodes[todo.pop()].children:
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def roots(self) -> list[str]:
        return [n.id for n in self.nodes.values() if n.parent is None]
