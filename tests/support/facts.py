"""Builders for catalogued events (docs/catalogue.md) and a fake `$all` to feed a runner."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson

from caseledger.domain.application.ports import ANY, EventStore, NewEvent, RecordedEvent
from caseledger.projections.events import ProjectedEvent, decode
from caseledger.projections.ports import Checkpoint
from caseledger.projections.projection import Projection
from caseledger.projections.rows import Put, Row


@dataclass(frozen=True)
class Fact:
    stream: str
    type: str
    payload: dict[str, Any]
    tenant: str = "t1"
    schema_version: int = 1

    def metadata(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant,
            "schemaVersion": self.schema_version,
            "occurredAt": "2025-01-01T00:00:00+00:00",
        }

    def new_event(self) -> NewEvent:
        return NewEvent(
            type=self.type,
            data=orjson.dumps(self.payload),
            metadata=orjson.dumps(self.metadata()),
        )


def append(events: EventStore, *facts: Fact) -> int:
    """Append each stream's facts in one call; the last commit position."""
    position = 0
    for fact in facts:
        position = events.append(fact.stream, [fact.new_event()], ANY).commit_position
    return position


def case(case_id: str, type_: str, tenant: str = "t1", **payload: Any) -> Fact:
    return Fact(
        f"case-{tenant}_{case_id}", f"case.{type_}", {"case_id": case_id, **payload}, tenant
    )


def opened(case_id: str, tenant: str = "t1", team: str | None = "fraud") -> Fact:
    return case(
        case_id,
        "opened",
        tenant,
        tenant_id=tenant,
        allegation_summary=f"allegation about {case_id}",
        assigned_team=team,
        opened_by="user:ann",
    )


def review_started(case_id: str, tenant: str = "t1") -> Fact:
    return case(case_id, "review_started", tenant, started_by="user:ann")


def evidence_submitted(
    case_id: str, evidence_id: str, text: str, tenant: str = "t1", title: str = "Ledger"
) -> Fact:
    return case(
        case_id,
        "evidence_submitted",
        tenant,
        evidence_id=evidence_id,
        title=title,
        text=text,
        source_ref=f"doc://{evidence_id}",
        submitted_by="user:ann",
    )


def evidence_reviewed(case_id: str, evidence_id: str, approve: bool, tenant: str = "t1") -> Fact:
    verdict = "evidence_approved" if approve else "evidence_rejected"
    return case(
        case_id, verdict, tenant, evidence_id=evidence_id, reviewed_by="user:rev", comment=None
    )


def _proposal(proposal_id: str, request: str | None, refs: Sequence[str]) -> dict[str, Any]:
    return {
        "proposal_id": proposal_id,
        "approval_request_id": request,
        "rationale": "the ledger shows it",
        "evidence_refs": list(refs),
        "confidence": 0.8,
        "proposed_by_type": "agent",
        "proposed_by_id": "triage-bot",
        "agent_name": "triage-bot",
        "run_id": "run-1",
        "policy_version": "default",
        "digest": f"digest-{proposal_id}",
    }


def risk_proposed(
    case_id: str, proposal_id: str, request: str | None = "apr-1", level: str = "high"
) -> Fact:
    payload = _proposal(proposal_id, request, ["e1"])
    return case(
        case_id,
        "risk_update_proposed",
        current_risk_level=None,
        proposed_risk_level=level,
        **payload,
    )


def escalation_proposed(case_id: str, proposal_id: str, request: str = "apr-2") -> Fact:
    payload = _proposal(proposal_id, request, ["e1"])
    return case(
        case_id,
        "escalation_proposed",
        current_status="under_review",
        proposed_status="escalated",
        **payload,
    )


def risk_changed(
    case_id: str, proposal_id: str, request: str = "apr-1", level: str = "high"
) -> Fact:
    return case(
        case_id,
        "risk_level_changed",
        proposal_id=proposal_id,
        approval_request_id=request,
        decision_id="dec-1",
        from_risk_level=None,
        to_risk_level=level,
        approved_by_actor_type="user",
        approved_by_actor_id="rev",
        policy_version="default",
    )


def escalated(case_id: str, proposal_id: str, request: str = "apr-2") -> Fact:
    return case(
        case_id,
        "escalated",
        proposal_id=proposal_id,
        approval_request_id=request,
        decision_id="dec-2",
        from_status="under_review",
        to_status="escalated",
        approved_by_actor_type="user",
        approved_by_actor_id="sup",
        policy_version="default",
    )


def proposal_declined(case_id: str, proposal_id: str, request: str = "apr-1") -> Fact:
    return case(
        case_id,
        "proposal_declined",
        proposal_id=proposal_id,
        approval_request_id=request,
        decision_id="dec-3",
        declined_by_type="user",
        declined_by_id="rev",
        comment=None,
        policy_version="default",
    )


def proposal_reevaluated(case_id: str, proposal_id: str, old: str, new: str) -> Fact:
    return case(
        case_id,
        "proposal_reevaluated",
        proposal_id=proposal_id,
        previous_approval_request_id=old,
        approval_request_id=new,
        previous_policy_version="default",
        policy_version="p2",
    )


def closed(case_id: str, tenant: str = "t1") -> Fact:
    return case(case_id, "closed", tenant, resolution="settled", closed_by="user:sup")


def notice(draft_id: str, type_: str, tenant: str = "t1", **payload: Any) -> Fact:
    return Fact(
        f"noticedraft-{tenant}_{draft_id}",
        f"notice_draft.{type_}",
        {"draft_id": draft_id, **payload},
        tenant,
    )


