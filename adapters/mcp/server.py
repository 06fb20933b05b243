"""`build_server(tools)` -> an MCPServer (official SDK) with exactly the seven §25 tools, and
the transports: stdio, and streamable HTTP behind `BearerAuth` when no identity is fixed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final, ParamSpec, TypeVar

import orjson
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field
from starlette.types import ASGIApp, Receive, Scope, Send

from caseledger.adapters.body_limit import BodyLimit
from caseledger.adapters.eventstore.deadlines import DEFAULT_TIMEOUT
from caseledger.adapters.mcp.identity import IdentityError, IdentitySource, identity_for_token
from caseledger.adapters.mcp.tools import UNTRUSTED_NOTE, CaseTools, ToolRefusal
from caseledger.adapters.settings import Settings
from caseledger.adapters.store_calls import StoreCalls
from caseledger.adapters.tokens import TokenRegistry
from caseledger.domain.application.ports import EventStoreUnavailable

TOOL_NAMES: Final = (
    "get_case_summary",
    "search_evidence",
    "create_notice_draft",
    "propose_case_escalation",
    "propose_risk_update",
    "request_approval",
    "send_approved_notice",
)

IDEMPOTENT_NOTE: Final = (
    "Idempotent by construction: one idempotency_key is one command for you in this tenant, "
    "across every case and draft. Without a key, the key is a digest of this tool's name and "
    "arguments, so the same call retried is answered duplicate_accepted with the original "
    "result, never written twice; pass a new key to repeat an action on purpose."
)

INSTRUCTIONS: Final = (
    "caseledger: regulatory case work. You act as the agent this server is configured for "
    "(tenant, agent name and run are fixed by the server, not by arguments). Read with "
    "get_case_summary and search_evidence; you may draft notices and propose risk updates "
    "and escalations, which a human decides; request_approval asks for a notice's review; "
    "send_approved_notice succeeds only for an approved notice and an issuer allowed to send. "
    "Pass a command result's commit position as min_position to read your own writes. "
    + IDEMPOTENT_NOTE
    + " "
    + UNTRUSTED_NOTE
)

CaseId = Annotated[str, Field(description="The case's id, e.g. from a previous result.")]
DraftId = Annotated[str, Field(description="The notice draft's id.")]
MinPosition = Annotated[
    int | None,
    Field(description="Wait (bounded) until the view reflects this commit position.", ge=0),
]
Key = Annotated[
    str | None,
    Field(
        description=(
            "Optional; defaults to a digest of the tool's name and arguments. The same key is "
            "the same command (answered duplicate_accepted; with other arguments, rejected "
            "idempotency_key_reused). At most 200 characters: letters, digits, '.', '_', ':', "
            "'-'."
        )
    ),
]
Rationale = Annotated[str, Field(description="Why, in a few sentences.")]
EvidenceRefs = Annotated[list[str], Field(description="Ids of approved evidence it rests on.")]
Confidence = Annotated[float, Field(ge=0.0, le=1.0, description="Your confidence, 0 to 1.")]

_READ: Final = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
_WRITE: Final = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
_SEND: Final = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)

DEFAULT_MAX_BODY: Final = Settings.model_fields["http_max_body"].default

STORE_UNAVAILABLE: Final = (
    "the event store is unavailable for now; try again shortly (sending the same proposal or "
    "command again with the same idempotency_key is safe)"
)

P = ParamSpec("P")
R = TypeVar("R")


def _in_thread(calls: StoreCalls, call: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """The services block (store, read models): run them off the event loop, within the event
    store's deadline (an unavailable store is a tool error in that time). An identity that
    cannot be bound is a tool error, never a call with a guessed identity."""

    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await calls.run(call, *args, **kwargs)
        except (IdentityError, ToolRefusal) as error:
            raise ToolError(str(error)) from None
        except EventStoreUnavailable:
            raise ToolError(STORE_UNAVAILABLE) from None

    return run


class _CheckedServer(MCPServer):
    """Checks every tool call's arguments for identity fields before the SDK validates them
    (which would drop the unknown ones silently): named otherwise than the bound identity,
    the call is refused (`CaseTools.check_arguments`)."""

    def __init__(self, tools: CaseTools, name: str, calls: StoreCalls) -> None:
        super().__init__(name, instructions=INSTRUCTIONS, log_level="WARNING")
        self._tools = tools
        self._calls = calls

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        await _in_thread(self._calls, self._tools.check_arguments)(name, arguments)
        return await super().call_tool(name, arguments, context)


def build_server(
    tools: CaseTools, name: str = "caseledger", *, timeout: float = DEFAULT_TIMEOUT
) -> MCPServer:
    """`timeout`: CASELEDGER_EVENTSTORE_TIMEOUT, each tool call's bound."""
    calls = StoreCalls(timeout)
    server: MCPServer = _CheckedServer(tools, name, calls)

    @server.tool(annotations=_READ)
    async def get_case_summary(case_id: CaseId, min_position: MinPosition = None) -> dict[str, Any]:
        """A case as an agent needs it: status, risk, allegation, approved evidence, open
        proposals, what you may do next, policy notes; with source refs and freshness."""
        return await _in_thread(calls, tools.get_case_summary)(case_id, min_position)

    @server.tool(annotations=_READ)
    async def search_evidence(
        text: Annotated[str, Field(description="Words to look for in evidence.")],
        limit: Annotated[int, Field(ge=1, le=20, description="At most this many hits.")] = 5,
        min_position: MinPosition = None,
    ) -> dict[str, Any]:
        """Full-text search over the tenant's evidence: bounded hits with snippets and refs."""
        return await _in_thread(calls, tools.search_evidence)(text, limit, min_position)

    @server.tool(annotations=_WRITE)
    async def create_notice_draft(
        case_id: CaseId,
        recipient: Annotated[str, Field(description="Who the notice is addressed to.")],
        subject: Annotated[str, Field(description="The notice's subject line.")],
        body: Annotated[str, Field(description="The notice's text.")],
        draft_id: Annotated[
            str | None,
            Field(
                description=(
                    "Optional id for the draft; if omitted, derived from your tenant, you and "
                    "the idempotency key (not the run), so a retried call names the same draft."
                )
            ),
        ] = None,
        idempotency_key: Key = None,
    ) -> dict[str, Any]:
        """Draft a notice for an active case (a low-risk artifact: nothing is sent). Idempotent by
        construction: without an idempotency_key, the key is a digest of this tool's name and
        arguments, and the draft id derives from (tenant, you, key): retrying makes one draft."""
        return await _in_thread(calls, tools.create_notice_draft)(
            case_id, recipient, subject, body, draft_id, idempotency_key
        )

    @server.tool(annotations=_WRITE)
    async def propose_case_escalation(
        case_id: CaseId,
        rationale: Rationale,
        evidence_refs: EvidenceRefs,
        confidence: Confidence,
        idempotency_key: Key = None,
    ) -> dict[str, Any]:
        """Propose escalating a case under review. A proposal, not a decision: a human with
        the policy's approver role decides (outcome `requires_approval`). Idempotent by
        construction: without an idempotency_key, the key (and proposal id) is a digest of this
        tool's name and arguments."""
        return await _in_thread(calls, tools.propose_case_escalation)(
            case_id, rationale, evidence_refs, confidence, idempotency_key
        )

    @server.tool(annotations=_WRITE)
    async def propose_risk_update(
        case_id: CaseId,
        proposed_risk_level: Annotated[
            str, Field(description="One of: low, medium, high, critical.")
        ],
        rationale: Rationale,
        evidence_refs: EvidenceRefs,
        confidence: Confidence,
        idempotency_key: Key = None,
    ) -> dict[str, Any]:
        """Propose a case's risk level. A proposal: a reviewer decides unless the tenant's
        policy commits it at once. Idempotent by construction: without an idempotency_key, the
        key (and proposal id) is a digest of this tool's name and arguments."""
        return await _in_thread(calls, tools.propose_risk_update)(
            case_id, proposed_risk_level, rationale, evidence_refs, confidence, idempotency_key
        )

    @server.tool(annotations=_WRITE)
    async def request_approval(draft_id: DraftId, idempotency_key: Key = None) -> dict[str, Any]:
        """Ask for a notice draft's review; the result carries the approval request id.
        Idempotent by construction: without an idempotency_key, the key is a digest of this
        tool's name and arguments (pass a new key to ask again after a revision)."""
        return await _in_thread(calls, tools.request_approval)(draft_id, idempotency_key)

    @server.tool(annotations=_SEND)
    async def send_approved_notice(
        draft_id: DraftId, idempotency_key: Key = None
    ) -> dict[str, Any]:
        """Request sending a notice. The handler verifies that the exact content was approved
        and that you may send; otherwise the outcome is `rejected` with the reason. Idempotent
        by construction: without an idempotency_key, the key is a digest of this tool's name and
        arguments (a rejected call reserves nothing: the same call may succeed later)."""
        return await _in_thread(calls, tools.send_approved_notice)(draft_id, idempotency_key)

    return server


