"""The right to be forgotten (/forgetme): erase a person's personal data, keep their
reports anonymous, release their staff roles and tell whoever must replace them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.models import (
    CommunityAdmin,
    Grid,
    InviteCode,
    NeighbourGroup,
    OutboxMessage,
    Person,
    Report,
)
from storage.profile import group_leaders


@dataclass(frozen=True, slots=True)
class ForgetOutcome:
    """Groups and grids left without their captain or leader by a forgotten staff member."""

    captainless_groups: tuple[int, ...]
    leaderless_grids: tuple[int, ...]


async def forget_person(*, session: AsyncSession, person_id: int, now: datetime) -> ForgetOutcome:
    """Erase the person's personal data (PIPL): name, phone, Telegram id, home, roles, and
    the unit and location of their reports.

    The row stays, anonymous, so reports keep a valid author.  Staff roles are released so
    nobody keeps routing work to an account that no longer exists.
    """
    person = await session.get(Person, person_id)
    if person is None:
        return ForgetOutcome((), ())
    captainless = tuple(
        await session.scalars(
            select(NeighbourGroup.id).where(NeighbourGroup.captain_id == person_id)
        )
    )
    leaderless = tuple(await session.scalars(select(Grid.id).where(Grid.leader_id == person_id)))
    await session.execute(
        update(NeighbourGroup).where(NeighbourGroup.captain_id == person_id).values(captain_id=None)
    )
    await session.execute(
        update(NeighbourGroup)
        .where(NeighbourGroup.backup_captain_id == person_id)
        .values(backup_captain_id=None)
    )
    await session.execute(update(Grid).where(Grid.leader_id == person_id).values(leader_id=None))
    await session.execute(
        CommunityAdmin.__table__.delete().where(CommunityAdmin.person_id == person_id)
    )
    await session.execute(InviteCode.__table__.delete().where(InviteCode.person_id == person_id))
    # Where they live is personal: the unit and map pin of their own reports go too (the
    # description and the building stay: they are about the problem, not the person).
    await session.execute(
        update(Report)
        .where(Report.reporter_id == person_id)
        .values(unit=None, latitude=None, longitude=None)
    )
    # Queued messages carry their chat id, which is personal data too.
    await session.execute(
        OutboxMessage.__table__.delete().where(OutboxMessage.person_id == person_id)
    )
    person.telegram_id = None
    person.display_name = None
    person.phone = None
    person.language = None
    person.building_id = None
    person.unit = None
    person.staff_key = None
    person.group_id = None
    person.left_at = person.left_at or now
    person.forgotten_at = now
    await session.flush()
    return ForgetOutcome(captainless, leaderless)


async def notify_replacements(
    *, session: AsyncSession, outcome: ForgetOutcome, now: datetime
) -> int:
    """Queue a notice to the grid leader (or admins) of each group left without a captain,
    and to the admins of each grid left without a leader; returns how many were queued."""
    queued = 0
    for group_id in outcome.captainless_groups:
        group = await session.get(NeighbourGroup, group_id)
        for person_id in await group_leaders(session=session, group_id=group_id):
            queued += await outbox.enqueue_to_person(
                session=session,
                person_id=person_id,
                kind="staff_gone",
                now=now,
                payload={
                    "text": outbox.text("forget.leader_notice", group=group.name if group else "?")
                },
            )
    for grid_id in outcome.leaderless_grids:
        grid = await session.get(Grid, grid_id)
        if grid is None:
            continue
        admins = await session.scalars(
            select(CommunityAdmin.person_id).where(CommunityAdmin.community_id == grid.community_id)
        )
        for person_id in admins:
            queued += await outbox.enqueue_to_person(
                session=session,
                person_id=person_id,
                kind="staff_gone",
                now=now,
                payload={"text": outbox.text("forget.admin_notice", grid=grid.name)},
            )
    return queued
