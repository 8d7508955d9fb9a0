"""Meeting fixes: a changed schedule moves the coming meeting; missed meeting reminders and
the Monday digest are caught up after a restart, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.jobs import catch_up_all
from storage.models import MeetingOccurrence
from tests.harness import PEOPLE, Harness
from tests.scheduler.conftest import MakeBot

CAPTAIN, CAPTAIN2, GRID = PEOPLE["captain"], PEOPLE["captain2"], PEOPLE["grid"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


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


@asynccontextmanager
async def restarted(bot: Harness, local: str) -> AsyncIterator[Harness]:
    """The bot was down until ``local``; a new process starts and catches up."""
    bot.clock.set(datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI))
    second = Harness(db=bot.db, clock=bot.clock, settings=bot.settings)
    await second.start(seed=False)
    try:
        await catch_up_all(context_of(second))
        await second.runtime.sender.drain(second.app.bot)
        yield second
    finally:
        await second.stop()
    assert not second.errors


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


async def test_restart_sends_the_missed_hour_before_reminder(make_bot: MakeBot) -> None:
    """Down across T-24h and T-1h, up 40 minutes before: one reminder for today, once."""
    bot = await make_bot("2026-12-01 10:00")
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    async with restarted(bot, "2026-12-02 18:20") as second:
        texts = meeting_texts(second, CAPTAIN)
        assert len(texts) == 1 and "今天 19:00" in texts[0]
        assert any("回复情况" in m.text for m in second.stand_in.sent_to(GRID.id))
        await catch_up_all(context_of(second))
        await second.runtime.sender.drain(second.app.bot)
        assert len(meeting_texts(second, CAPTAIN)) == 1


async def test_restart_sends_the_missed_day_before_reminder(make_bot: MakeBot) -> None:
    """Down at T-24h, up that evening: the day-before reminder goes out late, then the
    hour-before one on time; after the meeting nothing is caught up."""
    bot = await make_bot("2026-12-01 10:00")
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    async with restarted(bot, "2026-12-01 22:00") as second:
        assert [t for t in meeting_texts(second, CAPTAIN) if "明天 19:00" in t]
        later = await second.advance(timedelta(hours=20))  # Wed 18:00
        assert [m for m in later.to(CAPTAIN) if "一小时后" in m.text]
    async with restarted(bot, "2026-12-02 19:30") as third:
        assert meeting_texts(third, CAPTAIN) == []


async def test_restart_sends_the_missed_monday_digest(make_bot: MakeBot) -> None:
    """Down Monday 07:55–08:05: the digest goes out at start, and only once."""
    bot = await make_bot("2026-12-07 07:55")
    async with restarted(bot, "2026-12-07 08:05") as second:
        assert any("周报" in m.text for m in second.stand_in.sent_to(GRID.id))
    async with restarted(bot, "2026-12-07 09:00") as third:
        assert not any("周报" in m.text for m in third.stand_in.sent_to(GRID.id))


async def test_a_digest_more_than_a_day_late_is_not_sent_at_start(make_bot: MakeBot) -> None:
    """Down from Sunday to Tuesday 08:01 (a day and a minute after it was due): Monday's
    digest is not sent late (nor would a bot first started on a Saturday greet every leader
    with that week's digest)."""
    bot = await make_bot("2026-12-06 20:00")
    async with restarted(bot, "2026-12-08 08:01") as later:
        assert not any("周报" in m.text for m in later.stand_in.sent_to(GRID.id))


async def test_a_digest_less_than_a_day_late_is_sent_at_start(make_bot: MakeBot) -> None:
    """Down from Sunday to Tuesday 07:59: Monday's digest still goes out, late."""
    bot = await make_bot("2026-12-06 20:00")
    async with restarted(bot, "2026-12-08 07:59") as in_time:
        assert any("周报" in m.text for m in in_time.stand_in.sent_to(GRID.id))


async def test_digest_on_time_is_not_repeated_by_a_restart(make_bot: MakeBot) -> None:
    """The digest sent at 08:00 is not sent again by a restart the same week."""
    bot = await make_bot("2026-12-07 07:55")
    first = await bot.advance(timedelta(minutes=10))
    assert any("周报" in m.text for m in first.to(GRID))
    async with restarted(bot, "2026-12-09 12:00") as second:
        assert not any("周报" in m.text for m in second.stand_in.sent_to(GRID.id))
