"""`RunnerProcess`: the projection runner as a child process of the one hosting the embedded
store, started, watched and restarted here; to the App it is a runner like the thread one.

Rules:
- One child at a time. It is started by `start()` (under the runner's lease, as the thread
  runner is) and stopped by `stop()`: SIGTERM, then the child commits the batch in hand and
  exits; one that has not exited `timeout` seconds later is killed.
- A child that dies (killed, crashed) is started again after a backoff that doubles from
  `RESTART_DELAYS[0]` to `RESTART_DELAYS[-1]` (back to the first once a child has lived
  `STEADY` seconds). Nothing is lost: the new child resumes from the read store's
  checkpoints, and the checkpoints refuse a batch applied twice.
- Each commit of the event store wakes the child (`wire`); each commit of the child wakes
  this process's read-your-writes waiters (`wait_for_progress`) and moves the positions
  `wait_until` and `status` answer with.
- `status()` is the running child's last report. While no child runs (it died and waits for
  its restart, or a new one has not reported yet) the state is `restarting` and the views
  are not caught up (`caught_up` is the running child's own: a restarted child has caught up
  once it reaches the head it found), so `App.ready()` says not ready until it has.
- A child that ends before its runner started (it sent no status: e.g. its read store is down,
  or it dies at once) failed to start. From the `STALL_AFTER`-th such failure in a row the
  state is `stalled`, with the reason (the child's own, `wire.FAILED`, bounded) and since
  the first: `/readyz` says `projections_stalled` and `projections status` (this process
  writes the runner's report while no child runs) says stalled. The restarts go on with
  their backoff; the first child that reports ends the stall.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from caseledger.adapters.eventstore.embedded.commits import CommitSignal
from caseledger.adapters.readstore.runner_report import write_report
from caseledger.adapters.runner_process import wire
from caseledger.projections.runner import STALLED, RunnerStatus

log = logging.getLogger(__name__)

RESTART_DELAYS: Final = (0.25, 10.0)
"""The first and the longest pause before a dead child is started again (doubling between)."""
STEADY: Final = 30.0
"""Seconds a child must have lived for the next restart to wait the first delay again."""
STALL_AFTER: Final = 2
"""Children in a row that failed to start (see the module docstring) before the runner is
`stalled`: one may be a passing failure; two in a row are not."""
CHILD_MODULE: Final = "caseledger.adapters.runner_process"
STARTING: Final = "starting"
"""No child has reported yet (the first is starting)."""
RESTARTING: Final = "restarting"
"""No child runs: the last one ended, the next one is started after the backoff."""
RUNNING: Final = "running"


class RunnerProcess:
    """The runner child of this process (see the module docstring). `commits` is the hosted
    store's commit signal; `config` what the child opens."""

    def __init__(self, commits: CommitSignal, config: wire.ChildConfig) -> None:
        self._commits = commits
        self._config = config
        self._progress = threading.Condition()
        self._status: RunnerStatus | None = None
        """The last status a child reported, decoded once as it arrived."""
        self._committed: dict[str, int] = {}
        self._caught_up_once = False
        self._state = "created"
        self._ended: str | None = None
        self._reported = False
        """The running child has reported its status (its runner started)."""
        self._refused: str | None = None
        """Why the running child could not start its runner (what it said, bounded)."""
        self._failed_starts = 0
        """Children in a row that ended before their runner started."""
        self._failing_since: float | None = None
        """When the first of those ended (`time.time()`)."""
        self._reporting = False
        """The runner's report (`projections status`) is this process's, not a child's."""
        self._stopping = threading.Event()
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._spawning = threading.Lock()
        self._thread: threading.Thread | None = None
        self.restarts = 0
        """Children started again after one died."""

    @property
    def pid(self) -> int | None:
        """The running child's process id."""
        process = self._process
        return None if process is None or process.poll() is not None else process.pid

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the child, and watch it until `stop()` (once)."""
        if self._thread is not None:
            return
        self._state = STARTING
        self._commits.listen(self._wake)
        self._thread = threading.Thread(target=self._supervise, name="runner-process", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the child gracefully (the batch in hand commits; killed after `timeout`)."""
        self._stopping.set()
        with self._spawning:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("projection runner child %s did not stop; killing it", process.pid)
                process.kill()
                process.wait()
        if self._thread is not None:
            self._thread.join(timeout)
        self._commits.unlisten(self._wake)
        with self._progress:
            self._state = "stopped"
            self._progress.notify_all()
            ours = self._reporting
        if ours:  # no child runs to say it stopped
            self._report(RunnerStatus("stopped", {}, {}, None, False))

    def run_until_caught_up(self, timeout: float | None = None) -> bool:
        """Run the child until it has caught up (or `timeout`), then stop; True if caught up."""
        self.start()
        with self._progress:
            reached = self._progress.wait_for(lambda: self._caught_up_once, timeout)
        self.stop()
        return reached

    def _supervise(self) -> None:
        delays = _backoff()
        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                process, sock = self._spawn()
            except OSError as error:
                self._note_end(f"could not start: {error!r}")
            else:
                self._listen(sock)
                code = process.wait()
                self._sock = None
                sock.close()
                if self._stopping.is_set():
                    break
                self._note_end(f"pid {process.pid} ended with exit code {code}")
            if time.monotonic() - began > STEADY:
                delays = _backoff()
            self._stopping.wait(next(delays))
            self.restarts += 1

    def _spawn(self) -> tuple[subprocess.Popen[bytes], socket.socket]:
        with self._progress:
            self._reported, self._refused = False, None
        ours, theirs = wire.pair()
        try:
            ours.send(self._config.encode())
            with self._spawning:
                if self._stopping.is_set():
                    raise OSError("stopping")
                self._process = subprocess.Popen(
                    [sys.executable, "-m", CHILD_MODULE, str(theirs.fileno())],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._sock = ours
        self._wake(self._commits.head)
        return self._process, ours

    def _note_end(self, why: str) -> None:
        """The child has ended (or could not be spawned), for `why`: `restarting`, or
        `stalled` once `STALL_AFTER` children in a row failed to start."""
        with self._progress:
            if not self._reported:
                self._failed_starts += 1
                if self._failing_since is None:
                    self._failing_since = time.time()
                said = "" if self._refused is None else f": {self._refused}"
                why = wire.bounded(f"{why} before its runner started{said}")
            stalled = self._failed_starts >= STALL_AFTER
            began = stalled and self._state != STALLED
            self._state, self._ended = (STALLED if stalled else RESTARTING), why
            self._progress.notify_all()
            status = self._own_status()
        if self._stopping.is_set():
            return
        if began:
            log.warning("projection runner stalled: %s; starting it again", status.stalled_reason)
        elif not stalled:
            log.warning("projection runner child: %s; starting it again", why)
        self._report(status)

    def _report(self, status: RunnerStatus) -> None:
        """Write the runner's report (`projections status`) as this process's."""
        self._reporting = True
        try:
            write_report(Path(self._config.data_dir), status)
        except OSError as error:  # reporting must never stop the supervision
            log.warning("reporting the runner's state failed: %r", error)

    # -- the wire ---------------------------------------------------------------------------

    def _wake(self, head: int) -> None:
        """On the store's committing thread: tell the child, never waiting for it."""
        sock = self._sock
        if sock is None:
            return
        with contextlib.suppress(OSError):  # full (made up later, see `wire`) or gone
            sock.send(wire.POSITION.pack(head), socket.MSG_DONTWAIT)

    def _listen(self, sock: socket.socket) -> None:
        """The child's messages until it has gone."""
        try:
            while (data := wire.receive(sock)) is not None:
                self._received(data[:1], data[1:])
        except (OSError, ValueError) as error:
            log.warning("projection runner child: unreadable message: %r", error)

    def _received(self, kind: bytes, body: bytes) -> None:
        with self._progress:
            if kind == wire.COMMITTED:
                for name, position in wire.decode_committed(body):
                    if position > self._committed.get(name, -1):
                        self._committed[name] = position
            elif kind == wire.STATUS:
                if self._state == STALLED:
                    log.warning("projection runner resumed after: %s", self._stalled_reason())
                reported = wire.decode_status(body)
                self._status, self._ended, self._reported = reported, None, True
                self._reporting = False  # the child writes the report from its start
                self._state, self._failed_starts, self._failing_since = RUNNING, 0, None
                if not self._caught_up_once and reported.caught_up:
                    self._caught_up_once = True
            elif kind == wire.FAILED:
                self._refused = wire.decode_failed(body)
            self._progress.notify_all()

    # -- what the App asks of a runner ----------------------------------------------------

    def status(self) -> RunnerStatus:
        with self._progress:
            if self._status is None or self._ended is not None:
                return self._own_status()
            reported, committed = self._status, dict(self._committed)
        return dataclasses.replace(reported, positions=freshest_positions(reported, committed))

    def _own_status(self) -> RunnerStatus:
        """While no child reports (under `_progress`): the state here, the positions last
        reported, not caught up."""
        committed, ended = self._committed, self._ended
        positions = (
            dict(committed) if self._status is None else freshest_positions(self._status, committed)
        )
        stalled = self._state == STALLED
        return RunnerStatus(
            state=self._state,
            positions=dict(positions),
            stats={},
            last_error=None if ended is None else f"runner process {ended}",
            caught_up=False,
            stalled_reason=self._stalled_reason() if stalled else None,
            stalled_since=self._failing_since if stalled else None,
        )

    def _stalled_reason(self) -> str:
        return f"runner process cannot start: {self._ended}"

    def wait_until(self, position: int, timeout: float, projection_ids: Sequence[str] = ()) -> bool:
        """True once every (or every named) view's checkpoint the child reported is at or past
        `position`; False after `timeout` seconds (or before any child has reported)."""

        def reached() -> bool:
            if self._status is None:
                return False
            positions = freshest_positions(self._status, self._committed)
            chosen = [p for name, p in positions.items() if is_named(name, projection_ids)]
            return bool(chosen) and all(p is not None and p >= position for p in chosen)

        with self._progress:
            return self._progress.wait_for(reached, timeout)

    def wait_for_progress(self, timeout: float) -> None:
        """Return once the child reports a commit (or anything), or after `timeout` seconds."""
        with self._progress:
            self._progress.wait(timeout)


def freshest_positions(status: RunnerStatus, committed: dict[str, int]) -> dict[str, int | None]:
    """The status's positions, each moved to a later commit the child reported since."""
    return {
        name: max(p, committed[name])
        if p is not None and name in committed
        else (committed.get(name) if p is None else p)
        for name, p in status.positions.items()
    }


def is_named(projection_id: str, wanted: Sequence[str]) -> bool:
    """`projection_id` is one of `wanted`, or a build generation of one (`<id>_g<n>`)."""
    return not wanted or any(
        projection_id == w or projection_id.startswith(f"{w}_g") for w in wanted
    )


def _backoff() -> Iterator[float]:
    delay, longest = RESTART_DELAYS
    while True:
        yield delay
        delay = min(longest, delay * 2)
