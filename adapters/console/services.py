"""What the console works with: the same command and query services the HTTP API calls, the
event store (to read a case's or a notice's own stream: evidence text, the exact notice body),
the read store (audit index, parked events) and the token registry — all taken from the
wired `App`, nothing wired here.

Contract: every command and query is issued as the signed-in principal (`command_envelope`,
`query_envelope`), so the console can do exactly what the token can, and the services record
its refusals as they record the API's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from caseledger.adapters.bootstrap import App, EventStoreConnection, ReadStore
from caseledger.adapters.envelopes import command_envelope, query_envelope
from caseledger.adapters.settings import Settings
from caseledger.adapters.tokens import Principal, TokenRegistry
from caseledger.domain.application.ports import CommandHandler, QueryHandler
from caseledger.domain.shared.envelopes import (
    CommandResult,
    QueryResult,
)


@dataclass(frozen=True)
class ConsoleServices:
    commands: CommandHandler
    queries: QueryHandler
    store: EventStoreConnection
    views: ReadStore
    settings: Settings
    tokens: TokenRegistry

    @classmethod
    def of(
        cls, app: App, commands: CommandHandler | None = None, queries: QueryHandler | None = None
    ) -> ConsoleServices:
        """`app`'s services; `commands` / `queries` replace them (instrumented wrappers)."""
        return cls(
            commands or app.commands,
            queries or app.queries,
            app.store,
            app.views,
            app.settings,
            app.tokens,
        )

    def ask(self, principal: Principal, query_type: str, payload: dict[str, Any]) -> QueryResult:
        return self.queries.handle(query_envelope(principal, query_type, payload))

    def issue(
        self,
        principal: Principal,
        command_type: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
    ) -> CommandResult:
        envelope = command_envelope(
            principal, command_type, payload, idempotency_key=idempotency_key
        )
        return self.commands.handle(envelope)
