"""Read models for the profile screens: /me, /help and /mycaptain."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Building, Community, CommunityAdmin, Grid, NeighbourGroup, Person
from storage.people import Actor


@dataclass(frozen=True, slots=True)
class Profile:
    """What /me shows."""

    name: str | None
    group: str | None
    building: str | None
    unit: str | None
    language: str | None


async def get_profile(*, session: AsyncSession, actor: Actor) -> Profile:
    """The actor's profile with names resolved."""
    group = await session.get(NeighbourGroup, actor.group_id) if actor.group_id else None
    building = await session.get(Building, actor.building_id) if actor.building_id else None
    return Profile(
        name=actor.name,
        group=group.name if group else None,
        building=building.name if building else None,
        unit=actor.unit,
        language=actor.language,
    )


@dataclass(frozen=True, slots=True)
class CaptainView:
    """A group's captain as residents may see it: names only, never phone numbers."""

    group: str
    captain: str | None
    backup: str | None


async def get_captain_view(*, session: AsyncSession, group_id: int) -> CaptainView | None:
    """The captain (and backup) of a group, by display name."""
    group = await session.get(NeighbourGroup, group_id)
    if group is None:
        return None
    captain = await session.get(Person, group.captain_id) if group.captain_id else None
    backup = await session.get(Person, group.backup_captain_id) if group.backup_captain_id else None
    return CaptainView(
        group=group.name,
        captain=captain.display_name if captain else None,
        backup=backup.display_name if backup else None,
    )


async def group_names(*, session: AsyncSession, ids: tuple[int, ...]) -> list[str]:
    """Names of neighbour groups, in id order."""
    if not ids:
        return []
    return list(
        await session.scalars(
            select(NeighbourGroup.name)
            .where(NeighbourGroup.id.in_(ids))
            .order_by(NeighbourGroup.id)
        )
    )


async def grid_names(*, session: AsyncSession, ids: tuple[int, ...]) -> list[str]:
    """Names of grids, in id order."""
    if not ids:
        return []
    return list(await session.scalars(select(Grid.name).where(Grid.id.in_(ids)).order_by(Grid.id)))


async def community_names(*, session: AsyncSession, ids: tuple[int, ...]) -> list[str]:
    """Names of communities, in id order."""
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Community.name).where(Community.id.in_(ids)).order_by(Community.id)
        )
    )


async def group_leaders(*, session: AsyncSession, group_id: int) -> list[int]:
    """Who answers for a group when its captain is gone: its grid leader, else its admins."""
    group = await session.get(NeighbourGroup, group_id)
    if group is None:
        return []
    grid = await session.get(Grid, group.grid_id)
    if grid is not None and grid.leader_id is not None:
        return [grid.leader_id]
    return list(
        await session.scalars(
            select(CommunityAdmin.person_id).where(
                CommunityAdmin.community_id == group.community_id
            )
        )
    )


@dataclass(frozen=True, slots=True)
class GroupBuildings:
    """A group's name and its buildings (id, name) in display order."""

    group: str
    buildings: tuple[tuple[int, str], ...]


async def get_group_buildings(*, session: AsyncSession, group_id: int) -> GroupBuildings | None:
    """The buildings a resident of ``group_id`` may choose from."""
    group = await session.get(NeighbourGroup, group_id)
    if group is None:
        return None
    rows = await session.execute(
        select(Building.id, Building.name)
        .where(Building.group_id == group_id)
        .order_by(Building.position, Building.id)
    )
    return GroupBuildings(group=group.name, buildings=tuple((i, n) for i, n in rows))
