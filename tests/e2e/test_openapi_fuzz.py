"""The OpenAPI contract, fuzzed by schemathesis over real HTTP: whatever a client sends, the
service never answers 5xx, and its answers match the statuses, content types and schemas it
documents. Bounded: a few dozen examples per operation, derandomized."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.live_service import Live

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("token", ["tok-supervisor-t1", "tok-agent-t1", "not-a-token"])
def test_no_request_makes_the_api_fail_or_break_its_contract(live: Live, token: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == {
        "POST /v1/commands",
        "POST /v1/queries",
        "GET /v1/audit/cases/{case_id}",
        "GET /v1/audit/correlations/{correlation_id}",
        "POST /v1/audit/what-if",
        "GET /healthz",
        "GET /readyz",
    }

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=live.url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )

        fuzz()
