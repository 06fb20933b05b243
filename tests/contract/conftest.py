"""A real KurrentDB for the contracts, once per session, where Docker answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.kurrentdb import kurrentdb_container


@pytest.fixture(scope="session")
def kurrentdb_url() -> Iterator[str]:
    """A single-node KurrentDB 26.1 in insecure mode (skips with the reason without Docker)."""
    yield from kurrentdb_container()
