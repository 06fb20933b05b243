"""The outbox relay's Broker port: its contract, written once as an abstract test class; one
small subclass per backend in the `test_*` modules beside it says how to make the broker (with
a stream of its own taking `<prefix>.>`) and how to read back what its stream keeps."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from caseledger.adapters.integration.jetstream import BrokerRejected
from caseledger.adapters.integration.relay import Broker

Kept = tuple[str, bytes, str]
"""A message as the broker's stream keeps it: subject, body, message id."""


@dataclass(frozen=True)
class BrokerUnderTest:
    broker: Broker
    prefix: str
    kept: Callable[[], list[Kept]]
    """What the stream keeps now, in publish order."""


class BrokerContract(ABC):
    """Every broker the relay publishes to passes these tests."""

    @abstractmethod
    def connect(self, request: pytest.FixtureRequest) -> Iterator[BrokerUnderTest]:
        """Yield a broker with a fresh stream of its own; clean both up after the yield."""

    @pytest.fixture
    def under_test(self, request: pytest.FixtureRequest) -> Iterator[BrokerUnderTest]:
        yield from self.connect(request)

    def test_a_published_message_is_acknowledged_and_kept_with_its_id(
        self, under_test: BrokerUnderTest
    ) -> None:
        subject, message_id = f"{under_test.prefix}.case.opened.v1", str(uuid.uuid4())

        ack = under_test.broker.publish(subject, b'{"n": 1}', message_id)

        assert (ack.seq, ack.duplicate) == (1, False)
        assert under_test.kept() == [(subject, b'{"n": 1}', message_id)]

    def test_messages_are_kept_and_numbered_in_publish_order(
        self, under_test: BrokerUnderTest
    ) -> None:
        sent = [
            (f"{under_test.prefix}.case.t{i}.v1", b"%d" % i, str(uuid.uuid4())) for i in range(3)
        ]

        acks = [under_test.broker.publish(*message) for message in sent]

        assert [ack.seq for ack in acks] == [1, 2, 3]
        assert under_test.kept() == sent

    def test_a_repeated_message_id_is_answered_duplicate_and_kept_once(
        self, under_test: BrokerUnderTest
    ) -> None:
        subject, message_id = f"{under_test.prefix}.case.opened.v1", str(uuid.uuid4())
        first = under_test.broker.publish(subject, b"{}", message_id)

        again = under_test.broker.publish(subject, b"{}", message_id)

        assert (again.seq, again.duplicate) == (first.seq, True)
        assert under_test.kept() == [(subject, b"{}", message_id)]

    def test_a_subject_no_stream_takes_is_rejected(self, under_test: BrokerUnderTest) -> None:
        with pytest.raises(BrokerRejected):
            under_test.broker.publish(f"nowhere{uuid.uuid4().hex}.x", b"{}", str(uuid.uuid4()))

        assert under_test.kept() == []
