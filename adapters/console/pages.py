"""The console's pages: each takes a `Visit` (and a posted form) and answers HTML.

A page that needs a signed-in user sends anyone else to `/console/login` (an htmx poll gets
`HX-Redirect`); a form whose CSRF token is not its session's changes nothing and is answered
403; not found reads the same for an unknown, invalid or other tenant's id."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from fastapi.responses import Response

from caseledger.adapters.audit.service import AuditNotFound, AuditService
from caseledger.adapters.console import inbox as inbox_
from caseledger.adapters.console import ops as ops_
from caseledger.adapters.console.casefile import Entry, case_file, notice
from caseledger.adapters.console.diagram import causation_svg
from caseledger.adapters.console.messages import said
from caseledger.adapters.console.services import ConsoleServices
from caseledger.adapters.console.visits import PREFIX, Visit, Visits, safe_next
from caseledger.adapters.tokens import TokenRegistry
from caseledger.domain.shared.actors import ActorType
from caseledger.domain.shared.errors import EventDecodingError
from caseledger.domain.shared.ids import is_aggregate_id, is_idempotency_key
from caseledger.domain.shared.streams import InvalidId
from caseledger.projections.audit.report import timeline
from caseledger.projections.audit.trail import actor_kind

PACKAGE: Final = Path(__file__).parent
FormHandler = Callable[[Visit, dict[str, str]], Response]
AUDIT_SETTLE: Final = 2.0
"""Seconds an audit page waits for the audit index to reach the store's head."""
CASE_FILTERS: Final = ("status", "risk_level")
MAX_ID: Final = 128
SIGNED_OUT: Final = "You are signed out."
CSRF_REFUSED: Final = (
    "This form was sent without its security token (or from another site, or after your "
    "session changed). Nothing was done: reload the page and try again."
)


