"""Schedules and their records: each community's check-in times, holiday overrides, daily
check-ins, the squads' weekly meetings with RSVPs, attendance and minutes.

The schedules live here, not in APScheduler (DESIGN rule 7): jobs are re-created from these
rows at start and whenever an admin changes them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, String, Text, UTCDateTime


class CommunitySchedule(Base):
    """When a community's captains are reminded; missing row = the defaults from settings."""

    __tablename__ = "community_schedules"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    checkin_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", local time
    nudge_time: Mapped[str] = mapped_column(String(5))
    summary_time: Mapped[str] = mapped_column(String(5))
    every_day: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HolidayOverride(Base):
    """An admin's correction of the calendar for one date (``working`` False = holiday)."""

    __tablename__ = "holiday_overrides"
    __table_args__ = (UniqueConstraint("community_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    working: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckIn(Base):
    """A captain's daily check-in (每日沟通交流): all fine, something to report, or on leave."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("person_id", "day"),
        Index("ix_checkins_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # ok | issue | leave
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Meeting(Base):
    """A squad's weekly meeting (每周碰头会商), set by its grid leader."""

    __tablename__ = "meetings"

    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(Integer)  # 1 = Monday … 7 = Sunday
    time: Mapped[str] = mapped_column(String(5))  # "HH:MM", local time
    place: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingOccurrence(Base):
    """One dated meeting: skipped or held, with its minutes."""

    __tablename__ = "meeting_occurrences"
    __table_args__ = (UniqueConstraint("grid_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    time: Mapped[str] = mapped_column(String(5))
    place: Mapped[str] = mapped_column(String(200))
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    minutes: Mapped[str | None] = mapped_column(Text)
    minutes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MeetingRsvp(Base):
    """A captain's answer to a meeting reminder, and whether they came."""

    __tablename__ = "meeting_rsvps"

    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_occurrences.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    answer: Mapped[str | None] = mapped_column(String(8))  # yes | no
    attended: Mapped[bool | None] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
