"""Console sessions: a signed cookie, a CSRF token bound to it, and sign-out.

Contracts:
- The cookie (`caseledger_console`) holds a random session id, the sha256 digest of the user
  token signed in with (never the token), and when the session was last used; it is signed
  with HMAC-SHA256 under the console secret, so a cookie nobody signed is no session.
- A session is idle-expired `IDLE_SECONDS` (8 h) after its last use; each use renews it, but
  not the inbox's own refreshes (an open tab is not a person at work).
- Each token digest is resolved through the token registry on every request: a token removed
  from the tokens file (and the process restarted) ends its sessions.
- Every visitor has a session (anonymous until signed in), so even the sign-in form carries a
  CSRF token; signing in issues a new session id (no fixation), signing out ends the old one.
- The CSRF token is HMAC(secret, "csrf|" + session id): valid only for its session.
- Sign-out records the session id as ended in this process (for its idle lifetime) and clears
  the cookie; with several replicas, another replica honours a copied cookie until it expires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

COOKIE: Final = "caseledger_console"
IDLE_SECONDS: Final = 8 * 3600
SECRET_FILE: Final = "console-secret"
MAX_COOKIE: Final = 1024
"""Characters of a cookie read at most; a longer one is no session."""


@dataclass(frozen=True)
class Session:
    session_id: str
    token_digest: bytes | None
    """The sha256 of the user token signed in with; None: not signed in."""
    last_seen: float

    @property
    def signed_in(self) -> bool:
        return self.token_digest is not None


class Sessions:
    """Issues, reads and ends sessions under one secret."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(b"caseledger-console|" + secret).digest()
        self._clock = clock
        self._ended: dict[str, float] = {}
        self._lock = threading.Lock()

    def new(self, token_digest: bytes | None = None) -> Session:
        return Session(secrets.token_urlsafe(18), token_digest, self._clock())

    def read(self, cookie: str | None) -> Session | None:
        """The session of a cookie this console signed, unexpired and not ended; else None."""
        if not cookie or len(cookie) > MAX_COOKIE or "." not in cookie:
            return None
        body, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(_b64(self._sign(body.encode())), signature):
            return None
        try:
            raw = orjson.loads(_unb64(body))
            digest = bytes.fromhex(raw["tok"]) if raw.get("tok") else None
            session = Session(str(raw["sid"]), digest, float(raw["seen"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        now = self._clock()
        if now - session.last_seen > IDLE_SECONDS or self._is_ended(session.session_id, now):
            return None
        return session

    def touch(self, session: Session) -> Session:
        """The session used now (its idle time starts again)."""
        return Session(session.session_id, session.token_digest, self._clock())

    def cookie(self, session: Session) -> str:
        raw = {
            "sid": session.session_id,
            "tok": session.token_digest.hex() if session.token_digest else None,
            "seen": int(session.last_seen),
        }
        body = _b64(orjson.dumps(raw))
        return f"{body}.{_b64(self._sign(body.encode()))}"

    def end(self, session: Session) -> None:
        """No cookie of this session is honoured again by this process."""
        now = self._clock()
        with self._lock:
            self._ended = {s: t for s, t in self._ended.items() if t > now}
            self._ended[session.session_id] = now + IDLE_SECONDS

    def csrf_token(self, session: Session) -> str:
        return _b64(self._sign(b"csrf|" + session.session_id.encode()))

    def csrf_valid(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), str(token))

    def _sign(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def _is_ended(self, session_id: str, now: float) -> bool:
        with self._lock:
            until = self._ended.get(session_id)
        return until is not None and until > now


def console_secret(configured: str | None, data_dir: Path) -> bytes:
    """CASELEDGER_CONSOLE_SECRET, else the secret in `data_dir/console-secret`, generated
    (readable by the owner only) when there is none yet."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= 16:
        return existing.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(32)
    path.write_text(generated + "\n", encoding="utf-8")
    path.chmod(0o600)
    return generated.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
