"""`bench_peers`' HTTP rows: `caseledger serve` in a child process (its own data dir, the outbox
off, the HTTP API and the embedded store on free ports, everything else as `serve` runs by
default: the in-process path, the projection runner, the access log, here into a file),
driven by httpx clients that keep their connections open, as agents and services do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from caseledger.adapters.cli.serve import SERVE_URL_FILE
from caseledger.adapters.tokens import demo_token_names

STARTUP = 60.0
"""Seconds `serve` may take to answer."""


class Serve:
    """`caseledger serve` on `data_dir`, until `stop()`."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CASELEDGER_")},
            "CASELEDGER_DATA_DIR": str(data_dir),
            "CASELEDGER_HTTP_PORT": "0",
            "CASELEDGER_EVENTSTORE_PORT": "0",
            "CASELEDGER_OUTBOX": "off",
        }
        command = [sys.executable, "-m", "caseledger.adapters.cli.app", "serve"]
        self._log = data_dir / "serve.log"  # its access log too: a file, never a pipe left full
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                command, env=environment, stdout=subprocess.DEVNULL, stderr=log
            )
        self.url = self._answering(data_dir)
        self._token = demo_token_names(data_dir / "tokens.toml")["analyst"]
        self.latest = 0
        """The newest commit position a command was acknowledged at."""
        self._latest_lock = threading.Lock()

    def _answering(self, data_dir: Path) -> str:
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"serve exited: {self._log.read_text()[-2000:]}")
            url_file = data_dir / SERVE_URL_FILE
            if url_file.exists() and (url := url_file.read_text().strip()):
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        return url
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("serve did not become ready")

    def client(self) -> httpx.Client:
        """A client that keeps its connection open (HTTP/1.1 keep-alive)."""
        headers = {"Authorization": f"Bearer {self._token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def open_case(self, client: httpx.Client, case_id: str) -> None:
        summary = {"case_id": case_id, "allegation_summary": "Unlicensed lending at 40% a month"}
        self._accepted(client, "open_case", summary)
        self._accepted(client, "start_case_review", {"case_id": case_id})

    def brief(self, client: httpx.Client, case_id: str) -> None:
        """The bench's command: one analyst brief on a warm case."""
        payload = {"case_id": case_id, "brief_id": f"b{uuid.uuid4().hex[:12]}",
                   "title": "Finding", "body": "x" * 200}  # fmt: skip
        self._accepted(client, "create_analyst_brief", payload)

    def _accepted(self, client: httpx.Client, command_type: str, payload: dict[str, Any]) -> None:
        answer = client.post(
            "/v1/commands", json={"command_type": command_type, "payload": payload}
        )
        body = answer.json()
        if answer.status_code != 200 or body.get("status") != "accepted":
            raise RuntimeError(f"{command_type} over HTTP: {answer.status_code} {body}")
        with self._latest_lock:
            self.latest = max(self.latest, body["commit_position"])

    def settle(self, client: httpx.Client, case_id: str) -> None:
        """Wait until the views reflect every command acknowledged so far."""
        payload = {"case_id": case_id, "min_position": self.latest, "max_wait_ms": 5000}
        for _ in range(24):
            answer = client.post(
                "/v1/queries", json={"query_type": "get_case_summary", "payload": payload}
            )
            if answer.status_code == 200 and answer.json().get("status") == "ok":
                return
        raise RuntimeError(f"serve's views did not catch up: {answer.text[:500]}")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
