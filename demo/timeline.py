"""Simulated time for the demo: move the clock and run every job that falls due, in order.

Jobs are the real ones registered on PTB's ``JobQueue`` (its scheduler is never started in
the demo); their APScheduler triggers say when they would fire, and ``Job.run`` runs them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.clock import SimClock

_DURATION = re.compile(r"(\d+)\s*([dhm])")
_TICK = timedelta(microseconds=1)


def parse_duration(text: str) -> timedelta:
    """``2h``, ``30m``, ``1d``, ``1d2h30m`` → timedelta (ValueError otherwise)."""
    cleaned = text.replace(" ", "").lower()
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError("usage: :advance 2h | 30m | 1d | 1d2h")
    units = {"d": "days", "h": "hours", "m": "minutes"}
    delta = timedelta()
    for number, unit in parts:
        delta += timedelta(**{units[unit]: int(number)})
    if delta > timedelta(days=60):
        raise ValueError("advance at most 60 days at a time")
    return delta


def parse_local_time(text: str, tz: ZoneInfo) -> datetime:
    """``2026-12-01 09:00`` in the configured zone → aware datetime."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError("usage: :at YYYY-MM-DD HH:MM, e.g. :at 2026-12-01 09:00") from None
    return naive.replace(tzinfo=tz)


class Timeline:
    """Runs due jobs of an Application's JobQueue against a SimClock."""

    def __init__(
        self, app: Any, clock: SimClock, *, after_each: Callable[[], Awaitable[None]]
    ) -> None:
        self.app = app
        self.clock = clock
        self.after_each = after_each
        # Per job, the last moment it ran (or was first seen): jobs due at the same minute all
        # run, each once, and a job added later never fires for the time before it existed.
        self._last: dict[str, datetime] = {}

    def _next_due(self, until: datetime) -> tuple[datetime, Any] | None:
        best: tuple[datetime, Any] | None = None
        for job in self.app.job_queue.jobs():
            last = self._last.setdefault(job.id, self.clock.now())
            fire = self._after(job, last)
            if fire is None or fire > until:
                continue
            if best is None or fire < best[0]:
                best = (fire, job)
        return best

    @staticmethod
    def _after(job: Any, last: datetime) -> datetime | None:
        """The job's first fire time strictly after ``last``.

        APScheduler 3 computes cron times on the wall clock; around a daylight-saving change
        it can answer a moment that is not after ``last`` (the repeated hour): step past it.
        """
        base = last
        for _ in range(180):
            fire = job.job.trigger.get_next_fire_time(None, base + _TICK)
            if fire is None or fire > last:
                return fire
            base += timedelta(minutes=1)
        return None

    async def run_until(self, target: datetime) -> int:
        """Advance to ``target``, running each due job at its own time; returns jobs run."""
        if target < self.clock.now():
            raise ValueError("the simulated clock cannot go backwards")
        ran = 0
        while (due := self._next_due(target)) is not None:
            fire, job = due
            self._last[job.id] = fire
            self.clock.set(fire)
            # Called directly (not Job.run) so a failing job raises here, where the demo
            # prints it and a test fails, instead of vanishing into a background task.
            context = self.app.context_types.context.from_job(job, self.app)
            await context.refresh_data()
            await job.callback(context)
            await self.after_each()
            ran += 1
        self.clock.set(target)
        return ran
