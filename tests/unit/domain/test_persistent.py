"""Persistent map and set: they behave as a dict / set would, and a write never changes the
value it was made from (a cached aggregate state is shared by concurrent commands)."""

from __future__ import annotations

import random

import pytest
from pydantic import TypeAdapter

from caseledger.domain.case import decider as case_decider
from caseledger.domain.case.events import AnalystBriefCreated
from caseledger.domain.shared.persistent import PMap, PSet
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
