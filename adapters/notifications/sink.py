"""An SMTP sink on loopback (aiosmtpd): accepts every message and keeps it in memory. The demo
delivers its notice here; tests do too. Never a real mail server."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, controller: Controller, keep: _Keep, port: int) -> None:
        self._controller, self._keep, self.port = controller, keep, port
        self.host = "127.0.0.1"

    @classmethod
    def start(cls) -> SmtpSink:
        """Listen on a free loopback port."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        keep = _Keep()
        controller = Controller(keep, hostname="127.0.0.1", port=port)
        controller.start()
        return cls(controller, keep, port)

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[Message]:
        with self._keep.lock:
            return list(self._keep.messages)

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]
