"""The what-if report: every past decision that depended on policy, re-decided under a draft,
and those whose outcome would differ, with the rule that makes the difference; then totals by
rule. A decision that cannot be re-decided faithfully (its roles were not recorded, its command
cannot be rebuilt, re-decided under its own policy it is not answered as recorded) is listed as
undetermined whenever the draft changes any rule, never guessed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from caseledger.domain.application.aggregates import CASE, NOTICE_DRAFT, Aggregate
from caseledger.domain.application.codec import StoredEvent
from caseledger.domain.application.commandlog import CommandNotAccepted
from caseledger.domain.application.whatif import refusals, rules
from caseledger.domain.application.whatif.commands import NotRebuilt
from caseledger.domain.application.whatif.decisions import (
    Outcome,
    as_recorded,
    depends_on_policy,
    redecider,
)
from caseledger.domain.application.whatif.past import (
    PastCommand,
    occurred_at,
    past_commands,
    state_at,
    who_of,
)
from caseledger.domain.application.whatif.policies import PolicyTimeline, timeline
from caseledger.domain.case.state import CaseState
from caseledger.domain.shared import streams
from caseledger.domain.shared.facts import CaseFacts
from caseledger.domain.shared.policy_rules import PolicyRules


@dataclass(frozen=True)
class TenantHistory:
    """What a what-if reads of one tenant: its policy stream, its case and notice draft streams
    (each whole, in revision order) and its command log."""

    tenant_id: str
    policy: Sequence[StoredEvent]
    streams: Sequence[Sequence[StoredEvent]]
    refusals: Sequence[StoredEvent] = ()


@dataclass(frozen=True)
class Difference:
    tenant_id: str
    case_id: str | None
    event: str
    """`stream@revision` of the command's first event (or of its command-log record)."""
    command_type: str
    who: str
    at: datetime | None
    policy_version: str
    then: Outcome
    draft: Outcome
    rules: tuple[str, ...]
    position: int
    """Its `$all` position: differences are listed in the order they were decided."""
    note: str | None = None


@dataclass(frozen=True)
class Undetermined:
    tenant_id: str
    case_id: str | None
    event: str
    command_type: str
    who: str
    why: str
    rules: tuple[str, ...] = ()


@dataclass
class WhatIf:
    since: datetime | None = None
    examined: int = 0
    """Past decisions that depended on policy and were re-decided (refusals included)."""
    differences: list[Difference] = field(default_factory=list)
    undetermined: list[Undetermined] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    """Why the history read may lack events (the reader says)."""

    @property
    def totals(self) -> dict[str, int]:
        counted = Counter(rule for d in self.differences for rule in d.rules)
        return {rule: counted[rule] for rule in rules.RULES if counted[rule]}


def what_if(
    histories: Iterable[TenantHistory], draft: PolicyRules, since: datetime | None = None
) -> WhatIf:
    """Re-decide, under `draft`, each tenant's past decisions that depended on policy (those
    at or after `since`). Pure: reads only what it is given, writes nothing."""
    report = WhatIf(since=since)
    for history in histories:
        _tenant(history, draft, since, report)
    report.differences.sort(key=lambda d: (d.tenant_id, d.position))
    return report


def _tenant(
    history: TenantHistory, draft: PolicyRules, since: datetime | None, report: WhatIf
) -> None:
    policies = timeline(history.policy)
    by_stream = {events[0].recorded.stream: events for events in history.streams if events}
    cases = _Cases(by_stream)
    for stream, events in by_stream.items():
        aggregate = _aggregate_of(stream)
        if aggregate is None:
            continue
        try:
            for past in past_commands(aggregate, events):
                if depends_on_policy(past) and _in_window(past.occurred_at, since):
                    _command(history.tenant_id, past, policies, cases, draft, report)
        except Exception as error:  # a history its own code cannot fold or decide on
            report.incomplete.append(f"{stream} left out: it cannot be re-decided ({error!r:.200})")
    for stored in history.refusals:
        if _in_window(occurred_at(stored.metadata), since):
            _refusal(history.tenant_id, stored, policies, cases, draft, report)


