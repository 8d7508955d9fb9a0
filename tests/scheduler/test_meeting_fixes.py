"""Meeting fixes: a changed schedule moves the coming meeting."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import MeetingOccurrence
from tests.harness import PEOPLE, Harness
from tests.scheduler.conftest import MakeBot

CAPTAIN, CAPTAIN2, GRID = PEOPLE["captain"], PEOPLE["captain2"], PEOPLE["grid"]


def context_of(bot: Harness):  # type: ignore[no-untyped-def]
    """A job-like context of the bot's application."""
    return bot.app.context_types.context(application=bot.app)


def meeting_texts(bot: Harness, user) -> list[str]:  # type: ignore[no-untyped-def]
    """Texts about the squad meeting a user received."""
    return [m.text for m in bot.stand_in.sent_to(user.id) if "碰头会" in m.text]


async def leader_changes(bot: Harness, command: str):  # type: ignore[no-untyped-def]
    """The leader changes the meeting.  APScheduler computes a replaced job's next run from
    now; the simulated timeline remembers the old job's last run, so it forgets it too."""
    reply = await bot.send(GRID, command)
    bot.timeline._last.clear()
    return reply


async def test_changed_time_moves_the_coming_meeting(make_bot: MakeBot) -> None:
    """Changed after the day-before reminder: captains are told, the hour-before reminder and
    the RSVP list say the new time, and answers are taken until the new time."""
    bot = await make_bot("2026-12-01 10:00")
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    day_before = await bot.advance(timedelta(hours=9))
    reminder = next(m for m in day_before.to(CAPTAIN) if "碰头会" in m.text)
    await bot.advance(timedelta(hours=2))
    change = await leader_changes(bot, "/meeting set wed 20:00 会议室")
    (notice,) = change.to(CAPTAIN)
    assert "12-02 19:00" in notice.text and "12-02 20:00" in notice.text and "会议室" in notice.text
    hour_before = await bot.advance(timedelta(hours=22, minutes=1))  # Wed 19:01
    (one_hour,) = [m for m in hour_before.to(CAPTAIN) if "碰头会" in m.text]
    assert "20:00" in one_hour.text and "会议室" in one_hour.text
    leader = [m for m in hour_before.to(GRID) if "回复情况" in m.text][-1].text
    assert "20:00" in leader
    await bot.advance(timedelta(minutes=30))  # 19:31: past the old time, before the new
    assert "已登记参加" in (await bot.press(CAPTAIN, "参加", message=reminder)).only().text


async def test_changed_weekday_cancels_the_old_day(make_bot: MakeBot) -> None:
    """Moved from Wednesday to Thursday after the reminder: the Wednesday meeting is gone
    (its buttons expire, the digest does not count it), Thursday's is reminded."""
    bot = await make_bot("2026-12-01 10:00")
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    day_before = await bot.advance(timedelta(hours=9))
    reminder = next(m for m in day_before.to(CAPTAIN) if "碰头会" in m.text)
    await bot.advance(timedelta(hours=2))
    change = await leader_changes(bot, "/meeting set thu 19:00 活动室")
    (notice,) = change.to(CAPTAIN)
    assert "12-02 19:00" in notice.text and "12-03 19:00" in notice.text
    pressed = await bot.press(CAPTAIN, "参加", message=reminder)
    assert pressed.alerts == ["这个按钮已过期，请重新发送命令。"]
    wednesday = await bot.advance(timedelta(hours=22))  # Wed 19:00
    assert any("明天 19:00" in m.text for m in wednesday.to(CAPTAIN))
    async with bot.db.begin() as session:
        days = list(await session.scalars(select(MeetingOccurrence.day)))
    assert [d.isoformat() for d in days] == ["2026-12-03"]
    monday = await bot.advance(timedelta(days=4, hours=13, minutes=1))  # Mon 12-07 08:01
    digest = next(m.text for m in monday.to(GRID) if "碰头会：" in m.text)
    assert "12-02" not in digest and "12-03" in digest
