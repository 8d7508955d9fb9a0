"""Crashes end to end: ``kill -9`` of the bot process in the middle of filing a report, of a
fan-out and of a status change (outages of Telegram and PostgreSQL: test_faults_outages.py).

After each restart: no report lost or half-written, no notification lost or doubled, no
reminder doubled, conversations resume or tell the user to start again.  The moment of the
kill is made deterministic by holding one of the bot's Bot API calls in the fake server (a
delayed answer that is then dropped, so Telegram never carried that message out) and
killing while it waits, or by waiting for a given state of the outbox.

Known limit, by design (storage/outbox.py): a row whose send was in flight when the process
died stays leased for 60 s; a restarted sender (or another instance) delivers it after the
lease expires — test_two_instances.py kills a process in exactly that state.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e import dbcheck
from tests.e2e.community import (
    Community,
    body,
    callback_answer,
    count_messages,
    latest_with_button,
    texts,
    wait_edit,
    wait_until,
)
from tests.e2e.conftest import Launch
from tests.e2e.fake_botapi import FakeBotAPI, UserHandle
from tests.e2e.probes import db_eventually, wait_held
from tests.e2e.times import hhmm, local_now, midday_zone

#: "This report form has expired, send /report again" / "this button has expired, send the
#: command again": either tells the user to start again.
RESTART_FLOW = ("请重新发送 /report", "请重新发送命令")


async def walk_to_photos(api: FakeBotAPI, resident: UserHandle) -> dict[str, Any]:
    """/report → 设施维修 → description; returns the "add photos" question."""
    await resident.send("/report")
    ask = await api.wait_for_message(resident, "请选择类别")
    await resident.press(ask, "设施维修")
    await wait_edit(api, ask, "请用文字描述问题")
    await resident.send("2栋3单元楼道灯坏了，晚上很黑")
    return await api.wait_for_message(resident, "可以再发最多 3 张照片")


async def press_and_see(
    api: FakeBotAPI, user: UserHandle, message: dict[str, Any], label: str, expect: str
) -> str:
    """Press a button; "resumed" if a bot message containing ``expect`` follows, "restart"
    if the press is answered with the ask to start the report again."""
    update = await user.press(message, label)

    def outcome() -> str | None:
        answer = callback_answer(api, update)
        if answer and any(m in (answer.get("text") or "") for m in RESTART_FLOW):
            return "restart"
        if any(expect in t for t in texts(api, user)):
            return "resumed"
        return None

    return await wait_until(outcome, 15, f"resume ({expect!r}) or a start-again alert")


@pytest.mark.slow
async def test_kill_during_report_filing(
    api: FakeBotAPI, launch: Launch, community: Community, bound_sqlite_url: str
) -> None:
    """kill -9 mid-form resumes or asks to restart; mid-submit: one report, one captain notice."""
    wang = community.person("王芳")
    bot = await launch(bound_sqlite_url)
    li = community.resident("小李")
    await community.join(li)

    # 1. Killed right after a step, before the conversation state was flushed (~2 s).
    photos = await walk_to_photos(api, li)
    await bot.kill(signal.SIGKILL)
    await bot.restart()
    outcome = await press_and_see(api, li, photos, "不加照片", "问题在哪里")
    if outcome == "restart":
        photos = await walk_to_photos(api, li)
        await li.press(photos, "不加照片")

    # 2. Killed a few seconds into the next step: the saved state carries the form on.
    await api.wait_for_message(li, "问题在哪里")
    await asyncio.sleep(3)  # > the persistence flush interval
    await bot.kill(signal.SIGKILL)
    await bot.restart()
    home = await latest_with_button(api, li, "就在我家")
    assert await press_and_see(api, li, home, "就在我家", "请确认报告内容") == "resumed"
    summary = await api.wait_for_message(li, "请确认报告内容")

    # 3. Killed while submitting: the report is committed and its notice queued, but the
    #    "已提交 #1" answer to the resident never leaves (the fake holds it, then drops it).
    api.fail_next("sendMessage", chat=li, delay=30, drop=True)
    await li.press(summary, "提交")
    await wait_held(api, "sendMessage", li)
    notice = await api.wait_for_message(wang, "新报告 #1")
    await db_eventually(
        bound_sqlite_url,
        "SELECT 1 WHERE (SELECT count(*) FROM outbox) > 0 "
        "AND (SELECT count(*) FROM outbox WHERE status = 'pending') = 0",
        "the captain's notice recorded as sent",
    )
    await bot.kill(signal.SIGKILL)
    api.clear_faults()
    await bot.restart()

    await li.send("/myreports")
    mine = await api.wait_for_message(li, "我的报告")
    assert "#1 新报告｜设施维修" in body(mine)
    # The resident repeats the submit press (a stale client): no second report.
    replay = await li.press(summary, data="rn:ok")
    await wait_until(
        lambda: callback_answer(api, replay) or len(api.messages_to(li)) > 0,
        10,
        "an answer to the replayed submit",
    )
    await asyncio.sleep(1.5)
    assert await dbcheck.scalar(bound_sqlite_url, "SELECT count(*) FROM reports") == 1
    assert count_messages(api, wang, "新报告 #1") == 1, texts(api, wang)
    assert "photo" not in notice  # no photos were added in this form
    assert await dbcheck.consistency_problems(bound_sqlite_url) == []
    # (The resident saw the form's questions twice after starting again; that is expected.)
    assert [d for d in api.stats.duplicates if d[0] != li.id] == []


async def test_kill_during_fanout(
    api: FakeBotAPI, launch: Launch, community: Community, bound_sqlite_url: str
) -> None:
    """kill -9 with 2 of 5 reminders sent, 3 waiting: after restart each captain has exactly one."""
    captains = [community.person(n) for n in ("王芳", "刘洋", "赵丽", "周敏", "吴军")]
    zone = midday_zone()
    now = local_now(zone)
    # Two sends pass; the other three are refused twice each (retried after 2 s, then 4 s).
    api.fail_next("sendMessage", times=2)
    api.fail_next("sendMessage", times=6, error=502)
    bot = await launch(
        bound_sqlite_url,
        timezone=zone,
        checkin_every_day="true",
        checkin_time=hhmm(now - timedelta(minutes=1)),
        nudge_time=hhmm(now + timedelta(minutes=30)),
        summary_time=hhmm(now + timedelta(minutes=40)),
    )

    await db_eventually(
        bound_sqlite_url,
        "SELECT 1 FROM outbox WHERE kind = 'ci_checkin' GROUP BY kind HAVING "
        "sum(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) = 2 AND "
        "sum(CASE WHEN status = 'pending' AND lease_until IS NULL THEN 1 ELSE 0 END) = 3",
        "two reminders sent and three waiting for a retry",
    )
    await bot.kill(signal.SIGKILL)
    api.clear_faults()
    before = {c.name: count_messages(api, c, "早上好") for c in captains}
    assert sorted(before.values()) == [0, 0, 0, 1, 1], before

    await bot.restart()
    await bot.wait_for_line("queued 0, skipped 5")  # the catch-up queues nobody twice
    for captain in captains:
        if before[captain.name] == 0:
            await api.wait_for_message(captain, "早上好", timeout=15)
    await asyncio.sleep(1.5)
    assert {c.name: count_messages(api, c, "早上好") for c in captains} == dict.fromkeys(
        (c.name for c in captains), 1
    )
    rows = await dbcheck.outbox(bound_sqlite_url, "ci_checkin")
    assert len(rows) == 5 and {r["status"] for r in rows} == {"sent"}
    assert api.stats.duplicates == []


@pytest.mark.slow
async def test_kill_during_status_change(
    api: FakeBotAPI, launch: Launch, community: Community, bound_sqlite_url: str
) -> None:
    """kill -9 before/after a status change commits: no change lost, the resident told once."""
    wang = community.person("王芳")
    bot = await launch(bound_sqlite_url)
    li = community.resident("小李")
    await community.join(li)
    await li.send("/report 3栋门口垃圾堆了三天没人清理")
    notice = await api.wait_for_message(wang, "新报告 #1")

    # Before the commit: the bot is held answering the button press, then killed.
    api.fail_next("answerCallbackQuery", delay=30, drop=True)
    await wang.press(notice, "确认收到")
    await wait_held(api, "answerCallbackQuery")
    await bot.kill(signal.SIGKILL)
    api.clear_faults()
    assert await dbcheck.scalar(bound_sqlite_url, "SELECT status FROM reports") == "new"
    await bot.restart()
    await wang.press(notice, "确认收到")
    await api.wait_for_message(wang, "已确认收到报告 #1")
    await api.wait_for_message(li, "报告 #1（环境卫生）：已确认收到")

    # After the commit: the captain's confirmation is held, the resident's notice failed
    # once (502, to be retried from the outbox) — and the bot dies.
    api.fail_next("sendMessage", chat=wang, delay=30, drop=True)
    api.fail_next("sendMessage", chat=li, error=502)
    await wang.send("/resolve 1 已清理干净")
    await wait_held(api, "sendMessage", wang)
    await db_eventually(
        bound_sqlite_url,
        "SELECT 1 FROM outbox WHERE chat_id = :chat AND kind = 'report_status' "
        "AND status = 'pending' AND attempts = 1 AND lease_until IS NULL",
        "the failed notice to the resident recorded for a retry",
        chat=li.id,
    )
    await bot.kill(signal.SIGKILL)
    api.clear_faults()
    assert await dbcheck.scalar(bound_sqlite_url, "SELECT status FROM reports") == "resolved"
    await bot.restart()
    resolved = await api.wait_for_message(li, "报告 #1（环境卫生）已标记为解决", timeout=15)
    assert "已清理干净" in body(resolved)
    await asyncio.sleep(2)
    assert count_messages(api, li, "已确认收到") == 1
    assert count_messages(api, li, "已标记为解决") == 1
    events = await dbcheck.rows(
        bound_sqlite_url,
        "SELECT to_status, count(*) AS n FROM report_events WHERE to_status IS NOT NULL "
        "GROUP BY to_status",
    )
    assert {e["to_status"]: e["n"] for e in events} == {"new": 1, "acknowledged": 1, "resolved": 1}
    assert await dbcheck.consistency_problems(bound_sqlite_url) == []
    assert api.stats.duplicates == []
