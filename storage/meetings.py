"""The squads' weekly meetings: schedule, dated occurrences, RSVPs, attendance, minutes and
the agenda built from the grid's escalated/overdue reports and missed check-ins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import lifecycle as lc
from storage.models import (
    CheckIn,
    Grid,
    Meeting,
    MeetingOccurrence,
    MeetingRsvp,
    NeighbourGroup,
    Person,
    Report,
)


async def get_meeting(*, session: AsyncSession, grid_id: int) -> Meeting | None:
    """The grid's weekly meeting, if set."""
    return await session.get(Meeting, grid_id)


async def all_meetings(*, session: AsyncSession) -> list[Meeting]:
    """Every squad's meeting (to register the reminder jobs)."""
    return list(await session.scalars(select(Meeting)))


async def set_meeting(
    *, session: AsyncSession, grid_id: int, weekday: int, time: str, place: str, now: datetime
) -> Meeting:
    """Set (or change) the weekly meeting of a grid."""
    meeting = await session.get(Meeting, grid_id)
    if meeting is None:
        meeting = Meeting(grid_id=grid_id)
        session.add(meeting)
    meeting.weekday, meeting.time, meeting.place, meeting.updated_at = weekday, time, place, now
    await session.flush()
    return meeting


@dataclass(frozen=True, slots=True)
class Moved:
    """A coming dated meeting that a schedule change touched, as it was before."""

    day: date
    time: str
    place: str


async def reschedule_upcoming(
    *, session: AsyncSession, meeting: Meeting, local_now: datetime
) -> list[Moved]:
    """Bring the grid's dated meetings not yet started in line with a changed schedule.

    A reminder already created the coming meeting with the old time and place.  On the same
    weekday it takes the new time and place (answers stay); on another weekday it is removed
    with its answers, and the new day's is created by its own reminder.  Skipped meetings
    stay skipped; a meeting the new time would put in the past keeps its old time.
    """
    today, hhmm = local_now.date(), f"{local_now.hour:02d}:{local_now.minute:02d}"
    rows = await session.scalars(
        select(MeetingOccurrence).where(
            MeetingOccurrence.grid_id == meeting.grid_id,
            MeetingOccurrence.day >= today,
            MeetingOccurrence.skipped.is_(False),
        )
    )
    moved = []
    for row in list(rows):
        if (row.day, row.time) <= (today, hhmm):
            continue  # under way or held
        before = Moved(row.day, row.time, row.place)
        if row.day.isoweekday() != meeting.weekday:
            await session.execute(delete(MeetingRsvp).where(MeetingRsvp.occurrence_id == row.id))
            await session.delete(row)
        elif (row.time, row.place) != (meeting.time, meeting.place) and (
            row.day,
            meeting.time,
        ) > (today, hhmm):
            row.time, row.place = meeting.time, meeting.place
        else:
            continue
        moved.append(before)
    await session.flush()
    return moved


async def occurrence(
    *, session: AsyncSession, grid_id: int, day: date, create: bool = True
) -> MeetingOccurrence | None:
    """The dated meeting of a grid on ``day`` (created from the schedule when asked)."""
    row = await session.scalar(
        select(MeetingOccurrence).where(
            MeetingOccurrence.grid_id == grid_id, MeetingOccurrence.day == day
        )
    )
    if row is None and create:
        meeting = await session.get(Meeting, grid_id)
        if meeting is None:
            return None
        row = MeetingOccurrence(
            grid_id=grid_id, day=day, time=meeting.time, place=meeting.place, skipped=False
        )
        session.add(row)
        await session.flush()
    return row


async def skip(*, session: AsyncSession, grid_id: int, day: date) -> MeetingOccurrence | None:
    """Cancel the meeting of ``day``; None when no meeting is set."""
    row = await occurrence(session=session, grid_id=grid_id, day=day)
    if row is not None:
        row.skipped = True
        await session.flush()
    return row


async def squad(*, session: AsyncSession, grid_id: int) -> list[tuple[int, str | None]]:
    """The captains of a grid (id, name), each once."""
    rows = await session.execute(
        select(Person.id, Person.display_name)
        .join(NeighbourGroup, NeighbourGroup.captain_id == Person.id)
        .where(NeighbourGroup.grid_id == grid_id, Person.telegram_id.is_not(None))
        .distinct()
        .order_by(Person.id)
    )
    return [(pid, name) for pid, name in rows]


