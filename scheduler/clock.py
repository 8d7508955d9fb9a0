"""The injected clock (DESIGN rule 6): nothing else asks the system for the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time from the operating system, in UTC."""
        return datetime.now(UTC)


class SimClock:
    """A clock that only moves when told to: tests and the demo console."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The simulated time."""
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (never backwards: jobs and idempotency keys assume monotony)."""
        when = when.astimezone(UTC)
        if when < self._now:
            raise ValueError("the simulated clock cannot go backwards")
        self._now = when

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        self.set(self._now + delta)
