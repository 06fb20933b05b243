"""The pipeline's core on scripted attempts: how it reads each step's value (an answer, a
refusal, UNREAD, a conflict), and the key reservation's decorator around an attempt."""

from __future__ import annotations

from collections.abc import Iterator

from caseledger.domain.application.layers import Refused
from caseledger.domain.application.middleware import KeysReserved
from caseledger.domain.application.pipeline import (
    UNREAD,
    Conflict,
    Pipeline,
    Request,
    Step,
    admit,
)
from caseledger.domain.application.registry import event_registry
from caseledger.domain.application.reservations import KeyReservations
from caseledger.domain.application.routes import ROUTES
from caseledger.domain.shared.envelopes import CommandEnvelope, CommandResult
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.reasons import ReasonCode
from tests.support.actors import ANALYST
from tests.support.commands import envelope
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service

OPEN = {"case_id": "c1", "allegation_summary": "Unlicensed lending"}


class Scripted:
    """An attempt answering the steps given, in order, and noting each call's `fresh`."""

    def __init__(self, *steps: Step) -> None:
        self._steps: Iterator[Step] = iter(steps)
        self.fresh: list[bool] = []

    def __call__(self, request: Request, fresh: bool) -> Step:
        self.fresh.append(fresh)
        return next(self._steps)


def test_conflicts_count_as_attempts_and_unread_does_not() -> None:
    moved = Conflict("case-t1_c1")
    attempt = Scripted(UNREAD, moved, UNREAD, moved, moved)
    result = Pipeline(ROUTES, attempt, max_attempts=3).handle(envelope("open_case", OPEN, ANALYST))
    assert (result.status, result.reason_code) == (
        CommandOutcome.CONFLICT,
        ReasonCode.CONCURRENT_WRITE,
    )
    assert result.reason == "case-t1_c1 kept changing; gave up after 3 attempts"
    assert result.stream_id == "case-t1_c1"
    assert attempt.fresh == [False, True, True, True, True]


def test_a_refusal_is_answered_with_the_request_stream() -> None:
    refusal = Refused(CommandOutcome.REJECTED, ReasonCode.NOT_FOUND, "gone")
    attempt = Scripted(UNREAD, refusal)
    result = Pipeline(ROUTES, attempt, max_attempts=3).handle(envelope("open_case", OPEN, ANALYST))
    assert (result.status, result.reason_code, result.reason) == (
        CommandOutcome.REJECTED,
        ReasonCode.NOT_FOUND,
        "gone",
    )
    assert result.stream_id == "case-t1_c1"
    assert attempt.fresh == [False, True]


def test_the_stateless_layers_refuse_before_any_attempt() -> None:
    attempt = Scripted()
    result = Pipeline(ROUTES, attempt, max_attempts=3).handle(
        envelope("open_case", {"case_id": "c1"}, ANALYST)
    )
    assert result.status is CommandOutcome.VALIDATION_ERROR
    assert attempt.fresh == []


def test_a_lost_race_for_the_key_is_answered_as_the_command_that_won_it() -> None:
    store = InMemoryEventStore()
    first = command_service(store).handle(envelope("open_case", OPEN, ANALYST, key="k-1"))
    again = envelope("open_case", OPEN, ANALYST, key="k-1")
    request = _request(again)
    attempt = KeysReserved(
        Scripted(Conflict(request.reservation)), KeyReservations(store, event_registry())
    )
    answer = attempt(request, False)
    assert isinstance(answer, CommandResult)
    assert answer.status is CommandOutcome.DUPLICATE_ACCEPTED
    assert answer.commit_position == first.commit_position


def test_a_conflict_elsewhere_or_a_free_key_is_passed_on() -> None:
    store = InMemoryEventStore()
    request = _request(envelope("open_case", OPEN, ANALYST, key="k-2"))
    keys = KeyReservations(store, event_registry())
    elsewhere = Conflict("case-t1_c1")
    assert KeysReserved(Scripted(elsewhere), keys)(request, False) == elsewhere
    refusal = Refused(CommandOutcome.REJECTED, ReasonCode.NOT_FOUND, "gone")
    assert KeysReserved(Scripted(refusal), keys)(request, False) is refusal


def _request(env: CommandEnvelope) -> Request:
    request = admit(ROUTES, env)
    assert isinstance(request, Request)
    return request
