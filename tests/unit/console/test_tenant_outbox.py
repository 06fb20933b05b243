"""Operations show a tenant its own outbox messages only: streams `<category>-<tenant>` and
`<category>-<tenant>_<id>`, never another tenant's (even one whose id ends like it)."""

from __future__ import annotations

from pathlib import Path

from caseledger.adapters.console.ops import of_tenant
from caseledger.adapters.integration.outbox_store import MessageStatus, SqliteOutbox, Staged

STREAMS = {
    "m1": "case-t1_c1",
    "m2": "noticedraft-t1_n1",
    "m3": "policy-t1",
    "m4": "case-t2_c1",
    "m5": "case-x-t1_c1",  # tenant "x-t1"
    "m6": "case-t1x_c1",  # tenant "t1x"
}


def _outbox(tmp_path: Path) -> SqliteOutbox:
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite3")
    for position, (message_id, stream) in enumerate(sorted(STREAMS.items())):
        outbox.stage(
            "relay",
            Staged(message_id, position, stream, 0, "case.opened", None, None, None),
        )
    outbox.park("relay", "m1", "refused", None)
    outbox.park("relay", "m4", "refused", None)
    return outbox


def test_a_tenant_sees_the_messages_of_its_own_streams_only(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    try:
        assert sorted(m.message_id for m in outbox.of_tenant("t1")) == ["m1", "m2", "m3"]
        assert [m.message_id for m in outbox.of_tenant("t1", MessageStatus.PARKED)] == ["m1"]
        assert outbox.tenant_counts("t1") == {
            "pending": 2,
            "published": 0,
            "parked": 1,
            "retry_requested": 0,
        }
        assert [m.message_id for m in outbox.of_tenant("x-t1")] == ["m5"]
    finally:
        outbox.close()


def test_a_stream_belongs_to_the_tenant_its_name_holds() -> None:
    assert [s for s in STREAMS.values() if of_tenant(s, "t1")] == [
        "case-t1_c1",
        "noticedraft-t1_n1",
        "policy-t1",
    ]
