"""The demo's cast: who is who in ``demo/org.yaml``, already bound to Telegram ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo.updates import User
from storage.models import Building, InviteCode, NeighbourGroup, Person
from storage.org import import_org
from storage.orgfile import load_org_file

ORG_FILE = Path(__file__).with_name("org.yaml")


@dataclass(frozen=True)
class Identity:
    """A demo identity: a Telegram user and, for staff, the phone of their imported record."""

    key: str
    user: User
    describe: str
    staff_phone: str | None = None


CAST: tuple[Identity, ...] = (
    Identity(
        "resident",
        User(1001, "小李", language_code="zh-hans", phone="13900000011"),
        "resident of 和平里邻里小组, 2栋 3单元",
    ),
    Identity(
        "newcomer",
        User(1002, "小陈", language_code="zh-hans", phone="13900000012"),
        "not joined yet: try /start with a group code from :codes",
    ),
    Identity(
        "captain",
        User(1003, "王芳", language_code="zh-hans", phone="13800000003"),
        "captain of 和平里邻里小组 (the resident's captain)",
        "13800000003",
    ),
    Identity(
        "captain2",
        User(1004, "刘洋", language_code="zh-hans", phone="13800000005"),
        "captain of 春申苑邻里小组",
        "13800000005",
    ),
    Identity(
        "grid",
        User(1005, "张伟", language_code="zh-hans", phone="13800000002"),
        "grid leader of 第一网格 (leads both captains' squad)",
        "13800000002",
    ),
    Identity(
        "admin",
        User(1006, "李敏", language_code="zh-hans", phone="13800000001"),
        "admin of 新兴社区",
        "13800000001",
    ),
)


async def seed_demo(*, session: AsyncSession, now: datetime) -> None:
    """Import the demo organisation, bind the staff identities and join the resident."""
    await import_org(session=session, org=load_org_file(ORG_FILE), now=now)
    for identity in CAST:
        if identity.staff_phone:
            person = await session.scalar(
                select(Person).where(Person.phone == identity.staff_phone)
            )
            if person is not None:
                person.telegram_id = identity.user.id
                person.language = "zh"
    await _readable_codes(session)
    resident = next(i for i in CAST if i.key == "resident")
    group = await session.scalar(select(NeighbourGroup).where(NeighbourGroup.code == "g1-heping"))
    assert group is not None
    building = await session.scalar(
        select(Building).where(Building.group_id == group.id, Building.name == "2栋")
    )
    session.add(
        Person(
            telegram_id=resident.user.id,
            display_name=resident.user.first_name,
            phone=resident.user.phone,
            language="zh",
            community_id=group.community_id,
            group_id=group.id,
            building_id=building.id if building else None,
            unit="3单元",
            created_at=now,
            joined_at=now,
        )
    )
    await session.flush()


async def _readable_codes(session: AsyncSession) -> None:
    """Give the demo's invite codes readable names (``demo-heping``) so scripts can use them.

    Real codes are random and unguessable; the demo is offline and nobody can abuse these.
    """
    rows = await session.execute(
        select(InviteCode, NeighbourGroup.code, Person.phone)
        .outerjoin(NeighbourGroup, NeighbourGroup.id == InviteCode.group_id)
        .outerjoin(Person, Person.id == InviteCode.person_id)
    )
    for invite, group_code, phone in rows:
        if group_code:
            invite.code = "demo-" + group_code.split("-", 1)[-1]
        elif phone:
            invite.code = "demo-staff-" + phone[-4:]
    await session.flush()
