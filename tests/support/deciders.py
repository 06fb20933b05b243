"""Given/when/then for deciders: given past events, when a command, then new events or a
rejection naming its reason."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pytest

from caseledger.domain.shared.commands import Command
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.events import DomainEvent
from caseledger.domain.shared.reasons import ReasonCode

S = TypeVar("S")


@dataclass(frozen=True)
class DeciderSpec(Generic[S]):
    initial_state: Callable[[], S]
    evolve: Callable[[S, DomainEvent], S]
    decide: Callable[[Any, S], list[DomainEvent]]

    def given(self, *events: DomainEvent) -> Given[S]:
        state = self.initial_state()
        for event in events:
            state = self.evolve(state, event)
        return Given(self, state)


@dataclass(frozen=True)
class Given(Generic[S]):
    spec: DeciderSpec[S]
    state: S

    def when(self, command: Command[Any]) -> When[S]:
        return When(self.spec, self.state, command)


@dataclass(frozen=True)
class When(Generic[S]):
    spec: DeciderSpec[S]
    state: S
    command: Command[Any]

    def then(self, *expected: DomainEvent) -> S:
        """Assert the decided events; return the state after them."""
        events = self.spec.decide(self.command, self.state)
        assert events == list(expected)
        return fold(self.spec, self.state, events)

    def events(self) -> list[DomainEvent]:
        return self.spec.decide(self.command, self.state)

    def then_rejected(self, reason: ReasonCode) -> Rejected:
        with pytest.raises(Rejected) as caught:
            self.spec.decide(self.command, self.state)
        assert caught.value.reason is reason, caught.value.detail
        return caught.value


def fold(spec: DeciderSpec[S], state: S, events: Sequence[DomainEvent]) -> S:
    for event in events:
        state = spec.evolve(state, event)
    return state
