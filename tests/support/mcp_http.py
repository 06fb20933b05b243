"""`caseledger mcp --transport http` for tests: the MCP server over streamable HTTP, served by
uvicorn in a thread, bearer tokens naming the agent (no identity fixed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from caseledger.adapters.bootstrap import App
from caseledger.adapters.mcp.identity import IdentitySource
from caseledger.adapters.mcp.server import build_server, http_app
from caseledger.adapters.mcp.tools import CaseTools
from tests.support.ports import free_port


@contextmanager
def mcp_over_http(app: App) -> Iterator[str]:
    """Serves MCP on `app`'s services and tokens; yields the endpoint's URL."""
    server = build_server(CaseTools(app.commands, app.queries, IdentitySource().current))
    port = free_port()
    config = uvicorn.Config(
        http_app(server, app.tokens, "127.0.0.1", "/mcp"),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not web.started:
        assert time.monotonic() < deadline, "the MCP HTTP server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        web.should_exit = True
        thread.join(10)
