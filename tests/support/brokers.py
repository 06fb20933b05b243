"""InMemoryBroker: a fake of the outbox relay's Broker port for unit tests, with JetStream's
rules (it passes the broker contract, tests/contract/test_in_memory_broker.py): one stream
takes the subjects under its prefix, a message id seen before is answered `duplicate` and kept
once, sequence numbers count the kept messages from 1. It fails as told: `failures` are raised
by the next publishes, in order, before anything else."""

from __future__ import annotations

import threading

from caseledger.adapters.integration.jetstream import DEFAULT_PREFIX, BrokerRejected, PublishAck


class InMemoryBroker:
    def __init__(self, prefix: str = DEFAULT_PREFIX, failures: list[Exception] | None = None):
        self.prefix = prefix
        self.failures = list(failures or [])
        self.published: list[tuple[str, bytes, str]] = []
        """What the stream keeps: (subject, body, message id), in publish order."""
        self._lock = threading.Lock()

    def publish(
        self, subject: str, body: bytes, message_id: str, headers: dict[str, str] | None = None
    ) -> PublishAck:
        with self._lock:
            if self.failures:
                raise self.failures.pop(0)
            if not subject.startswith(f"{self.prefix}."):
                raise BrokerRejected(f"no stream takes {subject!r}")
            for seq, (_, _, kept_id) in enumerate(self.published, start=1):
                if kept_id == message_id:
                    return PublishAck("MEMORY", seq, duplicate=True)
            self.published.append((subject, body, message_id))
            return PublishAck("MEMORY", len(self.published), duplicate=False)
