"""What `command` and `query` share: one POST to a running `caseledger serve`, printed as a
result (rich) or as JSON, with the exit code saying how it went."""

from __future__ import annotations

import sys
from typing import Any, Final

import httpx
import orjson
import typer
from rich.console import Console
from rich.pretty import Pretty

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
    if status >= 300 and isinstance(answer, dict):
        errors.print(
            f"[red]{answer.get('outcome', 'error')}[/red] ({status}) "
            f"[bold]{answer.get('reason_code', '')}[/bold]: {answer.get('detail', '')}"
        )
        return
    if isinstance(answer, dict) and "events" in answer:
        colour = "green" if answer.get("status") != "requires_approval" else "yellow"
        console.print(f"[{colour}]{answer.get('status')}[/{colour}] ({status})")
        for event in answer.get("events", []):
            console.print(
                f"  {event['stream_id']}@{event['stream_revision']}  "
                f"[bold]{event['event_type']}[/bold]"
            )
        for key in ("approval_request_id", "stream_revision", "commit_position"):
            if answer.get(key) is not None:
                console.print(f"  {key}: {answer[key]}")
        return
    if isinstance(answer, dict) and "data" in answer:
        colour = "green" if answer.get("status") == "ok" else "yellow"
        console.print(f"[{colour}]{answer.get('status')}[/{colour}] ({status})")
        if answer.get("error_message"):
            console.print(f"  {answer['error_message']}")
        console.print(Pretty(answer.get("data")))
        return
    console.print(Pretty(answer))
