"""Persistent map and set: they behave as a dict / set would, and a write never changes the
value it was made from (a cached aggregate state is shared by concurrent commands)."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

import pytest
from pydantic import TypeAdapter

from caseledger.domain.case import decider as case_decider
from caseledger.domain.case.events import AnalystBriefCreated
from caseledger.domain.shared.persistent import PMap, PSet, evolved
from tests.support.case_history import CASE_ID, under_review


@pytest.mark.parametrize("seed", range(5))
def test_a_pmap_agrees_with_a_dict_after_any_writes(seed: int) -> None:
    rng = random.Random(seed)
    pmap: PMap[str, int] = PMap()
    plain: dict[str, int] = {}
    for n in range(rng.randrange(1, 300)):
        key = f"k{rng.randrange(60)}"
        pmap, plain[key] = pmap.set(key, n), n
        assert pmap == plain
    assert list(pmap.items()) == list(plain.items()), "first-insertion order, as a dict"
    assert list(pmap) == list(plain)
    assert list(pmap.values()) == list(plain.values())
    assert len(pmap) == len(plain)
    assert all(pmap[k] == v for k, v in plain.items())
    assert "missing" not in pmap
    assert pmap.get("missing") is None


@pytest.mark.parametrize("seed", range(5))
def test_a_pset_agrees_with_a_set_after_any_additions(seed: int) -> None:
    rng = random.Random(seed)
    pset: PSet[int] = PSet()
    plain: set[int] = set()
    for _ in range(rng.randrange(1, 300)):
        item = rng.randrange(80)
        pset = pset.add(item)
        plain.add(item)
    assert pset == plain
    assert plain == pset
    assert len(pset) == len(plain)
    assert pset | {1000} == plain | {1000}
    assert hash(pset) == hash(frozenset(plain))


def test_a_write_leaves_the_original_as_it_was() -> None:
    before: PMap[str, int] = PMap({"a": 1})
    after = before.set("a", 2).set("b", 3)
    assert (dict(before), dict(after)) == ({"a": 1}, {"a": 2, "b": 3})
    small: PSet[str] = PSet(["x"])
    assert (small.add("y"), small) == ({"x", "y"}, {"x"})


def test_persistent_collections_round_trip_through_json() -> None:
    pmap: PMap[str, int] = PMap({"a": 1}).set("b", 2)
    pset: PSet[str] = PSet(["x"]).add("y")
    assert TypeAdapter(PMap[str, int]).validate_json(TypeAdapter(PMap[str, int]).dump_json(pmap))
    assert TypeAdapter(PMap[str, int]).dump_json(pmap) == b'{"a":1,"b":2}'
    assert TypeAdapter(PSet[str]).validate_json(b'["x","y"]') == pset


def test_case_evolve_leaves_the_earlier_state_unchanged() -> None:
    state = case_decider.initial_state()
    for event in under_review():
        state = case_decider.evolve(state, event)
    brief = AnalystBriefCreated(
        case_id=CASE_ID,
        brief_id="b1",
        title="t",
        body="b",
        evidence_refs=[],
        author_type="user",
        author_id="alice",
        run_id=None,
    )
    later = case_decider.evolve(state, brief)
    assert (state.briefs, later.briefs) == (frozenset(), frozenset({"b1"}))


@pytest.mark.parametrize("seed", range(5))
def test_a_batch_update_equals_the_same_writes_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    one_by_one: PMap[str, int] = PMap()
    batched: PMap[str, int] = PMap()
    for _ in range(rng.randrange(1, 40)):
        batch = {f"k{rng.randrange(80)}": rng.randrange(1000) for _ in range(rng.randrange(8))}
        before = dict(batched)
        for key, value in batch.items():
            one_by_one = one_by_one.set(key, value)
        updated = batched.update(batch)
        assert dict(batched) == before, "the map updated is left as it was"
        batched = updated
        assert list(batched.items()) == list(one_by_one.items())
        assert list(batched.values()) == list(one_by_one.values())
        assert len(batched) == len(one_by_one)
        assert all(batched.get(k) == v for k, v in one_by_one.items())
    assert batched.get("missing", -1) == -1


@dataclass(frozen=True)
class Ledger:
    owner: str
    entries: PMap[str, int] = field(default_factory=PMap)


@dataclass(frozen=True)
class Checked:
    amount: int

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("negative")


def test_evolved_equals_dataclasses_replace_and_leaves_the_original_as_it_was() -> None:
    ledger = Ledger("alice", PMap({"a": 1}))
    later = evolved(ledger, entries=ledger.entries.set("b", 2))
    assert later == dataclasses.replace(ledger, entries=PMap({"a": 1, "b": 2}))
    assert (ledger.entries, later.owner) == ({"a": 1}, "alice")
    with pytest.raises(dataclasses.FrozenInstanceError):
        later.owner = "bob"  # type: ignore[misc]


def test_evolved_refuses_an_unknown_field_and_runs_post_init_where_there_is_one() -> None:
    with pytest.raises(TypeError):
        evolved(Ledger("alice"), balance=3)
    with pytest.raises(ValueError, match="negative"):
        evolved(Checked(1), amount=-1)
