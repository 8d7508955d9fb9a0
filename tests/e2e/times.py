"""Wall-clock helpers for scheduling the real bot's daily jobs a few seconds from now.

The bot reads check-in times as ``HH:MM`` in ``TIMEZONE`` and its cron jobs fire at second 0
of that minute.  To keep ``CHECKIN_TIME < NUDGE_TIME < SUMMARY_TIME`` valid whatever the hour
of the test run, the tests pick a fixed-offset zone (``Etc/GMT-N``) in which it is about noon.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def midday_zone() -> str:
    """An IANA zone whose local time is between 10:00 and 14:00 right now."""
    hour = datetime.now(UTC).hour
    offset = (12 - hour) % 24
    if offset > 12:
        offset -= 24  # Etc zones span UTC-12 … UTC+14
    # POSIX sign convention: Etc/GMT-8 is UTC+8.
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "+0")


def local_now(zone: str) -> datetime:
    """Now in ``zone``."""
    return datetime.now(ZoneInfo(zone))


def hhmm(moment: datetime) -> str:
    """``HH:MM`` of a local time."""
    return moment.strftime("%H:%M")


def next_minute(zone: str, at_least: float) -> datetime:
    """The first whole local minute at least ``at_least`` seconds from now."""
    soon = local_now(zone) + timedelta(seconds=at_least)
    if soon.second == 0 and soon.microsecond == 0:
        return soon
    return soon.replace(second=0, microsecond=0) + timedelta(minutes=1)


async def sleep_until(moment: datetime, extra: float = 0.0) -> None:
    """Sleep until ``moment`` (aware datetime) plus ``extra`` seconds."""
    delay = (moment - datetime.now(moment.tzinfo)).total_seconds() + extra
    if delay > 0:
        await asyncio.sleep(delay)


def monotonic() -> float:
    """``time.monotonic`` (one import for the tests)."""
    return time.monotonic()
