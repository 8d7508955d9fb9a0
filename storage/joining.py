"""Joining a neighbour group with its invite code, as plain values for the handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import invites, people
from storage.models import Building, InviteCode, NeighbourGroup


@dataclass(frozen=True, slots=True)
class JoinView:
    """Outcome of ``join_with_invite``.

    ``status``: ``joined``, ``moved``, ``already``, ``other`` (member of ``old_group``; ask
    before moving), ``revoked`` (code no longer valid) or ``not_group`` (not a group code).
    """

    status: str
    invite_id: int
    group: str | None = None
    old_group: str | None = None
    buildings: tuple[tuple[int, str], ...] = ()


async def join_with_invite(
    *,
    session: AsyncSession,
    invite_id: int,
    telegram_id: int,
    name: str | None,
    language: str | None,
    now: datetime,
    move: bool,
) -> JoinView:
    """Join the group of a group invite (re-checked here: it may have been revoked since)."""
    invite = await session.get(InviteCode, invite_id)
    if invite is None or invite.kind != invites.GROUP or invite.group_id is None:
        return JoinView("not_group", invite_id)
    if invite.revoked_at is not None:
        return JoinView("revoked", invite_id)
    group = await session.get(NeighbourGroup, invite.group_id)
    if group is None:
        return JoinView("revoked", invite_id)
    outcome = await people.join_group(
        session=session,
        telegram_id=telegram_id,
        name=name,
        language=language,
        group=group,
        now=now,
        move=move,
    )
    old_name = None
    if outcome.status == "other" and outcome.previous_group_id is not None:
        old = await session.get(NeighbourGroup, outcome.previous_group_id)
        old_name = old.name if old else None
    rows = await session.execute(
        select(Building.id, Building.name)
        .where(Building.group_id == group.id)
        .order_by(Building.position, Building.id)
    )
    buildings = tuple((building_id, name) for building_id, name in rows)
    return JoinView(outcome.status, invite_id, group.name, old_name, buildings)


@dataclass(frozen=True, slots=True)
class HomeView:
    """Where a resident lives, for the welcome message."""

    group: str
    building: str | None
    unit: str | None


async def get_home(*, session: AsyncSession, telegram_id: int) -> HomeView | None:
    """The resident's group, building and unit; None when not in a group."""
    person = await people.get_person_by_telegram(session=session, telegram_id=telegram_id)
    if person is None or person.group_id is None or person.left_at is not None:
        return None
    group = await session.get(NeighbourGroup, person.group_id)
    building = await session.get(Building, person.building_id) if person.building_id else None
    return HomeView(group.name if group else "?", building.name if building else None, person.unit)
