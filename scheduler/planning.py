"""Pure planning: parsing weekdays and times, when meeting reminders fire, which reminder
windows are open at a given moment.  No database, no Telegram."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from settings import parse_hhmm

_WEEKDAYS = {
    **{str(i): i for i in range(1, 8)},
    **{name: i for i, name in enumerate(
        ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), start=1)},
    **{name: i for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), start=1)},
    **{f"{prefix}{ch}": i for prefix in ("周", "星期", "礼拜")
       for i, ch in enumerate("一二三四五六日", start=1)},
    "周天": 7, "星期天": 7, "礼拜天": 7,
}  # fmt: skip


def parse_weekday(text: str) -> int:
    """1–7, mon…sun, monday…sunday or 周一…周日 → 1 (Monday) … 7 (Sunday)."""
    key = text.strip().lower().rstrip(".")
    if key not in _WEEKDAYS:
        raise ValueError(f"{text!r} is not a weekday (1-7, mon…sun, 周一…周日)")
    return _WEEKDAYS[key]


def hhmm(value: time) -> str:
    """A time as ``HH:MM``."""
    return f"{value.hour:02d}:{value.minute:02d}"


def at_local(day: date, clock_time: str, tz: ZoneInfo) -> datetime:
    """The aware moment of ``clock_time`` on ``day`` in ``tz``."""
    return datetime.combine(day, parse_hhmm(clock_time), tz)


def next_meeting(weekday: int, clock_time: str, tz: ZoneInfo, after: datetime) -> datetime:
    """The first meeting moment strictly after ``after``."""
    local = after.astimezone(tz)
    days_ahead = (weekday - local.isoweekday()) % 7
    candidate = at_local(local.date() + timedelta(days=days_ahead), clock_time, tz)
    if candidate <= after:
        candidate = at_local(local.date() + timedelta(days=days_ahead + 7), clock_time, tz)
    return candidate


@dataclass(frozen=True, slots=True)
class CronSpec:
    """A weekly cron moment: ISO weekday (1–7) and local hour and minute."""

    weekday: int
    hour: int
    minute: int

    @property
    def day_of_week(self) -> str:
        """APScheduler's day_of_week value (mon…sun)."""
        return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[self.weekday - 1]


def shifted(weekday: int, clock_time: str, before: timedelta) -> CronSpec:
    """The weekly moment ``before`` earlier than a weekly meeting (crossing midnight/weeks)."""
    t = parse_hhmm(clock_time)
    minutes = (weekday - 1) * 1440 + t.hour * 60 + t.minute - int(before.total_seconds() // 60)
    minutes %= 7 * 1440
    return CronSpec(minutes // 1440 + 1, (minutes % 1440) // 60, minutes % 60)


@dataclass(frozen=True, slots=True)
class Windows:
    """A community's daily reminder times (local ``HH:MM``)."""

    checkin: str
    nudge: str
    summary: str

    def open_kind(self, moment: datetime, tz: ZoneInfo) -> str | None:
        """Which reminder is due for a late start at ``moment``: checkin, nudge, summary or None.

        A reminder missed while the bot was down is still sent inside its window (check-in
        until the nudge time, the nudge until the summary time, the summary until midnight).
        """
        now = hhmm(moment.astimezone(tz).time())
        if self.checkin <= now < self.nudge:
            return "checkin"
        if self.nudge <= now < self.summary:
            return "nudge"
        if now >= self.summary:
            return "summary"
        return None


def week_bounds(day: date) -> tuple[date, date]:
    """Monday and Sunday of the ISO week containing ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def parse_day(text: str) -> date:
    """``2026-12-05`` (or with / or .) → date; ValueError otherwise."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a date like 2026-12-05")
    return date(int(match[1]), int(match[2]), int(match[3]))
