"""The fan-out engine: exactly once across restarts and two processes, late starts inside
and outside their window, unreachable captains, and a zone with daylight saving time."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from scheduler.reminders import catch_up, run_kind
from scheduler.sender import OutboxSender
from storage.models import OutboxMessage, Person
from tests.harness import PEOPLE, Harness
from tests.scheduler.conftest import MakeBot

CAPTAIN, CAPTAIN2, GRID = PEOPLE["captain"], PEOPLE["captain2"], PEOPLE["grid"]


def context_of(bot: Harness):  # type: ignore[no-untyped-def]
    """A job-like context of the bot's application."""
    return bot.app.context_types.context(application=bot.app)


def morning_count(bot: Harness, user) -> int:  # type: ignore[no-untyped-def]
    """How many morning reminders a user received."""
    return sum("早上好" in m.text for m in bot.stand_in.sent_to(user.id))


async def add_captains(bot: Harness, count: int) -> list[int]:
    """Bind ``count`` extra captains (new groups) so the fan-out has some size."""
    from storage.models import Grid, NeighbourGroup

    ids = []
    async with bot.db.begin() as session:
        grid = await session.scalar(select(Grid).where(Grid.code == "g1"))
        for n in range(count):
            person = Person(
                telegram_id=900000 + n,
                display_name=f"邻长{n}",
                created_at=bot.now(),
                community_id=grid.community_id,
                staff_key=f"name:邻长{n}",
            )
            session.add(person)
            await session.flush()
            session.add(
                NeighbourGroup(
                    community_id=grid.community_id,
                    grid_id=grid.id,
                    code=f"x{n}",
                    name=f"测试组{n}",
                    captain_id=person.id,
                )
            )
            ids.append(900000 + n)
    return ids


async def test_running_a_fanout_twice_queues_once(make_bot: MakeBot) -> None:
    """The same reminder kind run twice (restart, duplicate job) queues each person once."""
    bot = await make_bot("2026-12-01 09:00")
    first = await run_kind(context_of(bot), "checkin", "09:00")
    second = await run_kind(context_of(bot), "checkin", "09:00")
    assert first.queued == 2 and second.queued == 0
    await bot.runtime.sender.drain(bot.app.bot)
    assert morning_count(bot, CAPTAIN) == 1 and morning_count(bot, CAPTAIN2) == 1


async def test_restart_mid_fanout_sends_the_rest_once(make_bot: MakeBot) -> None:
    """Killed after two batches: a new process sends the rest; nobody gets two."""
    bot = await make_bot("2026-12-01 09:00")
    extra = await add_captains(bot, 20)
    await run_kind(context_of(bot), "checkin", "09:00")
    small = OutboxSender(db=bot.db, clock=bot.clock, default_language="zh", batch_size=5)
    await small.drain_once(bot.app.bot)
    await small.drain_once(bot.app.bot)
    sent_before = sum(morning_count(bot, type("U", (), {"id": i})) for i in extra)
    assert sent_before in range(8, 11)  # two batches of 5 (one may be a built-in captain)
    await catch_up(context_of(bot))  # the restarted process catches up: queues nothing new
    restarted = OutboxSender(db=bot.db, clock=bot.clock, default_language="zh")
    await restarted.drain(bot.app.bot)
    counts = Counter(m.chat_id for m in bot.stand_in.messages.values() if "早上好" in m.text)
    assert set(counts.values()) == {1} and len(counts) == 22


async def test_two_processes_send_each_reminder_once(make_bot: MakeBot) -> None:
    """Two bot processes on one database run the fan-out and drain at once: one each."""
    first = await make_bot("2026-12-01 09:00")
    await add_captains(first, 30)
    second = Harness(db=first.db, clock=first.clock, settings=first.settings)
    await second.start(seed=False)
    try:
        await asyncio.gather(
            run_kind(context_of(first), "checkin", "09:00"),
            run_kind(context_of(second), "checkin", "09:00"),
        )
        await asyncio.gather(
            first.runtime.sender.drain(first.app.bot), second.runtime.sender.drain(second.app.bot)
        )
    finally:
        await second.stop()
    counts = Counter(
        m.chat_id
        for bot in (first, second)
        for m in bot.stand_in.messages.values()
        if "早上好" in m.text
    )
    assert len(counts) == 32 and set(counts.values()) == {1}


async def test_late_start_inside_the_window_sends_late(make_bot: MakeBot) -> None:
    """Down at 09:00, up at 11:00: the morning reminder goes out at start."""
    bot = await make_bot("2026-12-01 11:00")
    await catch_up(context_of(bot))
    await bot.runtime.sender.drain(bot.app.bot)
    assert morning_count(bot, CAPTAIN) == 1


async def test_late_start_after_the_window_skips(make_bot: MakeBot) -> None:
    """Up only at 18:00: no morning reminder (its window closed at 17:00), but the nudge."""
    bot = await make_bot("2026-12-01 18:00")
    results = await catch_up(context_of(bot))
    await bot.runtime.sender.drain(bot.app.bot)
    assert [r.kind for r in results] == ["nudge"]
    assert morning_count(bot, CAPTAIN) == 0
    assert any("还没有打卡" in m.text for m in bot.stand_in.sent_to(CAPTAIN.id))


async def test_blocked_captain_is_reported_unreachable(make_bot: MakeBot) -> None:
    """A captain who blocked the bot is marked unreachable and listed so in the summary."""
    bot = await make_bot("2026-12-01 08:59")
    bot.stand_in.blocked.add(CAPTAIN.id)
    await bot.advance(timedelta(minutes=2))
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == CAPTAIN.id))
        failed = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "unreachable")
        )
    assert person.unreachable_since is not None and failed == 1
    reply = await bot.advance(timedelta(hours=11))
    assert "王芳（已屏蔽机器人）" in reply.to(GRID)[0].text


async def test_other_time_zone_with_daylight_saving(make_bot: MakeBot) -> None:
    """In New York the 09:00 reminder stays at 09:00 local across the DST change."""
    bot = await make_bot("2026-10-30 08:30", timezone="America/New_York")
    await bot.advance(timedelta(days=4, hours=2))  # Fri 30 Oct … Tue 3 Nov; DST ends Sun 1 Nov
    times = [m.raw["date"] for m in bot.stand_in.sent_to(CAPTAIN.id) if "早上好" in m.text]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = [datetime.fromtimestamp(t, ZoneInfo("America/New_York")) for t in times]
    assert [(d.day, d.hour, d.minute) for d in local] == [(30, 9, 0), (2, 9, 0), (3, 9, 0)]
