"""`caseledger audit verify` and `audit heads` on a real embedded store, tampered with by editing
its SQLite file directly (`adapters/eventstore/embedded/schema.sql`: one row per event in
`events`): an edit, deletions from the middle and from the end, a chain recomputed whole, an
older stream written without links, an event that is not JSON. Exit codes 0 / 1 / 2 / 3."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from caseledger.adapters.audit.service import AuditService
from caseledger.adapters.bootstrap import bootstrap
from caseledger.adapters.eventstore.embedded.database import DB_FILE
from caseledger.adapters.settings import Settings
from caseledger.domain.application.chains import LINK, recompute, with_link
from caseledger.domain.application.ports import RecordedEvent
from caseledger.projections.audit.report import document
from tests.support.actors import ANALYST
from tests.support.cli import invoke
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.ports import free_port

CASE = "case-t1_c1"


def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, eventstore_url=None, readstore_url=None, tokens_file=None)


def write_briefs(data_dir: Path, case_id: str, count: int, first: int = 0) -> None:
    with bootstrap(settings(data_dir), eventstore_port=0) as app:
        for n in range(first, first + count):
            body = {"case_id": case_id, "brief_id": f"b{n}", "title": "Finding", "body": "x"}
            accepted(issue(app.commands, "create_analyst_brief", body, ANALYST))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Two tenants' cases on the embedded store's SQLite file (the store stopped)."""
    data = tmp_path / "data"
    with bootstrap(settings(data), eventstore_port=0) as app:
        case_under_review(app.commands, "c1")  # revisions 0-3
        case_under_review(app.commands, "c2", tenant="t2")
        refused = issue(app.commands, "start_case_review", {"case_id": "c1"}, ANALYST)
        assert refused.reason_code is not None  # in the command log: not chained
    write_briefs(data, "c1", 2)  # a new process: the chain goes on from the events read
    return data


def env(data: Path) -> dict[str, str]:
    return {"CASELEDGER_DATA_DIR": str(data), "CASELEDGER_EVENTSTORE_URL": ""}


