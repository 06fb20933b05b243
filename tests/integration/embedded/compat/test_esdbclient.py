"""esdbclient 1.1.7 (the client the design names, before its rename) works against the
embedded store too. It pins grpcio<1.72, so it runs from its own venv in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer

ESDBCLIENT = "esdbclient==1.1.7"
VENV = Path(__file__).resolve().parents[4] / ".venv-esdbclient"
PROBE = Path(__file__).with_name("esdbclient_probe.py")

pytestmark = pytest.mark.slow


def _esdbclient_python() -> Path:
    """A venv with esdbclient 1.1.7, made once and kept (gitignored) for later runs."""
    python = VENV / "bin" / "python"
    marker = VENV / ESDBCLIENT
    if marker.exists():
        return python
    venv.create(VENV, with_pip=True, clear=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", ESDBCLIENT],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        reason = f"could not install {ESDBCLIENT}: {install.stderr.strip()[-300:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    marker.touch()
    return python


def test_esdbclient_appends_reads_subscribes_deletes_and_recreates_against_the_embedded_store(
    tmp_path: Path,
) -> None:
    python = _esdbclient_python()
    server = EmbeddedServer.start(tmp_path / "store")
    try:
        url = f"esdb://{server.host}:{server.port}?Tls=false"
        probe = subprocess.run(
            [str(python), str(PROBE), url], capture_output=True, text=True, timeout=120
        )
    finally:
        server.stop(grace=1.0)
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout)
    assert seen["repeat_position"] == seen["position"]  # idempotent append
    assert seen["wrong_version"] == "WrongCurrentVersion"
    assert seen["revisions"] == [0, 1, 2]
    assert seen["types"] == ["case.opened", "case.noted", "case.noted"]
    assert json.loads(seen["metadata"]) == {"$correlationId": "c1"}
    assert seen["all_types"] == seen["types"]
    assert seen["subscribed"] == seen["types"]
    assert seen["after_delete"] == "NotFound"
    assert seen["version_after_delete"] == "StreamState.NO_STREAM"
    assert seen["delete_again_exists"] == "StreamIsDeleted"
    assert seen["recreate_wrong_version"] == "WrongCurrentVersion"
    assert seen["recreated"] == [3]
    assert seen["recreated_metadata"] == [{"$tb": 3}, 3]  # delete, delete, delete, re-create
    assert seen["delete_tombstoned"] == "StreamIsDeleted"
    assert seen["gossip"] == ["NODE_STATE_LEADER"]
