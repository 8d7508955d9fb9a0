"""The organisation: street → community → grid → neighbour group → buildings, and people.

Roles are not a column: a person is a *captain* because a group names them as captain, a
*grid leader* because a grid names them as leader, an *admin* through ``CommunityAdmin`` and a
*resident* because they joined a group.  One person can hold several roles at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, String, UTCDateTime


class Street(Base):
    """A sub-district (街道)."""

    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))

    communities: Mapped[list[Community]] = relationship(back_populates="street")


class Community(Base):
    """A residents' community (社区), the unit an admin manages."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(
        ForeignKey("streets.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    households: Mapped[int | None] = mapped_column(Integer)
    # Centre of the community, to warn about report locations far away (optional).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    street: Mapped[Street] = relationship(back_populates="communities")
    grids: Mapped[list[Grid]] = relationship(back_populates="community", order_by="Grid.id")


class Grid(Base):
    """A grid (网格) of a community; its leader (网格员) leads the squad of its captains."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL", use_alter=True), index=True
    )

    community: Mapped[Community] = relationship(back_populates="grids")
    leader: Mapped[Person | None] = relationship(foreign_keys=[leader_id])
    groups: Mapped[list[NeighbourGroup]] = relationship(
        back_populates="grid", order_by="NeighbourGroup.id"
    )


class NeighbourGroup(Base):
    """A neighbour group (邻里小组) of 3–5 buildings, looked after by one captain (邻长)."""

    __tablename__ = "neighbour_groups"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="RESTRICT"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    # use_alter: people and groups point at each other; these FKs are added after both exist.
    captain_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL", use_alter=True), index=True
    )
    backup_captain_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL", use_alter=True), index=True
    )
    # The Telegram group chat the captain linked with /linkgroup (summaries only, no names).
    chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    grid: Mapped[Grid] = relationship(back_populates="groups")
    community: Mapped[Community] = relationship()
    captain: Mapped[Person | None] = relationship(foreign_keys=[captain_id])
    backup_captain: Mapped[Person | None] = relationship(foreign_keys=[backup_captain_id])
    buildings: Mapped[list[Building]] = relationship(
        back_populates="group", order_by="Building.position", cascade="all, delete-orphan"
    )


class Building(Base):
    """A residential building (栋) of a neighbour group."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("neighbour_groups.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)

    group: Mapped[NeighbourGroup] = relationship(back_populates="buildings")


class Person(Base):
    """Anyone the bot knows: a resident who joined, or staff imported by an admin.

    Personal data (name, phone, Telegram id, building, unit) is wiped by /forgetme; the row
    stays so that reports keep a valid, anonymous author.
    """

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("community_id", "staff_key"),
        Index("ix_people_group_active", "group_id", "left_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighbour_groups.id", ondelete="SET NULL")
    )
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    unit: Mapped[str | None] = mapped_column(String(32))
    # Natural key of imported staff inside their community (normalised phone, else name).
    staff_key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when Telegram answered 403 (blocked the bot); cleared when they write again.
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[NeighbourGroup | None] = relationship(foreign_keys=[group_id])
    building: Mapped[Building | None] = relationship()
    community: Mapped[Community | None] = relationship()


class CommunityAdmin(Base):
    """A community admin: loads the organisation and the FAQ, sees the whole community."""

    __tablename__ = "community_admins"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class InviteCode(Base):
    """A deep-link code: reusable per group for residents, one-time per staff member."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "group" | "personal"
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighbour_groups.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[NeighbourGroup | None] = relationship()
    person: Mapped[Person | None] = relationship()
