"""The causation graph of an audit trail as an SVG drawn on the server: no script, no renderer
to ship, the same picture with JavaScript off, and testable without a browser.

Layout: the tree as an outline, one box per node in depth-first order from the roots (in time
order), indented by depth, an elbow line from each cause to its effects; a command's `binds to`
references (the approval or proposal it decides) are dashed arcs on the right. Boxes are
classed by actor kind (`human`, `agent`, `system`; the stylesheet draws them apart by outline
and fill, and each box names its kind in words) and by node kind. Every text is escaped; long
labels are cut, the full label is the box's `<title>` (a tooltip, and what screen readers
read).
"""

from __future__ import annotations

from typing import Final

from markupsafe import Markup, escape

from caseledger.projections.audit.trail import Trail

ROW: Final = 52
BOX_HEIGHT: Final = 42
INDENT: Final = 22
WIDTH: Final = 760
ARC_ROOM: Final = 70
MAX_NODES: Final = 400
LABEL_CHARS: Final = 88
KIND_WORDS: Final = {"human": "human", "agent": "agent", "system": "system"}


def causation_svg(trail: Trail, title: str) -> tuple[Markup, int]:
    """The diagram, and how many nodes it leaves out (beyond `MAX_NODES`; 0 when none)."""
    order = _depth_first(trail)
    shown, left_out = order[:MAX_NODES], max(0, len(order) - MAX_NODES)
    row_of = {node_id: i for i, (node_id, _) in enumerate(shown)}
    depth_of = dict(shown)
    height = max(1, len(shown)) * ROW + 12
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="causation" role="img" '
        f'viewBox="0 0 {WIDTH + ARC_ROOM} {height}" width="{WIDTH + ARC_ROOM}" '
        f'height="{height}" aria-labelledby="diagram-title diagram-desc">',
        f'<title id="diagram-title">{escape(title)}</title>',
        f'<desc id="diagram-desc">{len(order)} steps from request to side effect; each arrow '
        "goes from a cause to its effect. The timeline below lists the same facts as text."
        "</desc>",
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/>'
        "</marker></defs>",
    ]
    for node_id, depth in shown:
        node = trail.nodes[node_id]
        if node.parent in row_of:
            parts.append(_elbow(row_of[node.parent], depth_of[node.parent], row_of[node_id], depth))
    for node_id, _depth in shown:
        for ref in trail.nodes[node_id].binds_to:
            if ref in row_of:
                parts.append(_arc(row_of[node_id], row_of[ref]))
    for node_id, depth in shown:
        parts.append(_box(trail, node_id, row_of[node_id], depth))
    parts.append("</svg>")
    return Markup("".join(parts)), left_out


def _depth_first(trail: Trail) -> list[tuple[str, int]]:
    order: list[tuple[str, int]] = []
    todo = [(root, 0) for root in reversed(trail.roots)]
    seen: set[str] = set()
    while todo:
        node_id, depth = todo.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        order.append((node_id, depth))
        todo.extend((child, depth + 1) for child in reversed(trail.nodes[node_id].children))
    return order


def _x(depth: int) -> int:
    return 8 + min(depth, 12) * INDENT


def _y(row: int) -> int:
    return 6 + row * ROW


def _box(trail: Trail, node_id: str, row: int, depth: int) -> str:
    node = trail.nodes[node_id]
    x, y = _x(depth), _y(row)
    kind = node.actor_kind if node.actor_kind in KIND_WORDS else "none"
    who = f"{KIND_WORDS[kind]} {node.actor}" if kind != "none" and node.actor else ""
    head = f"{node.kind.replace('_', ' ')}" + (f" · {who}" if who else "")
    label = node.label if len(node.label) <= LABEL_CHARS else node.label[: LABEL_CHARS - 1] + "…"
    full = f"{node.kind}: {node.label}" + (f" ({who})" if who else "")
    return (
        f'<g class="node actor-{kind} kind-{escape(node.kind)}" data-node="{escape(node_id)}">'
        f"<title>{escape(full)}</title>"
        f'<rect x="{x}" y="{y}" width="{WIDTH - x - 8}" height="{BOX_HEIGHT}" rx="6"/>'
        f'<text x="{x + 10}" y="{y + 16}" class="head">{escape(head)}</text>'
        f'<text x="{x + 10}" y="{y + 33}" class="label">{escape(label)}</text>'
        "</g>"
    )


def _elbow(parent_row: int, parent_depth: int, row: int, depth: int) -> str:
    x0 = _x(parent_depth) + 10
    y0 = _y(parent_row) + BOX_HEIGHT
    y1 = _y(row) + BOX_HEIGHT // 2
    x1 = _x(depth)
    return f'<path class="edge" d="M{x0},{y0} V{y1} H{x1}" marker-end="url(#arrow)"/>'


def _arc(row: int, target_row: int) -> str:
    x = WIDTH - 8
    y0, y1 = _y(row) + BOX_HEIGHT // 2, _y(target_row) + BOX_HEIGHT // 2
    bulge = x + min(ARC_ROOM - 6, 16 + abs(row - target_row) * 4)
    return (
        f'<path class="binds" d="M{x},{y0} C{bulge},{y0} {bulge},{y1} {x},{y1}">'
        "<title>binds to (decides what it points at; not caused by it)</title></path>"
    )
