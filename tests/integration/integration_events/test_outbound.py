"""What `serve` starts beside the API, decided from the settings: the relay unless
CASELEDGER_OUTBOX=off, the worker when SMTP is set; an unreachable NATS is an error only with
CASELEDGER_OUTBOX=on, otherwise a reason. (No NATS needed: these never reach one.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.outbound import OutboundError, start_outbound
from caseledger.adapters.settings import Settings
from caseledger.domain.application.service import CommandService
from tests.support.ports import free_port


def _settings(tmp_path: Path, **values: object) -> Settings:
    nowhere = f"nats://127.0.0.1:{free_port()}"
    return Settings.model_validate({"data_dir": tmp_path, "nats_url": nowhere, **values})


def test_with_outbox_on_an_unreachable_nats_is_an_error(
    events: KurrentEventStore, service: CommandService, tmp_path: Path
) -> None:
    with pytest.raises(OutboundError, match="NATS does not answer"):
        start_outbound(events, service, _settings(tmp_path, outbox="on"))


def test_with_outbox_auto_an_unreachable_nats_leaves_both_off_and_says_why(
    events: KurrentEventStore, service: CommandService, tmp_path: Path
) -> None:
    outbound = start_outbound(
        events, service, _settings(tmp_path, outbox="auto", smtp_host="127.0.0.1")
    )

    assert (outbound.relay, outbound.worker) == (None, None)
    assert "NATS does not answer" in outbound.relay_absent
    assert "NATS does not answer" in outbound.worker_absent


def test_with_outbox_off_and_no_smtp_nothing_connects_or_writes(
    events: KurrentEventStore, service: CommandService, tmp_path: Path
) -> None:
    outbound = start_outbound(events, service, _settings(tmp_path, outbox="0"))

    assert (outbound.broker, outbound.relay, outbound.worker) == (None, None, None)
    assert "CASELEDGER_OUTBOX=off" in outbound.relay_absent
    assert "CASELEDGER_SMTP_HOST" in outbound.worker_absent
    assert list(tmp_path.iterdir()) == []
