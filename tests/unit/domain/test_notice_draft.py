"""NoticeDraft rules: content versions with digests, approval bound to a digest, four eyes,
revisions void approvals, only approved content is sent."""

from __future__ import annotations

from caseledger.domain.notice_draft import decider
from caseledger.domain.notice_draft.commands import (
    ApproveNoticeDraft,
    CreateNoticeDraft,
    RecordNoticeSent,
    RejectNoticeDraft,
    RequestNoticeApproval,
    ReviseNoticeDraft,
    SendApprovedNotice,
    WithdrawNoticeDraft,
)
from caseledger.domain.notice_draft.events import (
    NoticeApprovalRequested,
    NoticeApprovalRequestRenewed,
    NoticeDraftApproved,
    NoticeDrafted,
    NoticeDraftRejected,
    NoticeDraftRevised,
    NoticeDraftWithdrawn,
    NoticeSendRequested,
    NoticeSent,
)
from caseledger.domain.notice_draft.state import NoticeStatus, content_digest
from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.policy_rules import PolicyRules
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import AGENT, REVIEWER, SUPERVISOR, SYSTEM
from tests.support.builders import TENANT, active_case, command, meta
from tests.support.deciders import DeciderSpec

NOTICE = DeciderSpec(decider.initial_state, decider.evolve, decider.decide)
CREATE = CreateNoticeDraft(
    draft_id="n1", case_id="c1", recipient="lender@example.com", subject="Notice", body="Stop."
)
DIGEST_V1 = content_digest("lender@example.com", "Notice", "Stop.")


def drafted() -> NoticeDrafted:
    [event] = NOTICE.given().when(command(CREATE, meta(AGENT, case=active_case()))).events()
    assert isinstance(event, NoticeDrafted)
    return event


def requested(*history: DomainEvent, seed: str = "r1") -> NoticeApprovalRequested:
    [event] = (
        NOTICE.given(*history)
        .when(command(RequestNoticeApproval(draft_id="n1"), meta(AGENT, seed=seed)))
        .events()
    )
    assert isinstance(event, NoticeApprovalRequested)
    return event


def approve(request: NoticeApprovalRequested, digest: str | None = None) -> ApproveNoticeDraft:
    return ApproveNoticeDraft(
        draft_id="n1",
        approval_request_id=request.approval_request_id,
        digest=digest or request.digest,
    )


def approved_history() -> list[DomainEvent]:
    request = requested(drafted())
    [approval] = (
        NOTICE.given(drafted(), request)
        .when(command(approve(request), meta(REVIEWER, seed="a1", case=active_case())))
        .events()
    )
    return [drafted(), request, approval]


def test_an_agent_drafts_a_notice_for_an_active_case_with_a_digest() -> None:
    event = drafted()
    assert event == NoticeDrafted(
        draft_id="n1",
        tenant_id=TENANT,
        case_id="c1",
        recipient="lender@example.com",
        subject="Notice",
        body="Stop.",
        content_version=1,
        digest=DIGEST_V1,
        drafted_by_type="agent",
        drafted_by_id="risk-bot",
        run_id="run-1",
    )
    state = NOTICE.given(event).state
    assert state.status is NoticeStatus.DRAFTED
    assert state.authors == {"agent:risk-bot"}


def test_a_notice_needs_its_case_to_exist_in_this_tenant_and_be_active() -> None:
    given = NOTICE.given()
    given.when(command(CREATE, meta(AGENT))).then_rejected(ReasonCode.NOT_FOUND)
    given.when(command(CREATE, meta(AGENT, case=active_case(tenant_id="t2")))).then_rejected(
        ReasonCode.NOT_FOUND
    )
    given.when(command(CREATE, meta(AGENT, case=active_case(status="closed")))).then_rejected(
        ReasonCode.CASE_NOT_ACTIVE
    )
    NOTICE.given(drafted()).when(command(CREATE, meta(AGENT, case=active_case()))).then_rejected(
        ReasonCode.ALREADY_EXISTS
    )


def test_an_approval_request_names_the_digest_and_policy_version() -> None:
    request = requested(drafted())
    assert (request.digest, request.content_version, request.policy_version) == (
        DIGEST_V1,
        1,
        "default",
    )
    NOTICE.given(drafted(), request).when(
        command(RequestNoticeApproval(draft_id="n1"), meta(AGENT))
    ).then_rejected(ReasonCode.INVALID_TRANSITION)


