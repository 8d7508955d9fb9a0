"""The FAQ in the bot: answers with feedback, suggestions, honest "cannot", forwarding to
the captain and back, promotion by the admin, browsing, group chats."""

from __future__ import annotations

from sqlalchemy import select

from demo.updates import User
from storage.models import FaqFeedback, FaqUnanswered
from tests.harness import Harness

GROUP_CHAT = {"id": -100555, "type": "supergroup", "title": "和平里居民群"}


async def test_confident_answer_with_feedback(bot: Harness, people: dict) -> None:
    """A clear question is answered from the knowledge base, with 👍/👎 recorded."""
    reply = await bot.send(people["resident"], "邻长是怎么选出来的")
    message = reply.only()
    assert "口碑过硬、责任心强的党员" in message.text
    assert message.button_labels() == ["👍 有帮助", "👎 没帮助"]
    reply = await bot.press(people["resident"], "没帮助")
    assert reply.alerts and "谢谢反馈" in reply.alerts[0]
    async with bot.db.begin() as session:
        vote = await session.scalar(select(FaqFeedback))
    assert vote is not None and vote.entry_id == "captain_selection" and vote.helpful is False


async def test_english_question_gets_english_answer(bot: Harness, people: dict) -> None:
    """An English question is answered in English."""
    text = (await bot.send(people["resident"], "how do I change the language?")).only().text
    assert text.startswith("Send /lang en")


async def test_out_of_scope_says_so_and_offers_the_captain(bot: Harness, people: dict) -> None:
    """A question outside the FAQ is not answered; it is logged and can go to the captain."""
    reply = await bot.send(people["resident"], "明天火车票怎么买")
    message = reply.only()
    assert "回答不了" in message.text and message.button_labels() == ["📨 转给我的邻长"]
    async with bot.db.begin() as session:
        logged = await session.scalar(select(FaqUnanswered))
    assert logged is not None and logged.count == 1 and logged.community_code == "xinxing"
    await bot.send(people["resident"], "明天火车票怎么买")
    async with bot.db.begin() as session:
        assert (await session.scalar(select(FaqUnanswered))).count == 2


async def test_forward_answer_and_promote(bot: Harness, people: dict) -> None:
    """Forwarded question → captain answers → resident hears it → admin promotes → answered."""
    resident, captain, admin = people["resident"], people["captain"], people["admin"]
    await bot.send(resident, "社区有没有老年食堂")
    reply = await bot.press(resident, "转给")
    assert "已转给邻长" in reply.to(resident)[0].text
    (to_captain,) = reply.to(captain)
    assert "老年食堂" in to_captain.text and "小李" in to_captain.text
    await bot.press(captain, "回复居民", message=to_captain)
    reply = await bot.send(captain, "有，在党群服务中心一楼，电话 0554-1234568")
    assert "邻长回复了你的问题" in reply.to(resident)[0].text
    assert reply.to(admin)
    listing = (await bot.send(admin, "/faqanswers")).only()
    assert "老年食堂" in listing.text
    await bot.press(admin, "收入问答库", message=listing)
    answer = (await bot.send(resident, "社区有没有老年食堂")).only().text
    assert "0554-1234568" in answer


async def test_other_communities_local_entries_are_not_used(bot: Harness) -> None:
    """A stranger (no community) never gets xinxing's local answers."""
    text = (await bot.send(User(8001, "路人"), "新兴社区物业客服电话多少")).only().text
    assert "0554" not in text


async def test_captain_cannot_answer_twice(bot: Harness, people: dict) -> None:
    """A second answer to an answered question is refused."""
    resident, captain = people["resident"], people["captain"]
    await bot.send(resident, "社区有没有老年食堂")
    to_captain = (await bot.press(resident, "转给")).to(captain)[0]
    await bot.press(captain, "回复居民", message=to_captain)
    await bot.send(captain, "找物业")
    reply = await bot.press(captain, "回复居民", message=to_captain)
    assert "已经有人回复" in reply.only().text


async def test_browse_topics(bot: Harness, people: dict) -> None:
    """/faq lists topics; a topic lists questions; a question answers."""
    message = (await bot.send(people["resident"], "/faq")).only()
    assert "使用帮助" in message.button_labels()
    reply = await bot.press(people["resident"], "使用帮助", message=message)
    assert any("怎么切换语言" in label for label in reply.edits[0].button_labels())
    reply = await bot.press(people["resident"], "怎么切换语言", message=reply.edits[0])
    assert "/lang" in reply.only().text


async def test_group_chat_answers_only_when_addressed(bot: Harness, people: dict) -> None:
    """In a group: silence unless mentioned; when mentioned, a confident answer only."""
    quiet = await bot.send(people["resident"], "邻长是怎么选出来的", chat=GROUP_CHAT)
    assert quiet.messages == []
    reply = await bot.send(
        people["resident"], "@wulin_demo_bot 邻长是怎么选出来的", chat=GROUP_CHAT
    )
    assert "党员" in reply.only().text and reply.only().chat_id == GROUP_CHAT["id"]
    vague = await bot.send(people["resident"], "@wulin_demo_bot 明天下雨吗", chat=GROUP_CHAT)
    assert "私聊" in vague.only().text


async def test_noise_is_never_answered_confidently(bot: Harness, people: dict) -> None:
    """Emoji, digits, SQL and HTML get no knowledge-base answer."""
    for text in (
        "👍👍👍",
        "272",
        "SELECT * FROM people;",
        "<script>alert(1)</script>",
        "\u200b\u200b",
    ):
        reply = await bot.send(people["resident"], text)
        assert (
            not reply.only().button_labels() or "有帮助" not in reply.only().button_labels()[0]
        ), text