def drafted(draft_id: str, case_id: str, tenant: str = "t1") -> Fact:
    return notice(
        draft_id,
        "drafted",
        tenant,
        tenant_id=tenant,
        case_id=case_id,
        recipient="acme@example.com",
        subject="Notice of inquiry",
        body="Dear Acme, ...",
        content_version=1,
        digest="d1",
        drafted_by_type="agent",
        drafted_by_id="drafter",
        run_id="run-1",
    )


def approval_requested(draft_id: str, case_id: str, request: str = "napr-1") -> Fact:
    return notice(
        draft_id,
        "approval_requested",
        case_id=case_id,
        approval_request_id=request,
        digest="d1",
        content_version=1,
        requested_by="user:ann",
        policy_version="default",
    )


def notice_approved(draft_id: str, case_id: str, request: str = "napr-1") -> Fact:
    return notice(
        draft_id,
        "approved",
        case_id=case_id,
        approval_id="appr-1",
        approval_request_id=request,
        digest="d1",
        content_version=1,
        approved_by="user:rev",
        comment=None,
        policy_version="default",
    )


def notice_revised(draft_id: str) -> Fact:
    return notice(
        draft_id,
        "revised",
        content_version=2,
        subject="Notice of inquiry (2)",
        body="Dear Acme, revised",
        digest="d2",
        revised_by_type="user",
        revised_by_id="ann",
        voided_approval_request_id=None,
        voided_approval_id="appr-1",
    )


def policy_published(tenant: str, version: str, rules: dict[str, Any]) -> Fact:
    return Fact(
        f"policy-{tenant}",
        "policy.published",
        {
            "tenant_id": tenant,
            "policy_version": version,
            "rules": rules,
            "published_by": "user:sup",
            "supersedes": "default",
        },
        tenant,
    )


@dataclass
class FakeLog:
    """An in-memory `$all`: positions grow by 100 per event (not contiguous, like KurrentDB's)."""

    events: list[RecordedEvent] = field(default_factory=list)
    revisions: dict[str, int] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def append(self, *facts: Fact) -> int:
        with self.changed:
            for fact in facts:
                revision = self.revisions.get(fact.stream, -1) + 1
                self.revisions[fact.stream] = revision
                self.record(fact, revision)
            self.changed.notify_all()
            return self.events[-1].commit_position

    def record(self, fact: Fact, revision: int, position: int | None = None) -> RecordedEvent:
        """Add an event as given (tests use it to forge duplicates and gaps)."""
        event = RecordedEvent(
            id=uuid.uuid4(),
            stream=fact.stream,
            revision=revision,
            type=fact.type,
            data=orjson.dumps(fact.payload),
            metadata=orjson.dumps(fact.metadata()),
            content_type="application/json",
            commit_position=position if position is not None else (len(self.events) + 1) * 100,
        )
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()
        return event

    def redeliver(self, event: RecordedEvent) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    # -- EventFeed --------------------------------------------------------------------------

    def follow_all(
        self, from_position: int | None = None, categories: Sequence[str] = ()
    ) -> FakeSubscription:
        return FakeSubscription(self, from_position, tuple(categories))

    def head_position(self, categories: Sequence[str] = ()) -> int:
        prefixes = tuple(f"{c}-" for c in categories)
        kept = [e for e in self.events if not prefixes or e.stream.startswith(prefixes)]
        return kept[-1].commit_position if kept else 0

    def read_stream(
        self, stream: str, from_revision: int = 0, limit: int | None = None
    ) -> list[RecordedEvent]:
        found = [e for e in self.events if e.stream == stream and e.revision >= from_revision]
        return found[:limit]


class FakeSubscription:
    """Events of the followed categories, and a `Checkpoint` at the end of each run of events
    it filtered out (as the server's checkpoint and caught-up messages)."""

    def __init__(self, log: FakeLog, start: int | None, categories: tuple[str, ...]) -> None:
        self._log = log
        self._start = start
        self._categories = categories
        self._stopped = False

    def __iter__(self) -> Iterator[RecordedEvent | Checkpoint]:
        index = 0
        while True:
            with self._log.changed:
                self._log.changed.wait_for(partial(self._more, index), timeout=0.05)
                if self._stopped:
                    return
                pending = self._log.events[index:]
            skipped: int | None = None
            for event in pending:
                index += 1
                if self._start is not None and event.commit_position <= self._start:
                    continue
                if self._categories and event.stream.split("-")[0] not in self._categories:
                    skipped = event.commit_position
                    continue
                skipped = None
                yield event
            if skipped is not None:
                yield Checkpoint(skipped)

    def _more(self, index: int) -> bool:
        return self._stopped or index < len(self._log.events)

    def stop(self) -> None:
        with self._log.changed:
            self._stopped = True
            self._log.changed.notify_all()


def projected(facts: Sequence[Fact]) -> list[ProjectedEvent]:
    log = FakeLog()
    log.append(*facts)
    return [decode(e) for e in log.events]


def given(projection: Projection, facts: Sequence[Fact]) -> dict[str, Row]:
    """Given these events, the view's rows (applied in order, as the runner would)."""
    rows: dict[str, Row] = {}
    for event in projected(facts):
        if event.type not in projection.handles:
            continue
        for change in projection.apply(event, rows):
            if isinstance(change, Put):
                rows[change.key] = change.row
            else:
                rows.pop(change.key, None)
    return rows
