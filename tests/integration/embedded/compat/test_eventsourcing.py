"""An `eventsourcing` Application keeps its events in the embedded store through
`eventsourcing-kurrentdb` (persistence module `eventsourcing_kurrentdb`, which drives the store
with kurrentdbclient): it saves and reloads an aggregate, reads its notifications (`$all`
positions) and feeds one of eventsourcing's projections (`ProjectionRunner`) over them."""

from __future__ import annotations

import threading
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Tracking
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.utils import get_topic

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer

WAIT = 30.0
"""Seconds a projection may take to catch up on a busy machine: generous, polled."""


class CaseFile(Aggregate):
    INITIAL_VERSION = 0  # eventsourcing-kurrentdb: versions are the stream's revisions

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.notes: list[str] = []

    @event("Noted")
    def add_note(self, text: str) -> None:
        self.notes.append(text)


class CaseFiles(Application[UUID]):
    def open_case(self, title: str) -> UUID:
        case = CaseFile(title)
        self.save(case)
        return case.id

    def add_note(self, case_id: UUID, text: str) -> None:
        case: CaseFile = self.repository.get(case_id)
        case.add_note(text)
        self.save(case)

    def case(self, case_id: UUID) -> CaseFile:
        found: CaseFile = self.repository.get(case_id)
        return found


class NoteCounts(POPOTrackingRecorder):
    """A materialised view: notes counted per case, with its tracking position."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counts: dict[UUID, int] = {}
        self._lock = threading.Lock()

    def count_note(self, case_id: UUID, tracking: Tracking) -> None:
        with self._lock:
            self.insert_tracking(tracking)
            self._counts[case_id] = self._counts.get(case_id, 0) + 1

    def notes_of(self, case_id: UUID) -> int:
        return self._counts.get(case_id, 0)


class CountNotes(Projection[NoteCounts]):
    topics = (get_topic(CaseFile.Noted),)

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: CaseFile.Noted, tracking: Tracking) -> None:
        self.view.count_note(domain_event.originator_id, tracking)


def env_for(server: EmbeddedServer) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing_kurrentdb",
        "KURRENTDB_URI": server.url,
        # The projection's view lives in memory; only the application uses the store.
        f"{CountNotes.name.upper()}_PERSISTENCE_MODULE": "eventsourcing.popo",
    }


def test_an_aggregate_saved_through_eventsourcing_reloads_from_the_embedded_store(
    embedded_server: EmbeddedServer,
) -> None:
    writer = CaseFiles(env_for(embedded_server))
    case_id = writer.open_case("late filing")
    writer.add_note(case_id, "asked for the records")
    writer.add_note(case_id, "records received")
    writer.close()

    reader = CaseFiles(env_for(embedded_server))
    try:
        case = reader.case(case_id)
    finally:
        reader.close()

    assert (case.title, case.notes) == (
        "late filing",
        ["asked for the records", "records received"],
    )
    assert case.version == 2


def test_the_applications_notifications_are_its_events_in_commit_order(
    embedded_server: EmbeddedServer,
) -> None:
    app = CaseFiles(env_for(embedded_server))
    try:
        first = app.open_case("first")
        second = app.open_case("second")
        app.add_note(first, "a note")
        notifications = app.notification_log.select(start=None, limit=10)
    finally:
        app.close()

    seen = [
        (str(n.originator_id), n.originator_version, n.topic.rsplit(".", 1)[-1])
        for n in notifications
    ]
    assert seen == [
        (str(first), 0, "Opened"),
        (str(second), 0, "Opened"),
        (str(first), 1, "Noted"),
    ]
    ids = [n.id for n in notifications]
    assert ids == sorted(set(ids))  # $all positions, strictly increasing


def test_an_eventsourcing_projection_counts_the_notes_as_they_are_saved(
    embedded_server: EmbeddedServer,
) -> None:
    env = env_for(embedded_server)
    app = CaseFiles(env)
    case_id = app.open_case("late filing")
    app.add_note(case_id, "before the projection started")
    try:
        with ProjectionRunner(
            application_class=CaseFiles,
            projection_class=CountNotes,
            view_class=NoteCounts,
            env=env,
        ) as runner:
            app.add_note(case_id, "after it started")
            runner.wait(app.recorder.max_notification_id(), timeout=WAIT)

            assert runner.view.notes_of(case_id) == 2
    finally:
        app.close()
