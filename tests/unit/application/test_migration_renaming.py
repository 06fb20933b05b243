"""Renaming events from the names before tenant-scoped ones: the tenant comes from the events,
references to renamed streams follow, snapshots stay behind, and what cannot be renamed fails
naming its stream."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from caseledger.domain.application.migration import MigrationError, Renaming
from caseledger.domain.application.ports import RecordedEvent


def recorded(stream: str, revision: int = 0, data: Any = None, **metadata: str) -> RecordedEvent:
    return RecordedEvent(
        id=uuid.uuid4(),
        stream=stream,
        revision=revision,
        type="x.y",
        data=orjson.dumps(data or {}),
        metadata=orjson.dumps(metadata),
        content_type="application/json",
        commit_position=revision + 1,
    )


def test_aggregate_streams_take_their_events_tenant_and_keep_ids_and_revisions() -> None:
    renaming = Renaming()
    first, second = recorded("case-c_1", 0, tenantId="t1"), recorded("case-c_1", 1)
    renamed = [renaming.rename(first), renaming.rename(second)]
    assert [(r.stream, r.revision, r.event.id) for r in renamed if r] == [
        ("case-t1_c_1", 0, first.id),
        ("case-t1_c_1", 1, second.id),
    ]
    assert renamed[0] is not None
    assert renamed[0].event.metadata == first.metadata  # unchanged bytes
    run = renaming.rename(recorded("run-run-9", tenantId="t2"))
    assert run is not None
    assert run.stream == "run-t2_run-9"


def test_tenant_streams_keep_their_names_and_references_follow_the_rename() -> None:
    renaming = Renaming()
    renaming.rename(recorded("case-c1", tenantId="t1"))
    notice = renaming.rename(recorded("noticedraft-n1", tenantId="t1", factsRead="case-c1@3"))
    assert notice is not None
    assert orjson.loads(notice.event.metadata)["factsRead"] == "case-t1_c1@3"
    log = renaming.rename(recorded("commandlog-t1", data={"stream_id": "case-zz"}, tenantId="t1"))
    assert log is not None
    assert (log.stream, orjson.loads(log.event.data)["stream_id"]) == (
        "commandlog-t1",
        "case-t1_zz",
    )
    policy = renaming.rename(recorded("policy-t1", tenantId="t1"))
    assert policy is not None
    assert policy.stream == "policy-t1"


def test_snapshots_and_system_streams_are_not_copied() -> None:
    renaming = Renaming()
    assert renaming.rename(recorded("snapshot-case-c1")) is None
    assert renaming.rename(recorded("$$snapshot-case-c1")) is None
    assert dict(renaming.skipped) == {"snapshot": 1, "system": 1}


@pytest.mark.parametrize(
    ("event", "names"),
    [
        (recorded("case-c9"), "no event names its tenant"),
        (recorded("case-c9", tenantId="acme_eu"), "tenant_id: not a valid id"),
        (recorded("case-c@9", tenantId="t1"), "id: not a valid id"),
        (recorded("commandlog-a_b", tenantId="a_b"), "tenant_id: not a valid id"),
        (recorded("caseledger-storeformat"), "already in tenant-scoped names"),
    ],
)
def test_what_cannot_be_renamed_fails_naming_its_stream(event: RecordedEvent, names: str) -> None:
    with pytest.raises(MigrationError, match=names):
        Renaming().rename(event)
