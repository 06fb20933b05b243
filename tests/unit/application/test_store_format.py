"""The store-format marker: a new store is marked before its first command, a marked store is
used, and a store holding caseledger's streams without it (written before tenant-scoped names)
or with another format is refused, naming the fix."""

from __future__ import annotations

import orjson
import pytest

from caseledger.domain.application.ports import ANY, NewEvent
from caseledger.domain.application.storeformat import (
    FORMAT_EVENT,
    FORMAT_STREAM,
    StoreFormatError,
    check_store_format,
    mark_migrating,
    mark_store_format,
    read_store_format,
)
from tests.support.memory_store import InMemoryEventStore


def test_a_new_store_is_marked_once_and_then_used() -> None:
    store = InMemoryEventStore()
    check_store_format(store, mark=True)
    check_store_format(store, mark=True)
    check_store_format(store, mark=False)
    assert [e.type for e in store.read_stream(FORMAT_STREAM)] == [FORMAT_EVENT]
    assert read_store_format(store) == 2


def test_a_store_only_read_is_never_marked() -> None:
    store = InMemoryEventStore()
    check_store_format(store, mark=False)
    assert store.read_stream(FORMAT_STREAM) == []


@pytest.mark.parametrize("stream", ["case-c1", "noticedraft-n1", "commandlog-t1", "snapshot-x"])
def test_a_store_with_caseledger_streams_and_no_marker_is_refused_naming_migrate(
    stream: str,
) -> None:
    store = InMemoryEventStore()
    store.append(stream, [NewEvent("case.opened", b"{}")], ANY)
    for mark in (True, False):
        with pytest.raises(StoreFormatError, match="caseledger migrate --from OLD_DATA_DIR"):
            check_store_format(store, mark=mark)
    assert store.read_stream(FORMAT_STREAM) == []


def test_streams_of_others_do_not_make_a_store_old() -> None:
    store = InMemoryEventStore()
    store.append("$settings", [NewEvent("x", b"{}")], ANY)
    store.append("orders-1", [NewEvent("x", b"{}")], ANY)
    check_store_format(store, mark=True)
    assert read_store_format(store) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (orjson.dumps({"format": 3}), "format 3"),
        (b"not json", "format unreadable"),
        (orjson.dumps({"format": "migrating"}), "unfinished migration"),
    ],
)
def test_a_store_marked_otherwise_is_refused(data: bytes, message: str) -> None:
    store = InMemoryEventStore()
    store.append(FORMAT_STREAM, [NewEvent(FORMAT_EVENT, data)], ANY)
    with pytest.raises(StoreFormatError, match=message):
        check_store_format(store, mark=True)


def test_a_finished_migration_is_marked_over_its_migrating_marker() -> None:
    store = InMemoryEventStore()
    mark_migrating(store)
    with pytest.raises(StoreFormatError):
        check_store_format(store, mark=False)
    mark_store_format(store, expected=0)
    check_store_format(store, mark=False)
