"""Joining by invite: group codes for residents, personal codes for staff."""

from __future__ import annotations

from sqlalchemy import func, select

from demo.updates import User
from storage.models import InviteCode, NeighbourGroup, Person
from tests.harness import Harness

NEWCOMER = User(1002, "小陈", phone="13900000012")


async def test_start_without_code_explains_how_to_join(bot: Harness) -> None:
    """/start alone tells how to join and that questions work without joining."""
    reply = await bot.send(NEWCOMER, "/start")
    text = reply.only().text
    assert "二维码" in text and "直接向我提问" in text


async def test_group_code_asks_building_then_unit_then_welcomes(bot: Harness) -> None:
    """A resident joins: building buttons of the group, unit, welcome naming the home."""
    reply = await bot.send(NEWCOMER, "/start demo-heping")
    message = reply.only()
    assert "和平里邻里小组" in message.text
    assert message.button_labels() == ["1栋", "2栋", "3栋", "4栋"]
    reply = await bot.press(NEWCOMER, "3栋")
    assert "3栋" in reply.edits[0].text and "单元" in reply.edits[0].text
    reply = await bot.send(NEWCOMER, "2单元")
    welcome = reply.only().text
    assert "已加入「和平里邻里小组」（3栋 2单元）" in welcome
    assert "/mycaptain" in welcome
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == NEWCOMER.id))
    assert person is not None and person.unit == "2单元" and person.display_name == "小陈"


async def test_unit_can_be_skipped(bot: Harness) -> None:
    """Skipping the unit still welcomes, with the building only."""
    await bot.send(NEWCOMER, "/start demo-heping")
    await bot.press(NEWCOMER, "1栋")
    reply = await bot.press(NEWCOMER, "跳过")
    assert "（1栋）" in reply.only().text


async def test_overlong_unit_is_refused_and_asked_again(bot: Harness) -> None:
    """A unit longer than 16 characters is not stored; the bot asks again."""
    await bot.send(NEWCOMER, "/start demo-heping")
    await bot.press(NEWCOMER, "1栋")
    reply = await bot.send(NEWCOMER, "这是一个非常非常非常非常长的单元名字呀呀呀")
    assert "最多16个字" in reply.only().text
    reply = await bot.send(NEWCOMER, "1单元")
    assert "1栋 1单元" in reply.only().text


async def test_building_of_another_group_is_refused(bot: Harness) -> None:
    """A forged building button (another group's building) changes nothing."""
    reply = await bot.send(NEWCOMER, "/start demo-heping")
    message = reply.only()
    # 5栋 belongs to 春申苑; find its id through a second joiner's keyboard.
    other = User(1099, "外人")
    other_kb = (await bot.send(other, "/start demo-chunshen")).only()
    foreign = other_kb.buttons[0][0]["callback_data"]
    reply = await bot.press_data(NEWCOMER, message, foreign)
    assert reply.alerts and "不属于" in reply.alerts[0]
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == NEWCOMER.id))
    assert person is not None and person.building_id is None


async def test_joining_again_says_already_member(bot: Harness, people: dict) -> None:
    """The resident scanning their own group's code again is told they are a member."""
    reply = await bot.send(people["resident"], "/start demo-heping")
    assert "已经是「和平里邻里小组」的成员" in reply.only().text


async def test_moving_to_another_group_asks_first(bot: Harness, people: dict) -> None:
    """A member scanning another group's code is asked before moving; staying changes nothing."""
    resident = people["resident"]
    reply = await bot.send(resident, "/start demo-chunshen")
    assert reply.only().button_labels() == ["换到新小组", "留在原小组"]
    reply = await bot.press(resident, "留在原小组")
    assert "仍然在「和平里邻里小组」" in reply.edits[0].text
    reply = await bot.send(resident, "/start demo-chunshen")
    await bot.press(resident, "换到新小组")
    async with bot.db.begin() as session:
        row = (
            await session.execute(
                select(Person.building_id, NeighbourGroup.code)
                .join(NeighbourGroup, NeighbourGroup.id == Person.group_id)
                .where(Person.telegram_id == resident.id)
            )
        ).one()
    assert row.code == "g1-chunshen"
    assert row.building_id is None  # asked again for the new group's building


async def test_unknown_and_garbage_codes_are_refused(bot: Harness) -> None:
    """Unknown, malformed, oversized and unicode payloads get the how-to-join answer."""
    for payload in ("nosuchcode", "'; DROP TABLE people;--", "x" * 300, "邻里小组", "%00%ff"):
        reply = await bot.send(NEWCOMER, f"/start {payload}")
        assert "邀请码无效" in reply.only().text, payload
    async with bot.db.begin() as session:
        assert await session.scalar(select(Person).where(Person.telegram_id == NEWCOMER.id)) is None


