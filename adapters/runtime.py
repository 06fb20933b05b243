"""Process-wide settings of the interpreter for caseledger's long-running processes.

`tune_gc()` is called once by each long-running entry point (`caseledger serve`,
`caseledger projections run`, `caseledger projections rebuild`, `caseledger mcp`) after
start-up, before the work begins; the read-side benchmark calls it in the same place, so it
measures what those processes run. It is the entry points' choice, not a library's: the
projection runner and the stores never change the collector.
"""

from __future__ import annotations

import gc
from typing import Final

GC_THRESHOLDS: Final = (20_000, 20, 10)
"""Collect the youngest generation after 20,000 net container allocations (default 700), the
middle one after 20 of those (default 10). Almost everything a projection runner or a request
allocates is freed by reference counting well before that, so the default thresholds mostly
walked live objects (events read ahead, a batch's rows) and promoted them, which then made
full collections walk them again: a pause that grows with the working set, not with garbage.
What still forms cycles is collected at most 20,000 objects late (bounded memory)."""


_tuned = False


def tune_gc() -> None:
    """Freeze what start-up left alive (modules, classes, settings: they live as long as the
    process, yet every full collection walked them again) and set `GC_THRESHOLDS`. Once per
    process: later calls do nothing (an entry point run in-process twice, as in tests)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
