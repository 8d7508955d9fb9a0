"""Fixes found by review: forged buttons, invisible text, oversized messages, flows that
captured each other's text, crashes on unusual input, and what a personal code reveals."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from telegram.ext import ConversationHandler

import faq_cli
from demo.updates import User, utf16_len
from faq.kb import read_kb
from storage.models import (
    FaqQuestion,
    InviteCode,
    NeighbourGroup,
    OutboxMessage,
    Person,
    Report,
)
from tests.harness import Harness

GRID2_LEADER = User(1007, "孙强", language_code="zh-hans", phone="13800000007")


async def _bind(bot: Harness, phone: str, user: User) -> None:
    async with bot.db.begin() as session:
        await session.execute(
            update(Person).where(Person.phone == phone).values(telegram_id=user.id, language="zh")
        )


async def _outbox_count(bot: Harness) -> int:
    async with bot.db.begin() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def _forwarded_question(bot: Harness, people: dict) -> tuple[int, object]:
    """The resident forwards a question to the captain; (question id, captain's message)."""
    await bot.send(people["resident"], "社区有没有老年食堂")
    to_captain = (await bot.press(people["resident"], "转给")).to(people["captain"])[0]
    async with bot.db.begin() as session:
        question_id = await session.scalar(select(FaqQuestion.id))
    return question_id, to_captain


# 1. Only the asker's captains, their grid leader and their community's admins may answer.


async def test_leader_of_another_grid_cannot_answer(bot: Harness, people: dict) -> None:
    """A forged ``fq:ans`` from the leader of another grid is refused; nothing is queued."""
    await _bind(bot, GRID2_LEADER.phone or "", GRID2_LEADER)
    question_id, _ = await _forwarded_question(bot, people)
    before = await _outbox_count(bot)
    own = (await bot.send(GRID2_LEADER, "/help")).only()
    reply = await bot.press_data(GRID2_LEADER, own, f"fq:ans:{question_id}")
    assert reply.alerts and reply.messages == []
    reply = await bot.send(GRID2_LEADER, "我来回答：没有")
    assert reply.to(people["resident"]) == []
    assert await _outbox_count(bot) == before
    async with bot.db.begin() as session:
        assert (await session.get(FaqQuestion, question_id)).answered_at is None


async def test_own_grid_leader_may_answer(bot: Harness, people: dict) -> None:
    """The leader of the asker's grid may still answer."""
    question_id, _ = await _forwarded_question(bot, people)
    own = (await bot.send(people["grid"], "/help")).only()
    await bot.press_data(people["grid"], own, f"fq:ans:{question_id}")
    reply = await bot.send(people["grid"], "有，在党群服务中心")
    assert "邻长回复了你的问题" in reply.to(people["resident"])[0].text


async def test_answer_is_rechecked_when_the_text_arrives(bot: Harness, people: dict) -> None:
    """A captain who lost the group between the button and the text cannot answer."""
    _, to_captain = await _forwarded_question(bot, people)
    captain = people["captain"]
    await bot.press(captain, "回复居民", message=to_captain)
    async with bot.db.begin() as session:
        await session.execute(
            update(NeighbourGroup)
            .where(NeighbourGroup.code == "g1-heping")
            .values(captain_id=None, backup_captain_id=None)
        )
    before = await _outbox_count(bot)
    reply = await bot.send(captain, "有，在党群服务中心")
    assert reply.to(people["resident"]) == [] and reply.messages
    assert await _outbox_count(bot) == before


# 2. The "move" button only moves to the group whose code the person entered.


async def _group_of(bot: Harness, user: User) -> str:
    async with bot.db.begin() as session:
        return await session.scalar(
            select(NeighbourGroup.code)
            .join(Person, Person.group_id == NeighbourGroup.id)
            .where(Person.telegram_id == user.id)
        )


async def test_forged_move_button_cannot_join_another_group(bot: Harness, people: dict) -> None:
    """``join:move:<id of a code never entered>`` is refused; the resident stays put."""
    resident = people["resident"]
    async with bot.db.begin() as session:
        other_invite = await session.scalar(
            select(InviteCode.id).where(InviteCode.code == "demo-huayuan")
        )
    message = (await bot.send(resident, "/start demo-chunshen")).only()
    reply = await bot.press_data(resident, message, f"join:move:{other_invite}")
    assert reply.alerts and reply.messages == []
    assert await _group_of(bot, resident) == "g1-heping"
    await bot.press(resident, "换到新小组", message=message)
    assert await _group_of(bot, resident) == "g1-chunshen"


# 3. A description of invisible characters only is empty.


async def test_zero_width_description_is_empty(bot: Harness, people: dict) -> None:
    """Zero-width characters only: "cannot be empty", asked again; a real text then files."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "其他")
    assert "不能为空" in (await bot.send(resident, "\u200b\u200d\u2060")).only().text
    await bot.send(resident, "楼道灯不亮")
    await bot.press(resident, "不加照片")
    await bot.press(resident, "不提供位置")
    reply = await bot.press(resident, "提交")
    assert "已提交" in reply.to(resident)[0].text


async def test_zero_width_one_shot_report_is_empty(bot: Harness, people: dict) -> None:
    """``/report <zero-width>`` files nothing: "cannot be empty", and the form opens."""
    resident = people["resident"]
    reply = await bot.send(resident, "/report \u200b")
    assert "不能为空" in reply.texts[0]
    assert reply.messages[-1].buttons  # the category buttons of the form
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0


# 4. Every message fits Telegram's 4,096 characters (counted in UTF-16 units here).


async def test_long_answer_reaches_the_resident(bot: Harness, people: dict) -> None:
    """A 3,800-character answer (or 1,900 emoji) to a long question arrives, shortened,
    exactly as stored."""
    for answer in ("答" * 3800, "😀" * 1900):
        await bot.send(people["resident"], "社区有没有老年食堂" + "呀" * 480)
        to_captain = (await bot.press(people["resident"], "转给")).to(people["captain"])[0]
        await bot.press(people["captain"], "回复居民", message=to_captain)
        reply = await bot.send(people["captain"], answer)
        (to_resident,) = reply.to(people["resident"])
        assert utf16_len(to_resident.text) <= 4096
        async with bot.db.begin() as session:
            stored = await session.scalar(
                select(FaqQuestion.answer).order_by(FaqQuestion.id.desc()).limit(1)
            )
        assert stored and stored in to_resident.text


async def test_faqanswers_list_fits_and_offers_every_answer(bot: Harness, people: dict) -> None:
    """Ten long answers: each listing message fits, and all ten can be promoted."""
    async with bot.db.begin() as session:
        resident = await session.scalar(select(Person).where(Person.telegram_id == 1001))
        for n in range(10):
            session.add(
                FaqQuestion(
                    asker_id=resident.id,
                    group_id=resident.group_id,
                    community_id=resident.community_id,
                    question=f"问题{n}" + "问" * 495,
                    lang="zh",
                    created_at=bot.now(),
                    answer=f"回答{n}" + ("答" if n % 2 else "😀") * 1995,
                    answered_at=bot.now(),
                    promoted=False,
                )
            )
    reply = await bot.send(people["admin"], "/faqanswers")
    assert reply.messages and all(utf16_len(m.text) <= 4096 for m in reply.messages)
    labels = [label for m in reply.messages for label in m.button_labels()]
    assert len(labels) == 10


# 5. Open flows never capture each other's text.


async def _home(bot: Harness, user: User) -> tuple[int | None, str | None]:
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == user.id))
    return person.building_id, person.unit


def _conversation(bot: Harness, name: str) -> ConversationHandler:
    return next(
        h
        for handlers in bot.app.handlers.values()
        for h in handlers
        if isinstance(h, ConversationHandler) and h.name == name
    )


async def test_report_started_after_changing_building_gets_the_description(
    bot: Harness, people: dict
) -> None:
    """/me → change building → tap a building → /report: the description is the report's,
    not the unit of the abandoned building change."""
    resident = people["resident"]
    await bot.send(resident, "/me")
    await bot.press(resident, "修改楼栋")
    await bot.press(resident, "4栋")
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")
    reply = await bot.send(resident, "2栋电梯停了")
    assert "照片" in reply.only().text
    assert (await _home(bot, resident))[1] != "2栋电梯停了"


async def test_cancel_ends_every_open_flow(bot: Harness, people: dict) -> None:
    """Two flows open at once (left from before this fix): one /cancel ends both."""
    resident = people["resident"]
    key = (resident.id, resident.id)
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")  # the report form waits for the description
    _conversation(bot, "join")._conversations[key] = 1  # ENTER_UNIT
    reply = await bot.send(resident, "/cancel")
    assert len(reply.messages) == 1
    reply = await bot.send(resident, "5单元")
    assert (await _home(bot, resident))[1] == "3单元"  # the unit flow took nothing
    assert all("照片" not in t and "欢迎" not in t for t in reply.texts)
    assert key not in _conversation(bot, "report")._conversations


async def test_flow_older_than_its_timeout_is_dropped_after_a_restart(
    bot: Harness, people: dict
) -> None:
    """A building change left half-done before a restart does not take text an hour later."""
    resident = people["resident"]
    await bot.send(resident, "/me")
    await bot.press(resident, "修改楼栋")
    await bot.press(resident, "4栋")  # waiting for the unit
    await bot.app.update_persistence()
    await bot.stop()
    bot.clock.advance(timedelta(hours=1))
    again = Harness(db=bot.db, clock=bot.clock, settings=bot.settings, stand_in=bot.stand_in)
    await again.start(seed=False)
    try:
        reply = await again.send(resident, "我家楼下的快递柜在哪里")
        assert all("欢迎" not in t for t in reply.texts)
    finally:
        await again.stop()
    assert not again.errors
    assert (await _home(bot, resident))[1] != "我家楼下的快递柜在哪里"


# 6. Unusual input that crashed (or went unanswered) gets a clear answer.


async def _form_at_summary(bot: Harness, resident: User) -> object:
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")
    await bot.send(resident, "2栋电梯停了")
    await bot.press(resident, "不加照片")
    return (await bot.press(resident, "就在我家")).only()


async def test_submit_after_leaving_the_group_files_nothing(bot: Harness, people: dict) -> None:
    """/leave during the form, then Submit: "no longer in a group", nothing filed."""
    resident = people["resident"]
    summary = await _form_at_summary(bot, resident)
    await bot.send(resident, "/leave")
    await bot.press(resident, "确定")
    reply = await bot.press(resident, "提交", message=summary)
    assert "不再属于" in reply.only().text
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0


async def test_submit_after_a_group_change_does_not_use_the_old_building(
    bot: Harness, people: dict
) -> None:
    """Moved to another group during the form: the old group's building is not filed."""
    resident = people["resident"]
    summary = await _form_at_summary(bot, resident)
    async with bot.db.begin() as session:
        other = await session.scalar(
            select(NeighbourGroup).where(NeighbourGroup.code == "g1-chunshen")
        )
        await session.execute(
            update(Person)
            .where(Person.telegram_id == resident.id)
            .values(group_id=other.id, building_id=None)
        )
    reply = await bot.press(resident, "提交", message=summary)
    assert "小组已经变了" in reply.only().text
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0


async def test_export_with_extreme_dates_shows_usage(bot: Harness, people: dict) -> None:
    """Dates at the ends of the calendar are refused with the usage line."""
    for args in ("2026-01-01 9999-12-31", "0001-01-01 2026-01-01"):
        reply = await bot.send(people["grid"], f"/export {args}")
        assert "用法：/export" in reply.only().text, args


async def test_message_after_forgetme_mid_form_is_answered(bot: Harness, people: dict) -> None:
    """/forgetme during the form: the next text is told the form was closed."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")
    await bot.send(resident, "/forgetme")
    await bot.press(resident, "确定")
    reply = await bot.send(resident, "2栋电梯停了")
    assert "已过期或已结束" in reply.only().text


def test_kb_file_in_another_encoding_is_a_clear_problem(tmp_path: Path) -> None:
    """A knowledge-base file saved as GBK is reported as unreadable, not raised."""
    (tmp_path / "city.yaml").write_bytes("scope: city\nentries: []\n# 邻长\n".encode("gbk"))
    entries, problems = read_kb(tmp_path, learned=False)
    assert entries == [] and problems and problems[0].fatal
    assert "UTF-8" in str(problems[0])


def test_faq_unanswered_refuses_a_negative_limit(capsys: pytest.CaptureFixture[str]) -> None:
    """``faq unanswered --limit -1`` is a usage error, before any database work."""
    parser = argparse.ArgumentParser()
    faq_cli.add_subcommands(parser.add_subparsers())
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["faq", "unanswered", "--limit", "-1"])
    assert exit_.value.code == 2 and "--limit" in capsys.readouterr().err


# 7. A personal code reveals nothing about its owner before the phone matches.


async def test_personal_code_does_not_reveal_name_or_roles(bot: Harness) -> None:
    """Someone holding a captain's code is asked for their phone without the captain's
    name, role or group."""
    async with bot.db.begin() as session:
        code = await session.scalar(
            select(InviteCode.code)
            .join(Person, Person.id == InviteCode.person_id)
            .where(Person.display_name == "赵丽")
        )
    finder = User(4100, "路人甲")
    message = (await bot.send(finder, f"/start {code}")).only()
    assert message.reply_keyboard[0][0]["request_contact"] is True
    for secret in ("赵丽", "花园里", "邻长"):
        assert secret not in message.text, secret
