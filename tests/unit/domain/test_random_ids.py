"""Event ids are random version-4 UUIDs, as `uuid.uuid4` makes them, drawn from the system's
random source in blocks: never repeated, not across blocks, threads or a fork."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from caseledger.domain.shared.ids import DerivedIds, random_id

BLOCK = 256


def test_random_ids_are_version_4_rfc_4122_uuids() -> None:
    ids = [random_id() for _ in range(3 * BLOCK)]

    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids)


def test_event_ids_are_fresh_for_every_write_of_one_command() -> None:
    seed = DerivedIds().command_seed("t1", "user:ann", "k1", "case-t1_c1")

    assert DerivedIds().event_id(seed, 0) != DerivedIds().event_id(seed, 0)


def test_threads_drawing_at_once_never_share_an_id() -> None:
    drawn: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def draw(into: list[uuid.UUID]) -> None:
        into.extend(random_id() for _ in range(BLOCK))

    threads = [threading.Thread(target=draw, args=(d,)) for d in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = [i for d in drawn for i in d]
    assert len(set(every)) == len(every) == 8 * BLOCK


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_repeat_its_parents_next_ids() -> None:
    random_id()  # the parent holds a block with unused ids
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, b"".join(random_id().bytes for _ in range(4)))
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read, "rb") as pipe:
        raw = pipe.read()
    childs = {uuid.UUID(bytes=raw[n : n + 16]) for n in range(0, len(raw), 16)}
    parents = {random_id() for _ in range(4)}

    assert len(childs) == 4
    assert not childs & parents
