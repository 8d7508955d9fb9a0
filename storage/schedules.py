"""Community reminder schedules and holiday overrides (the data behind the jobs), and which
reminders are queued already (for the catch-up at start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, CommunitySchedule, HolidayOverride, OutboxMessage


@dataclass(frozen=True, slots=True)
class Schedule:
    """A community's reminder times (local ``HH:MM``) and whether weekends count."""

    checkin: str
    nudge: str
    summary: str
    every_day: bool


async def schedules(*, session: AsyncSession, default: Schedule) -> dict[int, Schedule]:
    """Every community's schedule (the default where none was set)."""
    rows = await session.scalars(select(CommunitySchedule))
    own = {
        r.community_id: Schedule(r.checkin_time, r.nudge_time, r.summary_time, r.every_day)
        for r in rows
    }
    ids = await session.scalars(select(Community.id))
    return {cid: own.get(cid, default) for cid in ids}


async def set_schedule(
    *, session: AsyncSession, community_id: int, schedule: Schedule, now: datetime
) -> None:
    """Store a community's schedule (the caller re-registers the jobs)."""
    row = await session.get(CommunitySchedule, community_id)
    if row is None:
        row = CommunitySchedule(community_id=community_id)
        session.add(row)
    row.checkin_time, row.nudge_time, row.summary_time = (
        schedule.checkin,
        schedule.nudge,
        schedule.summary,
    )
    row.every_day = schedule.every_day
    row.updated_at = now
    await session.flush()


async def overrides(
    *, session: AsyncSession, start: date, end: date
) -> dict[int, dict[date, bool]]:
    """Holiday overrides per community between two dates (inclusive)."""
    rows = await session.scalars(
        select(HolidayOverride).where(HolidayOverride.day >= start, HolidayOverride.day <= end)
    )
    result: dict[int, dict[date, bool]] = {}
    for row in rows:
        result.setdefault(row.community_id, {})[row.day] = row.working
    return result


async def set_override(
    *, session: AsyncSession, community_id: int, day: date, working: bool, now: datetime
) -> None:
    """Declare ``day`` a holiday (``working`` False) or a working day for a community."""
    await session.execute(
        delete(HolidayOverride).where(
            HolidayOverride.community_id == community_id, HolidayOverride.day == day
        )
    )
    session.add(
        HolidayOverride(community_id=community_id, day=day, working=working, created_at=now)
    )
    await session.flush()


async def list_overrides(
    *, session: AsyncSession, community_id: int, since: date
) -> list[tuple[date, bool]]:
    """A community's overrides from ``since`` on."""
    rows = await session.execute(
        select(HolidayOverride.day, HolidayOverride.working)
        .where(HolidayOverride.community_id == community_id, HolidayOverride.day >= since)
        .order_by(HolidayOverride.day)
    )
    return [(d, w) for d, w in rows]


async def queued_keys(*, session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these idempotency keys are in the outbox already (a fan-out's catch-up)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            await session.scalars(
                select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.in_(chunk))
            )
        )
    return found
