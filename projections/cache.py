"""A bounded least-recently-used map: the runner's memory stays flat however long the log."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """Keeps the `capacity` most recently used entries. `complete` stays True while the cache
    is known to hold every entry there is (a fresh view, nothing evicted): a miss then means
    absent, without asking the store."""

    def __init__(self, capacity: int, *, complete: bool = False) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()
        self.complete = complete

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None or key in self._entries:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
            self.complete = False

    def clear(self) -> None:
        self._entries.clear()
        self.complete = False

    def __len__(self) -> int:
        return len(self._entries)
