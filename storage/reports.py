"""Report services: file, follow (+1), change status, escalate, send back, add information.

Every change writes a ``ReportEvent`` and bumps ``version`` in the caller's transaction;
the report row is locked (``FOR UPDATE`` on PostgreSQL; SQLite transactions are already
serialised) so two people acting at once cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import lifecycle as lc
from storage.models import NeighbourGroup, Report, ReportEvent, ReportFollower, ReportPhoto
from storage.policy import ReportRef


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Deadline hours for one category (from settings, passed in as plain values)."""

    ack_hours: float
    resolve_hours: float
    confirm_days: float


@dataclass
class Draft:
    """What a resident has entered so far in the /report flow."""

    category: str | None = None
    description: str | None = None
    photos: list[str] = field(default_factory=list)
    building_id: int | None = None
    unit: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def ref(report: Report) -> ReportRef:
    """The permission-relevant facts of a report."""
    return ReportRef(
        report.id, report.group_id, report.grid_id, report.community_id, report.reporter_id
    )


async def create_report(
    *,
    session: AsyncSession,
    reporter_id: int,
    group_id: int,
    draft: Draft,
    deadlines: Deadlines,
    now: datetime,
) -> Report:
    """File a report for the reporter's group; committed by the caller before replying."""
    if draft.category is None or not draft.description:
        raise ValueError("a report needs a category and a description")
    group = await session.get(NeighbourGroup, group_id)
    if group is None:
        raise ValueError(f"no neighbour group {group_id}")
    report = Report(
        group_id=group.id,
        grid_id=group.grid_id,
        community_id=group.community_id,
        reporter_id=reporter_id,
        category=draft.category,
        description=draft.description,
        building_id=draft.building_id,
        unit=draft.unit,
        latitude=draft.latitude,
        longitude=draft.longitude,
        status=lc.NEW,
        level=lc.CAPTAIN,
        supporters=0,
        version=1,
        created_at=now,
        updated_at=now,
        ack_due_at=now + timedelta(hours=deadlines.ack_hours),
        resolve_due_at=now + timedelta(hours=deadlines.resolve_hours),
    )
    session.add(report)
    await session.flush()
    for file_id in draft.photos:
        session.add(
            ReportPhoto(report_id=report.id, file_id=file_id, added_by_id=reporter_id, added_at=now)
        )
    session.add(
        ReportEvent(
            report_id=report.id,
            actor_id=reporter_id,
            at=now,
            kind="created",
            to_status=lc.NEW,
            to_level=lc.CAPTAIN,
        )
    )
    await session.flush()
    return report


