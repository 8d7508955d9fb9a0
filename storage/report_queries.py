"""Read models for reports: lists (paginated), the detail with history, similar open
reports, a resident's own reports.  Every query is bounded and uses an index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import lifecycle as lc
from storage.models import (
    Building,
    Community,
    NeighbourGroup,
    Person,
    Report,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
)


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One line of a list: enough to show and to open the detail."""

    id: int
    status: str
    level: int
    category: str
    description: str
    group: str
    building: str | None
    created_at: datetime
    supporters: int
    overdue: bool


def _line(
    report: Report, group: str, building: str | None, now: datetime | None = None
) -> ReportLine:
    overdue = report.overdue_at is not None or (
        now is not None
        and report.status in lc.OPEN
        and (
            (
                report.status in lc.UNACKNOWLEDGED
                and report.ack_due_at is not None
                and report.ack_due_at < now
            )
            or (report.resolve_due_at is not None and report.resolve_due_at < now)
        )
    )
    return ReportLine(
        report.id,
        report.status,
        report.level,
        report.category,
        report.description,
        group,
        building,
        report.created_at,
        report.supporters,
        overdue,
    )


def _with_names(query):  # type: ignore[no-untyped-def]
    return (
        query.add_columns(NeighbourGroup.name, Building.name)
        .join(NeighbourGroup, NeighbourGroup.id == Report.group_id)
        .outerjoin(Building, Building.id == Report.building_id)
    )


async def group_open_reports(
    *, session: AsyncSession, group_ids: tuple[int, ...], offset: int, limit: int, now: datetime
) -> tuple[list[ReportLine], int]:
    """Open (and resolved, awaiting confirmation) reports of groups, oldest first."""
    statuses = (*lc.OPEN, lc.RESOLVED)
    where = and_(Report.group_id.in_(group_ids), Report.status.in_(statuses))
    total = await session.scalar(select(func.count()).select_from(Report).where(where)) or 0
    rows = await session.execute(
        _with_names(select(Report))
        .where(where)
        .order_by(Report.created_at, Report.id)
        .offset(offset)
        .limit(limit)
    )
    return [_line(r, g, b, now) for r, g, b in rows], int(total)


def report_scope(grid_ids: tuple[int, ...], community_ids: tuple[int, ...]):  # type: ignore[no-untyped-def]
    """Reports of these grids or communities.

    Only non-empty lists take part: ``community_id IN ()`` next to the grid condition stops
    SQLite from using the grid index (a city-wide scan instead of one grid's rows).
    """
    parts = []
    if grid_ids:
        parts.append(Report.grid_id.in_(grid_ids))
    if community_ids:
        parts.append(Report.community_id.in_(community_ids))
    if not parts:
        return false()
    return parts[0] if len(parts) == 1 else or_(*parts)


@dataclass(frozen=True, slots=True)
class Filters:
    """Filters of the grid leader's /escalated list (None = any)."""

    status: str | None = None
    category: str | None = None
    group_id: int | None = None


async def escalated_reports(
    *,
    session: AsyncSession,
    grid_ids: tuple[int, ...],
    community_ids: tuple[int, ...],
    filters: Filters,
    offset: int,
    limit: int,
    now: datetime,
) -> tuple[list[ReportLine], int]:
    """Escalated or overdue, still-open reports of the actor's grids and communities."""
    scope = report_scope(grid_ids, community_ids)
    overdue = or_(
        Report.overdue_at.is_not(None),
        and_(Report.status.in_(tuple(lc.UNACKNOWLEDGED)), Report.ack_due_at < now),
        Report.resolve_due_at < now,
    )
    conditions = [scope, Report.status.in_(tuple(lc.OPEN)), or_(Report.level > lc.CAPTAIN, overdue)]
    if filters.status:
        conditions.append(Report.status == filters.status)
    if filters.category:
        conditions.append(Report.category == filters.category)
    if filters.group_id:
        conditions.append(Report.group_id == filters.group_id)
    where = and_(*conditions)
    total = await session.scalar(select(func.count()).select_from(Report).where(where)) or 0
    rows = await session.execute(
        _with_names(select(Report))
        .where(where)
        .order_by(Report.level.desc(), Report.created_at, Report.id)
        .offset(offset)
        .limit(limit)
    )
    return [_line(r, g, b, now) for r, g, b in rows], int(total)


