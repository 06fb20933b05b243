"""Console sessions: signed, idle-expiring, ended by sign-out, CSRF bound to the session."""

from __future__ import annotations

from pathlib import Path

from caseledger.adapters.console.sessions import (
    IDLE_SECONDS,
    SECRET_FILE,
    Sessions,
    console_secret,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_cookie_reads_back_as_its_session() -> None:
    sessions = Sessions(b"s" * 32)
    session = sessions.new(b"\x01" * 32)
    read = sessions.read(sessions.cookie(session))
    assert read is not None
    assert read.session_id == session.session_id
    assert read.token_digest == b"\x01" * 32


def test_a_cookie_signed_with_another_secret_or_altered_is_no_session() -> None:
    sessions, other = Sessions(b"s" * 32), Sessions(b"t" * 32)
    cookie = sessions.cookie(sessions.new(b"\x01" * 32))
    assert other.read(cookie) is None
    body, _, signature = cookie.rpartition(".")
    assert sessions.read(body[:-2] + "AA." + signature) is None
    assert sessions.read("x" * 5000) is None
    assert sessions.read("not-a-cookie") is None


def test_a_session_expires_after_eight_idle_hours_and_each_use_renews_it() -> None:
    clock = Clock()
    sessions = Sessions(b"s" * 32, clock)
    session = sessions.new(b"\x01" * 32)
    clock.now += IDLE_SECONDS - 60
    renewed = sessions.read(sessions.cookie(session))
    assert renewed is not None
    cookie = sessions.cookie(sessions.touch(renewed))
    clock.now += IDLE_SECONDS - 60
    assert sessions.read(cookie) is not None
    clock.now += 120
    assert sessions.read(cookie) is None


def test_an_ended_session_is_not_honoured_again() -> None:
    sessions = Sessions(b"s" * 32)
    session = sessions.new(b"\x01" * 32)
    cookie = sessions.cookie(session)
    sessions.end(session)
    assert sessions.read(cookie) is None


def test_a_csrf_token_is_valid_for_its_own_session_only() -> None:
    sessions = Sessions(b"s" * 32)
    mine, theirs = sessions.new(), sessions.new()
    assert sessions.csrf_valid(mine, sessions.csrf_token(mine))
    assert not sessions.csrf_valid(mine, sessions.csrf_token(theirs))
    assert not sessions.csrf_valid(mine, "")
    assert not sessions.csrf_valid(mine, None)


def test_the_secret_is_the_configured_one_else_generated_once_into_the_data_dir(
    tmp_path: Path,
) -> None:
    assert console_secret("configured-secret-123", tmp_path) == b"configured-secret-123"
    assert not (tmp_path / SECRET_FILE).exists()
    first = console_secret(None, tmp_path)
    assert len(first) >= 32
    assert console_secret(None, tmp_path) == first
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o077 == 0
