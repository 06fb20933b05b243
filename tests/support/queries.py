"""Query envelopes as an agent sends them."""

from __future__ import annotations

from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.envelopes import QueryEnvelope


def summary_query(case_id: str, min_position: int, max_wait_ms: int = 5000) -> QueryEnvelope:
    return QueryEnvelope(
        query_id="q1",
        query_type="get_case_summary",
        tenant_id="t1",
        requested_by_actor_type=ActorType.AGENT,
        requested_by_actor_id="bot",
        run_id="run-1",
        correlation_id="c",
        payload_schema="get_case_summary.v1",
        payload={"case_id": case_id, "min_position": min_position, "max_wait_ms": max_wait_ms},
    )
