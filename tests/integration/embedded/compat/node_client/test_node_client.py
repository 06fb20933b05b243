"""The official KurrentDB Node.js client (`@kurrent/kurrentdb-client`, pinned in package.json
and package-lock.json here) works against the embedded store: probe.mjs drives it and prints
what it saw. `./dev test` installs the client with `npm ci` when node_modules is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "node_modules" / "@kurrent" / "kurrentdb-client"

pytestmark = pytest.mark.slow


def _node() -> str:
    node = shutil.which("node")
    reason = ""
    if node is None:
        reason = "Node.js is not installed (`node` is not on PATH)"
    elif not CLIENT.is_dir():
        reason = f"the Node.js client is not installed: run `npm ci` in {HERE} (./dev test does)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert node is not None
    return node


def test_the_nodejs_client_appends_reads_subscribes_and_deletes_against_the_embedded_store(
    embedded_server: EmbeddedServer,
) -> None:
    node = _node()

    probe = subprocess.run(
        [node, str(HERE / "probe.mjs"), embedded_server.url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE,
    )

    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert (seen["first_revision"], seen["next_revision"]) == ("0", "2")
    assert seen["wrong_version"] == {
        "name": "WrongExpectedVersionError",
        "expected": "0",
        "actual": "2",
    }
    assert seen["forwards"] == [0, 1, 2]
    assert seen["backwards"] == [2, 1, 0]
    assert seen["backwards_from_1"] == [1, 0]
    a = seen["all_backwards_last"][0]
    assert seen["all_filtered"] == [f"{a}:case.opened", f"{a}:case.noted", f"{a}:case.noted"]
    b = a[:-1] + "b"
    assert seen["subscribed"] == [f"{a}:0", f"{a}:1", f"{a}:2", f"{b}:0", f"{b}:1"]
    assert seen["read_after_delete"]["name"] == "StreamNotFoundError"
    assert seen["delete_again_any"] == seen["delete_again_last_revision"] == "ok"
    assert seen["recreate_wrong_version"]["name"] == "WrongExpectedVersionError"
    assert (seen["recreated_revision"], seen["recreated"]) == ("3", [3])
    assert seen["recreated_truncate_before"] == "3"
    assert seen["read_after_tombstone"]["name"] == "StreamDeletedError"
    assert seen["append_after_tombstone"]["name"] == "StreamDeletedError"
    # A wrong version carries KurrentDB's trailers, so this client types it (not UnknownError).
    assert seen["never_existed_delete"]["name"] == "WrongExpectedVersionError"
    # v2 appends: the client calls them once the store's ServerFeatures lists them.
    assert seen["records"] == [f"{b}:2"]
    assert seen["records_stale_check"]["name"] == "AppendConsistencyViolationError"
    assert seen["multi_append"] == [f"{b}:3"]
