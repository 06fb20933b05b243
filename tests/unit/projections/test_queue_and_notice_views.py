"""Given case and notice events, then the pending-approvals queue, notice drafts, evidence and
policy rows."""

from __future__ import annotations

from caseledger.projections.views.evidence_search import EvidenceSearchProjection
from caseledger.projections.views.notice_drafts import NoticeDraftsProjection
from caseledger.projections.views.pending_approvals import PendingApprovalsProjection
from caseledger.projections.views.tenant_policies import TenantPoliciesProjection
from tests.support.facts import (
    approval_requested,
    drafted,
    escalated,
    escalation_proposed,
    evidence_reviewed,
    evidence_submitted,
    given,
    notice_approved,
    notice_revised,
    opened,
    policy_published,
    proposal_declined,
    proposal_reevaluated,
    risk_proposed,
)


def test_a_proposal_awaiting_a_human_is_queued_until_decided() -> None:
    queue = PendingApprovalsProjection()
    waiting = given(queue, [opened("c1"), risk_proposed("c1", "p1", request="apr-1")])
    assert [r.document["approval_request_id"] for r in waiting.values()] == ["apr-1"]

    assert (
        given(queue, [opened("c1"), risk_proposed("c1", "p1"), proposal_declined("c1", "p1")]) == {}
    )
    assert (
        given(queue, [opened("c1"), escalation_proposed("c1", "p2"), escalated("c1", "p2")]) == {}
    )


def test_a_reevaluated_proposal_is_queued_under_its_new_request_and_policy() -> None:
    rows = given(
        PendingApprovalsProjection(),
        [
            opened("c1"),
            risk_proposed("c1", "p1", "apr-1"),
            proposal_reevaluated("c1", "p1", "apr-1", "apr-9"),
        ],
    )

    (row,) = rows.values()
    assert (row.document["approval_request_id"], row.document["policy_version"]) == ("apr-9", "p2")


def test_a_proposal_committed_by_policy_is_never_queued() -> None:
    assert (
        given(PendingApprovalsProjection(), [opened("c1"), risk_proposed("c1", "p1", None)]) == {}
    )


def test_a_notice_approval_request_leaves_the_queue_when_approved_or_revised() -> None:
    queue = PendingApprovalsProjection()
    requested = [drafted("n1", "c1"), approval_requested("n1", "c1")]
    assert [r.columns["kind"] for r in given(queue, requested).values()] == ["notice"]
    assert given(queue, [*requested, notice_approved("n1", "c1")]) == {}
    assert given(queue, [*requested, notice_revised("n1")]) == {}


def test_a_revision_voids_a_notice_approval() -> None:
    drafts = NoticeDraftsProjection()
    approved = [drafted("n1", "c1"), approval_requested("n1", "c1"), notice_approved("n1", "c1")]
    assert given(drafts, approved)["t1_n1"].document["status"] == "approved"

    doc = given(drafts, [*approved, notice_revised("n1")])["t1_n1"].document
    assert (doc["status"], doc["approval_id"], doc["digest"]) == ("drafted", None, "d2")
    assert given(drafts, approved)["t1_n1"].columns == {"case_id": "c1", "status": "approved"}


def test_evidence_rows_carry_their_verdict_for_the_search_index() -> None:
    rows = given(
        EvidenceSearchProjection(),
        [
            opened("c1"),
            evidence_submitted("c1", "e1", "offshore wire"),
            evidence_submitted("c1", "e2", "draft memo"),
            evidence_reviewed("c1", "e1", approve=True),
            evidence_reviewed("c1", "e2", approve=False),
        ],
    )

    assert {k: r.columns["status"] for k, r in rows.items()} == {
        "t1_c1/e1": "approved",
        "t1_c1/e2": "rejected",
    }


def test_the_last_published_policy_is_the_one_in_force() -> None:
    rows = given(
        TenantPoliciesProjection(),
        [
            policy_published("t1", "p1", {}),
            policy_published("t1", "p2", {"min_escalation_evidence": 2}),
        ],
    )

    assert rows["t1"].document["policy_version"] == "p2"
    assert rows["t1"].document["rules"] == {"min_escalation_evidence": 2}
