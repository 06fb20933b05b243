"""The composition root: every part `bootstrap` builds can be passed in instead (as Cosmic
Python's bootstrap takes its overrides), and a session gives a short command the event store
alone, refusing what it cannot use with a typed error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caseledger.adapters.bootstrap import (
    NoEventStore,
    StoreFormatRefused,
    bootstrap,
    bootstrap_session,
)
from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import NO_STREAM, NewEvent
from caseledger.domain.application.replay import replay
from caseledger.domain.application.storeformat import read_store_format
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.actors import ANALYST
from tests.support.builders import NOW, TENANT
from tests.support.clocks import FixedClock
from tests.support.commands import envelope

OPEN = {"case_id": "c1", "allegation_summary": "Unlicensed lending"}


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    started = EmbeddedServer.start(None, "127.0.0.1", 0, mem_db=True)
    try:
        yield started
    finally:
        started.stop(grace=1.0)


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, eventstore_url=None, readstore_url=None, tokens_file=None)


def test_the_store_and_the_clock_given_to_bootstrap_are_the_ones_the_app_uses(
    tmp_path: Path, server: EmbeddedServer
) -> None:
    given = KurrentEventStore.connect(server.url)
    with bootstrap(_settings(tmp_path), store=given, clock=FixedClock(NOW)) as app:
        assert app.store is given
        assert app.embedded is None  # nothing started beside the store given
        result = app.commands.handle(envelope("open_case", OPEN, ANALYST))
        assert result.status is CommandOutcome.ACCEPTED
        history = replay(given, "case", TENANT, "c1").history
        assert [event.occurred_at for event in history] == [NOW]


def test_without_observed_as_the_services_are_the_undecorated_ones(tmp_path: Path) -> None:
    with bootstrap(_settings(tmp_path), mem_db=True, eventstore_port=0) as app:
        assert app.telemetry is None
        assert app.commands is app.refusals  # the command service itself


def test_a_session_without_an_event_store_says_there_is_none(tmp_path: Path) -> None:
    with (
        pytest.raises(NoEventStore, match="no event store at"),
        bootstrap_session(_settings(tmp_path)),
    ):
        pass


def test_a_session_on_a_configured_store_never_marks_it(server: EmbeddedServer) -> None:
    settings = Settings(eventstore_url=server.url)
    with bootstrap_session(settings) as session:
        assert session.store.head_position() == 0
    probe = KurrentEventStore.connect(server.url)
    try:
        assert read_store_format(probe) is None
    finally:
        probe.close()


def test_a_session_refuses_a_store_in_the_old_naming_format(server: EmbeddedServer) -> None:
    old = KurrentEventStore.connect(server.url)
    try:
        old.append("case-c1", [NewEvent("case.opened", b"{}")], NO_STREAM)
    finally:
        old.close()
    with (
        pytest.raises(StoreFormatRefused, match="migrate"),
        bootstrap_session(Settings(eventstore_url=server.url)),
    ):
        pass