def _command(
    tenant: str,
    past: PastCommand,
    policies: PolicyTimeline,
    cases: _Cases,
    draft: PolicyRules,
    report: WhatIf,
) -> None:
    case_id = cases.case_of(past.stream)
    then = policies.versions.get(past.policy_version)

    def undetermined(why: str, named: tuple[str, ...] = ()) -> None:
        report.undetermined.append(
            Undetermined(tenant, case_id, past.where, past.command_type, past.who.text, why, named)
        )

    if then is None:
        undetermined(f"its policy version {past.policy_version!r} is not in the policy stream")
        return
    changed = rules.changed(then, draft)
    try:
        decide = redecider(past, cases.facts(past.facts_read))
    except NotRebuilt as error:
        if changed:
            undetermined(f"its command cannot be rebuilt from its events ({error})", changed)
        return
    report.examined += 1
    recorded = as_recorded(past)
    if decide(then) != recorded:
        if changed:
            why = (
                "its roles were not recorded"
                if not past.who.roles_recorded
                else f"re-decided under its own policy it is {decide(then).text}, not as recorded"
            )
            undetermined(why, changed)
        return
    under_draft = decide(draft)
    if under_draft == recorded:
        return
    report.differences.append(
        Difference(
            tenant_id=tenant,
            case_id=case_id,
            event=past.where,
            command_type=past.command_type,
            who=past.who.text,
            at=past.occurred_at,
            policy_version=past.policy_version,
            then=recorded,
            draft=under_draft,
            rules=deciding_rules(decide, then, draft, recorded, under_draft),
            position=past.position,
        )
    )


def deciding_rules(
    decide: Callable[[PolicyRules], Outcome],
    then: PolicyRules,
    draft: PolicyRules,
    recorded: Outcome,
    under_draft: Outcome,
) -> tuple[str, ...]:
    """The changed rules that make the difference: those that alone (the rest as then) give the
    draft's outcome; else those that alone change the outcome at all; else all changed (only
    together do they)."""
    changed = rules.changed(then, draft)
    alone = {path: decide(rules.with_rule(then, path, draft)) for path in changed}
    exact = tuple(path for path, outcome in alone.items() if outcome == under_draft)
    moving = tuple(path for path, outcome in alone.items() if outcome != recorded)
    return exact or moving or changed


def _refusal(
    tenant: str,
    stored: StoredEvent,
    policies: PolicyTimeline,
    cases: _Cases,
    draft: PolicyRules,
    report: WhatIf,
) -> None:
    record = stored.event
    if not isinstance(record, CommandNotAccepted) or record.reason_code not in refusals.RECHECKS:
        return
    who = who_of(stored.metadata)
    version, then = policies.at(stored.recorded.commit_position)
    where = f"{stored.recorded.stream}@{stored.recorded.revision}"
    case_id = cases.case_of(record.stream_id or "")
    report.examined += 1
    found = refusals.recheck(record, who, then, draft)
    if found.passes is None:
        report.undetermined.append(
            Undetermined(
                tenant, case_id, where, record.command_type, who.text, found.why, found.rules
            )
        )
    elif found.passes:
        report.differences.append(
            Difference(
                tenant_id=tenant,
                case_id=case_id,
                event=where,
                command_type=record.command_type,
                who=who.text,
                at=occurred_at(stored.metadata),
                policy_version=version,
                then=Outcome(record.outcome, reason_code=record.reason_code),
                draft=Outcome(refusals.PAST_THE_RULE),
                rules=found.rules,
                position=stored.recorded.commit_position,
                note="refused then; the draft lets it past this rule, and the command log "
                "keeps no payload to decide the rest",
            )
        )


class _Cases:
    """The case of a case or notice draft stream, and a case's facts at a revision."""

    def __init__(self, by_stream: Mapping[str, Sequence[StoredEvent]]) -> None:
        self._streams = by_stream

    def case_of(self, stream: str) -> str | None:
        name = streams.parse_stream(stream)
        if name is None:
            return None
        if name.category == streams.CASE:
            return name.aggregate_id
        events = self._streams.get(stream)
        if name.category == streams.NOTICE_DRAFT and events:
            return state_at(NOTICE_DRAFT, events, events[0].recorded.revision).case_id  # type: ignore[no-any-return]
        return None

    def facts(self, facts_read: Mapping[str, int]) -> CaseFacts | None:
        for stream, revision in facts_read.items():
            events = self._streams.get(stream)
            if events and _aggregate_of(stream) is CASE:
                state: CaseState = state_at(CASE, events, revision)
                return CaseFacts(
                    case_id=CASE.id_of(stream),
                    tenant_id=state.tenant_id or "",
                    status=state.status.value,
                    active=state.active,
                    revision=revision,
                )
        return None


def _aggregate_of(stream: str) -> Aggregate[Any] | None:
    name = streams.parse_stream(stream)
    category = name.category if name else None
    decided: dict[str, Aggregate[Any]] = {streams.CASE: CASE, streams.NOTICE_DRAFT: NOTICE_DRAFT}
    return decided.get(category or "")


def _in_window(at: datetime | None, since: datetime | None) -> bool:
    return since is None or (at is not None and at >= since)
