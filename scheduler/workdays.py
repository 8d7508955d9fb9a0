"""Which days count for check-ins, per community: the published calendar, the community's
own holiday overrides, and whether it chose "every day" (rates, digest and agenda)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.calendar import is_working_day
from storage import checkins
from storage.models import Grid


def working_days(
    day_from: date, day_to: date, overrides: dict[date, bool] | None = None
) -> list[date]:
    """The working days between two dates (inclusive)."""
    days = []
    current = day_from
    while current <= day_to:
        if is_working_day(current, overrides):
            days.append(current)
        current += timedelta(days=1)
    return days


def every_day(day_from: date, day_to: date) -> list[date]:
    """Every date between two dates (inclusive)."""
    return [day_from + timedelta(days=n) for n in range((day_to - day_from).days + 1)]


async def community_days(
    *, session: AsyncSession, default: checkins.Schedule, start: date, end: date
) -> dict[int, list[date]]:
    """Per community, the days between two dates on which its captains check in."""
    schedules = await checkins.schedules(session=session, default=default)
    overrides = await checkins.overrides(session=session, start=start, end=end)
    return {
        cid: every_day(start, end)
        if schedule.every_day
        else working_days(start, end, overrides.get(cid))
        for cid, schedule in schedules.items()
    }


async def grid_days(
    *,
    session: AsyncSession,
    default: checkins.Schedule,
    grid_ids: list[int],
    start: date,
    end: date,
) -> dict[int, list[date]]:
    """Per grid, the check-in days of its community between two dates."""
    rows = await session.execute(select(Grid.id, Grid.community_id).where(Grid.id.in_(grid_ids)))
    by_community = await community_days(session=session, default=default, start=start, end=end)
    return {gid: by_community.get(cid, working_days(start, end)) for gid, cid in rows}


def default_schedule(settings: Any) -> checkins.Schedule:
    """The schedule of communities that did not set their own."""
    return checkins.Schedule(
        settings.checkin_time,
        settings.nudge_time,
        settings.summary_time,
        settings.checkin_every_day,
    )
