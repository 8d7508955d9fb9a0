"""Invite codes: a reusable, revocable code per neighbour group and a one-time personal
code per captain, grid leader and admin; redeeming them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InviteCode, NeighbourGroup, Person

GROUP = "group"
PERSONAL = "personal"
# Telegram's deep-link alphabet; at most 64 characters.
CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_code() -> str:
    """A fresh unguessable code: 16 characters of the deep-link alphabet (about 96 random
    bits), starting with a letter or digit — a leading ``-`` reads as an option on a command
    line (``org revoke -UQ4…``) and a leading ``_`` is easy to miss when read aloud."""
    while True:
        code = secrets.token_urlsafe(12)
        if code[0].isalnum():
            return code


def normalise_phone(raw: str | None) -> str | None:
    """Digits only, without China's +86 / 0086 prefix; None when there are too few digits."""
    if not raw:
        return None
    digits = re.sub(r"\D", "", raw)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits if 7 <= len(digits) <= 15 else None


def landline_warning(name: str, raw: str | None) -> str | None:
    """A warning when a staff member's phone is a Chinese landline (area code 0xxx, or a bare
    7–8 digit number): no Telegram account has one, and binding compares phones."""
    digits = normalise_phone(raw)
    if digits is None or not (digits.startswith("0") or len(digits) <= 8):
        return None
    return (
        f"{name}: {raw} looks like a landline; staff bind by sharing their Telegram "
        "account's number, so give their mobile phone or they can never bind"
    )


async def find_code(*, session: AsyncSession, code: str) -> InviteCode | None:
    """The invite row for ``code`` (revoked and used ones included), or None."""
    if not CODE_RE.fullmatch(code or ""):
        return None
    return await session.scalar(select(InviteCode).where(InviteCode.code == code))


async def active_group_code(*, session: AsyncSession, group_id: int) -> InviteCode | None:
    """The group's current (unrevoked) resident code."""
    return await session.scalar(
        select(InviteCode)
        .where(InviteCode.group_id == group_id, InviteCode.revoked_at.is_(None))
        .order_by(InviteCode.id.desc())
        .limit(1)
    )


async def ensure_group_code(
    *, session: AsyncSession, group: NeighbourGroup, now: datetime
) -> InviteCode:
    """The group's active code, creating one if it has none."""
    existing = await active_group_code(session=session, group_id=group.id)
    if existing is not None:
        return existing
    invite = InviteCode(code=new_code(), kind=GROUP, group_id=group.id, created_at=now)
    session.add(invite)
    await session.flush()
    return invite


async def ensure_personal_code(
    *, session: AsyncSession, person: Person, now: datetime
) -> InviteCode | None:
    """An unused personal code for a staff member not yet bound to Telegram (else None)."""
    if person.telegram_id is not None:
        return None
    existing = await session.scalar(
        select(InviteCode).where(
            InviteCode.person_id == person.id,
            InviteCode.revoked_at.is_(None),
            InviteCode.used_at.is_(None),
        )
    )
    if existing is not None:
        return existing
    invite = InviteCode(code=new_code(), kind=PERSONAL, person_id=person.id, created_at=now)
    session.add(invite)
    await session.flush()
    return invite


async def revoke_code(
    *, session: AsyncSession, code: str, now: datetime
) -> tuple[InviteCode, InviteCode | None] | None:
    """Revoke ``code``; a group code is replaced at once so the group stays joinable.

    Returns (revoked, replacement) or None when the code is unknown.
    """
    invite = await find_code(session=session, code=code)
    if invite is None:
        return None
    if invite.revoked_at is None:
        invite.revoked_at = now
    replacement = None
    if invite.kind == GROUP and invite.group_id is not None:
        group = await session.get(NeighbourGroup, invite.group_id)
        if group is not None:
            await session.flush()
            replacement = await ensure_group_code(session=session, group=group, now=now)
    elif invite.person_id is not None:
        person = await session.get(Person, invite.person_id)
        if person is not None:
            await session.flush()
            replacement = await ensure_personal_code(session=session, person=person, now=now)
    await session.flush()
    return invite, replacement


@dataclass(frozen=True, slots=True)
class BindOutcome:
    """Result of redeeming a personal code.

    ``status``: ``bound``, ``need_phone`` (share your contact first), ``phone_mismatch``,
    ``used``, ``revoked``, ``already`` (this account is already that person) or
    ``taken`` (this Telegram account already holds another staff record).
    """

    status: str
    person: Person | None = None


async def redeem_personal_code(
    *,
    session: AsyncSession,
    invite: InviteCode,
    telegram_id: int,
    verified_phone: str | None,
    now: datetime,
) -> BindOutcome:
    """Bind a Telegram account to the staff record of a personal code.

    When the record has a phone, the person must prove it by sharing their own Telegram
    contact (``verified_phone``): a resident who got hold of a captain's code cannot bind it.
    """
    if invite.kind != PERSONAL or invite.person_id is None:
        raise ValueError("not a personal code")
    staff = await session.get(Person, invite.person_id)
    if staff is None:
        return BindOutcome("revoked")
    if staff.telegram_id == telegram_id:
        return BindOutcome("already", staff)
    if invite.revoked_at is not None:
        return BindOutcome("revoked")
    if invite.used_at is not None or staff.telegram_id is not None:
        return BindOutcome("used")
    expected = normalise_phone(staff.phone)
    if expected is not None:
        if verified_phone is None:
            return BindOutcome("need_phone", staff)
        if normalise_phone(verified_phone) != expected:
            return BindOutcome("phone_mismatch", staff)
    current = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
    if current is not None:
        if current.staff_key is not None:
            return BindOutcome("taken", current)
        await _absorb_resident(session=session, staff=staff, resident=current)
    # Claim the code with a guarded UPDATE so two simultaneous redemptions cannot both win.
    claimed = await session.execute(
        update(InviteCode)
        .where(
            InviteCode.id == invite.id,
            InviteCode.used_at.is_(None),
            InviteCode.revoked_at.is_(None),
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        return BindOutcome("used")
    staff.telegram_id = telegram_id
    await session.flush()
    return BindOutcome("bound", staff)


async def _absorb_resident(*, session: AsyncSession, staff: Person, resident: Person) -> None:
    """Fold a plain resident profile into the staff record of the same human.

    Every row that points at the resident (reports, follows, …) is re-pointed, whatever table
    it lives in, so later features need no change here.
    """
    if resident.group_id is not None and resident.left_at is None and staff.group_id is None:
        staff.group_id = resident.group_id
        staff.building_id = resident.building_id
        staff.unit = resident.unit
        staff.joined_at = resident.joined_at
    staff.language = staff.language or resident.language
    resident.telegram_id = None
    await session.flush()
    for table in Person.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "people" for fk in column.foreign_keys):
                if table.name == "invite_codes":
                    continue
                await session.execute(
                    update(table).where(column == resident.id).values({column.name: staff.id})
                )
    await session.delete(resident)
    await session.flush()
