"""Invite codes: alphabet, uniqueness, revocation and one-time personal redemption."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo.seed import ORG_FILE
from storage import invites
from storage.models import InviteCode, NeighbourGroup, Person
from storage.org import import_org
from storage.orgfile import load_org_file
from tests.conftest import T0


def test_codes_use_the_deep_link_alphabet_and_do_not_repeat() -> None:
    """10,000 codes: all within [A-Za-z0-9_-]{16}, all different (about 96 random bits
    each), none starting with ``-`` (an option on a command line) or ``_``."""
    codes = {invites.new_code() for _ in range(10_000)}
    assert len(codes) == 10_000
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{15}", c) for c in codes)


def test_phone_normalisation() -> None:
    """+86, spaces and dashes are folded; too short is None."""
    assert invites.normalise_phone("+86 138-0000-0004") == "13800000004"
    assert invites.normalise_phone("008613800000004") == "13800000004"
    assert invites.normalise_phone("0554-1234567") == "05541234567"
    assert invites.normalise_phone("12") is None


async def _seed(db: async_sessionmaker[AsyncSession]) -> None:
    async with db.begin() as session:
        await import_org(session=session, org=load_org_file(ORG_FILE), now=T0)


async def test_find_code_rejects_malformed_input(db: async_sessionmaker[AsyncSession]) -> None:
    """Codes outside the alphabet or longer than 64 are not even looked up."""
    async with db.begin() as session:
        for bad in ("", "a b", "x" * 65, "邻里", "a'--"):
            assert await invites.find_code(session=session, code=bad) is None


async def test_revoking_a_group_code_issues_a_new_one(db: async_sessionmaker[AsyncSession]) -> None:
    """A revoked group code is replaced at once, so the group stays joinable."""
    await _seed(db)
    async with db.begin() as session:
        group = await session.scalar(
            select(NeighbourGroup).where(NeighbourGroup.code == "g1-heping")
        )
        old = await invites.active_group_code(session=session, group_id=group.id)
        revoked, replacement = await invites.revoke_code(session=session, code=old.code, now=T0)
        assert revoked.revoked_at is not None and replacement is not None
        assert replacement.code != old.code
        current = await invites.active_group_code(session=session, group_id=group.id)
        assert current.code == replacement.code


async def _personal(db: async_sessionmaker[AsyncSession], name: str) -> InviteCode:
    async with db.begin() as session:
        return await session.scalar(
            select(InviteCode)
            .join(Person, Person.id == InviteCode.person_id)
            .where(Person.display_name == name)
        )


async def test_personal_code_needs_matching_phone(db: async_sessionmaker[AsyncSession]) -> None:
    """Without a phone the answer is need_phone; a wrong one is phone_mismatch; nothing binds."""
    await _seed(db)
    invite = await _personal(db, "王芳")
    async with db.begin() as session:
        first = await invites.redeem_personal_code(
            session=session, invite=invite, telegram_id=9, verified_phone=None, now=T0
        )
        second = await invites.redeem_personal_code(
            session=session, invite=invite, telegram_id=9, verified_phone="13900000000", now=T0
        )
    assert (first.status, second.status) == ("need_phone", "phone_mismatch")
    async with db.begin() as session:
        assert await session.scalar(select(Person).where(Person.telegram_id == 9)) is None


async def test_personal_code_is_one_time_even_under_a_race(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Two simultaneous redemptions of one code: exactly one binds."""
    await _seed(db)
    invite = await _personal(db, "王芳")

    async def redeem(telegram_id: int) -> str:
        async with db.begin() as session:
            row = await session.get(InviteCode, invite.id)
            outcome = await invites.redeem_personal_code(
                session=session,
                invite=row,
                telegram_id=telegram_id,
                verified_phone="13800000003",
                now=T0,
            )
            return outcome.status

    results = await asyncio.gather(redeem(11), redeem(12), return_exceptions=True)
    statuses = [r for r in results if isinstance(r, str)]
    assert statuses.count("bound") == 1, results
    async with db.begin() as session:
        bound = list(
            await session.scalars(select(Person.telegram_id).where(Person.display_name == "王芳"))
        )
    assert bound in ([11], [12])