class Console:
    def __init__(self, services: ConsoleServices, visits: Visits) -> None:
        self.services = services
        self.visits = visits

    # -- signing in and out -------------------------------------------------------------

    def login_form(self, visit: Visit) -> Response:
        if visit.principal is not None:
            return self.visits.redirect(visit, PREFIX)
        query = visit.request.query_params
        message = SIGNED_OUT if query.get("signed_out") else None
        return self.visits.page(
            visit, "login.html", next=safe_next(query.get("next")), message=message
        )

    def login(self, visit: Visit, form: dict[str, str]) -> Response:
        if not self.visits.form_allowed(visit, form):
            return self._csrf_refused(visit)
        token = form.get("token", "").strip()
        found = self.services.tokens.resolve(token) if 8 <= len(token) <= 500 else None
        next_page = safe_next(form.get("next"))
        if found is None:
            return self.visits.page(
                visit, "login.html", 401, next=next_page, error="That token is not valid."
            )
        if found.actor.type is not ActorType.USER:
            error = (
                f"Only a person's (user) token signs in to the console; this is an "
                f"{found.actor.type.value} token, which is refused."
            )
            return self.visits.page(visit, "login.html", 403, next=next_page, error=error)
        if visit.session.signed_in:  # signing in as someone else ends the session before
            self.visits.sessions.end(visit.session)
        visit.session = self.visits.sessions.new(TokenRegistry.digest(token))
        return self.visits.redirect(visit, next_page)

    def logout_form(self, visit: Visit) -> Response:
        if visit.principal is None:
            return self.visits.redirect(visit, f"{PREFIX}/login")
        return self.visits.page(visit, "logout.html")

    def logout(self, visit: Visit, form: dict[str, str]) -> Response:
        if not self.visits.form_allowed(visit, form):
            return self._csrf_refused(visit)
        self.visits.sessions.end(visit.session)
        visit.session, visit.principal = self.visits.sessions.new(), None
        return self.visits.redirect(visit, f"{PREFIX}/login?signed_out=1")

    # -- the inbox ----------------------------------------------------------------------

    def inbox(self, visit: Visit) -> Response:
        if visit.principal is None:
            return self.visits.to_login(visit)
        return self._inbox(visit)

    def decide(self, visit: Visit, form: dict[str, str]) -> Response:
        if visit.principal is None:
            return self.visits.to_login(visit)
        if not self.visits.form_allowed(visit, form):
            return self._csrf_refused(visit)
        given = form.get("idempotency_key", "")
        key = given if given.startswith("console-") and is_idempotency_key(given) else None
        outcome = inbox_.decide(self.services, visit.principal, form, key)
        if isinstance(outcome, str):
            return self._inbox(visit, message=outcome, tone="refused", status=422)
        what = _what(form)
        shown = said(outcome, what)
        return self._inbox(
            visit,
            message=shown.text,
            tone=shown.tone,
            status=shown.status,
            after=outcome.commit_position,
        )

    def _inbox(
        self,
        visit: Visit,
        message: str | None = None,
        tone: str = "ok",
        status: int = 200,
        after: int | None = None,
    ) -> Response:
        assert visit.principal is not None
        try:
            listed = inbox_.pending(self.services, visit.principal, after)
        except EventDecodingError as error:
            listed = inbox_.Inbox([], refused=f"A stored event cannot be read: {error}"[:300])
        template = "inbox_list.html" if visit.htmx else "inbox.html"
        return self.visits.page(
            visit,
            template,
            status,
            inbox=listed,
            message=message,
            tone=tone,
            new_key=_form_key,
        )

    # -- cases --------------------------------------------------------------------------

    def cases(self, visit: Visit) -> Response:
        if visit.principal is None:
            return self.visits.to_login(visit)
        query = visit.request.query_params
        filters = {k: query[k][:40] for k in CASE_FILTERS if query.get(k)}
        offset = query.get("offset", "0")
        payload: dict[str, Any] = {**filters, "limit": 50}
        payload["offset"] = int(offset) if offset.isdigit() and len(offset) < 6 else 0
        answer = self.services.ask(visit.principal, "list_cases", payload)
        if answer.status not in ("ok", "stale") or answer.data is None:
            return self.visits.page(
                visit, "cases.html", _query_status(answer.status), refused=answer.error_message
            )
        return self.visits.page(
            visit,
            "cases.html",
            dashboard=answer.data["case_dashboard"],
            freshness=answer.data["freshness"],
            stale=answer.status == "stale",
            filters=filters,
            offset=payload["offset"],
        )

    def case(self, visit: Visit, case_id: str) -> Response:
        if visit.principal is None:
            return self.visits.to_login(visit)
        if not is_aggregate_id(case_id):
            return self._not_found(visit, "case", case_id)
        answer = self.services.ask(visit.principal, "get_case_summary", {"case_id": case_id})
        if answer.status == "not_found":
            return self._not_found(visit, "case", case_id)
        if answer.status not in ("ok", "stale") or answer.data is None:
            return self._refused(visit, answer.status, answer.error_message)
        tenant = visit.principal.tenant_id
        try:
            file = case_file(self.services.store, tenant, case_id)
        except EventDecodingError as error:
            return self._refused(visit, "unreadable", str(error)[:300])
        if file is None:
            return self._not_found(visit, "case", case_id)
        drafts = self.services.ask(
            visit.principal, "list_notice_drafts", {"case_id": case_id, "limit": 100}
        )
        listed = (drafts.data or {}).get("notice_drafts", []) if drafts.status == "ok" else []
        notices = [n for d in listed if (n := notice(self.services.store, tenant, d["draft_id"]))]
        entries: list[Entry] = list(file.timeline)
        for n in notices:
            entries.extend(n.timeline)
        entries.sort(key=lambda e: e.at)
        decisions = sorted(file.decisions + [d for n in notices for d in n.decisions], key=_at)
        return self.visits.page(
            visit,
            "case.html",
            summary=answer.data["case_summary"],
            freshness=answer.data["freshness"],
            file=file,
            notices=notices,
            decisions=decisions,
            entries=entries,
        )

    # -- audit --------------------------------------------------------------------------

    def audit(self, visit: Visit, kind: str, subject_id: str) -> Response:
        if visit.principal is None:
            return self.visits.to_login(visit)
        if not visit.principal.actor.roles:
            return self._refused(visit, "forbidden", "an audit needs a role")
        if len(subject_id) > MAX_ID:
            return self._not_found(visit, kind, subject_id)
        tenant = visit.principal.tenant_id
        audit = AuditService.for_data_dir(
            self.services.store, self.services.views, self.services.settings.data_dir, AUDIT_SETTLE
        )
        try:
            trail = (
                audit.case(subject_id, tenant)
                if kind == "case"
                else audit.correlation(subject_id, tenant)
            )
        except (AuditNotFound, InvalidId):
            return self._not_found(visit, kind, subject_id)
        finally:
            audit.close()
        title = f"Causation of {kind} {subject_id}"
        svg, left_out = causation_svg(trail, title)
        rows = timeline(trail)
        for row in rows:
            row["actor_kind"] = actor_kind(row.get("actor"))
        return self.visits.page(
            visit,
            "audit.html",
            kind=kind,
            subject_id=subject_id,
            case_id=subject_id if kind == "case" else None,
            trail=trail,
            svg=svg,
            left_out=left_out,
            rows=rows,
        )

    # -- operations ---------------------------------------------------------------------

    def ops(self, visit: Visit) -> Response:
        if visit.principal is None:
            return self.visits.to_login(visit)
        if not visit.principal.actor.has_any_role(ops_.OPERATORS):
            return self._refused(visit, "forbidden", "operations are for supervisors")
        return self._ops(visit)

    def ops_retry(self, visit: Visit, form: dict[str, str]) -> Response:
        if visit.principal is None:
            return self.visits.to_login(visit)
        if not self.visits.form_allowed(visit, form):
            return self._csrf_refused(visit)
        if not visit.principal.actor.has_any_role(ops_.OPERATORS):
            return self._refused(visit, "forbidden", "operations are for supervisors")
        tenant = visit.principal.tenant_id
        if form.get("retry") == "message":
            message = ops_.retry_message(self.services, tenant, form.get("message_id", "")[:200])
        else:
            message = ops_.retry_stream(
                self.services,
                tenant,
                form.get("projection_id", "")[:200],
                form.get("stream", "")[:300],
            )
        return self._ops(visit, message)

    def _ops(self, visit: Visit, message: str | None = None) -> Response:
        assert visit.principal is not None
        current = ops_.operations(self.services, visit.principal.tenant_id)
        return self.visits.page(visit, "ops.html", ops=current, message=message)

    # -- refusals -----------------------------------------------------------------------

    def _not_found(self, visit: Visit, kind: str, subject_id: str) -> Response:
        shown = subject_id if len(subject_id) <= 64 else subject_id[:61] + "..."
        return self.visits.page(visit, "not_found.html", 404, kind=kind, subject_id=shown)

    def _refused(self, visit: Visit, status: str, detail: str | None) -> Response:
        return self.visits.page(
            visit, "refused.html", _query_status(status), status_name=status, detail=detail
        )

    def _csrf_refused(self, visit: Visit) -> Response:
        return self.visits.page(visit, "refused.html", 403, status_name="csrf", detail=CSRF_REFUSED)


def _what(form: dict[str, str]) -> str:
    decision = "approval" if form.get("decision") == "approve" else "decline"
    if form.get("kind") == "notice":
        return f"{decision} of notice {form.get('subject_id', '')[:64]}"
    return (
        f"{decision} of proposal {form.get('subject_id', '')[:64]} "
        f"(case {form.get('case_id', '')[:64]})"
    )


def _form_key() -> str:
    """A fresh idempotency key for one rendered decision form: a double submit is one
    decision (`duplicate_accepted`)."""
    return f"console-{secrets.token_urlsafe(16)}"


def _query_status(status: str) -> int:
    codes = {"forbidden": 403, "not_found": 404, "validation_error": 422, "unreadable": 409}
    return codes.get(status, 503 if status == "unavailable" else 200)


def _at(decision: Any) -> Any:
    return decision.at
