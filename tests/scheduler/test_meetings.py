"""The weekly squad meeting: setting it, reminders with RSVP, agenda, skip, minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.harness import PEOPLE
from tests.scheduler.conftest import MakeBot

CAPTAIN, CAPTAIN2, GRID = PEOPLE["captain"], PEOPLE["captain2"], PEOPLE["grid"]


async def test_set_and_show(make_bot: MakeBot) -> None:
    """/meeting set with a Chinese weekday; /meeting shows the next date."""
    bot = await make_bot("2026-12-01 10:00")
    reply = await bot.send(GRID, "/meeting set 周三 19:00 社区党群服务中心二楼")
    assert "每周三 19:00" in reply.only().text
    assert "下一次：2026-12-02 19:00" in (await bot.send(GRID, "/meeting")).only().text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/meeting set 周八 19:00 活动室", "星期写法不对"),
        ("/meeting set 9 19:00 活动室", "星期写法不对"),
        ("/meeting set wed 25:00 活动室", "时间写法不对"),
        ("/meeting set wed 7pm 活动室", "时间写法不对"),
        ("/meeting set wed 19:00", "请写上地点"),
        ("/meeting frobnicate", "用法"),
        ("/meeting skip someday", "用法"),
    ],
)
async def test_bad_meeting_input(make_bot: MakeBot, command: str, expected: str) -> None:
    """Bad weekdays, times, missing place and garbage get a clear answer; nothing is set."""
    bot = await make_bot("2026-12-01 10:00")
    assert expected in (await bot.send(GRID, command)).only().text
    assert "还没有设置" in (await bot.send(GRID, "/meeting")).only().text


async def test_only_grid_leaders_set_meetings(make_bot: MakeBot) -> None:
    """A captain cannot set the meeting."""
    bot = await make_bot("2026-12-01 10:00")
    assert "给网格员" in (await bot.send(CAPTAIN, "/meeting set 周三 19:00 活动室")).only().text


async def test_reminders_rsvp_and_agenda(make_bot: MakeBot) -> None:
    """Day-before and hour-before reminders with RSVP; the leader sees answers and an agenda."""
    bot = await make_bot("2026-12-01 10:00")
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    await bot.send(PEOPLE["resident"], "/report 2栋电线私拉很危险")
    day_before = await bot.advance(timedelta(hours=9))
    (reminder,) = [m for m in day_before.to(CAPTAIN) if "碰头会" in m.text]
    assert "明天 19:00" in reminder.text and reminder.button_labels() == ["👍 参加", "🙏 请假"]
    assert "参加" in (await bot.press(CAPTAIN, "参加", message=reminder)).only().text
    await bot.press(
        CAPTAIN2, "请假", message=next(m for m in day_before.to(CAPTAIN2) if "碰头会" in m.text)
    )
    hour_before = await bot.advance(timedelta(hours=23))
    leader = [m for m in hour_before.to(GRID) if "回复情况" in m.text][-1].text
    assert (
        "参加：王芳" in leader
        and "请假：刘洋" in leader
        and "建议议程" in leader
        and "#1" in leader
    )


async def test_last_weeks_rsvp_button_is_refused(make_bot: MakeBot) -> None:
    """Answering a reminder after the meeting took place records nothing."""
    bot = await make_bot("2026-12-01 10:00")
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    reply = await bot.advance(timedelta(hours=9))
    reminder = next(m for m in reply.to(CAPTAIN) if "碰头会" in m.text)
    await bot.advance(timedelta(days=7))
    assert "已经过去了" in (await bot.press(CAPTAIN, "参加", message=reminder)).only().text


async def test_skip_cancels_reminders_and_tells_captains(make_bot: MakeBot) -> None:
    """/meeting skip DATE tells the squad and no reminder goes out for that date."""
    bot = await make_bot("2026-12-01 10:00")
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    reply = await bot.send(GRID, "/meeting skip 2026-12-02")
    assert "已取消" in reply.to(GRID)[0].text and "取消" in reply.to(CAPTAIN)[0].text
    later = await bot.advance(timedelta(days=1, hours=9))
    assert not [m for m in later.to(CAPTAIN) if "碰头会" in m.text and "取消" not in m.text]
    assert "不是碰头会的日子" in (await bot.send(GRID, "/meeting skip 2026-12-03")).only().text


async def test_minutes_and_attendance(make_bot: MakeBot) -> None:
    """/minutes saves the minutes; attendance toggles per captain."""
    bot = await make_bot("2026-12-02 20:00")
    assert "还没有开过" in (await bot.send(GRID, "/minutes 讨论路灯")).only().text
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    await bot.advance(timedelta(days=7))
    message = (await bot.send(GRID, "/minutes 讨论了路灯")).only()
    assert "纪要" in message.text and "王芳：— 未到" in message.button_labels()
    reply = await bot.press(GRID, "王芳", message=message)
    assert "王芳：✅ 到会" in reply.edits[0].button_labels()
    forged = await bot.press_data(CAPTAIN, message, message.buttons[0][0]["callback_data"])
    assert forged.alerts == ["抱歉，你没有权限进行这个操作。"]


async def test_weekly_digest_on_monday(make_bot: MakeBot) -> None:
    """Monday 08:00: grid leader and admin get the digest text and a chart picture."""
    bot = await make_bot("2026-12-06 20:00")
    reply = await bot.advance(timedelta(hours=12, minutes=1))
    kinds = [m.kind for m in reply.to(GRID)]
    assert "photo" in kinds and any("周报" in m.text and "打卡率" in m.text for m in reply.to(GRID))
    assert any("新兴社区" in m.text for m in reply.to(PEOPLE["admin"]))
