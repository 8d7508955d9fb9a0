"""People: who is writing (the actor), joining a group, profile changes, leaving, forgetting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Building, Community, CommunityAdmin, Grid, NeighbourGroup, Person

NAME_MAX = 64
UNIT_MAX = 16

RESIDENT = "resident"
CAPTAIN = "captain"
BACKUP_CAPTAIN = "backup_captain"
GRID_LEADER = "grid_leader"
ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind an update, with their roles, as plain values for handlers."""

    person_id: int
    telegram_id: int | None
    name: str | None
    language: str | None
    community_id: int | None
    group_id: int | None
    building_id: int | None
    unit: str | None
    captain_of: tuple[int, ...] = ()
    backup_of: tuple[int, ...] = ()
    leads_grids: tuple[int, ...] = ()
    admin_of: tuple[int, ...] = ()
    roles: frozenset[str] = field(default_factory=frozenset)
    community_code: str | None = None

    @property
    def is_staff(self) -> bool:
        """Captain, backup captain, grid leader or admin."""
        return bool(self.roles - {RESIDENT})


def clean_name(name: str | None) -> str | None:
    """A display name fit to store: control characters dropped, trimmed, bounded."""
    if not name:
        return None
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()
    return cleaned[:NAME_MAX] or None


async def get_person_by_telegram(*, session: AsyncSession, telegram_id: int) -> Person | None:
    """The person bound to this Telegram account, if any."""
    return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def load_actor(*, session: AsyncSession, telegram_id: int) -> Actor | None:
    """Load the actor for a Telegram user; None when the bot has never seen them.

    One indexed query for a resident (person and community code together); staff need a
    few more for their roles.
    """
    row = (
        await session.execute(
            select(Person, Community.code)
            .outerjoin(Community, Community.id == Person.community_id)
            .where(Person.telegram_id == telegram_id)
        )
    ).first()
    if row is None:
        return None
    return await actor_of(session=session, person=row[0], community_code=row[1])


async def actor_of(
    *, session: AsyncSession, person: Person, community_code: str | None = None
) -> Actor:
    """Build the ``Actor`` of a person, looking up staff roles only for imported staff."""
    captain_of: list[int] = []
    backup_of: list[int] = []
    grids: list[int] = []
    admin_of: list[int] = []
    if person.staff_key is not None:
        rows = await session.execute(
            select(NeighbourGroup.id, NeighbourGroup.captain_id).where(
                (NeighbourGroup.captain_id == person.id)
                | (NeighbourGroup.backup_captain_id == person.id)
            )
        )
        for group_id, captain_id in rows:
            (captain_of if captain_id == person.id else backup_of).append(group_id)
        grids = list(await session.scalars(select(Grid.id).where(Grid.leader_id == person.id)))
        admin_of = list(
            await session.scalars(
                select(CommunityAdmin.community_id).where(CommunityAdmin.person_id == person.id)
            )
        )
    roles = set()
    if person.group_id is not None and person.left_at is None:
        roles.add(RESIDENT)
    if captain_of:
        roles.add(CAPTAIN)
    if backup_of:
        roles.add(BACKUP_CAPTAIN)
    if grids:
        roles.add(GRID_LEADER)
    if admin_of:
        roles.add(ADMIN)
    return Actor(
        person_id=person.id,
        telegram_id=person.telegram_id,
        name=person.display_name,
        language=person.language,
        community_id=person.community_id,
        community_code=community_code,
        group_id=person.group_id if person.left_at is None else None,
        building_id=person.building_id,
        unit=person.unit,
        captain_of=tuple(sorted(captain_of)),
        backup_of=tuple(sorted(backup_of)),
        leads_grids=tuple(sorted(grids)),
        admin_of=tuple(sorted(admin_of)),
        roles=frozenset(roles),
    )


@dataclass(frozen=True, slots=True)
class JoinOutcome:
    """What joining a group did: ``joined``, ``already`` (same group) or ``moved``."""

    status: str
    person: Person
    group: NeighbourGroup
    previous_group_id: int | None


async def join_group(
    *,
    session: AsyncSession,
    telegram_id: int,
    name: str | None,
    language: str | None,
    group: NeighbourGroup,
    now: datetime,
    move: bool = False,
) -> JoinOutcome:
    """Make this Telegram user a resident of ``group``.

    A member of another group is only moved when ``move`` is true (the handler asks first);
    otherwise the outcome is ``other`` and nothing changes.
    """
    person = await get_person_by_telegram(session=session, telegram_id=telegram_id)
    if person is None:
        person = Person(
            telegram_id=telegram_id,
            display_name=clean_name(name),
            language=language,
            created_at=now,
        )
        session.add(person)
    previous = person.group_id if person.left_at is None else None
    if previous == group.id:
        return JoinOutcome("already", person, group, previous)
    if previous is not None and not move:
        return JoinOutcome("other", person, group, previous)
    person.group_id = group.id
    person.community_id = person.community_id if person.staff_key else group.community_id
    person.building_id = None
    person.unit = None
    person.joined_at = now
    person.left_at = None
    if person.display_name is None:
        person.display_name = clean_name(name)
    await session.flush()
    return JoinOutcome("moved" if previous else "joined", person, group, previous)


async def set_building(
    *, session: AsyncSession, person_id: int, building_id: int
) -> Building | None:
    """Record the person's building; None (nothing changed) if it is not in their group."""
    person = await session.get(Person, person_id)
    building = await session.get(Building, building_id)
    if person is None or building is None or person.group_id != building.group_id:
        return None
    if person.left_at is not None:
        return None
    person.building_id = building.id
    await session.flush()
    return building


def clean_unit(text: str) -> str | None:
    """A unit label fit to store (``2单元``, ``3``), or None when it is not plausible."""
    cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
    if not cleaned or len(cleaned) > UNIT_MAX:
        return None
    return cleaned


async def set_unit(*, session: AsyncSession, person_id: int, unit: str | None) -> None:
    """Record (or clear) the person's unit."""
    await session.execute(update(Person).where(Person.id == person_id).values(unit=unit))


async def set_language(
    *, session: AsyncSession, telegram_id: int, language: str, now: datetime
) -> Person:
    """Remember the person's language, creating a bare profile if the bot never saw them."""
    person = await get_person_by_telegram(session=session, telegram_id=telegram_id)
    if person is None:
        person = Person(telegram_id=telegram_id, created_at=now)
        session.add(person)
    person.language = language
    await session.flush()
    return person


async def leave_group(*, session: AsyncSession, person_id: int, now: datetime) -> int | None:
    """Leave the neighbour group; returns the group left, or None if not in one."""
    person = await session.get(Person, person_id)
    if person is None or person.group_id is None or person.left_at is not None:
        return None
    group_id = person.group_id
    person.left_at = now
    person.building_id = None
    person.unit = None
    await session.flush()
    return group_id
