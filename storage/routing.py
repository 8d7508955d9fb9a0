"""Who answers for a neighbour group right now: its captain, else (away, unreachable, or
none) the backup captain, else the grid leader, else the community admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CaptainAway, CommunityAdmin, Grid, NeighbourGroup, Person


async def is_away(*, session: AsyncSession, person_id: int, today: date) -> bool:
    """True when ``person_id`` declared themself away on ``today``.

    A person is away from every group at once: the period is recorded under the groups
    they captain, but it also keeps the work of a group they back up from reaching them.
    """
    row = await session.scalar(
        select(CaptainAway.id).where(
            CaptainAway.person_id == person_id,
            CaptainAway.starts_on <= today,
            CaptainAway.ends_on >= today,
        )
    )
    return row is not None


def _reachable(person: Person | None) -> bool:
    return (
        person is not None and person.telegram_id is not None and person.unreachable_since is None
    )


@dataclass(frozen=True, slots=True)
class Responsible:
    """Who gets a group's work today and why (``captain``/``backup``/``grid``/``admin``)."""

    person_ids: tuple[int, ...]
    role: str


async def responsible_for(
    *, session: AsyncSession, group_id: int, today: date, exclude: frozenset[int] = frozenset()
) -> Responsible:
    """The people to send a group's new work to today."""
    group = await session.get(NeighbourGroup, group_id)
    if group is None:
        return Responsible((), "none")
    for role, person_id in (("captain", group.captain_id), ("backup", group.backup_captain_id)):
        if person_id is None or person_id in exclude:
            continue
        person = await session.get(Person, person_id)
        if _reachable(person) and not await is_away(
            session=session, person_id=person_id, today=today
        ):
            return Responsible((person_id,), role)
    grid = await session.get(Grid, group.grid_id)
    if grid is not None and grid.leader_id is not None and grid.leader_id not in exclude:
        if _reachable(await session.get(Person, grid.leader_id)):
            return Responsible((grid.leader_id,), "grid")
    admins = await session.scalars(
        select(CommunityAdmin.person_id).where(CommunityAdmin.community_id == group.community_id)
    )
    ids = tuple(a for a in admins if a not in exclude)
    return Responsible(ids, "admin")


async def set_away(
    *,
    session: AsyncSession,
    group_ids: tuple[int, ...],
    person_id: int,
    starts: date,
    ends: date,
    now: datetime,
) -> None:
    """Record an away period for each of the captain's groups (replacing overlapping ones)."""
    for group_id in group_ids:
        await session.execute(
            delete(CaptainAway).where(
                CaptainAway.group_id == group_id,
                CaptainAway.person_id == person_id,
                and_(CaptainAway.starts_on <= ends, CaptainAway.ends_on >= starts),
            )
        )
        session.add(
            CaptainAway(
                group_id=group_id,
                person_id=person_id,
                starts_on=starts,
                ends_on=ends,
                created_at=now,
            )
        )
    await session.flush()


async def clear_away(*, session: AsyncSession, person_id: int, today: date) -> int:
    """End the captain's current and future away periods (``/away off``); returns how many."""
    result = await session.execute(
        delete(CaptainAway).where(CaptainAway.person_id == person_id, CaptainAway.ends_on >= today)
    )
    return int(result.rowcount or 0)


async def current_away(
    *, session: AsyncSession, person_id: int, today: date
) -> tuple[date, date] | None:
    """The captain's current or next away period, if any."""
    row = await session.execute(
        select(CaptainAway.starts_on, CaptainAway.ends_on)
        .where(CaptainAway.person_id == person_id, CaptainAway.ends_on >= today)
        .order_by(CaptainAway.starts_on)
        .limit(1)
    )
    found = row.first()
    return (found[0], found[1]) if found else None
