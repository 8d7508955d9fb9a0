"""Bad input never crashes, never writes what it should not, and gets a sensible answer
(or silence in group chats)."""

from __future__ import annotations

from sqlalchemy import func, select

from demo.updates import User
from storage.models import Person
from tests.harness import Harness

GROUP_CHAT = {"id": -100123, "type": "supergroup", "title": "和平里居民群"}


async def _people_count(bot: Harness) -> int:
    async with bot.db.begin() as session:
        return int(await session.scalar(select(func.count()).select_from(Person)) or 0)


async def test_longest_message_gets_one_answer(bot: Harness, people: dict) -> None:
    """A 4,096-character message is answered once, without error."""
    reply = await bot.send(people["resident"], "灯" * 4096)
    assert len(reply.messages) == 1


async def test_emoji_only_text(bot: Harness, people: dict) -> None:
    """Emoji-only text is answered once."""
    assert len((await bot.send(people["resident"], "👍🏻🎉🏘")).messages) == 1


async def test_sticker_and_voice_are_explained(bot: Harness, people: dict) -> None:
    """Stickers and voice notes get the "I read text" answer."""
    for update in (bot.updates.sticker(people["resident"]), bot.updates.voice(people["resident"])):
        assert "文字" in (await bot.process(update)).only().text


async def test_edited_message_is_not_reprocessed(bot: Harness, people: dict) -> None:
    """An edited message gets a note, and no command runs again."""
    reply = await bot.process(bot.updates.edited(people["resident"], 1, "/forgetme"))
    assert "只处理新消息" in reply.only().text
    assert not reply.only().buttons


async def test_unknown_command(bot: Harness, people: dict) -> None:
    """An unknown command points to /help."""
    assert "/help" in (await bot.send(people["resident"], "/frobnicate now")).only().text


async def test_cancel_outside_a_flow(bot: Harness, people: dict) -> None:
    """/cancel with nothing in progress says so."""
    assert "没有进行中" in (await bot.send(people["resident"], "/cancel")).only().text


async def test_group_chat_text_is_ignored(bot: Harness, people: dict) -> None:
    """Ordinary chatter in a group chat gets no answer and creates nobody."""
    before = await _people_count(bot)
    reply = await bot.send(User(4001, "群友"), "大家好，今天停水吗", chat=GROUP_CHAT)
    assert reply.messages == [] and reply.edits == []
    assert await _people_count(bot) == before


async def test_group_chat_command_points_to_private_chat(bot: Harness, people: dict) -> None:
    """A command in a group chat is answered with a link to the private chat only."""
    reply = await bot.send(people["resident"], "/me@wulin_demo_bot", chat=GROUP_CHAT)
    message = reply.only()
    assert message.chat_id == GROUP_CHAT["id"] and "私聊" in message.text
    assert message.buttons[0][0]["url"] == "https://t.me/wulin_demo_bot"
    assert "小李" not in message.text  # never personal data in a group


async def test_group_chat_start_with_code_does_not_join(bot: Harness) -> None:
    """/start <code> in a group chat joins nobody."""
    before = await _people_count(bot)
    await bot.send(User(4002, "群友"), "/start demo-heping", chat=GROUP_CHAT)
    assert await _people_count(bot) == before


async def test_forged_callback_data_is_refused(bot: Harness, people: dict) -> None:
    """Buttons with forged, truncated or foreign data get a polite refusal."""
    resident = people["resident"]
    message = (await bot.send(resident, "/me")).only()
    for data in (
        "forget:yes",
        "leave:yes",
        "join:b:99999",
        "join:move:1",
        "lang:xx",
        "x" * 64,
        "rep:zz:1",
    ):
        reply = await bot.press_data(resident, message, data)
        assert reply.alerts, data
    reply = await bot.press_data(resident, message, "rep:ack:999")
    assert reply.only().text == "找不到报告 #999，或你无权查看。"
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == resident.id))
    assert person is not None and person.left_at is None and person.forgotten_at is None


async def test_control_characters_in_name_are_cleaned(bot: Harness) -> None:
    """A Telegram name with control characters is stored cleaned and bounded."""
    user = User(4003, "坏\x00名\u202e字" + "长" * 200)
    await bot.send(user, "/start demo-heping")
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == user.id))
    assert person is not None and person.display_name is not None
    assert "\x00" not in person.display_name and len(person.display_name) <= 64
