"""The audit index is an ordinary view: rebuilt from `$all` it equals the one the runner kept
live, and an audit read from an index behind the store says so (and lacks what it missed)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from caseledger.adapters.audit.service import AuditService
from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.readstore.sqlite import SqliteProjectionStore
from caseledger.adapters.settings import Settings
from caseledger.projections.audit.report import document
from caseledger.projections.rebuild import rebuild
from caseledger.projections.views.audit_index import AuditIndexProjection
from tests.support.actors import SUPERVISOR
from tests.support.drill import Desk, Drill, practice_drill


@pytest.fixture
def drilled(tmp_path: Path) -> Iterator[tuple[App, Drill]]:
    with bootstrap(Settings(data_dir=tmp_path / "live"), mem_db=True, eventstore_port=0) as app:
        app.start()
        drill = practice_drill(app.commands, "index")
        assert app.wait_for_views(app.store.head_position(), timeout=60)
        yield app, drill


def _rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT key, tenant_id, position, document, kind, correlation_id, causation_id, "
            "case_id, actor, run_id FROM audit_index_v1 ORDER BY key"
        ).fetchall()


def test_the_audit_index_rebuilt_equals_the_index_built_live(
    drilled: tuple[App, Drill], tmp_path: Path
) -> None:
    app, drill = drilled
    fresh = SqliteProjectionStore(tmp_path / "rebuilt.db")
    fresh.migrate()
    try:
        rebuild(app.store, fresh, AuditIndexProjection(), poll=0.05)
    finally:
        fresh.close()

    live = _rows(tmp_path / "live" / "readmodels.db")
    rebuilt = _rows(tmp_path / "rebuilt.db")
    assert rebuilt == live
    kinds = {row[4] for row in live}
    assert kinds == {"event", "draft", "run", "locator"}
    assert any(row[5] == drill.correlation_id for row in live)


def test_an_audit_from_an_index_behind_the_store_says_so(
    drilled: tuple[App, Drill], tmp_path: Path
) -> None:
    app, drill = drilled
    behind = SqliteProjectionStore(tmp_path / "behind.db")
    behind.migrate()
    try:
        rebuild(app.store, behind, AuditIndexProjection(), poll=0.05)
        Desk(app.commands, drill.correlation_id).issue(
            "close_case", {"case_id": drill.case_id, "resolution": "done"}, SUPERVISOR
        )  # the store moves on; nothing follows it into `behind`
        audit = AuditService(app.store, behind)
        trail = audit.case(drill.case_id, "t1")
        up_to_date = AuditService(app.store, app.views, settle_within=60).case(drill.case_id, "t1")
    finally:
        behind.close()

    answer = document(trail)
    assert answer["complete"] is False
    assert "the audit index is behind" in answer["incomplete_because"][0]
    assert 0 < behind_position(answer["index_as_of_position"]) < app.store.head_position()
    assert "case.closed" not in {e.event_type for e in trail.events}
    assert document(up_to_date)["complete"] is True
    assert "case.closed" in {e.event_type for e in up_to_date.events}


def behind_position(position: object) -> int:
    assert isinstance(position, int)
    return position