async def get_report(*, session: AsyncSession, report_id: int, lock: bool = False) -> Report | None:
    """The report, locked for update when ``lock`` (use before changing it)."""
    query = select(Report).where(Report.id == report_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def is_follower(*, session: AsyncSession, report_id: int, person_id: int) -> bool:
    """True when the person pressed +1 on the report."""
    row = await session.get(ReportFollower, (report_id, person_id))
    return row is not None


async def follow_report(
    *, session: AsyncSession, report: Report, person_id: int, now: datetime
) -> bool:
    """+1: follow an open report; False when already following (idempotent)."""
    if await is_follower(session=session, report_id=report.id, person_id=person_id):
        return False
    session.add(ReportFollower(report_id=report.id, person_id=person_id, created_at=now))
    report.supporters += 1
    report.version += 1
    session.add(ReportEvent(report_id=report.id, actor_id=person_id, at=now, kind="follow"))
    await session.flush()
    return True


@dataclass(frozen=True, slots=True)
class Change:
    """Outcome of a requested change: ``done``, ``already`` (nothing to do) or ``illegal``."""

    outcome: str
    from_status: str
    to_status: str


async def change_status(
    *,
    session: AsyncSession,
    report: Report,
    actor_id: int | None,
    to: str,
    note: str | None,
    now: datetime,
    deadlines: Deadlines,
    kind: str = "status",
) -> Change:
    """Move the report to ``to`` if the lifecycle allows; record who, when and why."""
    current = report.status
    if current == to:
        return Change("already", current, to)
    if not lc.can_transition(current, to):
        return Change("illegal", current, to)
    report.status = to
    report.updated_at = now
    report.version += 1
    if to in (lc.ACKNOWLEDGED, lc.IN_PROGRESS) and report.acknowledged_at is None:
        report.acknowledged_at = now
    if to == lc.RESOLVED:
        report.resolved_at = now
        report.confirm_due_at = now + timedelta(days=deadlines.confirm_days)
    if to in lc.FINAL:
        report.closed_at = now
        report.confirm_due_at = None
    if to == lc.REOPENED:
        # Not fixed: the clock starts again for whoever handles it.
        report.resolved_at = None
        report.confirm_due_at = None
        report.acknowledged_at = None
        report.overdue_at = None
        report.ack_due_at = now + timedelta(hours=deadlines.ack_hours)
        report.resolve_due_at = now + timedelta(hours=deadlines.resolve_hours)
    session.add(
        ReportEvent(
            report_id=report.id,
            actor_id=actor_id,
            at=now,
            kind=kind,
            from_status=current,
            to_status=to,
            note=note,
        )
    )
    await session.flush()
    return Change("done", current, to)


async def change_level(
    *,
    session: AsyncSession,
    report: Report,
    actor_id: int | None,
    to_level: int,
    note: str | None,
    now: datetime,
    kind: str,
    deadlines: Deadlines | None = None,
) -> Change:
    """Escalate (up) or send back (down) a report; ``already`` when it is at that level."""
    status = report.status
    if report.status in lc.FINAL or report.status == lc.RESOLVED:
        return Change("illegal", status, status)
    if report.level == to_level or (kind != "send_back" and to_level < report.level):
        return Change("already", status, status)  # an escalation never lowers the level
    from_level = report.level
    report.level = to_level
    report.updated_at = now
    report.version += 1
    if to_level > from_level:
        report.escalated_at = now
    elif deadlines is not None:
        # Sent back with an instruction: a fresh deadline for the captain.
        report.overdue_at = None
        report.ack_due_at = now + timedelta(hours=deadlines.ack_hours)
        report.resolve_due_at = max(
            report.resolve_due_at or now, now + timedelta(hours=deadlines.ack_hours)
        )
    session.add(
        ReportEvent(
            report_id=report.id,
            actor_id=actor_id,
            at=now,
            kind=kind,
            from_status=status,
            to_status=status,
            from_level=from_level,
            to_level=to_level,
            note=note,
        )
    )
    await session.flush()
    return Change("done", status, status)


async def add_info(
    *,
    session: AsyncSession,
    report: Report,
    actor_id: int,
    note: str | None,
    photo: str | None,
    now: datetime,
    max_photos: int,
) -> bool:
    """Add a note or a photo to an open report; False when the photo limit is reached."""
    if photo is not None:
        photos = await session.scalars(
            select(ReportPhoto.id).where(ReportPhoto.report_id == report.id)
        )
        if len(list(photos)) >= 2 * max_photos:  # the filed ones plus as many added later
            return False
        session.add(
            ReportPhoto(report_id=report.id, file_id=photo, added_by_id=actor_id, added_at=now)
        )
    report.updated_at = now
    report.version += 1
    session.add(
        ReportEvent(
            report_id=report.id,
            actor_id=actor_id,
            at=now,
            kind="photo" if photo else "info",
            note=note,
        )
    )
    await session.flush()
    return True


async def touch_overdue(*, session: AsyncSession, report_id: int, now: datetime) -> None:
    """Mark a report as overdue (once)."""
    await session.execute(
        update(Report)
        .where(Report.id == report_id, Report.overdue_at.is_(None))
        .values(overdue_at=now)
    )


async def change_category(
    *,
    session: AsyncSession,
    report: Report,
    actor_id: int,
    category: str,
    now: datetime,
    deadlines: Deadlines,
) -> bool:
    """Correct a guessed category while the report is still new (deadlines follow it)."""
    if report.status != lc.NEW or report.category == category:
        return False
    report.category = category
    report.ack_due_at = report.created_at + timedelta(hours=deadlines.ack_hours)
    report.resolve_due_at = report.created_at + timedelta(hours=deadlines.resolve_hours)
    report.updated_at = now
    report.version += 1
    session.add(
        ReportEvent(report_id=report.id, actor_id=actor_id, at=now, kind="category", note=category)
    )
    await session.flush()
    return True
