"""Daily check-ins (schedules and holidays: ``storage.schedules``): who is due for a reminder or a
nudge, recording a check-in, the squad's evening summary and check-in rates.

Planning for a whole city is a handful of set-based queries (no per-captain round trips):
6,000 captains are planned well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import lifecycle as lc
from storage.models import (
    CaptainAway,
    CheckIn,
    Grid,
    NeighbourGroup,
    Person,
    Report,
)
from storage.schedules import Schedule as Schedule  # re-exported: callers use storage.checkins
from storage.schedules import list_overrides as list_overrides
from storage.schedules import overrides as overrides
from storage.schedules import schedules as schedules
from storage.schedules import set_override as set_override
from storage.schedules import set_schedule as set_schedule


@dataclass(frozen=True, slots=True)
class Due:
    """A person to remind for a group today (the captain, or their stand-in)."""

    person_id: int
    group_id: int
    group: str
    community_id: int
    grid_id: int
    stand_in: bool
    telegram_id: int = 0
    name: str | None = None


async def due_people(
    *,
    session: AsyncSession,
    day: date,
    community_ids: set[int],
    is_working: Callable[[int], bool],
) -> list[Due]:
    """Who answers for each group of these communities on ``day``, if it is a working day.

    Away captains are replaced by the backup captain, else the grid leader; people without
    a Telegram account (not yet bound, or forgotten) cannot be reminded and are left out.
    """
    communities = {c for c in community_ids if is_working(c)}
    if not communities:
        return []
    captain, backup, leader = aliased(Person), aliased(Person), aliased(Person)
    groups = (
        await session.execute(
            select(
                NeighbourGroup.id,
                NeighbourGroup.name,
                NeighbourGroup.community_id,
                NeighbourGroup.grid_id,
                captain.id,
                captain.telegram_id,
                captain.display_name,
                backup.id,
                backup.telegram_id,
                backup.display_name,
                leader.id,
                leader.telegram_id,
                leader.display_name,
            )
            .join(Grid, Grid.id == NeighbourGroup.grid_id)
            .outerjoin(captain, captain.id == NeighbourGroup.captain_id)
            .outerjoin(backup, backup.id == NeighbourGroup.backup_captain_id)
            .outerjoin(leader, leader.id == Grid.leader_id)
            .where(NeighbourGroup.community_id.in_(communities))
        )
    ).all()
    # Away is a person's, not a group's: a backup away from their own group is away here too.
    away = set(
        await session.scalars(
            select(CaptainAway.person_id).where(
                CaptainAway.starts_on <= day, CaptainAway.ends_on >= day
            )
        )
    )
    result = []
    for (
        gid,
        name,
        cid,
        grid_id,
        cap,
        cap_tg,
        cap_n,
        bak,
        bak_tg,
        bak_n,
        lead,
        lead_tg,
        lead_n,
    ) in groups:
        # The captain, unless away today: then the backup, else the grid leader (/away).  A
        # captain not yet bound to Telegram is not replaced: the summary lists them instead.
        if cap is not None and cap not in away:
            chosen = (cap, cap_tg, cap_n, False) if cap_tg is not None else None
        elif bak is not None and bak_tg is not None and bak not in away:
            chosen = (bak, bak_tg, bak_n, True)
        else:
            chosen = (
                (lead, lead_tg, lead_n, True) if lead is not None and lead_tg is not None else None
            )
        if chosen is not None:
            person_id, telegram_id, person_name, stand_in = chosen
            result.append(
                Due(person_id, gid, name, cid, grid_id, stand_in, telegram_id, person_name)
            )
    return result


async def checkins_on(
    *, session: AsyncSession, day: date, person_ids: set[int] | None = None
) -> dict[int, CheckIn]:
    """Check-ins recorded on ``day`` by person (all of the day's, or just these people's)."""
    rows = await session.scalars(select(CheckIn).where(CheckIn.day == day))
    return {c.person_id: c for c in rows if person_ids is None or c.person_id in person_ids}


async def record_checkin(
    *,
    session: AsyncSession,
    person_id: int,
    day: date,
    status: str,
    note: str | None,
    now: datetime,
) -> str | None:
    """Record (or change) today's check-in; returns the previous status, if any."""
    if status not in ("ok", "issue", "leave"):
        raise ValueError(f"unknown check-in status {status!r}")
    row = await session.scalar(
        select(CheckIn).where(CheckIn.person_id == person_id, CheckIn.day == day)
    )
    previous = row.status if row else None
    if row is None:
        row = CheckIn(person_id=person_id, day=day)
        session.add(row)
    row.status, row.note, row.at = status, note, now
    await session.flush()
    return previous


