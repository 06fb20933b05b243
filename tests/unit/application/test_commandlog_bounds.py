"""A command-log record is a bounded summary: whatever a refusal carries, the record stays
small, so every refusal can be recorded and none comes near the store's event limit."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from caseledger.domain.application.commandlog import Refusal, commandlog_stream, record
from caseledger.domain.shared.errors import MAX_REASON
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.memory_store import InMemoryEventStore


def test_a_record_cuts_every_text_and_keeps_its_bounds() -> None:
    store = InMemoryEventStore()
    huge = "x" * 9_000_000
    refusal = Refusal(
        tenant_id="t1",
        actor_type="user",
        actor_id=huge,
        run_id=huge,
        command_id=huge,
        command_type=huge,
        outcome=CommandOutcome.VALIDATION_ERROR,
        reason_code="invalid_payload",
        reason=huge,
        stream_id=huge,
        idempotency_key=huge,
        policy_version=huge,
        correlation_id=huge,
        thread_id=huge,
    )

    record(store, refusal, datetime(2026, 12, 7, tzinfo=UTC))

    [event] = store.read_stream(commandlog_stream("t1"))
    assert len(event.data) + len(event.metadata) < 5_000
    stored = orjson.loads(event.data)
    assert stored["reason"].startswith("x" * MAX_REASON + "…[+")
    assert stored["command_type"].endswith("characters]")
