"""Working days in mainland China: statutory holidays off, make-up working days (调休) on.

``chinesecalendar`` knows the State Council's published calendar (it has data up to the
latest published year); beyond its data we fall back to Monday–Friday.  Admins correct any
date with ``/holiday add|remove DATE`` (an override always wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import chinese_calendar


def calendar_knows(day: date) -> bool:
    """True when the published calendar covers ``day``."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date, overrides: Mapping[date, bool] | None = None) -> bool:
    """Is ``day`` a working day: override, else the published calendar, else Mon–Fri."""
    if overrides and day in overrides:
        return overrides[day]
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def holiday_name(day: date) -> str | None:
    """The statutory holiday's name on ``day`` (e.g. "National Day"), if any."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if on_holiday and name else None