@dataclass(frozen=True, slots=True)
class OpenWork:
    """A group's open reports: how many and since when."""

    count: int
    oldest: datetime | None


async def open_work(*, session: AsyncSession, group_ids: set[int]) -> dict[int, OpenWork]:
    """Open report counts and oldest creation time per group, in one grouped query."""
    if not group_ids:
        return {}
    rows = await session.execute(
        select(Report.group_id, func.count(), func.min(Report.created_at))
        .where(Report.group_id.in_(group_ids), Report.status.in_(tuple(lc.OPEN)))
        .group_by(Report.group_id)
    )
    out: dict[int, OpenWork] = {}
    for gid, count, oldest in rows:
        if oldest is not None and oldest.tzinfo is None:
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        out[gid] = OpenWork(int(count), oldest)
    return out


@dataclass(frozen=True, slots=True)
class SquadLine:
    """One captain in the evening summary."""

    person_id: int
    name: str | None
    groups: str
    status: str  # ok | issue | leave | away | missed | unreachable
    note: str | None


async def squad_day(
    *, session: AsyncSession, grid_id: int, day: date, working: bool
) -> list[SquadLine]:
    """Every captain of a grid with their check-in state on ``day``."""
    rows = (
        await session.execute(
            select(
                Person.id,
                Person.display_name,
                Person.unreachable_since,
                Person.telegram_id,
                NeighbourGroup.name,
                NeighbourGroup.id,
            )
            .join(NeighbourGroup, NeighbourGroup.captain_id == Person.id)
            .where(NeighbourGroup.grid_id == grid_id)
            .order_by(NeighbourGroup.name)
        )
    ).all()
    checkins = await checkins_on(session=session, day=day, person_ids={r[0] for r in rows})
    away = set(
        await session.scalars(
            select(CaptainAway.person_id).where(
                and_(CaptainAway.starts_on <= day, CaptainAway.ends_on >= day)
            )
        )
    )
    lines: dict[int, SquadLine] = {}
    for pid, name, unreachable, telegram_id, group, _gid in rows:
        if pid in lines:
            lines[pid] = SquadLine(
                pid, name, lines[pid].groups + "、" + group, lines[pid].status, lines[pid].note
            )
            continue
        checkin = checkins.get(pid)
        if checkin is not None:
            status, note = checkin.status, checkin.note
        elif pid in away:
            status, note = "away", None
        elif telegram_id is None:
            status, note = "unreachable", "unbound"
        elif unreachable is not None:
            status, note = "unreachable", "blocked"
        else:
            status, note = ("missed" if working else "off"), None
        lines[pid] = SquadLine(pid, name, group, status, note)
    return list(lines.values())


async def rates(
    *, session: AsyncSession, grid_id: int, days: list[date]
) -> list[tuple[str | None, int, int]]:
    """Per captain of a grid: (name, check-ins on the given working days, number of days)."""
    captains = (
        await session.execute(
            select(Person.id, Person.display_name)
            .join(NeighbourGroup, NeighbourGroup.captain_id == Person.id)
            .where(NeighbourGroup.grid_id == grid_id)
            .distinct()
        )
    ).all()
    if not days:
        return [(name, 0, 0) for _, name in captains]
    counts = dict(
        (
            await session.execute(
                select(CheckIn.person_id, func.count())
                .where(
                    CheckIn.day.in_(days),
                    CheckIn.person_id.in_([c[0] for c in captains]),
                    CheckIn.status != "leave",
                )
                .group_by(CheckIn.person_id)
            )
        ).all()
    )
    return sorted(
        ((name, int(counts.get(pid, 0)), len(days)) for pid, name in captains),
        key=lambda r: (r[1] / max(r[2], 1), r[0] or ""),
    )
