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
- `status()` is the child's last report; while no child runs, its state is `starting` (none
  has reported yet) or `restarting`. Once a child has caught up, `caught_up` stays true across
  restarts (the views were caught up once; their lag says how fresh they are).
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
from typing import Final

from caseledger.adapters.eventstore.embedded.commits import CommitSignal
from caseledger.adapters.runner_process import wire
from caseledger.projections.runner import RunnerStatus

log = logging.getLogger(__name__)

RESTART_DELAYS: Final = (0.25, 10.0)
"""The first and the longest pause before a dead child is started again (doubling between)."""
STEADY: Final = 30.0
"""Seconds a child must have lived for the next restart to wait the first delay again."""
CHILD_MODULE: Final = "caseledger.adapters.runner_process"


class RunnerProcess:
    """The runner child of this process (see the module docstring). `commits` is the hosted
    store's commit signal; `config` what the child opens."""

    def __init__(self, commits: CommitSignal, config: wire.ChildConfig) -> None:
        self._commits = commits
        self._config = config
        self._progress = threading.Condition()
        self._status: bytes | None = None
        self._committed: dict[str, int] = {}
        self._caught_up_once = False
        self._state = "created"
        self._ended: str | None = None
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
        self._state = "starting"
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
        if not self._stopping.is_set():
            log.warning("projection runner child: %s; starting it again", why)
        with self._progress:
            self._state, self._ended = "restarting", why
            self._progress.notify_all()

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
                self._status, self._ended = body, None
                if not self._caught_up_once and wire.decode_status(body).caught_up:
                    self._caught_up_once = True
            self._progress.notify_all()

    # -- what the App asks of a runner ----------------------------------------------------

    def status(self) -> RunnerStatus:
        with self._progress:
            raw, committed, ended = self._status, dict(self._committed), self._ended
            caught_up, state = self._caught_up_once, self._state
        if raw is None or ended is not None:
            positions = (
                committed if raw is None else freshest_positions(wire.decode_status(raw), committed)
            )
            return RunnerStatus(
                state=state,
                positions=dict(positions),
                stats={},
                last_error=None if ended is None else f"runner process {ended}",
                caught_up=caught_up,
            )
        reported = wire.decode_status(raw)
        return dataclasses.replace(
            reported,
            positions=freshest_positions(reported, committed),
            caught_up=reported.caught_up or caught_up,
        )

    def wait_until(self, position: int, timeout: float, projection_ids: Sequence[str] = ()) -> bool:
        """True once every (or every named) view's checkpoint the child reported is at or past
        `position`; False after `timeout` seconds (or before any child has reported)."""

        def reached() -> bool:
            if self._status is None:
                return False
            positions = freshest_positions(wire.decode_status(self._status), self._committed)
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
