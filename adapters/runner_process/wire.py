"""What the hosting process and its runner child say over their socket pair: a
`SOCK_SEQPACKET` pair, so each send is one whole message or nothing, never part of one.

Hosting process -> child: first the child's `ChildConfig` as JSON; then, for each commit of
the event store, its `$all` head as 8 bytes (little-endian unsigned): the child's live
wake-up, sent without blocking (a wake-up lost to a full socket is made up by the next one, or
by the subscription's own periodic look at the store).

Child -> hosting process: a kind byte and its JSON body: `COMMITTED` ([projection id,
checkpoint] of each view a commit of the child just made durable: the read-your-writes
wake-up), `STATUS` (the runner's `RunnerStatus`, whenever it changes) and `FAILED` (why the
child could not start its runner, sent before it exits: one line of at most `REASON_LIMIT`
characters, `bounded`). No message is empty: an empty read is the end of the stream, the
other side gone.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

import orjson

from caseledger.projections.runner import RunnerStatus
from caseledger.projections.track import TrackStats

POSITION: Final = struct.Struct("<Q")
COMMITTED: Final = b"c"
STATUS: Final = b"s"
FAILED: Final = b"f"
REASON_LIMIT: Final = 300
"""The longest reason a `FAILED` message (and the status built from it) carries."""
MAX_MESSAGE: Final = 256 * 1024
"""The longest message: a status of dozens of views is a few KB."""


@dataclass(frozen=True)
class ChildConfig:
    """What the child needs to know: where the event store's file is, and the read store."""

    eventstore_dir: str
    data_dir: str
    readstore_url: str | None
    eventstore_timeout: float

    def encode(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: bytes) -> ChildConfig:
        fields = orjson.loads(raw)
        return cls(
            eventstore_dir=str(fields["eventstore_dir"]),
            data_dir=str(fields["data_dir"]),
            readstore_url=fields["readstore_url"],
            eventstore_timeout=float(fields["eventstore_timeout"]),
        )

    @property
    def eventstore_path(self) -> Path:
        return Path(self.eventstore_dir)


def pair() -> tuple[socket.socket, socket.socket]:
    """(the hosting process's end, the child's end)."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def message(kind: bytes, body: bytes) -> bytes:
    return kind + body


def receive(sock: socket.socket) -> bytes | None:
    """The next message, or None at the end of the stream. The other side closing with
    messages of ours unread resets the connection: that is said once, before the messages it
    sent are read, so they are read on (a child that could not start says why, then exits)."""
    try:
        data = sock.recv(MAX_MESSAGE)
    except ConnectionResetError:
        data = sock.recv(MAX_MESSAGE)  # the reset is said once: what it sent, or the end
    return data or None


def encode_status(status: RunnerStatus) -> bytes:
    return orjson.dumps(asdict(status))


def decode_status(raw: bytes) -> RunnerStatus:
    fields = orjson.loads(raw)
    fields["stats"] = {name: TrackStats(**stats) for name, stats in fields["stats"].items()}
    return RunnerStatus(**fields)


def encode_committed(checkpoints: list[tuple[str, int]]) -> bytes:
    return orjson.dumps(checkpoints)


def decode_committed(raw: bytes) -> list[tuple[str, int]]:
    return [(str(name), int(position)) for name, position in orjson.loads(raw)]


def bounded(text: str, limit: int = REASON_LIMIT) -> str:
    """`text` on one line, at most `limit` characters (a longer one is cut, ending in `...`)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def encode_failed(reason: str) -> bytes:
    return bounded(reason).encode() or b"?"


def decode_failed(raw: bytes) -> str:
    return bounded(raw.decode("utf-8", "replace"))
