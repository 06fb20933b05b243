"""The projection runner as its own process (compose service `projections`): keeps the read
models in PostgreSQL up to date from the KurrentDB cluster until SIGTERM/SIGINT, exporting
lag and progress when CASELEDGER_OTEL is on. Run exactly one per read store."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from caseledger.adapters.bootstrap import bootstrap
from caseledger.adapters.observability.setup import instrument_app
from caseledger.adapters.settings import Settings

log = logging.getLogger("caseledger.projections")


def main() -> None:
    settings = Settings()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with bootstrap(settings) as app:
        telemetry = instrument_app(app, "caseledger-projections").telemetry
        app.start()
        log.warning("projection runner started on %s", app.eventstore_url)
        stop.wait()
        log.warning("stopping: the batch in hand commits first")
        if telemetry is not None:
            telemetry.shutdown()


if __name__ == "__main__":
    main()
