"""Organisation read-outs: export in the import format, invite listing, staff roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.invites import ensure_group_code
from storage.models import (
    Community,
    CommunityAdmin,
    Grid,
    InviteCode,
    NeighbourGroup,
    Person,
    Street,
)
from storage.orgfile import (
    CommunitySpec,
    GridSpec,
    GroupSpec,
    OrgFile,
    PersonSpec,
    StreetSpec,
)


async def export_org(*, session: AsyncSession) -> OrgFile | None:
    """The organisation in the database, in the import format (None when there is none)."""

    def person(p: Person | None) -> PersonSpec | None:
        if p is None or p.display_name is None:
            return None
        return PersonSpec(name=p.display_name, phone=p.phone)

    streets = await session.scalars(
        select(Street)
        .order_by(Street.id)
        .options(
            selectinload(Street.communities)
            .selectinload(Community.grids)
            .selectinload(Grid.groups)
            .options(
                selectinload(NeighbourGroup.buildings),
                selectinload(NeighbourGroup.captain),
                selectinload(NeighbourGroup.backup_captain),
            ),
            selectinload(Street.communities)
            .selectinload(Community.grids)
            .selectinload(Grid.leader),
        )
    )
    result = []
    for street in streets:
        communities = []
        for community in sorted(street.communities, key=lambda c: c.id):
            admins = await session.scalars(
                select(Person)
                .join(CommunityAdmin, CommunityAdmin.person_id == Person.id)
                .where(CommunityAdmin.community_id == community.id)
                .order_by(Person.id)
            )
            grids = [
                GridSpec(
                    code=grid.code,
                    name=grid.name,
                    leader=person(grid.leader),
                    groups=[
                        GroupSpec(
                            code=g.code,
                            name=g.name,
                            buildings=[b.name for b in g.buildings],
                            captain=person(g.captain),
                            backup_captain=person(g.backup_captain),
                        )
                        for g in grid.groups
                    ],
                )
                for grid in community.grids
            ]
            communities.append(
                CommunitySpec(
                    code=community.code,
                    name=community.name,
                    households=community.households,
                    latitude=community.latitude,
                    longitude=community.longitude,
                    admins=[a for a in (person(p) for p in admins) if a],
                    grids=grids,
                )
            )
        result.append(StreetSpec(code=street.code, name=street.name, communities=communities))
    return OrgFile(version=1, streets=result) if result else None


@dataclass(frozen=True)
class InviteLine:
    """One invite to print: for a group's residents or for one staff member."""

    kind: str
    community: str
    group: str | None
    group_name: str | None
    buildings: tuple[str, ...]
    person: str | None
    roles: tuple[str, ...]
    code: str


async def list_invites(*, session: AsyncSession, now: datetime) -> list[InviteLine]:
    """Every active group code and every unused personal code, in a stable order."""
    lines: list[InviteLine] = []
    groups = await session.scalars(
        select(NeighbourGroup)
        .join(Community, Community.id == NeighbourGroup.community_id)
        .order_by(Community.code, NeighbourGroup.code)
        .options(selectinload(NeighbourGroup.buildings), selectinload(NeighbourGroup.community))
    )
    for group in groups:
        invite = await ensure_group_code(session=session, group=group, now=now)
        lines.append(
            InviteLine(
                kind="group",
                community=group.community.code,
                group=group.code,
                group_name=group.name,
                buildings=tuple(b.name for b in group.buildings),
                person=None,
                roles=(),
                code=invite.code,
            )
        )
    rows = await session.execute(
        select(InviteCode, Person, Community)
        .join(Person, Person.id == InviteCode.person_id)
        .join(Community, Community.id == Person.community_id)
        .where(
            InviteCode.used_at.is_(None),
            InviteCode.revoked_at.is_(None),
            Person.telegram_id.is_(None),
        )
        .order_by(Community.code, Person.id)
    )
    for invite, person, community in rows:
        roles = await staff_roles(session=session, person_id=person.id)
        lines.append(
            InviteLine(
                kind="personal",
                community=community.code,
                group=None,
                group_name=None,
                buildings=(),
                person=person.display_name,
                roles=roles,
                code=invite.code,
            )
        )
    return lines


async def staff_roles(*, session: AsyncSession, person_id: int) -> tuple[str, ...]:
    """Human-readable staff roles of a person, e.g. ``('captain:g1-n1', 'grid_leader:g1')``."""
    roles: list[str] = []
    for code in await session.scalars(
        select(NeighbourGroup.code).where(NeighbourGroup.captain_id == person_id)
    ):
        roles.append(f"captain:{code}")
    for code in await session.scalars(
        select(NeighbourGroup.code).where(NeighbourGroup.backup_captain_id == person_id)
    ):
        roles.append(f"backup_captain:{code}")
    for code in await session.scalars(select(Grid.code).where(Grid.leader_id == person_id)):
        roles.append(f"grid_leader:{code}")
    for code in await session.scalars(
        select(Community.code)
        .join(CommunityAdmin, CommunityAdmin.community_id == Community.id)
        .where(CommunityAdmin.person_id == person_id)
    ):
        roles.append(f"admin:{code}")
    return tuple(roles)
