"""Organisation import: an idempotent upsert by natural keys (export: ``org_export``).

Streets, communities, grids and groups are never deleted.  Roles follow the file: for every
community in the file, its admins, grid leaders, captains and backup captains become exactly
those the file names; a person it no longer names keeps their record but loses the role.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.invites import (
    ensure_group_code,
    ensure_personal_code,
    landline_warning,
    normalise_phone,
)
from storage.models import (
    Building,
    Community,
    CommunityAdmin,
    Grid,
    NeighbourGroup,
    Person,
    Report,
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


@dataclass
class ImportSummary:
    """What an import changed: counts per kind and warnings worth reading."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


def staff_key(spec: PersonSpec) -> str:
    """Natural key of a staff member in their community: the phone, else the name."""
    phone = normalise_phone(spec.phone)
    return f"tel:{phone}" if phone else f"name:{spec.name}"


class _Importer:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        self.summary = ImportSummary()

    def _touch(self, obj: object, kind: str, **values: object) -> None:
        changed = False
        for key, value in values.items():
            if getattr(obj, key) != value:
                setattr(obj, key, value)
                changed = True
        if changed:
            self.summary.updated[kind] += 1

    def _new(self, obj: object, kind: str) -> None:
        self.session.add(obj)
        self.summary.created[kind] += 1

    async def street(self, spec: StreetSpec) -> None:
        street = await self.session.scalar(select(Street).where(Street.code == spec.code))
        if street is None:
            street = Street(code=spec.code, name=spec.name)
            self._new(street, "streets")
            await self.session.flush()
        else:
            self._touch(street, "streets", name=spec.name)
        for community in spec.communities:
            await self.community(street, community)

    async def community(self, street: Street, spec: CommunitySpec) -> None:
        row = await self.session.scalar(select(Community).where(Community.code == spec.code))
        if row is None:
            row = Community(
                code=spec.code,
                name=spec.name,
                households=spec.households,
                latitude=spec.latitude,
                longitude=spec.longitude,
                street_id=street.id,
            )
            self._new(row, "communities")
            await self.session.flush()
        else:
            self._touch(
                row,
                "communities",
                name=spec.name,
                households=spec.households,
                latitude=spec.latitude,
                longitude=spec.longitude,
                street_id=street.id,
            )
        # The phones the file gives each name in this community (see _other_key).
        self.phones: dict[str, set[str]] = {}
        for _, person in spec.staff():
            if person.phone:
                self.phones.setdefault(person.name, set()).add(staff_key(person))
        await self.admins(row, spec.admins)
        for grid in spec.grids:
            await self.grid(row, grid)
        await self._warn_missing(row, spec)

    async def admins(self, community: Community, specs: list[PersonSpec]) -> None:
        """The community's admins become exactly those in the file (like every other role)."""
        admin_ids = set()
        for admin in specs:
            person = await self.person(community.id, admin)
            admin_ids.add(person.id)
            if await self.session.get(CommunityAdmin, (community.id, person.id)) is None:
                self._new(CommunityAdmin(community_id=community.id, person_id=person.id), "admins")
        removed = await self.session.execute(
            delete(CommunityAdmin).where(
                CommunityAdmin.community_id == community.id,
                CommunityAdmin.person_id.not_in(admin_ids),
            )
        )
        if removed.rowcount:
            self.summary.updated["admins removed"] += removed.rowcount
            if not admin_ids:
                self.summary.warnings.append(
                    f"community {community.code}: the file names no admins, so it has none now"
                )

    async def grid(self, community: Community, spec: GridSpec) -> None:
        row = await self.session.scalar(
            select(Grid).where(Grid.community_id == community.id, Grid.code == spec.code)
        )
        leader = await self.person(community.id, spec.leader) if spec.leader else None
        leader_id = leader.id if leader else None
        if row is None:
            row = Grid(
                community_id=community.id, code=spec.code, name=spec.name, leader_id=leader_id
            )
            self._new(row, "grids")
            await self.session.flush()
        else:
            self._touch(row, "grids", name=spec.name, leader_id=leader_id)
        for group in spec.groups:
            await self.group(community, row, group)

    async def group(self, community: Community, grid: Grid, spec: GroupSpec) -> None:
        row = await self.session.scalar(
            select(NeighbourGroup)
            .where(NeighbourGroup.community_id == community.id, NeighbourGroup.code == spec.code)
            .options(selectinload(NeighbourGroup.buildings))
        )
        captain = await self.person(community.id, spec.captain) if spec.captain else None
        backup = (
            await self.person(community.id, spec.backup_captain) if spec.backup_captain else None
        )
        values = {
            "grid_id": grid.id,
            "name": spec.name,
            "captain_id": captain.id if captain else None,
            "backup_captain_id": backup.id if backup else None,
        }
        if row is None:
            row = NeighbourGroup(community_id=community.id, code=spec.code, buildings=[], **values)
            self._new(row, "groups")
            await self.session.flush()
        else:
            moved = row.grid_id != grid.id
            self._touch(row, "groups", **values)
            if moved:
                # Reports copy their group's grid when filed, and policy, routing and read-outs
                # trust that copy: move them with the group, or the old grid leader keeps
                # seeing them (reporters' phones included) and the new one sees nothing.
                # (Groups cannot change community: they are keyed by it.)
                await self.session.execute(
                    update(Report).where(Report.group_id == row.id).values(grid_id=grid.id)
                )
        await self.buildings(row, spec.buildings)
        await ensure_group_code(session=self.session, group=row, now=self.now)

    async def buildings(self, group: NeighbourGroup, names: list[str]) -> None:
        existing = {b.name: b for b in group.buildings}
        for position, name in enumerate(names):
            building = existing.pop(name, None)
            if building is None:
                group.buildings.append(Building(name=name, position=position))
                self.summary.created["buildings"] += 1
            elif building.position != position:
                building.position = position
        for name, building in existing.items():
            # Reports would lose their building (ON DELETE SET NULL), residents their home.
            residents = await self.session.scalar(
                select(Person.id).where(Person.building_id == building.id).limit(1)
            )
            reports = await self.session.scalar(
                select(Report.id).where(Report.building_id == building.id).limit(1)
            )
            if residents is None and reports is None:
                await self.session.delete(building)
                self.summary.updated["buildings removed"] += 1
            else:
                who = "residents live there" if residents is not None else "reports point to it"
                self.summary.warnings.append(
                    f"group {group.code}: building {name!r} is no longer in the file but "
                    f"{who}; it was kept"
                )
        await self.session.flush()

    async def person(self, community_id: int, spec: PersonSpec) -> Person:
        key = staff_key(spec)
        if (warn := landline_warning(spec.name, spec.phone)) and warn not in self.summary.warnings:
            self.summary.warnings.append(warn)
        person = await self.session.scalar(
            select(Person).where(Person.community_id == community_id, Person.staff_key == key)
        )
        if person is None:
            person = await self._other_key(community_id, spec, key)
        if person is None:
            person = Person(
                community_id=community_id,
                staff_key=key,
                display_name=spec.name,
                phone=spec.phone,
                created_at=self.now,
            )
            self._new(person, "people")
            await self.session.flush()
        else:
            self._touch(person, "people", display_name=spec.name, phone=spec.phone)
        await ensure_personal_code(session=self.session, person=person, now=self.now)
        return person

    async def _other_key(self, community_id: int, spec: PersonSpec, key: str) -> Person | None:
        """The same staff member's record under their former key, re-keyed: when the file
        adds (or drops) the phone of someone it used to name without (with) one.

        Without this, the role would move to a new record and the Telegram account bound to
        the old one could not redeem the new code ("taken").  Used only when unambiguous:
        the file validator already refuses a name given both with and without a phone.
        """
        if spec.phone is not None:
            if len(self.phones.get(spec.name, ())) != 1:
                return None  # two namesakes with phones: which one was the old record?
            where = Person.staff_key == f"name:{spec.name}"
        else:
            where = Person.staff_key.like("tel:%") & (Person.display_name == spec.name)
        found = list(
            await self.session.scalars(
                select(Person).where(Person.community_id == community_id, where).limit(2)
            )
        )
        if len(found) != 1:
            return None
        person = found[0]
        person.staff_key = key
        change = f"phone {spec.phone} added" if spec.phone else f"phone {person.phone} removed"
        self.summary.warnings.append(
            f"{spec.name}: {change}; kept as the same person (roles and Telegram link)"
        )
        return person

    async def _warn_missing(self, community: Community, spec: CommunitySpec) -> None:
        in_file = {g.code for grid in spec.grids for g in grid.groups}
        codes = await self.session.scalars(
            select(NeighbourGroup.code).where(NeighbourGroup.community_id == community.id)
        )
        for code in codes:
            if code not in in_file:
                self.summary.warnings.append(
                    f"community {community.code}: group {code} is in the database but not in "
                    "the file; it was left as it is (imports never delete groups)"
                )


async def import_org(*, session: AsyncSession, org: OrgFile, now: datetime) -> ImportSummary:
    """Create or update everything in ``org``; never deletes streets, communities or groups,
    but the roles of the communities in the file follow it (see the module docstring)."""
    importer = _Importer(session, now)
    for street in org.streets:
        await importer.street(street)
    await session.flush()
    return importer.summary


# Read-outs live in org_export; importing them from here keeps older callers working.
from storage.org_export import InviteLine, export_org, list_invites, staff_roles  # noqa: E402

__all__ = ["ImportSummary", "InviteLine", "export_org", "import_org", "list_invites", "staff_roles"]
