"""The weekly digest's numbers: reports opened, resolved, escalated and overdue by group,
check-in rate per captain, meeting attendance — for a grid or a whole community."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import checkins
from storage.models import Grid, MeetingOccurrence, MeetingRsvp, NeighbourGroup, Report


@dataclass(frozen=True, slots=True)
class GroupWeek:
    """One group's report numbers for the week."""

    group: str
    opened: int
    resolved: int
    escalated: int
    overdue: int


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything a digest shows."""

    title: str
    monday: date
    sunday: date
    groups: list[GroupWeek]
    checkin_rates: list[tuple[str | None, int, int]]
    meetings: list[tuple[date, int, int, bool]]  # day, attended, squad size, skipped


async def _count_by_group(
    session: AsyncSession, column, group_ids: list[int], start: datetime, end: datetime
) -> dict[int, int]:  # type: ignore[no-untyped-def]
    rows = await session.execute(
        select(Report.group_id, func.count())
        .where(Report.group_id.in_(group_ids), column >= start, column < end)
        .group_by(Report.group_id)
    )
    return {g: int(n) for g, n in rows}


async def grid_digest(
    *,
    session: AsyncSession,
    grid_ids: list[int],
    title: str,
    monday: date,
    tz: ZoneInfo,
    working_days: list[date],
) -> Digest:
    """The digest of some grids (a grid leader's, or all grids of a community for its admin)."""
    start = datetime.combine(monday, time(), tz)
    end = start + timedelta(days=7)
    groups = (
        await session.execute(
            select(NeighbourGroup.id, NeighbourGroup.name)
            .where(NeighbourGroup.grid_id.in_(grid_ids))
            .order_by(NeighbourGroup.name)
        )
    ).all()
    ids = [g for g, _ in groups]
    opened = await _count_by_group(session, Report.created_at, ids, start, end)
    resolved = await _count_by_group(session, Report.resolved_at, ids, start, end)
    escalated = await _count_by_group(session, Report.escalated_at, ids, start, end)
    overdue = await _count_by_group(session, Report.overdue_at, ids, start, end)
    weeks = [
        GroupWeek(
            name, opened.get(g, 0), resolved.get(g, 0), escalated.get(g, 0), overdue.get(g, 0)
        )
        for g, name in groups
    ]
    rates: list[tuple[str | None, int, int]] = []
    meetings: list[tuple[date, int, int, bool]] = []
    for grid_id in grid_ids:
        rates += await checkins.rates(session=session, grid_id=grid_id, days=working_days)
        occurrences = await session.scalars(
            select(MeetingOccurrence).where(
                MeetingOccurrence.grid_id == grid_id,
                MeetingOccurrence.day >= monday,
                MeetingOccurrence.day <= monday + timedelta(days=6),
            )
        )
        for occ in occurrences:
            came = await session.scalar(
                select(func.count())
                .select_from(MeetingRsvp)
                .where(MeetingRsvp.occurrence_id == occ.id, MeetingRsvp.attended.is_(True))
            )
            size = len(await _captains(session, grid_id))
            meetings.append((occ.day, int(came or 0), size, occ.skipped))
    return Digest(title, monday, monday + timedelta(days=6), weeks, rates, sorted(meetings))


async def _captains(session: AsyncSession, grid_id: int) -> set[int]:
    return set(
        await session.scalars(
            select(NeighbourGroup.captain_id).where(
                NeighbourGroup.grid_id == grid_id, NeighbourGroup.captain_id.is_not(None)
            )
        )
    )


async def community_grids(*, session: AsyncSession, community_id: int) -> list[int]:
    """All grids of a community."""
    return list(await session.scalars(select(Grid.id).where(Grid.community_id == community_id)))
