"""A real KurrentDB for tests: a single node started by testcontainers where a Docker engine
answers; skipped with the reason where none does."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kurrentdbclient import KurrentDBClient

KURRENTDB_IMAGE = "docker.kurrent.io/kurrent-latest/kurrentdb:26.1"  # AppendRecords: 26.1+


def docker_engine_answers() -> str | None:
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


def kurrentdb_container() -> Iterator[str]:
    """A real single-node KurrentDB 26.1 in insecure mode, started by testcontainers."""
    why_not = docker_engine_answers()
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
