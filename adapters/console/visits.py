"""One request to the console: its session (read from the cookie, or a new anonymous one), the
principal signed in (resolved through the token registry on every request), the CSRF check
of a form, and the HTML answer with the session's cookie renewed and the console's security
headers.

Headers on every console answer: a Content-Security-Policy allowing only the console's own
scripts and styles (no inline script, no eval, no framing), `no-store` caching (pages hold
case data), `nosniff`, referrers only to this origin (with none, browsers send
`Origin: null` on a form post, which the origin check refuses)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from caseledger.adapters.console.sessions import COOKIE, IDLE_SECONDS, Session, Sessions
from caseledger.adapters.tokens import Principal, TokenRegistry
from caseledger.domain.shared.actors import ActorType

PREFIX: Final = "/console"
STATIC: Final = f"{PREFIX}/static"
CSRF_FIELD: Final = "csrf_token"
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
TEMPLATES: Final = Path(__file__).parent / "templates"


def templates() -> Environment:
    """Autoescaping everywhere: agent and evidence text is shown as text, never as HTML."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES, followlinks=True),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = STATIC
    env.filters["when"] = when
    return env


def when(value: object) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM:SS` (UTC, as stored); anything else as text."""
    text = "" if value is None else str(value)
    if len(text) >= 19 and text[10] == "T":
        return f"{text[:10]} {text[11:19]}"
    return text


@dataclass
class Visit:
    request: Request
    session: Session
    principal: Principal | None
    csrf_token: str

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    @property
    def roles(self) -> list[str]:
        return sorted(r.value for r in self.principal.actor.roles) if self.principal else []


class Visits:
    def __init__(self, sessions: Sessions, tokens: TokenRegistry, env: Environment) -> None:
        self.sessions = sessions
        self.tokens = tokens
        self.env = env

    def visit(self, request: Request) -> Visit:
        session = self.sessions.read(request.cookies.get(COOKIE)) or self.sessions.new()
        principal = None
        if session.token_digest is not None:
            principal = self.tokens.resolve_digest(session.token_digest)
            if principal is None or principal.actor.type is not ActorType.USER:
                session, principal = self.sessions.new(), None
        if not _polled(request):  # a page left open polling is not a person at work
            session = self.sessions.touch(session)
        return Visit(request, session, principal, self.sessions.csrf_token(session))

    def form_allowed(self, visit: Visit, form: dict[str, str]) -> bool:
        """The form's CSRF token is its session's, and the browser says it came from here."""
        return self.sessions.csrf_valid(visit.session, form.get(CSRF_FIELD)) and _same_origin(
            visit.request
        )

    def page(self, visit: Visit, template: str, status: int = 200, **context: Any) -> Response:
        html = self.env.get_template(template).render(
            visit=visit,
            principal=visit.principal,
            csrf_field=CSRF_FIELD,
            csrf_token=visit.csrf_token,
            **context,
        )
        return self.finish(visit, HTMLResponse(html, status_code=status))

    def redirect(self, visit: Visit, to: str) -> Response:
        if visit.htmx:  # htmx follows a redirect inside the page: make it a navigation
            return self.finish(visit, Response(status_code=204, headers={"HX-Redirect": to}))
        return self.finish(visit, RedirectResponse(to, status_code=303))

    def to_login(self, visit: Visit) -> Response:
        path = visit.request.url.path
        return self.redirect(visit, f"{PREFIX}/login?next={quote(path, safe='/')}")

    def finish(self, visit: Visit, response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        self.set_cookie(visit, response, visit.session)
        return response

    def set_cookie(self, visit: Visit, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.sessions.cookie(session),
            max_age=IDLE_SECONDS,
            path=PREFIX,
            secure=visit.request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )


def _polled(request: Request) -> bool:
    """A refresh the page asked for by itself (htmx's `every 1s`), not a person's click."""
    headers = request.headers
    return (
        request.method == "GET"
        and headers.get("hx-request") == "true"
        and (headers.get("hx-trigger") == "inbox")
    )


def _same_origin(request: Request) -> bool:
    """No Origin header (an old browser, a plain client), or one naming this host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    if value and value.startswith(PREFIX) and "//" not in value and "\\" not in value:
        return value[:500]
    return PREFIX
