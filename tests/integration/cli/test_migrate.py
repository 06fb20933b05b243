"""`caseledger migrate`: a store written before tenant-scoped names (built here through the raw
kurrentdbclient, with today's events under the old names) is refused by every command that
reads it, and copied into a new data dir, where replay, audit and views match the history it
was made from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient import NewEvent as RawEvent

from caseledger.adapters.audit.service import AuditService
from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.envelopes import query_envelope
from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from caseledger.adapters.settings import Settings
from caseledger.adapters.tokens import Principal
from caseledger.domain.application.ports import RecordedEvent
from caseledger.domain.application.replay import replay, replay_document
from caseledger.domain.application.storeformat import FORMAT_STREAM
from caseledger.domain.shared.actors import Actor, ActorType
from caseledger.projections.audit.report import answers, timeline
from tests.support.actors import ANALYST, SUPERVISOR
from tests.support.cli import invoke
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review

RUNTIME = Actor(ActorType.SYSTEM, "agent-runtime", run_id="r1")
NOTICE = {"recipient": "lender@example.com", "subject": "Cease", "body": "Stop."}


def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, eventstore_url=None, readstore_url=None, tokens_file=None)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[App]:
    """Today's code at work for two tenants (ids apart: the old names had one namespace)."""
    with bootstrap(settings(tmp_path / "history"), mem_db=True, eventstore_port=0) as app:
        service = app.commands
        case_under_review(service, "c1")
        case_under_review(service, "c2", tenant="t2")
        run = {"run_id": "r1", "agent_name": "risk-bot", "requested_by": "alice"}
        issue(service, "start_run", {**run, "user_request": "Assess", "case_id": "c1"}, RUNTIME)
        draft = {"draft_id": "n1", "case_id": "c1", **NOTICE}
        accepted(issue(service, "create_notice_draft", draft, ANALYST, key="draft"))
        again = issue(service, "start_case_review", {"case_id": "c1"}, ANALYST)
        assert again.reason_code is not None  # a refusal, in the command log
        last = issue(
            service, "close_case", {"case_id": "c2", "resolution": "x"}, SUPERVISOR, tenant="t2"
        )
        accepted(last)
        app.start()
        assert app.wait_for_views(last.commit_position or 0, timeout=60)
        yield app


def old_name(stream: str) -> str:
    """What the code before tenant-scoped names called a stream (`case-t1_c1` -> `case-c1`)."""
    category, _, rest = stream.partition("-")
    if category in ("case", "noticedraft", "run"):
        return f"{category}-{rest.partition('_')[2]}"
    return stream


def old_event(recorded: RecordedEvent) -> RawEvent:
    metadata, data = orjson.loads(recorded.metadata), orjson.loads(recorded.data)
    if "factsRead" in metadata:
        facts = [f.rpartition("@") for f in metadata["factsRead"].split(",")]
        metadata["factsRead"] = ",".join(f"{old_name(s)}@{r}" for s, _, r in facts)
    if recorded.stream.startswith("commandlog-") and data.get("stream_id"):
        data["stream_id"] = old_name(data["stream_id"])
    return RawEvent(
        type=recorded.type,
        data=orjson.dumps(data),
        metadata=orjson.dumps(metadata),
        id=recorded.id,
    )


def everything(app: App) -> list[RecordedEvent]:
    head = app.store.head_position()
    found: list[RecordedEvent] = []
    subscription = app.store.subscribe_all(None)
    for recorded in subscription:
        found.append(recorded)
        if recorded.commit_position >= head:
            break
    subscription.stop()
    return found


def write_old_store(data_dir: Path, events: list[RecordedEvent], tenant: str = "t1") -> None:
    """An embedded store as the code before tenant-scoped names left it, written through the
    raw client: `case-<id>` names, no format marker, and an old snapshot."""
    server = EmbeddedServer.start(data_dir / "eventstore", "127.0.0.1", 0)
    client = KurrentDBClient(server.url)
    try:
        for recorded in events:
            if recorded.stream != FORMAT_STREAM:
                client.append_to_stream(
                    old_name(recorded.stream),
                    events=[old_event(recorded)],
                    current_version=StreamState.ANY,
                )
        snapshot = RawEvent(type="caseledger.snapshot", data=b"{}", metadata=b"{}")
        client.append_to_stream(
            "snapshot-case-c1", events=[snapshot], current_version=StreamState.ANY
        )
    finally:
        client.close()
        server.stop(grace=1.0)


def env(data_dir: Path) -> dict[str, str]:
    return {"CASELEDGER_DATA_DIR": str(data_dir), "CASELEDGER_EVENTSTORE_URL": ""}


