"""The causation diagram, drawn on the server as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from caseledger.adapters.console.diagram import MAX_NODES, causation_svg
from caseledger.projections.audit.trail import Node, Trail

SVG = "{http://www.w3.org/2000/svg}"


def _trail(nodes: list[Node], roots: list[str]) -> Trail:
    return Trail("case c1", "t1", [], [], {n.id: n for n in nodes}, roots)


def _chain() -> Trail:
    request = Node("cmd:1", "command", "propose_risk_update", actor="agent:risk-bot")
    event = Node("evt:1", "event", "case.risk_update_proposed <b>", parent="cmd:1")
    decision = Node("cmd:2", "command", "decide_proposal", actor="user:rita", binds_to=["evt:1"])
    request.children = ["evt:1"]
    return _trail([request, event, decision], ["cmd:1", "cmd:2"])


def test_each_node_is_a_box_classed_by_its_actor_kind() -> None:
    svg, left_out = causation_svg(_chain(), "Causation of case c1")
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    classes = [g.get("class", "") for g in root.iter(f"{SVG}g")]
    assert any("actor-agent" in c for c in classes)
    assert any("actor-human" in c for c in classes)
    assert len(root.findall(f".//{SVG}rect")) == 3
    assert left_out == 0


def test_causes_are_joined_to_effects_and_decisions_to_what_they_bind() -> None:
    root = ET.fromstring(str(causation_svg(_chain(), "t")[0]))
    paths = [p.get("class") for p in root.iter(f"{SVG}path")]
    assert paths.count("edge") == 1
    assert paths.count("binds") == 1


def test_labels_are_escaped_text() -> None:
    svg = str(causation_svg(_chain(), "<script>x</script>")[0])
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    assert "<script>" not in svg


def test_a_huge_trail_is_cut_and_says_how_much_is_left_out() -> None:
    nodes = [Node(f"n{i}", "event", f"e{i}") for i in range(MAX_NODES + 5)]
    svg, left_out = causation_svg(_trail(nodes, [n.id for n in nodes]), "t")
    assert left_out == 5
    assert str(svg).count("<rect") == MAX_NODES
