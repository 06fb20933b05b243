"""The README lists what a newcomer can call: every query type with its payload fields and
answer, every CLI command, every HTTP route."""

from __future__ import annotations

import re

import pytest
import typer
from starlette.routing import Mount

from caseledger.adapters.cli.app import app as cli
from caseledger.adapters.http.app import create_app
from caseledger.adapters.http.openapi import QUERY_ANSWERS
from caseledger.projections.queries.service import ROUTES as QUERY_ROUTES
from tests.e2e.test_reason_table import ROOT
from tests.support.live_service import Live

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    """The README's text under `title` up to the next heading of the same level or above."""
    level = title.split(" ")[0]
    start = README.index(f"\n{title}\n")
    rest = README[start + len(title) + 2 :]
    end = re.search(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


@pytest.mark.parametrize("query_type", sorted(QUERY_ROUTES))
def test_the_readme_lists_each_query_type_with_its_payload_and_answer(query_type: str) -> None:
    row = next(
        (x for x in section("### Queries").splitlines() if x.startswith(f"| `{query_type}` |")),
        None,
    )
    assert row is not None, query_type
    for field in QUERY_ROUTES[query_type].payload.model_fields:
        if field not in ("min_position", "max_wait_ms"):
            assert f"`{field}`" in row, (query_type, field)
    for key in QUERY_ANSWERS[query_type].keys:
        assert f"`{key}`" in row, (query_type, key)


def _commands(group: typer.Typer, prefix: str = "") -> set[str]:
    names = {
        prefix + (c.name or c.callback.__name__) for c in group.registered_commands if c.callback
    }
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        names |= _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return names


def test_the_readme_lists_every_cli_command() -> None:
    table = section("## CLI")
    commands = _commands(cli)
    assert {"audit case", "audit correlation", "query", "command"} <= commands
    for name in commands:
        group, _, sub = name.partition(" ")
        listed = f"`{name}" in table or re.search(rf"`{group} [^`]*\b{sub}\b", table)
        assert listed, name


def test_the_readme_lists_every_http_route(live: Live) -> None:
    table = section("## HTTP API")
    for route in create_app(live.app).routes:
        if isinstance(route, Mount):
            assert f"`GET {route.path}/...`" in table
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                assert f"`{method} {route.path}`" in table, (method, route.path)
