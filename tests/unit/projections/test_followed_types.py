"""Nothing skipped by accident: every projection names each catalogued type of the categories
it follows as handled or ignored, and the categories the read side leaves alone are named."""

from __future__ import annotations

import pytest

from caseledger.domain.application.storeformat import FORMAT_STREAM
from caseledger.domain.shared import streams
from caseledger.projections.catalogue import all_projections
from caseledger.projections.events import CATALOGUED_TYPES, CATEGORIES, NOT_FOLLOWED
from caseledger.projections.projection import Projection


@pytest.mark.parametrize("projection", all_projections(), ids=lambda p: p.id)
def test_each_catalogued_type_of_a_followed_category_is_handled_or_ignored_by_name(
    projection: Projection,
) -> None:
    catalogued = frozenset().union(*(CATALOGUED_TYPES[c] for c in projection.categories))

    assert projection.handles | projection.ignores == catalogued
    assert projection.handles & projection.ignores == frozenset()


def test_every_category_is_followed_or_left_alone_by_name() -> None:
    assert set(streams.CATEGORIES) <= set(CATEGORIES) | set(NOT_FOLLOWED)
    assert set(CATEGORIES) & set(NOT_FOLLOWED) == set()
    assert set(CATALOGUED_TYPES) == set(CATEGORIES)


def test_a_category_left_alone_never_matches_a_followed_prefix() -> None:
    followed = tuple(f"{c}-" for c in CATEGORIES)

    assert not any(f"{c}-t1_x".startswith(followed) for c in NOT_FOLLOWED)
    assert not f"{FORMAT_STREAM}".startswith(followed)
