"""Persistent map and set for aggregate state: immutable, and cheap to extend.

`evolve` returns a new state per event and must leave the old one as it was (a cached state is
read by other commands). Copying a whole dict or frozenset on every event makes folding n events
O(n²). `PMap.set` and `PSet.add` instead return a new value that shares the old one's storage:
entries live in at most log2(n) + 1 frozen levels of halving size (a binary counter), a write
adds a one-entry level and merges equal-sized neighbours into a new level, so a write costs
O(log n) amortized and a lookup checks O(log n) levels. No level is ever mutated.

Both compare equal to a plain dict / set with the same contents, iterate in first-insertion
order (as a dict does), and validate from / serialize to JSON objects / arrays with pydantic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Set
from typing import Any, TypeVar, get_args

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class PMap(Mapping[K, V]):
    __slots__ = ("_len", "_levels")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        merged = dict(items)
        self._levels: tuple[dict[K, V], ...] = (merged,) if merged else ()
        self._len = len(merged)

    def set(self, key: K, value: V) -> PMap[K, V]:
        """This map with `key` bound to `value`; this map is left as it was."""
        levels = [*self._levels, {key: value}]
        while len(levels) > 1 and len(levels[-2]) <= len(levels[-1]):
            newer = levels.pop()
            levels[-1] = {**levels[-1], **newer}
        new: PMap[K, V] = PMap.__new__(PMap)
        new._levels = tuple(levels)
        new._len = self._len + (0 if key in self else 1)
        return new

    def __getitem__(self, key: K) -> V:
        for level in reversed(self._levels):
            if key in level:
                return level[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(key in level for level in self._levels)

    def __iter__(self) -> Iterator[K]:
        if len(self._levels) == 1:
            yield from self._levels[0]
            return
        seen: set[K] = set()
        for level in self._levels:
            for key in level:
                if key not in seen:
                    seen.add(key)
                    yield key

    def __len__(self) -> int:
        return self._len

    def __repr__(self) -> str:
        return f"PMap({dict(self.items())!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (PMap, (dict(self.items()),))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        key, value = get_args(source) or (Any, Any)
        plain = handler.generate_schema(dict[key, value])  # type: ignore[valid-type]
        return core_schema.no_info_after_validator_function(
            PMap,
            plain,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda m: dict(m.items()), return_schema=plain
            ),
        )


class PSet(Set[T]):
    __slots__ = ("_map",)

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._map: PMap[T, None] = PMap((item, None) for item in items)

    def add(self, item: T) -> PSet[T]:
        """This set with `item`; this set is left as it was."""
        if item in self._map:
            return self
        new: PSet[T] = PSet.__new__(PSet)
        new._map = self._map.set(item, None)
        return new

    def __contains__(self, item: object) -> bool:
        return item in self._map

    def __iter__(self) -> Iterator[T]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __hash__(self) -> int:
        return self._hash()

    def __repr__(self) -> str:
        return f"PSet({list(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (PSet, (list(self),))

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> PSet[Any]:
        return PSet(it)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        (item,) = get_args(source) or (Any,)
        plain = handler.generate_schema(list[item])  # type: ignore[valid-type]
        return core_schema.no_info_after_validator_function(
            PSet,
            plain,
            serialization=core_schema.plain_serializer_function_ser_schema(
                list, return_schema=plain
            ),
        )