def test_every_command_that_reads_an_old_store_exits_1_naming_the_fix(
    history: App, tmp_path: Path
) -> None:
    old = tmp_path / "old"
    write_old_store(old, everything(history))
    for args in (
        ["replay", "case", "c1", "--tenant", "t1"],
        ["audit", "case", "c1"],
        ["projections", "status"],
        ["serve", "--port", "0", "--eventstore-port", "0"],
    ):
        code, output = invoke(args, env(old))
        assert code == 1, (args, output)
        assert "caseledger migrate --from OLD_DATA_DIR --to NEW_DATA_DIR" in output, args


def test_a_migrated_store_replays_audits_and_serves_views_as_the_history_it_holds(
    history: App, tmp_path: Path
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    write_old_store(old, everything(history))

    code, output = invoke(["migrate", "--from", str(old), "--to", str(new)])

    assert code == 0, output
    assert "not copied: 1 snapshot events" in output
    with bootstrap(settings(new), eventstore_port=0) as migrated:
        for aggregate, tenant, aggregate_id in (
            ("case", "t1", "c1"),
            ("case", "t2", "c2"),
            ("notice_draft", "t1", "n1"),
            ("agent_run", "t1", "r1"),
            ("policy", "t1", "t1"),
        ):
            assert _replayed(migrated, aggregate, tenant, aggregate_id) == _replayed(
                history, aggregate, tenant, aggregate_id
            )
        assert _audited(migrated, "t1", "c1") == _audited(history, "t1", "c1")
        assert _audited(migrated, "t2", "c2") == _audited(history, "t2", "c2")
        for query, payload, tenant in (
            ("get_case_summary", {"case_id": "c1"}, "t1"),
            ("get_case_agent_context", {"case_id": "c2"}, "t2"),
            ("list_notice_drafts", {"case_id": "c1"}, "t1"),
            ("search_evidence", {"text": "ledger"}, "t2"),
        ):
            assert _viewed(migrated, query, payload, tenant) == _viewed(
                history, query, payload, tenant
            )


def test_a_migration_that_fails_leaves_a_new_dir_every_command_refuses(
    history: App, tmp_path: Path
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    events = everything(history)
    write_old_store(old, events)
    server = EmbeddedServer.start(old / "eventstore", "127.0.0.1", 0)
    client = KurrentDBClient(server.url)
    outside = {"tenantId": "acme_eu"}  # the separator: outside today's tenant grammar
    late = RawEvent(type="case.opened", data=b"{}", metadata=orjson.dumps(outside))
    client.append_to_stream("case-c9", events=[late], current_version=StreamState.ANY)
    client.close()
    server.stop(grace=1.0)

    code, output = invoke(["migrate", "--from", str(old), "--to", str(new)])

    assert code == 1, output
    assert "case-c9" in output
    assert "incomplete" in output
    code, output = invoke(["replay", "case", "c1", "--tenant", "t1"], env(new))
    assert code == 1
    assert "unfinished migration" in output


@pytest.mark.parametrize("target", ["same", "inside", "not empty", "no store"])
def test_migrate_refuses_bad_arguments_with_exit_2(tmp_path: Path, target: str) -> None:
    old = tmp_path / "old"
    (old / "eventstore").mkdir(parents=True)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    source, destination = {
        "same": (old, old),
        "inside": (old, old / "new"),
        "not empty": (old, tmp_path / "full"),
        "no store": (tmp_path / "nothing", tmp_path / "new"),
    }[target]
    code, output = invoke(["migrate", "--from", str(source), "--to", str(destination)])
    assert code == 2, output
    assert not (tmp_path / "new").exists()


def _replayed(app: App, aggregate: str, tenant: str, aggregate_id: str) -> dict[str, Any]:
    document = replay_document(replay(app.store, aggregate, tenant, aggregate_id))
    for event in document["history"]:
        event.pop("commit_position")
    return document


def _audited(app: App, tenant: str, case_id: str) -> dict[str, Any]:
    app.start()  # the audit reads the index its runner keeps
    trail = AuditService(app.store, app.views, settle_within=60).case(case_id, tenant)
    rows = [{k: v for k, v in r.items() if k != "position"} for r in timeline(trail)]
    return _without_positions({"answers": answers(trail), "timeline": rows})


def _viewed(app: App, query: str, payload: dict[str, Any], tenant: str) -> Any:
    result = app.queries.handle(query_envelope(Principal(tenant, SUPERVISOR), query, payload))
    assert result.status == "ok", result
    data = dict(result.data)
    data.pop("freshness")
    return _without_positions(data)


def _without_positions(value: Any) -> Any:
    """`value` without its `$all` positions: the only thing a copy into a new store changes."""
    if isinstance(value, dict):
        return {
            k: _without_positions(v)
            for k, v in value.items()
            if k not in ("as_of_position", "commit_position", "position")
        }
    if isinstance(value, list):
        return [_without_positions(v) for v in value]
    return value