async def test_revoked_group_code_is_refused(bot: Harness) -> None:
    """A revoked resident code no longer joins anyone."""
    from storage.invites import revoke_code

    async with bot.db.begin() as session:
        await revoke_code(session=session, code="demo-heping", now=bot.now())
    reply = await bot.send(NEWCOMER, "/start demo-heping")
    assert "已经更换" in reply.only().text


async def _backup_code(bot: Harness) -> str:
    async with bot.db.begin() as session:
        return await session.scalar(
            select(InviteCode.code)
            .join(Person, Person.id == InviteCode.person_id)
            .where(Person.display_name == "陈刚")
        )


async def test_staff_binds_with_own_matching_phone(bot: Harness) -> None:
    """The backup captain binds by sharing their own phone, which matches the record."""
    chen = User(2001, "陈刚", phone="+86 138 0000 0004")
    code = await _backup_code(bot)
    reply = await bot.send(chen, f"/start {code}")
    message = reply.only()
    assert "陈刚" in message.text and message.reply_keyboard[0][0]["request_contact"] is True
    reply = await bot.process(bot.updates.contact(chen, chen.phone))
    assert "绑定成功" in reply.only().text and "备用邻长" in reply.only().text
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == chen.id))
    assert person is not None and person.display_name == "陈刚"


async def test_resident_cannot_bind_a_captains_code(bot: Harness, people: dict) -> None:
    """A resident holding the backup captain's code fails the phone check; code stays unused."""
    resident = people["resident"]
    code = await _backup_code(bot)
    await bot.send(resident, f"/start {code}")
    reply = await bot.process(bot.updates.contact(resident, resident.phone))
    assert "不一致" in reply.only().text
    async with bot.db.begin() as session:
        invite = await session.scalar(select(InviteCode).where(InviteCode.code == code))
    assert invite is not None and invite.used_at is None


async def test_someone_elses_contact_is_not_accepted(bot: Harness) -> None:
    """Forwarding another person's contact card (no matching user_id) is refused."""
    chen = User(2001, "陈刚")
    code = await _backup_code(bot)
    await bot.send(chen, f"/start {code}")
    reply = await bot.process(bot.updates.contact(chen, "13800000004", own=False))
    assert "自己的手机号" in reply.only().text


async def test_used_personal_code_is_refused(bot: Harness) -> None:
    """After binding, the same code is refused for anyone else."""
    chen = User(2001, "陈刚", phone="13800000004")
    code = await _backup_code(bot)
    await bot.send(chen, f"/start {code}")
    await bot.process(bot.updates.contact(chen, chen.phone))
    impostor = User(2002, "冒名", phone="13800000004")
    reply = await bot.send(impostor, f"/start {code}")
    assert "已经用过" in reply.only().text


async def test_revoked_personal_code_is_refused(bot: Harness) -> None:
    """A revoked personal code is refused politely."""
    from storage.invites import revoke_code

    code = await _backup_code(bot)
    async with bot.db.begin() as session:
        await revoke_code(session=session, code=code, now=bot.now())
    reply = await bot.send(User(2001, "陈刚"), f"/start {code}")
    assert "作废" in reply.only().text


async def test_cancel_during_binding(bot: Harness) -> None:
    """/cancel while asked for the phone ends the flow and removes the keyboard."""
    chen = User(2001, "陈刚")
    await bot.send(chen, f"/start {await _backup_code(bot)}")
    reply = await bot.send(chen, "/cancel")
    assert reply.only().text == "已取消。需要时随时再来。"
    assert bot.stand_in.calls[-1].params.get("reply_markup", {}).get("remove_keyboard") is True


async def test_resident_binding_staff_code_keeps_one_person(bot: Harness, people: dict) -> None:
    """A resident who is also the backup captain ends up as one person with both roles."""
    chen = User(2001, "陈刚", phone="13800000004")
    await bot.send(chen, "/start demo-heping")
    await bot.press(chen, "1栋")
    await bot.press(chen, "跳过")
    await bot.send(chen, f"/start {await _backup_code(bot)}")
    await bot.process(bot.updates.contact(chen, chen.phone))
    async with bot.db.begin() as session:
        count = await session.scalar(
            select(func.count()).select_from(Person).where(Person.telegram_id == chen.id)
        )
        person = await session.scalar(select(Person).where(Person.telegram_id == chen.id))
    assert count == 1 and person is not None and person.group_id is not None
    reply = await bot.send(chen, "/me")
    assert "居民" in reply.only().text and "备用邻长" in reply.only().text
