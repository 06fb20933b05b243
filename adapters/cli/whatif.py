"""`caseledger audit what-if --policy FILE`: which past decisions a draft policy would have
decided otherwise, and by which rule. Only reads.

Exit codes: 0 the report (also when nothing would change), 2 bad arguments or a draft that
`publish_policy` would refuse, 3 the event store (or the read store holding the audit index)
cannot be reached."""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Final, NoReturn, TextIO

import orjson
import typer
from rich.console import Console

from caseledger.adapters.audit.whatif import WhatIfService
from caseledger.adapters.bootstrap import read_store
from caseledger.adapters.cli.session import StoreRefused, store_session
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import EventStore
from caseledger.domain.application.whatif import WhatIf, document
from caseledger.domain.application.whatif.draft import InvalidDraft, draft_rules, since_of
from caseledger.domain.shared.errors import clip
from caseledger.domain.shared.policy_rules import PolicyRules
from caseledger.domain.shared.streams import InvalidId, check_tenant_id
from caseledger.projections.ports import ReadStoreUnavailable

errors = Console(stderr=True, soft_wrap=True, highlight=False)
SETTLE_WITHIN: Final = 2.0
"""How long it waits for the audit index to reach the store's head (a runner elsewhere)."""
BAD_ARGUMENTS: Final = 2
UNREACHABLE: Final = 3
MAX_POLICY_FILE: Final = 1_048_576


def what_if(
    policy: Annotated[
        Path, typer.Option("--policy", help="The draft's rules object, as JSON or TOML.")
    ],
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant (default: every one).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only decisions from this ISO-8601 date or date-time on."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Re-decide, without writing anything, every past decision that depended on policy
    (auto-commits, approver roles, evidence minimums, confidence floors, agent permissions;
    not budgets) under the draft FILE holds, and list each one whose outcome would differ,
    with the rule that makes the difference; then totals by rule. Exit 0 with the report, 2
    bad arguments or an invalid policy, 3 the store cannot be reached."""
    try:
        window = since_of(since) if since is not None else None
    except InvalidDraft as error:
        _fail(str(error))
    try:
        draft = draft_rules(_load(policy))
    except InvalidDraft as error:
        _fail(f"{policy}: {error}")
    try:
        if tenant is not None:
            check_tenant_id(tenant)
    except InvalidId as error:
        _fail(str(error))
    settings = Settings()
    with _stores(settings) as (events, views):
        report = WhatIfService(events, views, SETTLE_WITHIN).run(draft, tenant, window)
    if as_json:
        answer = document(report).model_dump(mode="json")
        sys.stdout.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        show(report, draft, sys.stdout)


def _fail(message: str) -> NoReturn:
    errors.print(f"error: {clip(message, 1000)}")
    raise typer.Exit(code=BAD_ARGUMENTS)


def _load(path: Path) -> Any:
    """FILE's object: TOML for `.toml`, JSON for `.json`, else whichever parses."""
    try:
        if path.stat().st_size > MAX_POLICY_FILE:
            raise InvalidDraft(f"larger than {MAX_POLICY_FILE} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidDraft(f"cannot be read ({type(error).__name__})") from None
    parsers = {".toml": [_toml], ".json": [_json]}.get(path.suffix.lower(), [_json, _toml])
    for parse in parsers:
        try:
            return parse(text)
        except ValueError:
            continue
    kinds = " or ".join(p.__name__.strip("_").upper() for p in parsers)
    raise InvalidDraft(f"is not {kinds}")


def _json(text: str) -> Any:
    return json.loads(text)


def _toml(text: str) -> Any:
    return tomllib.loads(text)


@contextmanager
def _stores(settings: Settings) -> Iterator[tuple[EventStore, Any]]:
    """The event store and the read store, or exit 3 when either does not answer."""
    try:
        with store_session(settings) as session:
            events = session.store
            views = read_store(settings)
            try:
                yield events, views
            finally:
                views.close()
    except StoreRefused:
        raise
    except ReadStoreUnavailable as error:
        errors.print(f"error: the read store does not answer: {error}")
        raise typer.Exit(code=UNREACHABLE) from error
    except typer.Exit as error:
        if error.exit_code == 1:  # store_session said why: none, or it does not answer
            raise typer.Exit(code=UNREACHABLE) from error
        raise


def show(report: WhatIf, draft: PolicyRules, out: TextIO) -> None:
    """The report as text: one block per decision that would differ, then totals by rule."""
    window = f" since {report.since.isoformat()}" if report.since else ""
    out.write(
        f"what-if: {len(report.differences)} of {report.examined} past decisions that "
        f"depended on policy would differ under the draft{window}\n"
    )
    for reason in report.incomplete:
        out.write(f"incomplete: {reason}\n")
    for d in report.differences:
        at = d.at.isoformat() if d.at else "-"
        out.write(
            f"\n{d.event}  case {d.case_id or '-'}  {d.command_type}  by {d.who}  at {at}\n"
            f"  then   {d.then.text}  (policy {d.policy_version})\n"
            f"  draft  {d.draft.text}\n"
            f"  rule   {', '.join(d.rules)}\n"
        )
        if d.note:
            out.write(f"  note   {d.note}\n")
    if report.undetermined:
        out.write(f"\nundetermined ({len(report.undetermined)}):\n")
        for u in report.undetermined:
            out.write(f"  {u.event}  {u.command_type}  by {u.who}: {u.why}\n")
    out.write("\ntotals by rule:\n")
    if not report.totals:
        out.write("  (none: nothing would change)\n")
    width = max((len(rule) for rule in report.totals), default=0)
    for rule, count in report.totals.items():
        out.write(f"  {rule.ljust(width)}  {count}\n")
