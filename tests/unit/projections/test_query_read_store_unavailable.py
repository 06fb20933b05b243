"""A query while the read store does not answer is `unavailable` (503, retry), never an error,
and the store's own words (hosts, files) stay inside."""

from __future__ import annotations

from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.envelopes import QueryEnvelope
from caseledger.projections.ports import ReadStoreUnavailable
from caseledger.projections.queries.service import (
    READ_STORE_UNAVAILABLE,
    QueryService,
    QueryStatus,
)


class DownReader:
    """A ViewReader whose store does not answer (as a PostgreSQL refusing connections)."""

    def __getattr__(self, name: str) -> object:
        def down(*args: object, **kwargs: object) -> object:
            raise ReadStoreUnavailable("PostgreSQL connection: db.internal:5432 refused")

        return down


def test_a_query_while_the_read_store_is_down_is_unavailable() -> None:
    query = QueryEnvelope(
        query_id="q1",
        query_type="get_case_summary",
        tenant_id="t1",
        requested_by_actor_type=ActorType.AGENT,
        requested_by_actor_id="bot",
        run_id="run-1",
        correlation_id="c",
        payload_schema="get_case_summary.v1",
        payload={"case_id": "c1"},
    )

    result = QueryService(DownReader()).handle(query)  # type: ignore[arg-type]

    assert result.status == QueryStatus.UNAVAILABLE
    assert result.error_message == READ_STORE_UNAVAILABLE