def verify(data: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, output = invoke(["audit", "verify", "--json", *args], env(data))
    return code, orjson.loads(output) if code in (0, 1) and output.startswith("{") else {}


def pin(data: Path, tmp_path: Path) -> Path:
    heads = tmp_path / "heads.json"
    code, output = invoke(["audit", "heads", "--out", str(heads)], env(data))
    assert code == 0, output
    return heads


@pytest.fixture
def events_db(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """The embedded store's own file, opened as a forger would (the store is not running)."""
    with closing(sqlite3.connect(data_dir / "eventstore" / DB_FILE)) as db:
        yield db


def rows(db: sqlite3.Connection, stream: str) -> list[RecordedEvent]:
    found = db.execute(
        "SELECT event_id, revision, type, data, metadata, position FROM events"
        " WHERE stream = ? ORDER BY revision",
        (stream,),
    ).fetchall()
    return [
        RecordedEvent(uuid.UUID(i), stream, r, t, bytes(d), bytes(m), "application/json", p)
        for i, r, t, d, m, p in found
    ]


def edit_data(db: sqlite3.Connection, stream: str, revision: int, **changes: Any) -> None:
    (data,) = db.execute(
        "SELECT data FROM events WHERE stream = ? AND revision = ?", (stream, revision)
    ).fetchone()
    edited = orjson.dumps(orjson.loads(data) | changes)
    db.execute(
        "UPDATE events SET data = ? WHERE stream = ? AND revision = ?", (edited, stream, revision)
    )
    db.commit()


def delete(db: sqlite3.Connection, stream: str, revision: int) -> None:
    db.execute("DELETE FROM events WHERE stream = ? AND revision = ?", (stream, revision))
    db.commit()


def set_metadata(db: sqlite3.Connection, recorded: RecordedEvent, metadata: bytes) -> None:
    db.execute(
        "UPDATE events SET metadata = ? WHERE stream = ? AND revision = ?",
        (metadata, recorded.stream, recorded.revision),
    )
    db.commit()


def broken(report: dict[str, Any], stream: str) -> dict[str, Any]:
    (entry,) = [s for s in report["streams"] if s["stream"] == stream]
    assert isinstance(entry, dict)
    return entry


def test_an_intact_store_verifies_with_exit_0(data_dir: Path) -> None:
    code, report = verify(data_dir)
    assert code == 0, report
    assert report["intact"] is True
    assert report["summary"] == {
        "streams": 2,  # the two cases; the command log is not chained
        "events": 10,
        "intact": 2,
        "unchained": 0,
        "broken": 0,
        "unreadable": 0,
        "heads_not_reached": 0,
    }
    code, text = invoke(["audit", "verify", "--tenant", "t2"], env(data_dir))
    assert code == 0, text
    assert "intact: 1 streams, 4 events" in text


def test_an_event_edited_in_the_sqlite_file_breaks_its_stream_at_that_revision(
    data_dir: Path, events_db: sqlite3.Connection
) -> None:
    edit_data(events_db, CASE, 1, started_by="mallory")
    code, report = verify(data_dir)
    assert code == 1, report
    assert report["summary"]["broken"] == 1
    entry = broken(report, CASE)
    assert entry["status"] == "broken"
    assert entry["first_break"]["revision"] == 1
    assert entry["first_break"]["kind"] == "link_differs"
    code, text = invoke(["audit", "verify", "--stream", CASE], env(data_dir))
    assert code == 1
    assert f"broken {CASE} at revision 1: link differs" in text
    assert verify(data_dir, "--tenant", "t2")[0] == 0  # the other tenant's chain is intact


def test_an_event_deleted_from_the_middle_is_a_missing_revision(
    data_dir: Path, events_db: sqlite3.Connection
) -> None:
    delete(events_db, CASE, 2)
    code, report = verify(data_dir)
    assert code == 1, report
    first = broken(report, CASE)["first_break"]
    assert (first["revision"], first["kind"]) == (3, "revision_missing")
    assert "revision 2 missing" in first["differs"]


def test_an_event_deleted_from_the_end_is_caught_only_with_the_pinned_heads(
    data_dir: Path, events_db: sqlite3.Connection, tmp_path: Path
) -> None:
    heads = pin(data_dir, tmp_path)
    delete(events_db, CASE, 5)

    assert verify(data_dir)[0] == 0  # what is left is a consistent chain
    code, report = verify(data_dir, "--heads", str(heads))
    assert code == 1, report
    assert report["summary"]["heads_not_reached"] == 1
    (unreached,) = report["heads_not_reached"]
    assert unreached["stream"] == CASE
    assert "ends at revision 4, before the pinned head at revision 5" in unreached["reason"]


def test_a_chain_recomputed_whole_after_an_edit_is_caught_only_with_the_pinned_heads(
    data_dir: Path, events_db: sqlite3.Connection, tmp_path: Path
) -> None:
    heads = pin(data_dir, tmp_path)
    edit_data(events_db, CASE, 2, submitted_by="mallory")
    history = rows(events_db, CASE)
    previous = orjson.loads(history[1].metadata)[LINK]
    for recorded in history[2:]:  # the forger relinks every event after the edit
        metadata = orjson.loads(recorded.metadata)
        metadata.pop(LINK)
        previous = recompute(replace(recorded, metadata=orjson.dumps(metadata)), previous).link
        set_metadata(events_db, recorded, with_link(orjson.dumps(metadata), previous))

    assert verify(data_dir)[0] == 0  # the forgery is a consistent chain by itself
    code, report = verify(data_dir, "--heads", str(heads))
    assert code == 1, report
    (unreached,) = report["heads_not_reached"]
    assert unreached["stream"] == CASE
    assert "another link than the one pinned" in unreached["reason"]
    code, text = invoke(["audit", "verify", "--heads", str(heads)], env(data_dir))
    assert code == 1
    assert f"head not reached {CASE}" in text


def test_an_older_stream_written_without_links_is_unchained_up_to_its_last_unlinked_event(
    data_dir: Path, events_db: sqlite3.Connection
) -> None:
    for recorded in rows(events_db, CASE):  # as code before chains wrote them
        metadata = orjson.loads(recorded.metadata)
        metadata.pop(LINK)
        set_metadata(events_db, recorded, orjson.dumps(metadata))
    events_db.close()
    write_briefs(data_dir, "c1", 1, first=2)  # today's code appends to it: a chain begins

    code, report = verify(data_dir)
    assert code == 0, report
    assert report["summary"]["unchained"] == 1
    entry = broken(report, CASE)
    assert (entry["status"], entry["unchained_up_to_revision"]) == ("unchained", 5)
    assert entry["first_break"] is None
    code, text = invoke(["audit", "verify"], env(data_dir))
    assert f"unchained {CASE} up to revision 5" in text


def test_an_event_that_is_not_json_is_unreadable_with_exit_1(
    data_dir: Path, events_db: sqlite3.Connection
) -> None:
    events_db.execute(
        "UPDATE events SET data = ? WHERE stream = ? AND revision = 3", (b"\x00\xff", CASE)
    )
    events_db.commit()
    code, report = verify(data_dir)
    assert code == 1, report
    assert report["summary"]["unreadable"] == 1
    entry = broken(report, CASE)
    assert entry["status"] == "unreadable"
    assert entry["first_break"]["revision"] == 3
    assert entry["events"] == 6  # counted on past it


def test_bad_arguments_exit_2_and_an_unknown_stream_exits_1(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "not-heads.json").write_text('{"format": "something else"}')
    for args in (
        ["--tenant", "t_1"],
        ["--stream", "commandlog-t1"],  # not chained
        ["--stream", "snapshot-case-t1_c1"],
        ["--heads", str(tmp_path / "missing.json")],
        ["--heads", str(tmp_path / "not-heads.json")],
    ):
        code, output = invoke(["audit", "verify", *args], env(data_dir))
        assert code == 2, (args, output)
    code, output = invoke(["audit", "verify", "--stream", "case-t1_nope"], env(data_dir))
    assert code == 1, output
    assert "no stream case-t1_nope" in output


@pytest.mark.parametrize("command", [["verify"], ["heads", "--out", "heads.json"]])
def test_an_event_store_that_cannot_be_reached_exits_3(tmp_path: Path, command: list[str]) -> None:
    unreachable = f"kurrentdb://127.0.0.1:{free_port()}?tls=false"
    environment = {"CASELEDGER_DATA_DIR": str(tmp_path), "CASELEDGER_EVENTSTORE_URL": unreachable}
    code, output = invoke(["audit", *command], environment)
    assert code == 3, output
    assert "the event store does not answer" in output


def test_an_audit_report_names_the_chain_head_of_each_stream_it_covers(data_dir: Path) -> None:
    with bootstrap(settings(data_dir), eventstore_port=0) as app:
        app.start()
        assert app.wait_for_views(app.store.head_position(), timeout=60)
        trail = AuditService(app.store, app.views, settle_within=60).case("c1", "t1")
    heads = {h["stream"]: h for h in document(trail)["chain_heads"]}
    head = heads[CASE]
    assert head["revision"] == 5
    assert head["link"] == orjson.loads(rows_of(data_dir)[-1].metadata)[LINK]
    assert heads["commandlog-t1"]["link"] is None  # in the trail, not chained


def rows_of(data: Path) -> list[RecordedEvent]:
    with closing(sqlite3.connect(data / "eventstore" / DB_FILE)) as db:
        return rows(db, CASE)


def test_chains_written_through_append_records_over_grpc_verify_intact(tmp_path: Path) -> None:
    """Metadata that went through AppendRecords as record properties (keys reordered by the
    store) still hashes to the link written: the chain is over parsed JSON."""
    data = tmp_path / "data"
    grpc = settings(data).model_copy(update={"embedded_path": "grpc"})
    with bootstrap(grpc, eventstore_port=0) as app:
        case_under_review(app.commands, "c1")
    code, report = verify(data)
    assert code == 0, report
    assert (report["summary"]["intact"], report["summary"]["events"]) == (1, 4)
