"""What leaves caseledger, wired from Settings: the outbox relay (committed events -> NATS
JetStream) and the notification worker (send requests -> SMTP -> `NoticeSent`).

`start_outbound(events, commands, settings)` runs what the settings ask for, in background
threads, and says why anything is not running:
- the relay unless CASELEDGER_OUTBOX=off; the worker when CASELEDGER_SMTP_HOST is set;
- both need NATS at CASELEDGER_NATS_URL. When it does not answer, CASELEDGER_OUTBOX=on is an
  error (OutboundError); `auto` (and `off`, for the worker) goes on without them and says so —
  nothing is lost: committed events wait in the store, send requests in JetStream.

Every process uses the one JetStream stream CASELEDGER_NATS_STREAM holding subjects
`<CASELEDGER_NATS_PREFIX>.>`; the worker is the stream's durable consumer `notification-worker`.
The relay's checkpoint and the worker's ledger and inbox are SQLite files in the data dir.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from caseledger.adapters.integration.contracts import SEND_REQUESTED, subject_for
from caseledger.adapters.integration.jetstream import BrokerUnavailable, JetStream
from caseledger.adapters.integration.outbox_store import SqliteOutbox
from caseledger.adapters.integration.relay import OutboxRelay, RelaySettings
from caseledger.adapters.lease import RELAY_LEASE, LeasedWork, LeaseStore, lease_times
from caseledger.adapters.notifications.ledger import CONSUMER, Delivery, DeliveryLedger
from caseledger.adapters.notifications.smtp import SmtpMailer
from caseledger.adapters.notifications.worker import (
    NotificationWorker,
    WorkerSettings,
)
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import CommandHandler, EventStore

PROBE_TIMEOUT: Final = 1.0
"""Seconds a NATS server gets to accept a TCP connection before it counts as not answering."""


class OutboundError(Exception):
    """CASELEDGER_OUTBOX=on and NATS does not answer (the message says where and why)."""


@dataclass
class Outbound:
    """The relay and the worker of one process, and, for each not running, why not."""

    settings: Settings
    broker: JetStream | None = None
    relay: OutboxRelay | None = None
    outbox: SqliteOutbox | None = None
    worker: NotificationWorker | None = None
    ledger: DeliveryLedger | None = None
    relay_absent: str = ""
    """Why the relay is not running (one line), when it is not."""
    worker_absent: str = ""
    relay_lease: LeasedWork | None = None
    """The relay's lease in the read store: it publishes only while this process holds it."""

    def deliveries(self, draft_ids: list[str]) -> list[Delivery]:
        """The worker's delivery records of these notices (attempts, last error)."""
        return [] if self.ledger is None else self.ledger.for_drafts(draft_ids)

    def stop(self, discard_stream: bool = False) -> None:
        """Stop the worker and the relay (each finishes the message in hand), then close the
        broker connection and the ledgers. `discard_stream` deletes the JetStream stream first
        (a temporary run's own stream, as the demo's). Idempotent."""
        if self.worker is not None:
            self.worker.stop()
        if self.relay_lease is not None:
            self.relay_lease.close()  # stops the relay if it holds the lease, then releases it
            self.relay_lease = None
        elif self.relay is not None:
            self.relay.stop()
        if self.broker is not None:
            if discard_stream:
                with contextlib.suppress(Exception):  # leaving it behind is harmless
                    self.broker.delete_stream(self.settings.nats_stream)
            self.broker.close()
        for ledger in (self.ledger, self.outbox):
            if ledger is not None:
                ledger.close()
        self.worker = self.relay = self.broker = self.ledger = self.outbox = None


