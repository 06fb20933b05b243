"""Idempotency-key reservations are bookkeeping, not facts: their category is named once
(`streams.IDEMPOTENCY`), and views, the outbox relay, audits and causation chains ignore it by
name."""

from __future__ import annotations

from caseledger.adapters.integration.contracts import CONTRACTS
from caseledger.domain.application.reservations import KEY_RESERVED
from caseledger.domain.shared import streams
from caseledger.projections.events import CATEGORIES as VIEWED


def test_reservations_are_a_category_caseledger_writes_and_holds_no_facts_in() -> None:
    assert streams.IDEMPOTENCY in streams.CATEGORIES
    assert streams.IDEMPOTENCY in streams.NOT_FACTS


def test_no_view_audit_or_chain_follows_a_category_that_holds_no_facts() -> None:
    """Audits and causation chains read the audit index, a view: what no view follows, no
    audit sees."""
    for category in streams.NOT_FACTS:
        assert category not in VIEWED


def test_the_outbox_publishes_no_reservation() -> None:
    assert KEY_RESERVED not in CONTRACTS


def test_a_reservation_stream_is_the_tenants_and_bounded_whatever_the_key() -> None:
    stream = streams.reservation_stream("t1", "agent:risk-bot", "k" * 200)

    parsed = streams.parse_stream(stream)
    assert parsed is not None
    assert (parsed.category, parsed.tenant_id) == (streams.IDEMPOTENCY, "t1")
    assert len(stream) < 100
    assert stream != streams.reservation_stream("t2", "agent:risk-bot", "k" * 200)
    assert stream != streams.reservation_stream("t1", "agent:other-bot", "k" * 200)
