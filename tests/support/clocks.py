"""A clock tests control."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.support.builders import NOW


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
