"""The EventStore port's backends: the embedded store always, a real KurrentDB where Docker runs.

Every test in this folder takes `event_store` and so runs once per backend.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kurrentdbclient import KurrentDBClient

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.eventstore.kurrent import KurrentEventStore

KURRENTDB_IMAGE = "docker.kurrent.io/kurrent-latest/kurrentdb:26.1"  # AppendRecords: 26.1+


def _docker_engine_answers() -> str | None:
    """None if `docker info` succeeds, else why not."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"`docker info` failed: {e}"
    if done.returncode != 0:
        return "`docker info` failed: no Docker engine answers"
    return None


@pytest.fixture(scope="session")
def kurrentdb_url() -> Iterator[str]:
    """A real single-node KurrentDB 26.1 in insecure mode, started by testcontainers."""
    why_not = _docker_engine_answers()
    if why_not:
        pytest.skip(f"real KurrentDB via testcontainers: {why_not}")
    container_module = pytest.importorskip("testcontainers.core.container")
    container: Any = (
        container_module.DockerContainer(KURRENTDB_IMAGE)
        .with_env("KURRENTDB_INSECURE", "true")
        .with_env("KURRENTDB_CLUSTER_SIZE", "1")
        .with_env("KURRENTDB_RUN_PROJECTIONS", "None")
        .with_exposed_ports(2113)
    )
    container.start()
    try:
        url = (
            f"kurrentdb://{container.get_container_host_ip()}:"
            f"{container.get_exposed_port(2113)}?tls=false"
        )
        _wait_until_ready(url)
        yield url
    finally:
        container.stop()


def _wait_until_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = KurrentDBClient(uri=url)
            try:
                client.get_commit_position(timeout=2)
                return
            finally:
                client.close()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


BACKENDS = ["embedded", "inprocess", pytest.param("kurrentdb", marks=pytest.mark.docker)]
"""The gRPC adapter on the embedded store, the in-process adapter on it, a real KurrentDB."""


@pytest.fixture(params=BACKENDS)
def event_store(
    request: pytest.FixtureRequest,
) -> Iterator[KurrentEventStore | InProcessEventStore]:
    yield from connected(request, request.param)


def connected(
    request: pytest.FixtureRequest, backend: str
) -> Iterator[KurrentEventStore | InProcessEventStore]:
    """The adapter on `backend`: over gRPC on the embedded store or a real KurrentDB, or in
    process on the embedded store's own storage and writer."""
    if backend == "inprocess":
        hosted: EmbeddedServer = request.getfixturevalue("embedded_server")
        yield InProcessEventStore(hosted.store)
        return
    if backend == "embedded":
        server: EmbeddedServer = request.getfixturevalue("embedded_server")
        url = server.url
    else:
        url = request.getfixturevalue("kurrentdb_url")
    store = KurrentEventStore.connect(url)
    yield store
    store.close()
