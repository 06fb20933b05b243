"""The runner child: `python -m caseledger.adapters.runner_process FD`, FD its end of the socket
pair its hosting process made (see `wire.pair`). It runs the projection runner on the event store's
file, read-only, until SIGTERM or until the hosting process goes (the end of the socket), then
stops it gracefully (the batch in hand commits). One that cannot start its runner (it cannot
open the store's file or the read store, or prepare the views there) tells its hosting process
why (`wire.FAILED`, one bounded line) and exits with `CANNOT_START`. SIGINT is ignored: a
terminal's Ctrl-C reaches the whole process group, and the hosting process stops its child in
its own order."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, cast

from caseledger.adapters.bootstrap import read_store, view_keeper
from caseledger.adapters.eventstore.embedded.commits import CommitSignal
from caseledger.adapters.eventstore.embedded.store import ReadOnlyStore
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.runner_process import wire
from caseledger.adapters.runtime import tune_gc
from caseledger.adapters.settings import Settings
from caseledger.projections.catalogue import all_projections
from caseledger.projections.ports import ProjectionBatch, ProjectionStore
from caseledger.projections.runner import ProjectionRunner, RunnerStatus

log = logging.getLogger(__name__)

CANNOT_START: Final = 1
"""The exit code of a child that could not start its runner (it said why: `wire.FAILED`)."""
STATUS_EVERY = 0.25
"""Seconds between two looks at the runner's status when nothing wakes the reporter: a change
nobody signals (e.g. the counts a commit moved) reaches the hosting process within this."""


class Reporter:
    """Sends the hosting process each commit's checkpoints (at once, from the committing
    thread) and the runner's status when it changed: at once when the runner's state moves
    (`changed`), else at the next look (`STATUS_EVERY`; e.g. the counts a commit moved). A
    failed send means the hosting process has gone: `gone` is set."""

    def __init__(self, sock: socket.socket, gone: threading.Event) -> None:
        self.sock = sock
        self.gone = gone
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._last: bytes | None = None

    def committed(self, batches: Sequence[ProjectionBatch]) -> None:
        checkpoints = [(b.projection_id, b.to_position) for b in batches]
        self._send(wire.message(wire.COMMITTED, wire.encode_committed(checkpoints)))

    def failed(self, reason: str) -> None:
        """The runner could not start, for `reason`."""
        self._send(wire.message(wire.FAILED, wire.encode_failed(reason)))

    def changed(self) -> None:
        self._changed.set()

    def report(self, status: RunnerStatus) -> None:
        """Send `status` unless it is the one sent last."""
        body = wire.encode_status(status)
        if body != self._last:
            self._last = body
            self._send(wire.message(wire.STATUS, body))

    def run(self, status: Callable[[], RunnerStatus], stop: threading.Event) -> None:
        """Report the status as it changes until `stop`."""
        while not stop.is_set():
            self._changed.wait(STATUS_EVERY)
            self._changed.clear()
            self.report(status())

    def _send(self, data: bytes) -> None:
        try:
            with self._lock:
                self.sock.send(data)
        except OSError:
            self.gone.set()


class _ReportingStore:
    """The read store, telling the reporter each commit it made durable."""

    def __init__(self, store: ProjectionStore, reporter: Reporter) -> None:
        self._store = store
        self._reporter = reporter

    def commit(self, batches: Sequence[ProjectionBatch]) -> None:
        self._store.commit(batches)
        self._reporter.committed(batches)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def follow_commits(sock: socket.socket, commits: CommitSignal, gone: threading.Event) -> None:
    """Move `commits` to each head the hosting process sends; at the end of the stream (the
    hosting process has gone) set `gone`."""
    try:
        while (data := wire.receive(sock)) is not None:
            if len(data) == wire.POSITION.size:
                (head,) = wire.POSITION.unpack(data)
                if head > commits.head:
                    commits.committed(head)
    except OSError:
        pass
    gone.set()


def run(fd: int) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sock = socket.socket(fileno=fd)
    try:
        raw = wire.receive(sock)
        if raw is None:
            return CANNOT_START
        reporter = Reporter(sock, stop)
        with contextlib.ExitStack() as opened:
            try:
                runner = _runner(wire.ChildConfig.decode(raw), reporter, opened)
            except Exception as error:
                return _cannot_start(reporter, error)
            _serve(runner, reporter, stop)
        return 0
    finally:
        sock.close()


def _runner(
    config: wire.ChildConfig, reporter: Reporter, opened: contextlib.ExitStack
) -> ProjectionRunner:
    """The runner on the event store's file and the read store (each closed by `opened`)."""
    settings = Settings(data_dir=Path(config.data_dir), readstore_url=config.readstore_url)
    store = ReadOnlyStore(config.eventstore_path)
    opened.callback(store.close)
    views = read_store(settings)
    opened.callback(views.close)
    runner = view_keeper(
        InProcessEventStore(store, config.eventstore_timeout),
        cast(ProjectionStore, _ReportingStore(views, reporter)),
        all_projections(),
        settings.data_dir,
        then=reporter.changed,
    )
    threading.Thread(
        target=follow_commits,
        args=(reporter.sock, store.signal, reporter.gone),
        name="commits",
        daemon=True,
    ).start()
    return runner


def _serve(runner: ProjectionRunner, reporter: Reporter, stop: threading.Event) -> None:
    """Run `runner` until `stop`, reporting its status; then stop it (the batch in hand
    commits) and report the last status."""
    reporting = threading.Thread(
        target=reporter.run, args=(runner.status, stop), name="reporter", daemon=True
    )
    reporting.start()
    tune_gc()  # start-up is done: the runner runs from here on
    runner.start()
    stop.wait()
    runner.stop()
    reporting.join(STATUS_EVERY * 4)
    reporter.report(runner.status())


def _cannot_start(reporter: Reporter, error: Exception) -> int:
    """Tell the hosting process why the runner could not start (bounded): it logs and
    reports it (not every retry of a stall), so the child does not."""
    reporter.failed(wire.bounded(f"{type(error).__name__}: {error}"))
    return CANNOT_START


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="projection runner (child): %(message)s")
    sys.exit(run(int(sys.argv[1])))
