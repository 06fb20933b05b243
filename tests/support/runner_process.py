"""A projection runner in its own process (the kill -9 test runs and kills it):
`python -m tests.support.runner_process EVENTSTORE_URL SQLITE_PATH`."""

from __future__ import annotations

import sys
import threading

from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.projections.catalogue import all_projections
from caseledger.projections.runner import ProjectionRunner, RunnerSettings


def main(url: str, path: str) -> None:
    runner = ProjectionRunner(
        KurrentEventStore.connect(url),
        SqliteProjectionStore(path),
        all_projections(),
        RunnerSettings(batch_size=25),
    )
    runner.start()
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
