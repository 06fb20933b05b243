"""What the runner child and its supervisor say to each other survives the trip, and the
supervisor answers with the freshest checkpoint either message carried."""

from __future__ import annotations

from caseledger.adapters.runner_process import wire
from caseledger.adapters.runner_process.supervisor import freshest_positions, is_named
from caseledger.projections.runner import RunnerStatus
from caseledger.projections.track import TrackStats


def _status(**positions: int | None) -> RunnerStatus:
    return RunnerStatus(
        state="stalled",
        positions=dict(positions),
        stats={name: TrackStats(applied=3, parked=1) for name in positions},
        last_error="read store unavailable: x",
        caught_up=True,
        held=dict.fromkeys(positions, 2),
        stalled_reason="SQLite SQLITE_BUSY: locked",
        stalled_since=12.5,
        target=40,
    )


def test_a_status_and_a_commit_survive_the_trip() -> None:
    status = _status(case_summary_v1=30, audit_index_v1=None)
    assert wire.decode_status(wire.encode_status(status)) == status
    committed = [("case_summary_v1", 41), ("audit_index_v1", 41)]
    assert wire.decode_committed(wire.encode_committed(committed)) == committed


def test_the_config_survives_the_trip() -> None:
    config = wire.ChildConfig("/d/eventstore", "/d", "postgresql://x/y", 5.0)
    assert wire.ChildConfig.decode(config.encode()) == config


def test_positions_are_the_later_of_the_status_and_the_commits_since() -> None:
    status = _status(a_v1=30, b_v1=None, c_v1=50)
    assert freshest_positions(status, {"a_v1": 41, "b_v1": 41, "c_v1": 45, "gone_v1": 99}) == {
        "a_v1": 41,
        "b_v1": 41,
        "c_v1": 50,
    }


def test_a_view_is_named_by_its_id_or_a_build_generation_of_it() -> None:
    assert is_named("case_summary_v1_g2", ["case_summary_v1"])
    assert is_named("case_summary_v1", ["case_summary_v1"])
    assert is_named("anything_v3", [])
    assert not is_named("case_summary_v10", ["case_summary_v1"])


def test_why_a_child_could_not_start_is_one_bounded_line() -> None:
    said = "ReadStoreUnavailable: down\n  " + "x" * 5000
    reason = wire.decode_failed(wire.encode_failed(said))
    assert len(reason) == wire.REASON_LIMIT
    assert reason.startswith("ReadStoreUnavailable: down x")
    assert reason.endswith("...")
    assert "\n" not in reason
    assert wire.decode_failed(wire.encode_failed("short")) == "short"


def test_what_a_side_said_before_it_closed_with_messages_unread_is_still_read() -> None:
    ours, theirs = wire.pair()
    try:
        ours.send(wire.POSITION.pack(7))  # never read: closing resets the connection
        theirs.send(wire.message(wire.FAILED, wire.encode_failed("cannot open")))
        theirs.close()
        assert wire.receive(ours) == wire.FAILED + b"cannot open"
        assert wire.receive(ours) is None
    finally:
        ours.close()
