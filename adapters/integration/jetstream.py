"""NATS JetStream for synchronous callers: one connection on a private event-loop thread.

`publish` sets `Nats-Msg-Id` (the broker drops a repeat inside its duplicate window and answers
it `duplicate`). Failures are typed: `BrokerUnavailable` (no connection, timeout: retry, never
skip) and `BrokerRejected` (the broker answered no: park after a few attempts).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

MSG_ID_HEADER: Final = "Nats-Msg-Id"
DEFAULT_STREAM: Final = "CASELEDGER"
DEFAULT_PREFIX: Final = "caseledger"
T = TypeVar("T")


class BrokerUnavailable(Exception):
    """The broker could not be reached or did not answer in time."""


class BrokerRejected(Exception):
    """The broker answered and refused (no stream for the subject, too large, ...)."""


@dataclass(frozen=True)
class PublishAck:
    stream: str
    seq: int
    duplicate: bool


class JetStream:
    """A NATS connection with JetStream; every method blocks the caller, not the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self._loop, self._thread = loop, thread
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self.timeout = 5.0

    @classmethod
    def connect(cls, url: str, timeout: float = 5.0) -> JetStream:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="jetstream", daemon=True)
        thread.start()
        js = cls(loop, thread)
        js.timeout = timeout
        try:
            js._call(js._connect(url, timeout))
        except BaseException:
            js.close()
            raise
        return js

    async def _connect(self, url: str, timeout: float) -> None:
        async def _quiet(_: Exception) -> None:
            return None

        try:  # reconnects forever once connected; the first connection must come in time
            self._nc = await asyncio.wait_for(
                nats.connect(
                    url,
                    connect_timeout=timeout,
                    max_reconnect_attempts=-1,
                    allow_reconnect=True,
                    error_cb=_quiet,
                ),
                timeout * 2,
            )
        except (OSError, nats.errors.Error, TimeoutError) as error:
            raise BrokerUnavailable(f"NATS at {url}: {error!r}") from error
        self._js = self._nc.jetstream(timeout=timeout)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=None if timeout is None else timeout + 1.0)

    @property
    def _jets(self) -> JetStreamContext:
        if self._js is None:
            raise BrokerUnavailable("not connected")
        return self._js

    def ensure_stream(
        self, name: str = DEFAULT_STREAM, prefix: str = DEFAULT_PREFIX, dedup_window: float = 120.0
    ) -> None:
        """The stream holding `<prefix>.>`, created if missing (its settings are then kept)."""
        config = StreamConfig(name=name, subjects=[f"{prefix}.>"], duplicate_window=dedup_window)

        async def ensure() -> None:
            try:
                await self._jets.stream_info(name)
            except nats.js.errors.NotFoundError:
                await self._jets.add_stream(config)

        self._call(ensure())

    def delete_stream(self, name: str) -> None:
        async def delete() -> None:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self._jets.delete_stream(name)

        self._call(delete())

    def publish(
        self, subject: str, body: bytes, message_id: str, headers: dict[str, str] | None = None
    ) -> PublishAck:
        all_headers = {**(headers or {}), MSG_ID_HEADER: message_id}
        try:
            ack = self._call(
                self._jets.publish(subject, body, timeout=self.timeout, headers=all_headers),
                self.timeout,
            )
        except nats.js.errors.NoStreamResponseError as error:
            raise BrokerRejected(f"no stream takes {subject!r}") from error
        except nats.js.errors.APIError as error:
            raise BrokerRejected(f"{subject!r}: {error}") from error
        except (nats.errors.Error, TimeoutError, OSError) as error:
            raise BrokerUnavailable(f"{subject!r}: {error!r}") from error
        return PublishAck(stream=ack.stream, seq=ack.seq, duplicate=bool(ack.duplicate))

    def pull(
        self,
        subject: str,
        durable: str,
        stream: str = DEFAULT_STREAM,
        ack_wait: float = 30.0,
        max_deliver: int = -1,
    ) -> PullConsumer:
        """A durable pull consumer of `subject` (created if missing); unacknowledged messages
        come again after `ack_wait` seconds."""
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ack_wait,
            max_deliver=max_deliver,
            filter_subject=subject,
        )
        sub = self._call(
            self._jets.pull_subscribe(subject, durable=durable, stream=stream, config=config)
        )
        return PullConsumer(self, sub)

    def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):  # closing anyway
                self._call(self._nc.close(), 5.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5.0)


class PullConsumer:
    def __init__(self, jetstream: JetStream, sub: JetStreamContext.PullSubscription) -> None:
        self._js, self._sub = jetstream, sub

    def fetch(self, batch: int = 1, timeout: float = 1.0) -> list[Delivery]:
        """Up to `batch` messages; [] when none came within `timeout` seconds."""

        async def fetch() -> list[Msg]:
            try:
                return await self._sub.fetch(batch, timeout=timeout)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either when idle
                return []

        return [Delivery(self._js, m) for m in self._js._call(fetch(), timeout)]


class Delivery:
    """One delivered message: ack it after its effect is durable; never before."""

    def __init__(self, jetstream: JetStream, msg: Msg) -> None:
        self._js, self._msg = jetstream, msg

    @property
    def message_id(self) -> str:
        headers = self._msg.headers or {}
        return headers.get(MSG_ID_HEADER, "")

    @property
    def subject(self) -> str:
        return self._msg.subject

    @property
    def data(self) -> bytes:
        return self._msg.data

    @property
    def num_delivered(self) -> int:
        return int(self._msg.metadata.num_delivered or 1)

    def ack(self) -> None:
        self._js._call(self._msg.ack_sync(timeout=self._js.timeout), self._js.timeout)

    def nak(self, delay: float | None = None) -> None:
        """Deliver again (after `delay` seconds)."""
        self._js._call(self._msg.nak(delay=delay))

    def term(self) -> None:
        """Never deliver again: the message cannot be processed."""
        self._js._call(self._msg.term())
