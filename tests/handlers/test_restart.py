"""A restart (even kill -9 after the last flush) in the middle of a flow: the resident
carries on where they were; nothing is filed twice."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Report
from tests.harness import Harness


async def test_report_form_resumes_after_restart(bot: Harness, people: dict) -> None:
    """Category and description typed before the restart; photos and submit after it."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")
    await bot.send(resident, "2栋电梯停了")
    await bot.app.update_persistence()  # the periodic flush (every 2 s in a running bot)
    await bot.stop()

    # A new process: same database and the same Telegram chats, nothing in memory.
    again = Harness(db=bot.db, clock=bot.clock, settings=bot.settings, stand_in=bot.stand_in)
    await again.start(seed=False)
    try:
        last = bot.stand_in.sent_to(resident.id)[-1]
        reply = await again.press(resident, "照片好了", message=last)
        assert "问题在哪里" in reply.only().text
        await again.press(resident, "就在我家")
        reply = await again.press(resident, "提交")
        assert "已提交，报告编号 #1" in reply.to(resident)[0].text
    finally:
        await again.stop()
    assert not again.errors
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        report = await session.scalar(select(Report))
    assert report.description == "2栋电梯停了"


async def test_finished_flows_leave_no_state(bot: Harness, people: dict) -> None:
    """After a completed report the stored state for that person is gone."""
    from storage.models import BotState

    resident = people["resident"]
    await bot.send(resident, "/report 1栋门禁坏了")
    await bot.app.update_persistence()
    async with bot.db.begin() as session:
        rows = list(await session.scalars(select(BotState)))
    assert [r for r in rows if r.key == str(resident.id)] == []
    assert [r for r in rows if r.kind.startswith("conv:") and str(resident.id) in r.key] == []
