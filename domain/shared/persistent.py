"""Persistent map and set for aggregate state: immutable, and cheap to extend; and `evolved`,
a cheap `dataclasses.replace` for the frozen state records that hold them.

`evolve` returns a new state per event and must leave the old one as it was (a cached state is
read by other commands). Copying a whole dict or frozenset on every event makes folding n events
O(n²). `PMap.set` and `PSet.add` instead return a new value that shares the old one's storage:
entries live in at most log2(n) + 1 frozen levels of halving size (a binary counter), a write
adds a one-entry level (`PMap.update`: one level for a whole batch) and merges equal-sized
neighbours into a new level, so a write costs O(log n) amortized and a lookup checks O(log n)
levels. No level is ever mutated.

Both compare equal to a plain dict / set with the same contents, iterate in first-insertion
order (as a dict does), and validate from / serialize to JSON objects / arrays with pydantic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import ItemsView, Iterable, Iterator, Mapping, Set, ValuesView
from typing import Any, TypeVar, get_args, overload

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
D = TypeVar("D")


class PMap(Mapping[K, V]):
    __slots__ = ("_len", "_levels")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        merged = dict(items)
        self._levels: tuple[dict[K, V], ...] = (merged,) if merged else ()
        self._len = len(merged)

    def set(self, key: K, value: V) -> PMap[K, V]:
        """This map with `key` bound to `value`; this map is left as it was."""
        return self._with({key: value}, 0 if key in self else 1)

    def update(self, items: Mapping[K, V]) -> PMap[K, V]:
        """This map with every binding of `items` (as many `set`s, in their order, but
        merged once: folding a batch of events builds the batch in a plain dict)."""
        if not items:
            return self
        added = sum(1 for key in items if key not in self)
        return self._with(dict(items), added)

    def _with(self, newest: dict[K, V], added: int) -> PMap[K, V]:
        levels = [*self._levels, newest]
        while len(levels) > 1 and len(levels[-2]) <= len(levels[-1]):
            newer = levels.pop()
            levels[-1] = {**levels[-1], **newer}
        new: PMap[K, V] = PMap.__new__(PMap)
        new._levels = tuple(levels)
        new._len = self._len + added
        return new

    def __getitem__(self, key: K) -> V:
        for level in reversed(self._levels):
            if key in level:
                return level[key]
        raise KeyError(key)

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | T, /) -> V | T: ...
    def get(self, key: K, default: object = None, /) -> object:
        """As `Mapping.get`, without raising and catching a KeyError on a miss."""
        for level in reversed(self._levels):
            if key in level:
                return level[key]
        return default

    def __contains__(self, key: object) -> bool:
        for level in self._levels:  # noqa: SIM110 - a plain loop: no generator per lookup
            if key in level:
                return True
        return False

    def __iter__(self) -> Iterator[K]:
        """In first-insertion order: over the levels merged into one dict (each level's
        `update` keeps a key where it was first inserted), a pass at C speed rather than a
        generator step per key."""
        return iter(self._merged())

    def __len__(self) -> int:
        return self._len

    def items(self) -> ItemsView[K, V]:
        """In first-insertion order with the newest values, in one pass over the levels
        (`Mapping.items` would look every key up again)."""
        return self._merged().items()

    def values(self) -> ValuesView[V]:
        return self._merged().values()

    def _merged(self) -> dict[K, V]:
        if len(self._levels) == 1:
            return self._levels[0]
        merged: dict[K, V] = {}
        for level in self._levels:
            merged.update(level)
        return merged

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
        new._map = self._map._with({item: None}, 1)
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


def evolved(record: D, /, **changes: Any) -> D:
    """`dataclasses.replace(record, **changes)` for a frozen dataclass, at a fifth of its cost
    (folding calls it once an event): the new record shares the old one's field values and
    takes `changes`, without running `__init__` (nothing to run: a class with `__post_init__`,
    slots or non-init fields goes through `dataclasses.replace`). An unknown field raises
    `TypeError`, as there."""
    cls = type(record)
    names = _REPLACEABLE.get(cls)
    if names is None:
        names = _REPLACEABLE[cls] = _plain_fields(cls)
    if not names or not names.issuperset(changes):
        return dataclasses.replace(record, **changes)  # type: ignore[type-var]
    new = object.__new__(cls)
    fields = new.__dict__
    fields.update(record.__dict__)
    fields.update(changes)
    return new


_REPLACEABLE: dict[type, frozenset[str]] = {}


def _plain_fields(cls: type) -> frozenset[str]:
    """The field names of a frozen dataclass `evolved` may copy directly; empty if it may not."""
    if not dataclasses.is_dataclass(cls) or "__slots__" in vars(cls):
        return frozenset()
    if hasattr(cls, "__post_init__") or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return frozenset()
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields):
        return frozenset()
    return frozenset(f.name for f in fields)
