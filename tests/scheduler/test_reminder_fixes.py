"""Check-in fixes: the catch-up decides per community, rates and the digest count each
community's own days, an earlier time set by an admin still reminds today, and a job
running late past midnight works for the day it was meant for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.reminders import catch_up, checkin_job, intended_day
from storage.models import Community, Grid, NeighbourGroup, Person
from tests.harness import PEOPLE, Harness
from tests.scheduler.conftest import MakeBot

CAPTAIN, CAPTAIN2, GRID, ADMIN = (
    PEOPLE["captain"],
    PEOPLE["captain2"],
    PEOPLE["grid"],
    PEOPLE["admin"],
)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def context_of(bot: Harness):  # type: ignore[no-untyped-def]
    """A job-like context of the bot's application."""
    return bot.app.context_types.context(application=bot.app)


async def second_community(bot: Harness) -> None:
    """Move 刘洋's group into a new community B whose grid 张伟 also leads."""
    async with bot.db.begin() as session:
        first = await session.scalar(select(Community))
        other = Community(street_id=first.street_id, code="b", name="乙社区")
        session.add(other)
        await session.flush()
        leader = await session.scalar(select(Person).where(Person.telegram_id == GRID.id))
        grid = Grid(community_id=other.id, code="b1", name="乙网格", leader_id=leader.id)
        session.add(grid)
        await session.flush()
        captain = await session.scalar(select(Person).where(Person.telegram_id == CAPTAIN2.id))
        group = await session.scalar(
            select(NeighbourGroup).where(NeighbourGroup.captain_id == captain.id)
        )
        group.community_id, group.grid_id = other.id, grid.id


def mornings(bot: Harness, user) -> int:  # type: ignore[no-untyped-def]
    """How many morning reminders a user received."""
    return sum("早上好" in m.text for m in bot.stand_in.sent_to(user.id))


async def test_catch_up_decides_per_community(make_bot: MakeBot) -> None:
    """A (09:00, nudge 10:00) and B (09:00, nudge 17:00), up at 11:00: B's morning reminder
    still goes out although A's window closed; A gets its nudge."""
    bot = await make_bot("2026-12-01 08:00")
    await second_community(bot)
    await bot.send(ADMIN, "/schedule nudge 10:00")  # ADMIN is A's admin only
    bot.clock.set(datetime(2026, 12, 1, 11, 0, tzinfo=SHANGHAI))
    await catch_up(context_of(bot))
    await bot.runtime.sender.drain(bot.app.bot)
    assert mornings(bot, CAPTAIN2) == 1 and mornings(bot, CAPTAIN) == 0
    assert any("还没有打卡" in m.text for m in bot.stand_in.sent_to(CAPTAIN.id))


async def test_rates_count_each_communitys_holidays(make_bot: MakeBot) -> None:
    """A's holiday is not taken off B's days in /checkins; "every day" counts weekends."""
    bot = await make_bot("2026-12-04 10:00")  # a Friday
    await second_community(bot)
    await bot.send(ADMIN, "/holiday add 2026-12-02")
    text = (await bot.send(GRID, "/checkins 7")).only().text
    assert "第一网格 最近 7 天的打卡率（4 个工作日）" in text
    assert "乙网格 最近 7 天的打卡率（5 个工作日）" in text
    await bot.send(ADMIN, "/schedule everyday on")
    text = (await bot.send(GRID, "/checkins 7")).only().text
    assert "第一网格 最近 7 天的打卡率（7 个工作日）" in text


async def test_rates_refuse_a_superscript_digit(make_bot: MakeBot) -> None:
    """/checkins ² answers with the usage text instead of failing."""
    bot = await make_bot("2026-12-04 10:00")
    assert "用法" in (await bot.send(GRID, "/checkins ²")).only().text


async def test_digest_counts_the_communitys_holidays(make_bot: MakeBot) -> None:
    """A holiday declared by the admin is not a missed check-in in the Monday digest."""
    bot = await make_bot("2026-12-01 10:00")
    await bot.send(ADMIN, "/holiday add 2026-12-02")
    monday = await bot.advance(timedelta(days=5, hours=22, minutes=1))  # Mon 12-07 08:01
    digest = next(m.text for m in monday.to(GRID) if "打卡率" in m.text)
    assert "王芳：0/4" in digest  # Monday, Tuesday, Thursday, Friday


async def test_agenda_counts_the_communitys_holidays(make_bot: MakeBot) -> None:
    """The hour-before agenda does not count a declared holiday as a missed check-in."""
    bot = await make_bot("2026-11-30 08:00")  # a Monday
    await bot.send(ADMIN, "/holiday add 2026-12-01")
    await bot.send(GRID, "/meeting set wed 19:00 活动室")
    reply = await bot.advance(timedelta(days=2, hours=10, minutes=1))  # Wed 18:01
    leader = [m.text for m in reply.to(GRID) if "建议议程" in m.text][-1]
    assert "王芳×1" in leader


async def test_earlier_checkin_time_still_reminds_today(make_bot: MakeBot) -> None:
    """At 08:30 the admin moves 09:00 to 08:00: the captains are reminded now, once."""
    bot = await make_bot("2026-12-01 08:30")
    reply = await bot.send(ADMIN, "/schedule checkin 08:00")
    assert any("早上好" in m.text for m in reply.to(CAPTAIN))
    await bot.advance(timedelta(hours=1))
    assert mornings(bot, CAPTAIN) == 1


async def test_late_job_after_midnight_works_for_its_day(make_bot: MakeBot) -> None:
    """A 23:55 summary running at 00:03 (inside the misfire grace) is the evening's."""
    bot = await make_bot("2026-12-01 20:30")
    await bot.send(ADMIN, "/schedule summary 23:55")
    job = next(j for j in bot.app.job_queue.jobs() if j.name == "ci:summary:23:55")
    bot.clock.set(datetime(2026, 12, 2, 0, 3, tzinfo=SHANGHAI))
    context = bot.app.context_types.context.from_job(job, bot.app)
    await checkin_job(context)
    await bot.runtime.sender.drain(bot.app.bot)
    (summary,) = [m.text for m in bot.stand_in.sent_to(GRID.id) if "每日沟通汇总" in m.text]
    assert "12-01" in summary


def test_intended_day() -> None:
    """The day of a daily job: its own date, or yesterday's when it ran late past midnight."""
    at = datetime(2026, 12, 1, 16, 3, tzinfo=UTC)  # 00:03 on 12-02 in Shanghai
    assert intended_day(at, "23:55", SHANGHAI).isoformat() == "2026-12-01"
    assert intended_day(at, "00:00", SHANGHAI).isoformat() == "2026-12-02"
