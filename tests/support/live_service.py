"""A live caseledger over real HTTP: bootstrap on a data dir (events in memory), the projection
runner, and uvicorn on a free port; and the demo tokens end-to-end tests call it with."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.http.app import create_app
from caseledger.adapters.http.server import HttpServer
from caseledger.adapters.settings import Settings
from tests.support.api_client import ApiClient

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
