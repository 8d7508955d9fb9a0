"""Profile commands: /help by role, /me, /lang, /mycaptain, /leave, /forgetme."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from demo.updates import User
from storage.models import NeighbourGroup, OutboxMessage, Person
from tests.harness import Harness


async def test_help_for_a_stranger_explains_joining(bot: Harness) -> None:
    """Someone the bot never saw gets the guest help."""
    text = (await bot.send(User(3001, "路人"), "/help")).only().text
    assert "还没有加入邻里小组" in text and "/lang" in text


async def test_help_for_resident_lists_resident_commands(bot: Harness, people: dict) -> None:
    """A resident sees resident commands and no staff section."""
    text = (await bot.send(people["resident"], "/help")).only().text
    assert "/mycaptain" in text and "/forgetme" in text
    assert "邻长功能" not in text and "网格员功能" not in text


async def test_help_for_captain_names_their_group(bot: Harness, people: dict) -> None:
    """A captain's help names the group they look after."""
    text = (await bot.send(people["captain"], "/help")).only().text
    assert "邻长功能" in text and "和平里邻里小组" in text


async def test_help_for_grid_leader_and_admin(bot: Harness, people: dict) -> None:
    """The grid leader sees their grid; the admin their community."""
    assert "第一网格" in (await bot.send(people["grid"], "/help")).only().text
    assert "新兴社区" in (await bot.send(people["admin"], "/help")).only().text


async def test_me_shows_profile(bot: Harness, people: dict) -> None:
    """/me shows group, building, unit and role, with change buttons."""
    message = (await bot.send(people["resident"], "/me")).only()
    for part in ("小李", "和平里邻里小组", "2栋", "3单元", "居民"):
        assert part in message.text
    assert message.button_labels() == ["修改楼栋/单元", "切换语言"]


async def test_change_building_from_me(bot: Harness, people: dict) -> None:
    """The /me button offers the group's buildings and the choice is saved."""
    resident = people["resident"]
    await bot.send(resident, "/me")
    reply = await bot.press(resident, "修改楼栋")
    assert reply.only().button_labels() == ["1栋", "2栋", "3栋", "4栋"]
    await bot.press(resident, "4栋")
    await bot.send(resident, "1单元")
    assert "4栋" in (await bot.send(resident, "/me")).only().text


async def test_lang_switches_replies_to_english(bot: Harness, people: dict) -> None:
    """/lang en answers in English and later replies stay English."""
    resident = people["resident"]
    assert "English" in (await bot.send(resident, "/lang en")).only().text
    assert "For residents" in (await bot.send(resident, "/help")).only().text
    assert "中文" in (await bot.send(resident, "/lang zh")).only().text


async def test_lang_with_bad_argument_shows_usage(bot: Harness, people: dict) -> None:
    """/lang fr gets the usage line and nothing changes."""
    assert "/lang zh" in (await bot.send(people["resident"], "/lang fr")).only().text


async def test_lang_buttons(bot: Harness) -> None:
    """/lang without argument offers both languages as buttons; a stranger can pick one."""
    stranger = User(3002, "Tom", language_code="en")
    message = (await bot.send(stranger, "/lang")).only()
    assert message.button_labels() == ["中文", "English"]
    reply = await bot.press(stranger, "中文")
    assert "中文" in reply.edits[0].text


async def test_telegram_language_is_used_for_strangers(bot: Harness) -> None:
    """Without a profile, Telegram's language_code picks English."""
    text = (await bot.send(User(3003, "Ann", language_code="en-GB"), "/start")).only().text
    assert text.startswith("Hello, I am Wulin")


async def test_mycaptain_shows_names_never_phones(bot: Harness, people: dict) -> None:
    """/mycaptain names the captain and backup, without phone numbers."""
    text = (await bot.send(people["resident"], "/mycaptain")).only().text
    assert "王芳" in text and "陈刚" in text
    assert "13800000003" not in text and "138" not in text


async def test_mycaptain_for_non_member(bot: Harness) -> None:
    """A stranger is told to join first."""
    assert "还没有加入" in (await bot.send(User(3004, "路人"), "/mycaptain")).only().text


async def test_leave_needs_confirmation(bot: Harness, people: dict) -> None:
    """/leave asks first; cancelling keeps membership, confirming leaves."""
    resident = people["resident"]
    await bot.send(resident, "/leave")
    await bot.press(resident, "取消")
    assert "和平里邻里小组" in (await bot.send(resident, "/me")).only().text
    await bot.send(resident, "/leave")
    reply = await bot.press(resident, "确定")
    assert "已退出" in reply.edits[0].text
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == resident.id))
    assert person is not None and person.left_at is not None and person.building_id is None


async def test_stale_leave_confirmation_is_refused(bot: Harness, people: dict) -> None:
    """Pressing a leave confirmation an hour later does nothing."""
    resident = people["resident"]
    await bot.send(resident, "/leave")
    bot.clock.advance(timedelta(hours=1))
    reply = await bot.press(resident, "确定")
    assert reply.alerts == ["这个按钮已过期，请重新发送命令。"]
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == resident.id))
    assert person is not None and person.left_at is None


async def test_forgetme_erases_personal_data(bot: Harness, people: dict) -> None:
    """/forgetme after confirmation removes name, phone and Telegram id; the row stays."""
    resident = people["resident"]
    async with bot.db.begin() as session:
        person_id = await session.scalar(select(Person.id).where(Person.telegram_id == resident.id))
    await bot.send(resident, "/forgetme")
    reply = await bot.press(resident, "确定")
    assert "已删除" in reply.edits[0].text
    async with bot.db.begin() as session:
        person = await session.get(Person, person_id)
    assert person is not None
    assert (person.telegram_id, person.display_name, person.phone, person.unit) == (
        None,
        None,
        None,
        None,
    )
    assert person.forgotten_at is not None
    assert "还没有加入" in (await bot.send(resident, "/me")).only().text


async def test_forgetme_by_captain_tells_the_grid_leader(bot: Harness, people: dict) -> None:
    """A captain who forgets themself leaves the group captainless and the grid leader is told."""
    await bot.send(people["captain"], "/forgetme")
    reply = await bot.press(people["captain"], "确定")
    notices = reply.to(people["grid"])
    assert (
        len(notices) == 1 and "和平里邻里小组" in notices[0].text and "没有邻长" in notices[0].text
    )
    async with bot.db.begin() as session:
        group = await session.scalar(
            select(NeighbourGroup).where(NeighbourGroup.code == "g1-heping")
        )
        queued = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "staff_gone")
        )
    assert group is not None and group.captain_id is None
    assert queued is not None and queued.status == "sent"
    assert "没有邻长" in (await bot.send(people["resident"], "/mycaptain")).only().text


async def test_forgetme_cancel_keeps_everything(bot: Harness, people: dict) -> None:
    """Cancelling /forgetme deletes nothing."""
    await bot.send(people["resident"], "/forgetme")
    reply = await bot.press(people["resident"], "取消")
    assert "没有删除" in reply.edits[0].text
    assert "小李" in (await bot.send(people["resident"], "/me")).only().text


async def test_forgetme_replayed_button_is_refused(bot: Harness, people: dict) -> None:
    """A forget confirmation pressed a day later is refused."""
    await bot.send(people["resident"], "/forgetme")
    bot.clock.advance(timedelta(days=1))
    reply = await bot.press(people["resident"], "确定")
    assert reply.alerts and not reply.edits
