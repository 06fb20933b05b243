"""A live caseledger over real HTTP: bootstrap on a temporary data dir (events in memory), the
projection runner, and uvicorn on a free port. One service per test module; tests use their own
case ids."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.http.app import create_app
from caseledger.adapters.http.server import HttpServer
from caseledger.adapters.settings import Settings
from tests.e2e.api_client import ApiClient

TOKENS = """
[tokens."tok-analyst-t1"]
tenant = "t1"
actor_type = "user"
actor_id = "alice"
roles = ["analyst"]

[tokens."tok-reviewer-t1"]
tenant = "t1"
actor_type = "user"
actor_id = "rita"
roles = ["reviewer"]

[tokens."tok-supervisor-t1"]
tenant = "t1"
actor_type = "user"
actor_id = "sam"
roles = ["supervisor"]

[tokens."tok-agent-t1"]
tenant = "t1"
actor_type = "agent"
actor_id = "risk-bot"
agent_name = "risk-bot"
run_id = "run-1"

[tokens."tok-analyst-t2"]
tenant = "t2"
actor_type = "user"
actor_id = "bob"
roles = ["analyst"]
"""


@dataclass
class Live:
    app: App
    url: str

    def client(self, token: str | None) -> ApiClient:
        return ApiClient(self.url, token)


@contextmanager
def live_service(data_dir: Path, tokens_toml: str = TOKENS) -> Iterator[Live]:
    """caseledger on `data_dir` (events in memory) behind uvicorn, ready; closed on exit."""
    tokens = data_dir / "tokens-e2e.toml"
    tokens.write_text(tokens_toml)
    app = bootstrap(
        Settings(data_dir=data_dir, tokens_file=tokens), mem_db=True, eventstore_port=0
    ).start()
    server = HttpServer.start(create_app(app))
    deadline = time.monotonic() + 30
    while not app.ready()[0] and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield Live(app, server.url)
    finally:
        server.stop()
        app.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_service(tmp_path_factory.mktemp("caseledger")) as service:
        yield service


@pytest.fixture
def as_(live: Live) -> Iterator[Callable[[str | None], ApiClient]]:
    """`as_("tok-reviewer-t1")` -> a client calling as that token."""
    clients: list[ApiClient] = []

    def make(token: str | None) -> ApiClient:
        client = live.client(token)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


_numbers = itertools.count(1)


@pytest.fixture
def case_id() -> str:
    return f"case-e2e-{next(_numbers)}"
