"""One builder for the envelopes every entry point issues: identity from the principal, defaults
from the ids, and the MCP tools, the HTTP bodies and the CLI all going through it."""

from __future__ import annotations

import itertools

from caseledger.adapters.envelopes import command_envelope, query_envelope
from caseledger.adapters.http.binding import CommandRequest, QueryRequest
from caseledger.adapters.mcp.identity import AgentIdentity
from caseledger.adapters.mcp.tools import CaseTools
from caseledger.adapters.tokens import Principal
from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.envelopes import (
    CommandEnvelope,
    CommandResult,
    QueryEnvelope,
    QueryResult,
)
from caseledger.domain.shared.outcomes import CommandOutcome

RITA = Principal("t1", Actor(ActorType.USER, "rita", frozenset({Role.REVIEWER})))
AGENT = AgentIdentity("t1", "risk-bot", "run-42")


class Commands:
    """Keeps the commands it is handed."""

    def __init__(self) -> None:
        self.issued: list[CommandEnvelope] = []

    def handle(self, envelope: CommandEnvelope) -> CommandResult:
        self.issued.append(envelope)
        return CommandResult(command_id=envelope.command_id, status=CommandOutcome.ACCEPTED)


class Queries:
    """Keeps the queries it is handed."""

    def __init__(self) -> None:
        self.asked: list[QueryEnvelope] = []

    def handle(self, query: QueryEnvelope) -> QueryResult:
        self.asked.append(query)
        return QueryResult(query_id=query.query_id, status="ok")


def _tools(commands: Commands, queries: Queries) -> CaseTools:
    numbers = itertools.count(1)
    return CaseTools(commands, queries, lambda: AGENT, new_id=lambda: str(next(numbers)))


def test_a_command_envelope_takes_tenant_actor_roles_and_run_from_the_principal() -> None:
    envelope = command_envelope(RITA, "start_case_review", {"case_id": "c1"})

    assert envelope.tenant_id == "t1"
    assert (envelope.requested_by_actor_type, envelope.requested_by_actor_id) == (
        ActorType.USER,
        "rita",
    )
    assert envelope.requested_by_roles == frozenset({Role.REVIEWER})
    assert envelope.run_id is None


def test_key_correlation_and_schema_default_from_the_command_id_and_type() -> None:
    envelope = command_envelope(RITA, "start_case_review", {"case_id": "c1"}, command_id="c-9")

    assert (envelope.idempotency_key, envelope.correlation_id) == ("c-9", "c-9")
    assert envelope.payload_schema == "start_case_review.v1"


def test_a_query_envelope_defaults_its_correlation_and_schema_from_its_id_and_type() -> None:
    query = query_envelope(RITA, "get_case", {"case_id": "c1"}, query_id="q-1")

    assert (query.tenant_id, query.requested_by_actor_id) == ("t1", "rita")
    assert (query.correlation_id, query.payload_schema) == ("q-1", "get_case.v1")


def test_an_agent_identity_is_the_principal_of_an_agent_on_its_run() -> None:
    principal = AGENT.principal()

    assert principal.actor == Actor(ActorType.AGENT, "risk-bot", run_id="run-42")
    assert AgentIdentity.of(principal) == AGENT


def test_an_mcp_tool_issues_the_envelope_the_shared_builder_makes_for_its_agent() -> None:
    commands = Commands()

    _tools(commands, Queries()).request_approval("nd-1", idempotency_key="k-1")

    (issued,) = commands.issued
    expected = command_envelope(
        AGENT.principal(),
        "request_notice_approval",
        {"draft_id": "nd-1"},
        command_id="mcp-c-1",
        correlation_id="run-42",
        idempotency_key="k-1",
    )
    assert issued == expected


def test_an_mcp_query_issues_the_envelope_the_shared_builder_makes_for_its_agent() -> None:
    queries = Queries()

    _tools(Commands(), queries).search_evidence("interest", limit=3)

    (asked,) = queries.asked
    expected = query_envelope(
        AGENT.principal(),
        "search_evidence",
        {"text": "interest", "limit": 3},
        query_id="mcp-q-1",
        correlation_id="run-42",
    )
    assert asked == expected


def test_an_http_body_becomes_the_envelope_the_shared_builder_makes_for_its_token() -> None:
    body = {"command_id": "c-1", "command_type": "start_case_review", "payload": {"case_id": "c1"}}
    query = {"query_id": "q-1", "query_type": "get_case", "payload": {"case_id": "c1"}}

    assert CommandRequest.model_validate(body).envelope(RITA) == command_envelope(
        RITA, "start_case_review", {"case_id": "c1"}, command_id="c-1"
    )
    assert QueryRequest.model_validate(query).envelope(RITA) == query_envelope(
        RITA, "get_case", {"case_id": "c1"}, query_id="q-1"
    )