class BearerAuth:
    """ASGI middleware for streamable HTTP: every request must carry `Authorization: Bearer`
    with an agent token from the tokens file; it binds that identity for the request."""

    def __init__(self, app: ASGIApp, tokens: TokenRegistry) -> None:
        self._app = app
        self._tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        scheme, _, secret = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        try:
            if scheme.lower() != "bearer" or not secret.strip():
                raise IdentityError("a bearer token is required")
            identity = identity_for_token(self._tokens, secret.strip())
        except IdentityError as error:
            await _unauthorized(send, str(error))
            return
        token = IdentitySource.bind(identity)
        try:
            await self._app(scope, receive, send)
        finally:
            IdentitySource.unbind(token)


async def _unauthorized(send: Send, message: str) -> None:
    body = orjson.dumps({"error": "unauthorized", "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="caseledger-mcp"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def http_app(
    server: MCPServer,
    tokens: TokenRegistry | None,
    host: str,
    path: str,
    max_body: int = DEFAULT_MAX_BODY,
) -> ASGIApp:
    """The streamable HTTP app: bodies over `max_body` bytes answered 413 before they are
    parsed; behind `BearerAuth` (first) unless the server has a fixed identity (`tokens`
    None)."""
    app: ASGIApp = BodyLimit(
        server.streamable_http_app(streamable_http_path=path, host=host), max_body
    )
    return app if tokens is None else BearerAuth(app, tokens)


async def serve_http(app: ASGIApp, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve()
