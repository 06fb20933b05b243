"""`$maxCount` and `$maxAge`: which of a stream's events stream reads still see.

As in KurrentDB, an event beyond `$maxCount` (oldest first) or older than `$maxAge` seconds at the
time of the read is invisible to reads of its stream at once, in either direction, and to
catch-up subscriptions to it; raising or removing the limit shows it again. `$all` reads still
return it: KurrentDB removes it from the log only when it scavenges, and this store does not
scavenge, so it stays on disk. A malformed or non-positive value is ignored, as KurrentDB ignores
metadata it cannot parse.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

TICKS_PER_SECOND = 10_000_000
""".NET ticks (100 ns), the unit of a stored event's `created`."""


@dataclass(frozen=True, slots=True)
class Retention:
    max_count: int | None = None
    max_age: int | None = None
    """Seconds."""

    @classmethod
    def from_metadata(cls, data: bytes) -> Retention:
        """The limits in a `$metadata` event's JSON body; none when it sets none."""
        try:
            metadata = orjson.loads(data)
        except orjson.JSONDecodeError:
            return cls()
        if not isinstance(metadata, dict):
            return cls()
        return cls(_positive(metadata.get("$maxCount")), _positive(metadata.get("$maxAge")))

    def first_visible(self, last_revision: int, floor: int) -> int:
        """The lowest revision `$maxCount` leaves visible, never below `floor` (`$tb`)."""
        if self.max_count is None:
            return floor
        return max(floor, last_revision - self.max_count + 1)

    def created_cutoff(self, now_ticks: int) -> int | None:
        """Events created before this (in ticks) are past `$maxAge`; None without a limit."""
        if self.max_age is None:
            return None
        return now_ticks - self.max_age * TICKS_PER_SECOND


def _positive(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