def test_a_reviewer_approves_the_exact_digest_requested() -> None:
    request = requested(drafted())
    reviewer_meta = meta(REVIEWER, seed="a1", case=active_case())
    state = (
        NOTICE.given(drafted(), request)
        .when(command(approve(request), reviewer_meta))
        .then(
            NoticeDraftApproved(
                draft_id="n1",
                case_id="c1",
                approval_id=reviewer_meta.new_id("apv"),
                approval_request_id=request.approval_request_id,
                digest=DIGEST_V1,
                content_version=1,
                approved_by="user:rita",
                comment=None,
                policy_version="default",
            )
        )
    )
    assert state.status is NoticeStatus.APPROVED


def test_approving_another_digest_is_rejected() -> None:
    request = requested(drafted())
    NOTICE.given(drafted(), request).when(
        command(approve(request, digest="f" * 64), meta(REVIEWER, case=active_case()))
    ).then_rejected(ReasonCode.DIGEST_MISMATCH)


def test_the_drafter_cannot_approve_their_own_notice() -> None:
    both = Actor(ActorType.USER, "bea", frozenset({Role.ANALYST, Role.REVIEWER}))
    event = NOTICE.given().when(command(CREATE, meta(both, case=active_case()))).events()[0]
    request = requested(event)
    NOTICE.given(event, request).when(
        command(approve(request), meta(both, case=active_case()))
    ).then_rejected(ReasonCode.FOUR_EYES)


def test_a_reviser_cannot_approve_either() -> None:
    revise = ReviseNoticeDraft(draft_id="n1", subject="Notice", body="Stop now.")
    [revised] = NOTICE.given(drafted()).when(command(revise, meta(REVIEWER))).events()
    request = requested(drafted(), revised)
    NOTICE.given(drafted(), revised, request).when(
        command(approve(request), meta(REVIEWER, case=active_case()))
    ).then_rejected(ReasonCode.FOUR_EYES)


def test_the_policy_names_who_approves_notices() -> None:
    request = requested(drafted())
    only_supervisors = PolicyRules(notice_approver_roles=frozenset({Role.SUPERVISOR}))
    NOTICE.given(drafted(), request).when(
        command(approve(request), meta(REVIEWER, policy=only_supervisors, case=active_case()))
    ).then_rejected(ReasonCode.APPROVER_ROLE_REQUIRED)


def test_a_policy_change_since_the_request_renews_it_instead_of_approving() -> None:
    request = requested(drafted())
    v2 = meta(SUPERVISOR, seed="a1", policy_version="v2", case=active_case())
    [renewed] = NOTICE.given(drafted(), request).when(command(approve(request), v2)).events()
    assert renewed == NoticeApprovalRequestRenewed(
        draft_id="n1",
        previous_approval_request_id=request.approval_request_id,
        approval_request_id=v2.new_id("apr"),
        previous_policy_version="default",
        policy_version="v2",
    )
    NOTICE.given(drafted(), request, renewed).when(
        command(approve(request), meta(SUPERVISOR, policy_version="v2", case=active_case()))
    ).then_rejected(ReasonCode.APPROVAL_REQUEST_NOT_OPEN)


def test_a_revision_after_approval_voids_it() -> None:
    history = approved_history()
    approval = history[-1]
    assert isinstance(approval, NoticeDraftApproved)
    revise = ReviseNoticeDraft(draft_id="n1", subject="Notice", body="Stop, please.")
    state = (
        NOTICE.given(*history)
        .when(command(revise, meta(AGENT)))
        .then(
            NoticeDraftRevised(
                draft_id="n1",
                content_version=2,
                subject="Notice",
                body="Stop, please.",
                digest=content_digest("lender@example.com", "Notice", "Stop, please."),
                revised_by_type="agent",
                revised_by_id="risk-bot",
                voided_approval_request_id=None,
                voided_approval_id=approval.approval_id,
            )
        )
    )
    assert state.status is NoticeStatus.DRAFTED
    assert state.approval is None
    NOTICE.given(
        *history, *NOTICE.given(*history).when(command(revise, meta(AGENT))).events()
    ).when(
        command(SendApprovedNotice(draft_id="n1"), meta(SUPERVISOR, case=active_case()))
    ).then_rejected(ReasonCode.INVALID_TRANSITION)


