"""What `command` and `query` share: one POST to a running `caseledger serve`, printed as a
result (aligned text, `render`) or as JSON, with the exit code saying how it went."""

from __future__ import annotations

import sys
from typing import Any, Final

import httpx
import orjson
import typer
from rich.console import Console
from rich.markup import escape

from caseledger.adapters.cli.render import render, scalar

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

DEFAULT_URL: Final = "http://127.0.0.1:8000"
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNREACHABLE: Final = 3


def parse_payload(text: str) -> dict[str, Any]:
    try:
        payload = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        errors.print(f"[red]error:[/red] --payload is not JSON: {error}")
        raise typer.Exit(code=EXIT_USAGE) from error
    if not isinstance(payload, dict):
        errors.print("[red]error:[/red] --payload must be a JSON object")
        raise typer.Exit(code=EXIT_USAGE)
    return payload


def post(url: str, path: str, token: str, body: dict[str, Any], as_json: bool) -> None:
    """POST `body`; print the answer; exit 0 for 2xx, 1 for a refusal, 3 if unreachable."""
    try:
        response = httpx.post(
            f"{url.rstrip('/')}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30.0,
        )
    except httpx.HTTPError as error:
        errors.print(
            f"[red]error:[/red] cannot reach caseledger at {url} ({type(error).__name__}); "
            "is `caseledger serve` running? (--url / CASELEDGER_API_URL)"
        )
        raise typer.Exit(code=EXIT_UNREACHABLE) from error
    try:
        answer: Any = response.json()
    except ValueError:
        answer = {"status": response.status_code, "body": response.text}
    if as_json:
        sys.stdout.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _show(response.status_code, answer)
    if response.status_code >= 300:
        raise typer.Exit(code=EXIT_REFUSED)


def _show(status: int, answer: Any) -> None:
    """The answer as aligned text: a status line, then its fields (see `render`)."""
    if status >= 300 and isinstance(answer, dict):
        errors.print(
            f"[red]{escape(str(answer.get('outcome', 'error')))}[/red] ({status}) "
            f"[bold]{escape(str(answer.get('reason_code', '')))}[/bold]: "
            f"{escape(str(answer.get('detail', '')))}",
            highlight=False,
        )
        return
    if isinstance(answer, dict) and "events" in answer:
        colour = "green" if answer.get("status") != "requires_approval" else "yellow"
        _headline(colour, answer.get("status"), status)
        fields = {k: v for k, v in answer.items() if k not in _SHOWN and v is not None}
        events = [
            f"  {scalar(e.get('stream_id'))}@{scalar(e.get('stream_revision'))}  "
            f"{scalar(e.get('event_type'))}"
            for e in answer.get("events", [])
            if isinstance(e, dict)
        ]
        _write("\n".join([render(fields), *(["events", *events] if events else [])]))
        return
    if isinstance(answer, dict) and "data" in answer:
        colour = "green" if answer.get("status") == "ok" else "yellow"
        _headline(colour, answer.get("status"), status)
        fields = {k: v for k, v in answer.items() if k not in _SHOWN and v is not None}
        _write(render(fields))
        return
    _write(render(answer))


_SHOWN: Final = frozenset({"status", "events"})
"""Fields the headline or the event lines already show."""


def _headline(colour: str, outcome: object, status: int) -> None:
    console.print(f"[{colour}]{escape(str(outcome))}[/{colour}] ({status})", highlight=False)


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
