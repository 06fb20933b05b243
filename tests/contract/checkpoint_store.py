"""The checkpoint store's contract: where a checkpointed reader of `$all` (a projection runner,
the outbox relay) keeps its place, so that after a restart it resumes from the last position
it saved and never from an earlier one. Written once as an abstract test class; one small
subclass per backend in the `test_*` modules beside it says how to open the store and how the
store records a checkpoint."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Protocol

import pytest

from caseledger.projections.ports import CheckpointConflict


class Checkpoints(Protocol):
    """A checkpoint store as its reader uses it."""

    def checkpoint(self, name: str) -> int | None: ...

    def save(self, name: str, position: int, seen: int | None) -> None:
        """Record `position` as `name`'s checkpoint, by a reader that last read `seen`. A store
        may refuse a reader whose `seen` is stale (CheckpointConflict) or keep the higher."""
        ...

    def close(self) -> None:
        """Release the store (closing twice is harmless)."""
        ...


Opener = Callable[[], Checkpoints]


class CheckpointStoreContract(ABC):
    """Every checkpoint store passes these tests."""

    names: tuple[str, str]
    """Two readers this store keeps checkpoints for."""

    @abstractmethod
    def storage(self, request: pytest.FixtureRequest) -> Iterator[Opener]:
        """Yield a function that opens a store on one fresh storage (each call a new store on
        the same storage, as a restarted process opens it); clean the storage up after."""

    @pytest.fixture
    def reopen(self, request: pytest.FixtureRequest) -> Iterator[Opener]:
        """Opens a store on this test's storage; every store opened is closed after the test."""
        opened: list[Checkpoints] = []
        storage = self.storage(request)
        open_store = next(storage)

        def tracked() -> Checkpoints:
            opened.append(open_store())
            return opened[-1]

        yield tracked
        for store in opened:
            store.close()
        next(storage, None)  # the storage's own clean-up

    @pytest.fixture
    def store(self, reopen: Opener) -> Checkpoints:
        return reopen()

    def test_a_reader_that_never_saved_has_no_checkpoint(self, store: Checkpoints) -> None:
        assert store.checkpoint(self.names[0]) is None

    def test_the_last_saved_position_is_the_checkpoint(self, store: Checkpoints) -> None:
        first = self.names[0]
        store.save(first, 10, None)
        store.save(first, 20, 10)
        store.save(first, 35, 20)

        assert store.checkpoint(first) == 35

    def test_each_reader_has_its_own_checkpoint(self, store: Checkpoints) -> None:
        first, second = self.names
        store.save(first, 100, None)

        assert store.checkpoint(second) is None
        store.save(second, 40, None)
        assert (store.checkpoint(first), store.checkpoint(second)) == (100, 40)

    def test_a_checkpoint_outlives_the_store_that_saved_it(
        self, store: Checkpoints, reopen: Opener
    ) -> None:
        store.save(self.names[0], 100, None)
        store.close()

        assert reopen().checkpoint(self.names[0]) == 100

    def test_a_reader_that_read_a_stale_checkpoint_never_moves_it_back(
        self, store: Checkpoints, reopen: Opener
    ) -> None:
        first = self.names[0]
        late = reopen()  # another process, which read the checkpoint before the save below
        store.save(first, 100, None)

        with contextlib.suppress(CheckpointConflict):
            late.save(first, 50, None)

        assert store.checkpoint(first) == late.checkpoint(first) == 100