def test_a_revision_voids_a_pending_request() -> None:
    request = requested(drafted())
    revise = ReviseNoticeDraft(draft_id="n1", subject="Notice", body="Stop, please.")
    [revised] = NOTICE.given(drafted(), request).when(command(revise, meta(AGENT))).events()
    assert isinstance(revised, NoticeDraftRevised)
    assert revised.voided_approval_request_id == request.approval_request_id
    NOTICE.given(drafted(), request, revised).when(
        command(approve(request), meta(REVIEWER, case=active_case()))
    ).then_rejected(ReasonCode.INVALID_TRANSITION)


def test_only_approved_content_is_sent_while_the_case_is_active() -> None:
    history = approved_history()
    send = SendApprovedNotice(draft_id="n1")
    sender = meta(SUPERVISOR, seed="s1", case=active_case())
    [requested_send] = NOTICE.given(*history).when(command(send, sender)).events()
    assert isinstance(requested_send, NoticeSendRequested)
    assert (requested_send.digest, requested_send.send_request_id) == (
        DIGEST_V1,
        sender.new_id("snd"),
    )
    NOTICE.given(*history).when(
        command(send, meta(SUPERVISOR, case=active_case(status="dismissed")))
    ).then_rejected(ReasonCode.CASE_NOT_ACTIVE)
    NOTICE.given(drafted()).when(command(send, sender)).then_rejected(ReasonCode.INVALID_TRANSITION)


def test_the_system_records_the_send_it_was_asked_for() -> None:
    history = approved_history()
    [send] = (
        NOTICE.given(*history)
        .when(command(SendApprovedNotice(draft_id="n1"), meta(SUPERVISOR, case=active_case())))
        .events()
    )
    assert isinstance(send, NoticeSendRequested)
    sent = RecordNoticeSent(draft_id="n1", send_request_id=send.send_request_id, message_id="m1")
    state = (
        NOTICE.given(*history, send)
        .when(command(sent, meta(SYSTEM)))
        .then(
            NoticeSent(
                draft_id="n1",
                send_request_id=send.send_request_id,
                digest=DIGEST_V1,
                message_id="m1",
                sent_by="system:notifier",
            )
        )
    )
    assert state.status is NoticeStatus.SENT
    wrong = sent.model_copy(update={"send_request_id": "snd-other"})
    NOTICE.given(*history, send).when(command(wrong, meta(SYSTEM))).then_rejected(
        ReasonCode.UNKNOWN_REFERENCE
    )


def test_a_rejection_ends_the_draft() -> None:
    request = requested(drafted())
    reject = RejectNoticeDraft(
        draft_id="n1", approval_request_id=request.approval_request_id, reason="Tone"
    )
    state = (
        NOTICE.given(drafted(), request)
        .when(command(reject, meta(REVIEWER)))
        .then(
            NoticeDraftRejected(
                draft_id="n1",
                approval_request_id=request.approval_request_id,
                rejected_by="user:rita",
                reason="Tone",
            )
        )
    )
    assert state.status is NoticeStatus.REJECTED
    NOTICE.given(drafted(), request).when(command(reject, meta(AGENT))).then_rejected(
        ReasonCode.APPROVER_ROLE_REQUIRED
    )


def test_withdrawal_happens_before_sending_only() -> None:
    withdraw = WithdrawNoticeDraft(draft_id="n1", reason="Superseded")
    state = (
        NOTICE.given(drafted())
        .when(command(withdraw))
        .then(NoticeDraftWithdrawn(draft_id="n1", withdrawn_by="user:alice", reason="Superseded"))
    )
    assert state.status is NoticeStatus.WITHDRAWN
    history = approved_history()
    [send] = (
        NOTICE.given(*history)
        .when(command(SendApprovedNotice(draft_id="n1"), meta(SUPERVISOR, case=active_case())))
        .events()
    )
    NOTICE.given(*history, send).when(command(withdraw)).then_rejected(
        ReasonCode.INVALID_TRANSITION
    )
