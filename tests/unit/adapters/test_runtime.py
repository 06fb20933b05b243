"""The long-running entry points' collector settings (`tune_gc`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from caseledger.adapters import runtime


@pytest.fixture
def untuned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    old = gc.get_threshold()
    monkeypatch.setattr(runtime, "_tuned", False)
    yield
    gc.unfreeze()
    gc.set_threshold(*old)


@pytest.mark.usefixtures("untuned")
def test_tune_gc_freezes_what_start_up_left_and_raises_the_thresholds() -> None:
    runtime.tune_gc()

    assert gc.get_threshold() == runtime.GC_THRESHOLDS
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("untuned")
def test_tune_gc_runs_once_per_process() -> None:
    runtime.tune_gc()
    gc.set_threshold(700, 10, 10)

    runtime.tune_gc()

    assert gc.get_threshold() == (700, 10, 10)
