"""Given case events, then the case summary and agent-context rows."""

from __future__ import annotations

import pytest

from caseledger.projections.projection import MAX_SOURCE_REFS, MissingRow
from caseledger.projections.views.agent_context import RECENT_EVENTS, CaseAgentContextProjection
from caseledger.projections.views.case_summary import CaseSummaryProjection
from tests.support.facts import (
    closed,
    escalated,
    escalation_proposed,
    evidence_reviewed,
    evidence_submitted,
    given,
    opened,
    proposal_declined,
    review_started,
    risk_changed,
    risk_proposed,
)


def test_an_opened_case_is_summarized_with_its_team_and_no_risk() -> None:
    rows = given(CaseSummaryProjection(), [opened("c1", team="fraud")])

    doc = rows["t1_c1"].document
    assert (doc["status"], doc["risk_level"], doc["assigned_team"]) == ("opened", None, "fraud")
    assert rows["t1_c1"].columns == {
        "status": "opened",
        "risk_level": None,
        "assigned_team": "fraud",
    }
    assert doc["version"] == 0


def test_evidence_counts_follow_submissions_and_verdicts() -> None:
    rows = given(
        CaseSummaryProjection(),
        [
            opened("c1"),
            evidence_submitted("c1", "e1", "wire"),
            evidence_submitted("c1", "e2", "memo"),
            evidence_reviewed("c1", "e1", approve=True),
        ],
    )

    doc = rows["t1_c1"].document
    assert (doc["evidence_count"], doc["evidence_approved"], doc["evidence_pending"]) == (2, 1, 1)


def test_a_committed_risk_change_and_escalation_update_the_summary_and_close_proposals() -> None:
    rows = given(
        CaseSummaryProjection(),
        [
            opened("c1"),
            review_started("c1"),
            risk_proposed("c1", "p1"),
            escalation_proposed("c1", "p2"),
            risk_changed("c1", "p1", level="critical"),
        ],
    )
    assert rows["t1_c1"].document["open_proposals"] == 1

    rows = given(
        CaseSummaryProjection(),
        [
            opened("c1"),
            review_started("c1"),
            risk_proposed("c1", "p1"),
            escalation_proposed("c1", "p2"),
            risk_changed("c1", "p1", level="critical"),
            escalated("c1", "p2"),
        ],
    )
    doc = rows["t1_c1"].document
    assert (doc["risk_level"], doc["status"], doc["open_proposals"]) == ("critical", "escalated", 0)
    assert rows["t1_c1"].columns["status"] == "escalated"


def test_a_proposal_committed_by_a_policy_rule_is_never_open() -> None:
    rows = given(CaseSummaryProjection(), [opened("c1"), risk_proposed("c1", "p1", request=None)])

    assert rows["t1_c1"].document["open_proposals"] == 0


def test_every_row_carries_its_source_refs_version_and_position_bounded() -> None:
    facts = [opened("c1")] + [evidence_submitted("c1", f"e{i}", "x") for i in range(30)]
    row = given(CaseSummaryProjection(), facts)["t1_c1"]

    refs = row.document["source_refs"]
    assert len(refs) == MAX_SOURCE_REFS
    assert refs[0].startswith("case-t1_c1@0#")
    assert refs[-1].startswith("case-t1_c1@30#")
    assert row.document["version"] == 30
    assert row.document["as_of_position"] == row.position


def test_an_event_for_a_case_the_view_never_saw_opened_is_refused() -> None:
    with pytest.raises(MissingRow):
        given(CaseSummaryProjection(), [review_started("ghost")])


def test_agent_context_lists_evidence_verdicts_open_proposals_and_recent_events() -> None:
    facts = [
        opened("c1"),
        review_started("c1"),
        evidence_submitted("c1", "e1", "wire"),
        evidence_submitted("c1", "e2", "memo"),
        evidence_reviewed("c1", "e1", approve=True),
        evidence_reviewed("c1", "e2", approve=False),
        risk_proposed("c1", "p1"),
        escalation_proposed("c1", "p2"),
        proposal_declined("c1", "p1"),
        evidence_submitted("c1", "e3", "note"),
        evidence_submitted("c1", "e4", "note"),
    ]
    doc = given(CaseAgentContextProjection(), facts)["t1_c1"].document

    assert {k: v["status"] for k, v in doc["evidence"].items()} == {
        "e1": "approved",
        "e2": "rejected",
        "e3": "submitted",
        "e4": "submitted",
    }
    assert list(doc["open_proposals"]) == ["p2"]
    assert doc["open_proposals"]["p2"]["kind"] == "escalation"
    assert len(doc["recent_events"]) == RECENT_EVENTS
    assert doc["recent_events"][0]["ref"].startswith("case-t1_c1@1#")
    assert doc["recent_events"][-1]["type"] == "case.evidence_submitted"


def test_agent_context_of_a_closed_case_says_closed() -> None:
    doc = given(CaseAgentContextProjection(), [opened("c1"), review_started("c1"), closed("c1")])[
        "t1_c1"
    ].document

    assert doc["status"] == "closed"