def start_outbound(
    events: EventStore,
    commands: CommandHandler,
    settings: Settings,
    leases: LeaseStore | None = None,
) -> Outbound:
    """Start the relay and the worker as `settings` say; raises OutboundError only with
    CASELEDGER_OUTBOX=on. With `leases` (the read store), the relay publishes only while this
    process holds the relay's lease there (one relay per read store; others wait as standbys)."""
    outbound = Outbound(settings)
    want_relay = settings.outbox != "off"
    want_worker = settings.smtp_host is not None
    if not want_relay:
        outbound.relay_absent = "CASELEDGER_OUTBOX=off (a separate `caseledger outbox relay`)"
    if not want_worker:
        outbound.worker_absent = "CASELEDGER_SMTP_HOST is not set"
    if not (want_relay or want_worker):
        return outbound
    try:
        broker = connect_broker(settings)
    except BrokerUnavailable as error:
        if settings.outbox == "on":
            raise OutboundError(f"{error} (CASELEDGER_OUTBOX=on needs it)") from error
        why = f"{error}; events wait in the store until a relay publishes them"
        outbound.relay_absent = outbound.relay_absent or why
        outbound.worker_absent = outbound.worker_absent or str(error)
        return outbound
    outbound.broker = broker
    try:
        if want_relay:
            outbound.outbox = SqliteOutbox.in_data_dir(settings.data_dir)
            relay = outbox_relay(events, outbound.outbox, broker, settings)
            if leases is None:
                outbound.relay = relay.start()
            else:  # one relay per read store: a standby waits for the lease
                outbound.relay = relay
                outbound.relay_lease = LeasedWork(
                    leases, RELAY_LEASE, relay.start, relay.stop, lease_times(settings)
                ).begin()
        if want_worker:
            outbound.ledger = DeliveryLedger.in_data_dir(settings.data_dir)
            worker = notification_worker(events, commands, outbound.ledger, broker, settings)
            outbound.worker = worker.start()
    except BaseException:
        outbound.stop()
        raise
    return outbound


def connect_broker(settings: Settings) -> JetStream:
    """NATS at CASELEDGER_NATS_URL with the integration events' stream; BrokerUnavailable if
    nothing answers (found quickly: a TCP probe first) or JetStream is not enabled."""
    _probe(settings.nats_url)
    broker = JetStream.connect(settings.nats_url)
    try:
        broker.ensure_stream(settings.nats_stream, settings.nats_prefix)
    except Exception as error:
        broker.close()
        raise BrokerUnavailable(f"JetStream at {settings.nats_url}: {error!r}") from error
    return broker


def outbox_relay(
    events: EventStore, outbox: SqliteOutbox, broker: JetStream, settings: Settings
) -> OutboxRelay:
    return OutboxRelay(events, outbox, broker, RelaySettings(prefix=settings.nats_prefix))


def notification_worker(
    events: EventStore,
    commands: CommandHandler,
    ledger: DeliveryLedger,
    broker: JetStream,
    settings: Settings,
) -> NotificationWorker:
    """The worker on the stream's durable consumer, delivering to the settings' SMTP server."""
    consumer = broker.pull(
        subject_for(settings.nats_prefix, SEND_REQUESTED.name), CONSUMER, settings.nats_stream
    )
    return NotificationWorker(
        events,
        commands,
        consumer,
        SmtpMailer(settings.smtp_host or "127.0.0.1", settings.smtp_port),
        ledger,
        WorkerSettings(sender=settings.smtp_sender),
    )


def _probe(url: str) -> None:
    """Raise BrokerUnavailable unless one of the URL's servers accepts a TCP connection."""
    failures = []
    for server in url.split(","):
        parts = urlsplit(server.strip() if "://" in server else f"nats://{server.strip()}")
        try:
            host, port = parts.hostname, parts.port or 4222
        except ValueError:
            return  # a form the probe does not read: let the client decide
        if host is None:
            return
        try:
            with contextlib.closing(socket.create_connection((host, port), PROBE_TIMEOUT)):
                return
        except OSError as error:
            failures.append(f"{host}:{port}: {error.strerror or type(error).__name__}")
    raise BrokerUnavailable(f"NATS does not answer at {url} ({'; '.join(failures)})")
