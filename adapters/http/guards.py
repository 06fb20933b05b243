"""ASGI guards in front of the API (and of MCP over HTTP): who is asking, before anything of
the request is read; and how much of it there may be, before any of it is parsed.

- `Authenticate`: under its path prefix, a request without a bearer token the registry knows
  is answered 401 problem+json at once; its body is never read. The principal found is kept
  in the request's state (`request.state.principal`).
- `BodyLimit` (`caseledger.adapters.body_limit`, shared with MCP over HTTP): a body over
  `max_bytes` is answered 413 problem+json before the application sees any of it."""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from caseledger.adapters.body_limit import send_problem
from caseledger.adapters.tokens import Principal, TokenRegistry

PRINCIPAL: Final = "principal"
"""The key of the authenticated principal in the request's state."""


def principal_of(scope: Scope) -> Principal | None:
    """The principal `Authenticate` found for this request, if any."""
    found = scope.get("state", {}).get(PRINCIPAL)
    return found if isinstance(found, Principal) else None


class Authenticate:
    def __init__(self, app: ASGIApp, tokens: TokenRegistry, prefix: str = "/v1") -> None:
        self._app = app
        self._tokens = tokens
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _under(scope["path"], self._prefix):
            await self._app(scope, receive, send)
            return
        scheme, _, secret = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            await _unauthenticated(send, "an Authorization: Bearer <token> header is required")
            return
        found = self._tokens.resolve(secret.strip())
        if found is None:
            await _unauthenticated(send, "the bearer token is not valid")
            return
        scope.setdefault("state", {})[PRINCIPAL] = found
        await self._app(scope, receive, send)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


async def _unauthenticated(send: Send, detail: str) -> None:
    await send_problem(
        send,
        401,
        "rejected",
        "unauthenticated",
        detail,
        [(b"www-authenticate", b"Bearer")],
    )