async def my_reports(
    *, session: AsyncSession, person_id: int, limit: int, now: datetime
) -> list[ReportLine]:
    """The person's own and followed reports, newest first."""
    followed = select(ReportFollower.report_id).where(ReportFollower.person_id == person_id)
    rows = await session.execute(
        _with_names(select(Report))
        .where(or_(Report.reporter_id == person_id, Report.id.in_(followed)))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return [_line(r, g, b, now) for r, g, b in rows]


@dataclass(frozen=True, slots=True)
class Similar:
    """An open report that might describe the same problem."""

    id: int
    description: str
    building: str | None
    supporters: int
    building_id: int | None = None


async def open_in_category(
    *, session: AsyncSession, group_id: int, category: str, since: datetime, limit: int = 50
) -> list[Similar]:
    """Open reports of a group and category filed since ``since`` (duplicate candidates)."""
    rows = await session.execute(
        select(Report.id, Report.description, Building.name, Report.supporters, Report.building_id)
        .outerjoin(Building, Building.id == Report.building_id)
        .where(
            Report.group_id == group_id,
            Report.category == category,
            Report.status.in_(tuple(lc.OPEN)),
            Report.created_at >= since,
        )
        .order_by(Report.created_at.desc())
        .limit(limit)
    )
    return [Similar(i, d, b, s, bid) for i, d, b, s, bid in rows]


@dataclass(frozen=True, slots=True)
class EventLine:
    """One line of a report's history."""

    at: datetime
    actor: str | None
    kind: str
    actor_id: int | None
    from_status: str | None
    to_status: str | None
    to_level: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ReportDetail:
    """Everything about one report, for the people allowed to see it."""

    line: ReportLine
    reporter_id: int
    reporter_name: str | None
    reporter_phone: str | None
    unit: str | None
    latitude: float | None
    longitude: float | None
    photos: tuple[str, ...]
    events: tuple[EventLine, ...]
    version: int


async def report_detail(
    *, session: AsyncSession, report_id: int, now: datetime
) -> ReportDetail | None:
    """The report with photos, reporter and full history (actor names resolved)."""
    row = (await session.execute(_with_names(select(Report)).where(Report.id == report_id))).first()
    if row is None:
        return None
    report, group, building = row
    reporter = await session.get(Person, report.reporter_id)
    photos = await session.scalars(
        select(ReportPhoto.file_id)
        .where(ReportPhoto.report_id == report_id)
        .order_by(ReportPhoto.id)
    )
    actor = aliased(Person)
    events = await session.execute(
        select(ReportEvent, actor.display_name)
        .outerjoin(actor, actor.id == ReportEvent.actor_id)
        .where(ReportEvent.report_id == report_id)
        .order_by(ReportEvent.at, ReportEvent.id)
    )
    return ReportDetail(
        line=_line(report, group, building, now),
        reporter_id=report.reporter_id,
        reporter_name=reporter.display_name if reporter else None,
        reporter_phone=reporter.phone if reporter else None,
        unit=report.unit,
        latitude=report.latitude,
        longitude=report.longitude,
        photos=tuple(photos),
        events=tuple(
            EventLine(
                e.at, name, e.kind, e.actor_id, e.from_status, e.to_status, e.to_level, e.note
            )
            for e, name in events
        ),
        version=report.version,
    )


async def followers_of(*, session: AsyncSession, report_id: int) -> list[int]:
    """People following a report (+1)."""
    return list(
        await session.scalars(
            select(ReportFollower.person_id).where(ReportFollower.report_id == report_id)
        )
    )


@dataclass(frozen=True, slots=True)
class FilingInfo:
    """What the /report form needs about the resident's home."""

    group_id: int
    buildings: tuple[tuple[int, str], ...]
    home_building_id: int | None
    home_building: str | None
    unit: str | None
    centre: tuple[float, float] | None


async def filing_info(*, session: AsyncSession, person_id: int) -> FilingInfo | None:
    """The resident's group buildings, home and community centre; None when not in a group.

    One statement (person, group, community and the group's buildings joined): the form
    asks for it on every step and the one-shot ``/report TEXT`` on every filing.
    """
    rows = (
        await session.execute(
            select(
                Person.group_id,
                Person.building_id,
                Person.unit,
                Community.latitude,
                Community.longitude,
                Building.id,
                Building.name,
            )
            .select_from(Person)
            .join(NeighbourGroup, NeighbourGroup.id == Person.group_id)
            .outerjoin(Community, Community.id == NeighbourGroup.community_id)
            .outerjoin(Building, Building.group_id == Person.group_id)
            .where(Person.id == person_id, Person.left_at.is_(None))
            .order_by(Building.position, Building.id)
        )
    ).all()
    if not rows:
        return None
    group_id, home_id, unit, latitude, longitude = rows[0][:5]
    buildings = tuple((row[5], row[6]) for row in rows if row[5] is not None)
    home = next((n for i, n in buildings if i == home_id), None)
    centre = (latitude, longitude) if latitude is not None and longitude is not None else None
    return FilingInfo(group_id, buildings, home_id, home, unit, centre)


async def scope_groups(
    *, session: AsyncSession, grid_ids: tuple[int, ...], community_ids: tuple[int, ...]
) -> list[tuple[int, str]]:
    """The neighbour groups a grid leader or admin oversees, by name."""
    rows = await session.execute(
        select(NeighbourGroup.id, NeighbourGroup.name)
        .where(
            or_(
                NeighbourGroup.grid_id.in_(grid_ids), NeighbourGroup.community_id.in_(community_ids)
            )
        )
        .order_by(NeighbourGroup.name)
    )
    return [(i, n) for i, n in rows]