async def rsvp(
    *, session: AsyncSession, occurrence_id: int, person_id: int, answer: str, now: datetime
) -> MeetingRsvp:
    """Record a captain's answer (yes/no); their latest answer counts."""
    row = await session.get(MeetingRsvp, (occurrence_id, person_id))
    if row is None:
        row = MeetingRsvp(occurrence_id=occurrence_id, person_id=person_id)
        session.add(row)
    row.answer, row.at = answer, now
    await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Attendee:
    """A captain's RSVP and attendance for one meeting."""

    person_id: int
    name: str | None
    answer: str | None
    attended: bool | None


async def attendees(*, session: AsyncSession, occurrence_id: int, grid_id: int) -> list[Attendee]:
    """Every captain of the squad with their answer and attendance."""
    answers = {
        r.person_id: r
        for r in await session.scalars(
            select(MeetingRsvp).where(MeetingRsvp.occurrence_id == occurrence_id)
        )
    }
    out = []
    for pid, name in await squad(session=session, grid_id=grid_id):
        row = answers.get(pid)
        out.append(Attendee(pid, name, row.answer if row else None, row.attended if row else None))
    return out


async def toggle_attendance(
    *, session: AsyncSession, occurrence_id: int, person_id: int, now: datetime
) -> bool:
    """Flip whether a captain attended (first press: present); returns the new value."""
    row = await session.get(MeetingRsvp, (occurrence_id, person_id))
    if row is None:
        row = MeetingRsvp(occurrence_id=occurrence_id, person_id=person_id, answer=None, at=now)
        session.add(row)
    row.attended = not bool(row.attended)
    await session.flush()
    return row.attended


async def record_minutes(
    *, session: AsyncSession, occurrence_id: int, text: str, now: datetime
) -> None:
    """Store the minutes of a held meeting."""
    row = await session.get(MeetingOccurrence, occurrence_id)
    if row is not None:
        row.minutes, row.minutes_at = text, now
        await session.flush()


async def latest_held(
    *, session: AsyncSession, grid_id: int, today: date
) -> MeetingOccurrence | None:
    """The most recent meeting on or before today that was not skipped."""
    return await session.scalar(
        select(MeetingOccurrence)
        .where(
            MeetingOccurrence.grid_id == grid_id,
            MeetingOccurrence.day <= today,
            MeetingOccurrence.skipped.is_(False),
        )
        .order_by(MeetingOccurrence.day.desc())
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class Agenda:
    """What the squad should talk about."""

    reports: list[tuple[int, str, str, bool]]  # id, category, description, overdue
    missed: list[tuple[str | None, int]]  # captain, missed working days this week


async def agenda(
    *, session: AsyncSession, grid_id: int, now: datetime, working_days: list[date], limit: int = 10
) -> Agenda:
    """The grid's escalated and overdue open reports, and who missed check-ins this week."""
    overdue = or_(
        Report.overdue_at.is_not(None),
        Report.resolve_due_at < now,
        and_(Report.status.in_(tuple(lc.UNACKNOWLEDGED)), Report.ack_due_at < now),
    )
    rows = await session.execute(
        select(Report.id, Report.category, Report.description, Report.overdue_at)
        .where(
            Report.grid_id == grid_id,
            Report.status.in_(tuple(lc.OPEN)),
            or_(Report.level > lc.CAPTAIN, overdue),
        )
        .order_by(Report.created_at)
        .limit(limit)
    )
    reports = [(i, c, d, o is not None) for i, c, d, o in rows]
    missed = []
    if working_days:
        for pid, name in await squad(session=session, grid_id=grid_id):
            done = set(
                await session.scalars(
                    select(CheckIn.day).where(
                        CheckIn.person_id == pid, CheckIn.day.in_(working_days)
                    )
                )
            )
            if len(done) < len(working_days):
                missed.append((name, len(working_days) - len(done)))
    return Agenda(reports, missed)


async def leader_of(*, session: AsyncSession, grid_id: int) -> int | None:
    """The grid leader's person id."""
    grid = await session.get(Grid, grid_id)
    return grid.leader_id if grid else None


def occurrence_day_for(reminder_moment: datetime, before: timedelta) -> datetime:
    """The meeting moment a reminder fired ``before`` it refers to."""
    return reminder_moment + before
