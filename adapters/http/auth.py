"""Bearer authentication: the token names the principal (tenant and actor) of every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from caseledger.adapters.http.guards import principal_of
from caseledger.adapters.tokens import Principal, TokenRegistry

bearer = HTTPBearer(auto_error=False, description="A token from CASELEDGER_TOKENS_FILE.")


class Unauthenticated(Exception):
    """No bearer token, or one the registry does not know."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Async, so resolved on the event loop: it needs no request thread, which may all be
    waiting on the event store."""
    found = principal_of(request.scope)  # `guards.Authenticate` found it already
    if found is not None:
        return found
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("an Authorization: Bearer <token> header is required")
    tokens: TokenRegistry = request.app.state.caseledger.tokens
    found = tokens.resolve(credentials.credentials)
    if found is None:
        raise Unauthenticated("the bearer token is not valid")
    return found


Caller = Annotated[Principal, Depends(principal)]
