"""Hash chains, given/when/then: the link rule (`chains`), the walk over a stream
(`chain_walk`), and the command service chaining its appends on from the loaded aggregate —
across its cache, a new service and snapshots."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace

import orjson

from caseledger.domain.application.aggregates import AGGREGATES, CASE
from caseledger.domain.application.chain_walk import (
    BreakKind,
    Head,
    Status,
    StreamWalk,
    not_reached,
)
from caseledger.domain.application.chains import (
    CHAINED,
    GENESIS,
    LINK,
    canonical,
    recompute,
    sealed,
)
from caseledger.domain.application.codec import new_event, recorded_as
from caseledger.domain.application.ports import NewEvent, RecordedEvent
from caseledger.domain.application.service import CommandService
from caseledger.domain.case.events import CaseOpened
from tests.support.actors import ANALYST
from tests.support.builders import TENANT
from tests.support.commands import issue
from tests.support.desk import accepted, case_under_review
from tests.support.memory_store import InMemoryEventStore
from tests.support.services import command_service

STREAM = "case-t1_c1"


def _event(n: int, data: dict[str, object] | None = None) -> NewEvent:
    metadata = canonical({"tenantId": "t1", "commandId": f"cmd-{n}", "occurredAt": "2026-12-07"})
    return NewEvent(
        type="case.brief_created",
        data=canonical(data if data is not None else {"brief_id": f"b{n}", "body": "ü" * n}),
        metadata=metadata,
        id=uuid.UUID(int=n + 1),
    )


@dataclass
class Stream:
    """Given: events appended to a stream as the service appends them (sealed, in order)."""

    recorded: list[RecordedEvent] = field(default_factory=list)

    def chained(self, count: int, start: int = 0) -> Stream:
        previous = GENESIS
        for r in reversed(self.recorded):
            previous = orjson.loads(r.metadata).get(LINK, GENESIS)
            break
        events, _ = sealed([_event(n) for n in range(start, start + count)], previous)
        return self._add(events)

    def unchained(self, count: int) -> Stream:
        return self._add([_event(n + 100) for n in range(count)])

    def _add(self, events: list[NewEvent]) -> Stream:
        for event in events:
            revision = len(self.recorded)
            self.recorded.append(recorded_as(event, STREAM, revision, revision * 10))
        return self

    def walked(self, watch: int | None = None) -> StreamWalk:
        walk = StreamWalk(STREAM, watch)
        for r in self.recorded:
            walk.add(r)
        return walk


def given() -> Stream:
    return Stream()


# The link rule


def test_a_link_is_the_digest_of_the_canonical_previous_id_type_data_and_metadata() -> None:
    event = _event(1)
    (sealed_event,), (link,) = sealed([event], GENESIS)
    expected = hashlib.sha256(
        canonical(
            [
                GENESIS,
                str(event.id),
                event.type,
                orjson.loads(event.data),
                orjson.loads(event.metadata),
            ]
        )
    ).hexdigest()
    assert link == expected
    assert orjson.loads(sealed_event.metadata)[LINK] == link


def test_each_event_of_a_batch_chains_on_from_the_one_before() -> None:
    events, links = sealed([_event(1), _event(2)], "prev")
    first = recompute(recorded_as(events[0], STREAM, 0, 0), "prev")
    second = recompute(recorded_as(events[1], STREAM, 1, 0), links[0])
    assert (first.link, first.stored) == (links[0], links[0])
    assert (second.link, second.stored) == (links[1], links[1])


def test_the_link_is_over_parsed_json_not_over_its_layout() -> None:
    (event,), (link,) = sealed([_event(3)], GENESIS)
    metadata = orjson.loads(event.metadata)
    relaid = replace(
        event,
        data=orjson.dumps(orjson.loads(event.data), option=orjson.OPT_INDENT_2),
        metadata=orjson.dumps(dict(reversed(list(metadata.items())))),
    )
    assert recompute(recorded_as(relaid, STREAM, 0, 0), GENESIS).link == link


def test_any_change_to_previous_id_type_data_or_metadata_changes_the_link() -> None:
    (event,), (link,) = sealed([_event(4)], GENESIS)
    recorded = recorded_as(event, STREAM, 0, 0)
    metadata = orjson.loads(event.metadata) | {"actorId": "mallory"}
    for changed, previous in (
        (recorded, "another"),
        (replace(recorded, id=uuid.uuid4()), GENESIS),
        (replace(recorded, type="case.closed"), GENESIS),
        (replace(recorded, data=canonical({"brief_id": "b4", "body": "forged"})), GENESIS),
        (replace(recorded, metadata=canonical(metadata)), GENESIS),
    ):
        assert recompute(changed, previous).link != link


def test_the_codec_writes_data_and_metadata_in_canonical_form() -> None:
    opened = CaseOpened(
        case_id="c1", tenant_id="t1", allegation_summary="40%", assigned_team=None, opened_by="a"
    )
    written = new_event(opened, uuid.uuid4(), {"tenantId": "t1", "$correlationId": "x", "a": "1"})
    assert canonical(orjson.loads(written.data)) == written.data
    assert canonical(orjson.loads(written.metadata)) == written.metadata


def test_the_chained_categories_are_the_aggregates_the_service_appends_to() -> None:
    assert set(CHAINED) == {a.category for a in AGGREGATES.values()}


# The walk over one stream


def test_given_a_chained_stream_when_walked_then_it_is_intact() -> None:
    walk = given().chained(5).walked()
    assert (walk.status, walk.events, walk.first_break) == (Status.INTACT, 5, None)
    assert walk.head is not None
    assert walk.head.revision == 4


def test_given_older_events_without_links_then_the_stream_is_unchained_up_to_the_last() -> None:
    walk = given().unchained(3).chained(2).walked()
    assert walk.status is Status.UNCHAINED
    assert walk.unchained_up_to == 2


def test_given_an_edited_event_then_the_stream_breaks_at_its_revision() -> None:
    stream = given().chained(4)
    stream.recorded[2] = replace(stream.recorded[2], data=canonical({"brief_id": "forged"}))
    walk = stream.walked()
    assert walk.status is Status.BROKEN
    assert walk.first_break is not None
    assert (walk.first_break.revision, walk.first_break.kind) == (2, BreakKind.LINK)
    assert "link differs" in walk.first_break.differs


def test_given_an_event_deleted_from_the_middle_then_the_revision_is_missing() -> None:
    stream = given().chained(4)
    del stream.recorded[1]
    walk = stream.walked()
    assert walk.first_break is not None
    assert (walk.first_break.revision, walk.first_break.kind) == (2, BreakKind.GAP)
    assert "revision 1 missing" in walk.first_break.differs


def test_given_an_event_without_a_link_after_chained_ones_then_it_breaks() -> None:
    walk = given().chained(2).unchained(1).walked()
    assert walk.first_break is not None
    assert (walk.first_break.revision, walk.first_break.kind) == (2, BreakKind.NO_LINK)


def test_given_an_event_that_is_not_json_then_the_stream_is_unreadable() -> None:
    stream = given().chained(3)
    stream.recorded[1] = replace(stream.recorded[1], data=b"\x00not json")
    walk = stream.walked()
    assert walk.status is Status.UNREADABLE
    assert walk.first_break is not None
    assert walk.first_break.revision == 1
    assert walk.events == 3  # counted on past the break


def test_given_a_whole_chain_recomputed_after_an_edit_then_it_walks_intact() -> None:
    """What a forger who can rewrite the store can do: only a pinned head catches it."""
    original = given().chained(3)
    pinned = original.walked().head
    forged = given()
    forged.recorded = [original.recorded[0]]
    forged._add(sealed([_event(1, {"brief_id": "forged"})], _link(original.recorded[0]))[0])
    forged.chained(1, start=2)
    walk = forged.walked(watch=2)
    assert walk.status is Status.INTACT
    assert pinned is not None
    reason = not_reached(walk, pinned)
    assert reason is not None
    assert "another link than the one pinned" in reason


def test_a_pinned_head_is_reached_by_the_stream_that_grew_past_it() -> None:
    stream = given().chained(3)
    pinned = stream.walked().head
    assert pinned is not None
    assert not_reached(stream.chained(2, start=3).walked(watch=2), pinned) is None


def test_a_pinned_head_is_not_reached_once_events_are_deleted_from_the_end() -> None:
    stream = given().chained(3)
    pinned = stream.walked().head
    assert pinned is not None
    del stream.recorded[-1]
    walk = stream.walked(watch=pinned.revision)
    assert walk.status is Status.INTACT
    reason = not_reached(walk, pinned)
    assert reason is not None
    assert "ends at revision 1" in reason
    assert not_reached(None, Head(0, "x", None)) is not None


def _link(recorded: RecordedEvent) -> str:
    link = orjson.loads(recorded.metadata)[LINK]
    assert isinstance(link, str)
    return link


# The service chains its appends


def _walk(store: InMemoryEventStore, stream: str) -> StreamWalk:
    walk = StreamWalk(stream)
    for r in store.read_stream(stream):
        walk.add(r)
    return walk


def _briefs(service: CommandService, start: int, count: int) -> None:
    for n in range(start, start + count):
        body = {"case_id": "c1", "brief_id": f"b{n}", "title": "Finding", "body": "x"}
        accepted(issue(service, "create_analyst_brief", body, ANALYST))


def test_the_service_chains_every_append_across_its_cache_new_services_and_snapshots() -> None:
    store = InMemoryEventStore()
    case_under_review(command_service(store, snapshot_every=3))
    service = command_service(store, snapshot_every=3)  # cold: from a snapshot
    _briefs(service, 0, 7)  # warm: from its cache
    _briefs(command_service(store, snapshot_every=0), 7, 2)  # cold: from the events
    _briefs(command_service(store, snapshot_every=3), 9, 2)
    stream = CASE.stream(TENANT, "c1")
    walk = _walk(store, stream)
    assert walk.status is Status.INTACT, walk.first_break
    assert walk.events == len(store.read_stream(stream)) > 10
    assert store.read_stream(f"snapshot-{stream}")  # snapshots were written and read
