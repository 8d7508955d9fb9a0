"""Daily check-ins over simulated days: which days remind, the nudge, the summary, leave."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.harness import PEOPLE, Harness
from tests.scheduler.conftest import MakeBot

CAPTAIN, CAPTAIN2, GRID = PEOPLE["captain"], PEOPLE["captain2"], PEOPLE["grid"]


def reminders(bot: Harness, user, since: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    """Texts of check-in reminders a user received (from message index ``since``)."""
    return [m.text for m in bot.stand_in.sent_to(user.id)[since:] if "早上好" in m.text]


async def test_working_day_reminds_at_nine(make_bot: MakeBot) -> None:
    """On a Tuesday the captain is reminded at 09:00, with the buttons, not before."""
    bot = await make_bot("2026-12-01 08:30")
    early = await bot.advance(timedelta(minutes=29))
    assert early.to(CAPTAIN) == []
    reply = await bot.advance(timedelta(minutes=1))
    (message,) = reply.to(CAPTAIN)
    assert "早上好" in message.text and "和平里邻里小组" in message.text
    assert message.button_labels() == ["✅ 一切正常", "📝 有情况", "🏖 今天请假"]


@pytest.mark.parametrize(
    ("start", "reminded", "why"),
    [
        ("2026-12-05 08:00", False, "Saturday"),
        ("2026-10-01 08:00", False, "National Day"),
        ("2026-10-10 08:00", True, "Saturday make-up working day (调休)"),
        ("2027-01-04 08:00", True, "Monday beyond the published calendar"),
        ("2027-01-09 08:00", False, "Saturday beyond the published calendar"),
    ],
)
async def test_which_days_remind(make_bot: MakeBot, start: str, reminded: bool, why: str) -> None:
    """Weekends and statutory holidays are skipped; make-up working days are not."""
    bot = await make_bot(start)
    reply = await bot.advance(timedelta(hours=1, minutes=1))
    assert bool([m for m in reply.to(CAPTAIN) if "早上好" in m.text]) is reminded, why


async def test_every_day_community_is_reminded_on_saturday(make_bot: MakeBot) -> None:
    """A community that chose every day gets Saturday reminders too."""
    bot = await make_bot("2026-12-05 08:00")
    await bot.send(PEOPLE["admin"], "/schedule everyday on")
    reply = await bot.advance(timedelta(hours=1))
    assert reminders(bot, CAPTAIN) and reply.to(CAPTAIN)


async def test_admin_holiday_override(make_bot: MakeBot) -> None:
    """/holiday add makes a working day quiet; /holiday remove makes a Saturday a working day."""
    bot = await make_bot("2026-12-01 08:00")
    assert "休息日" in (await bot.send(PEOPLE["admin"], "/holiday add 2026-12-01")).only().text
    assert (
        "设为工作日" in (await bot.send(PEOPLE["admin"], "/holiday remove 2026-12-05")).only().text
    )
    await bot.advance(timedelta(hours=1, minutes=1))
    assert reminders(bot, CAPTAIN) == []
    await bot.advance(timedelta(days=4))
    assert len(reminders(bot, CAPTAIN)) == 4  # Wed, Thu, Fri and the Saturday made a working day
    listing = (await bot.send(PEOPLE["admin"], "/holiday")).only().text
    assert "2026-12-05" in listing


async def test_checked_in_captain_gets_no_nudge_and_shows_in_summary(make_bot: MakeBot) -> None:
    """All fine at 09:05: no nudge at 17:00; the grid leader's 20:00 summary lists the rest."""
    bot = await make_bot("2026-12-01 08:55")
    await bot.advance(timedelta(minutes=6))
    reply = await bot.press(CAPTAIN, "一切正常")
    assert "已打卡" in reply.only().text
    later = await bot.advance(timedelta(hours=8))
    assert [m for m in later.to(CAPTAIN) if "还没有打卡" in m.text] == []
    assert [m for m in later.to(CAPTAIN2) if "还没有打卡" in m.text]
    evening = await bot.advance(timedelta(hours=3))
    (summary,) = evening.to(GRID)
    assert "已打卡（1）" in summary.text and "王芳" in summary.text
    assert "未打卡（1）：刘洋" in summary.text and "赵丽（未绑定账号）" in summary.text


async def test_leave_means_no_nudge(make_bot: MakeBot) -> None:
    """A captain on leave gets no nudge and is listed as on leave."""
    bot = await make_bot("2026-12-01 08:55")
    await bot.advance(timedelta(minutes=6))
    await bot.press(CAPTAIN, "今天请假")
    reply = await bot.advance(timedelta(hours=11, minutes=5))
    assert [m for m in reply.to(CAPTAIN) if "还没有打卡" in m.text] == []
    assert "请假/外出（1）：王芳" in reply.to(GRID)[0].text


async def test_away_captain_is_not_reminded_the_backup_is(make_bot: MakeBot) -> None:
    """During /away the group's reminder goes to the stand-in, not the captain."""
    bot = await make_bot("2026-12-01 08:00")
    await bot.send(CAPTAIN, "/away 2026-12-01 2026-12-02")
    await bot.advance(timedelta(hours=1, minutes=1))
    assert reminders(bot, CAPTAIN) == []
    assert any(
        "代为负责「和平里邻里小组」" in t for t in reminders(bot, GRID)
    )  # no bound backup: grid leader


async def test_issue_note_and_checkin_command(make_bot: MakeBot) -> None:
    """有情况 asks for a note; /checkin NOTE works any time; the summary shows the note."""
    bot = await make_bot("2026-12-01 08:59")
    await bot.advance(timedelta(minutes=2))
    await bot.press(CAPTAIN, "有情况")
    assert "已打卡并记下情况：3栋灯坏" in (await bot.send(CAPTAIN, "3栋灯坏")).only().text
    assert "已打卡" in (await bot.send(CAPTAIN2, "/checkin 一切正常，下午巡楼")).only().text
    reply = await bot.advance(timedelta(hours=11))
    summary = reply.to(GRID)[0].text
    assert "3栋灯坏" in summary and "下午巡楼" in summary


async def test_yesterdays_button_is_refused(make_bot: MakeBot) -> None:
    """Pressing yesterday's reminder button says so and records nothing for today."""
    bot = await make_bot("2026-12-01 08:59")
    await bot.advance(timedelta(minutes=2))
    old = bot.stand_in.sent_to(CAPTAIN.id)[-1]
    await bot.advance(timedelta(days=1))
    reply = await bot.press(CAPTAIN, "一切正常", message=old)
    assert "12-01 的提醒，已经过期" in reply.only().text


async def test_residents_cannot_check_in(make_bot: MakeBot) -> None:
    """/checkin from a resident is refused."""
    bot = await make_bot("2026-12-01 10:00")
    assert "给邻长用的" in (await bot.send(PEOPLE["resident"], "/checkin")).only().text


async def test_checkin_rates(make_bot: MakeBot) -> None:
    """/checkins 7 counts check-ins over the working days of the period."""
    bot = await make_bot("2026-11-30 08:59")
    for _ in range(3):
        await bot.advance(timedelta(minutes=2))
        await bot.send(CAPTAIN, "/checkin 好")
        await bot.advance(timedelta(days=1) - timedelta(minutes=2))
    text = (await bot.send(GRID, "/checkins 7")).only().text
    assert "王芳：3/5（60%）" in text and "刘洋：0/5（0%）" in text
    assert "用法" in (await bot.send(GRID, "/checkins 500")).only().text
