"""Outages end to end: Telegram refusing (429 with retry_after, 403, 400), the Bot API failing
(5xx, timeouts, dropped connections) for a stretch, PostgreSQL stopped while people write.

Messages to third persons wait in the outbox and arrive exactly once afterwards; people are
told to try again shortly; the same process recovers by itself; nothing is half-written.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e import dbcheck
from tests.e2e.community import Community, body, callback_answer, count_messages, texts, wait_until
from tests.e2e.conftest import Launch
from tests.e2e.fake_botapi import FakeBotAPI
from tests.e2e.fake_botapi_faults import Fault
from tests.e2e.pg_cluster import PgCluster
from tests.e2e.times import monotonic

BUSY = "系统暂时忙不过来，请过一分钟再试"
#: Everything the bot sends with; an outage covers them all.
SEND_METHODS = (
    "sendMessage",
    "sendPhoto",
    "sendMediaGroup",
    "sendLocation",
    "sendDocument",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
)


async def test_telegram_refusals_429_403_400(
    api: FakeBotAPI, launch: Launch, community: Community, bound_sqlite_url: str
) -> None:
    """429 waits and delivers once; 403 reroutes to the backup captain; 400 is given up at once."""
    wang, chen = community.person("王芳"), community.person("陈刚")
    bot = await launch(bound_sqlite_url)
    li = community.resident("小李")
    await community.join(li)

    api.fail_next("sendMessage", chat=wang, times=2, error=429, retry_after=2)
    began = monotonic()
    await li.send("/report 3栋门口垃圾堆了三天没人清理")
    await api.wait_for_message(wang, "新报告 #1", timeout=20)
    assert monotonic() - began >= 2, "the bot waited as told by retry_after"
    assert api.stats.rate_limited == 2

    api.block(wang)
    await li.send("/report 4栋电梯按钮坏了，老人上下楼很不方便")
    await api.wait_for_message(chen, "新报告 #2", timeout=15)
    unreachable = await dbcheck.scalar(
        bound_sqlite_url, "SELECT unreachable_since FROM people WHERE display_name = '王芳'"
    )
    assert unreachable is not None

    api.fail_next("sendMessage", chat=li, error=400, description="Bad Request: message is too long")
    notice = next(m for m in api.messages_to(chen) if "新报告 #2" in body(m))
    await chen.press(notice, "确认收到")
    await api.wait_for_message(chen, "已确认收到报告 #2")
    await wait_until(
        lambda: any(c.params.get("chat_id") == li.id and c.status == 400 for c in api.calls),
        10,
        "the refused notice",
    )
    await asyncio.sleep(1.5)
    assert count_messages(api, li, "已确认收到") == 0
    failed = [r for r in await dbcheck.outbox(bound_sqlite_url) if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["chat_id"] == li.id, failed
    assert "message is too long" in failed[0]["last_error"].lower()
    assert failed[0]["attempts"] == 1, "a refused message is not retried"
    assert count_messages(api, wang, "新报告") == 1 and count_messages(api, chen, "新报告") == 1
    assert api.stats.duplicates == []
    assert bot.alive


async def test_failure_after_a_button_was_answered_is_still_explained(
    api: FakeBotAPI, launch: Launch, community: Community, bound_sqlite_url: str
) -> None:
    """A button whose handler fails after acknowledging the press still gets an apology."""
    await launch(bound_sqlite_url)
    li = community.resident("小李")
    await community.join(li)
    await li.send("/report 3栋门口垃圾堆了三天没人清理")
    await api.wait_for_message(li, "已提交，报告编号 #1")
    await li.send("/myreports")
    mine = await api.wait_for_message(li, "我的报告")
    # Showing the report fails at Telegram (a 400 on the detail message itself).
    api.fail_next("sendMessage", chat=li, error=400, description="Bad Request: message is too long")
    press = await li.press(mine, "#1")
    await wait_until(lambda: callback_answer(api, press), 10, "the press acknowledged")
    await wait_until(
        lambda: any(c.status == 400 and c.params.get("chat_id") == li.id for c in api.calls),
        10,
        "the failed detail",
    )
    await api.wait_for_message(li, "出了点问题", timeout=2)


def start_outage(api: FakeBotAPI) -> list[Fault]:
    """Telegram misbehaves for every send: a dropped connection, a timeout, then 5xx."""
    faults: list[Fault] = []
    for method in SEND_METHODS:
        faults.append(api.fail_next(method, drop=True))
        faults.append(api.fail_next(method, delay=6, drop=True))  # > PTB's 5 s read timeout
        for code in (502, 503, 504, 500):
            faults.append(api.fail_next(method, times=3, error=code))
        faults.append(api.fail_next(method, times=10_000, error=502))
    # Polling stumbles too at the start (the updater retries with backoff).
    faults.append(api.fail_next("getUpdates", times=2, error=502))
    return faults


def end_outage(faults: list[Fault]) -> None:
    """Telegram is healthy again."""
    for fault in faults:
        fault.times = 0


@pytest.mark.slow
async def test_bot_api_outage_outbox_delivers_after(
    api: FakeBotAPI, launch: Launch, community: Community, bound_sqlite_url: str
) -> None:
    """Bot API failing ~14 s: notices made meanwhile wait in the outbox and arrive once after."""
    wang, zhang = community.person("王芳"), community.person("张伟")
    bot = await launch(
        bound_sqlite_url,
        report_ack_hours='{"default": 0.0012}',  # ≈4 s
        report_timer_seconds=5,
    )
    li, wu = community.resident("小李"), community.resident("老吴")
    await community.join(li)
    await community.join(wu, building="4栋", unit=None)

    faults = start_outage(api)
    began = monotonic()
    await li.send("/report 3栋门口垃圾堆了三天没人清理")
    await wu.send("/report 4栋电梯按钮坏了，老人上下楼很不方便")
    reports = 0
    # Both reports are filed and (≈4–9 s later) escalated by the deadline job, all while the
    # Bot API fails: nothing reaches anyone yet.
    for _ in range(100):
        reports = await dbcheck.scalar(
            bound_sqlite_url, "SELECT count(*) FROM reports WHERE level > 0"
        )
        if reports == 2:
            break
        await asyncio.sleep(0.3)
    assert reports == 2, "both reports escalated during the outage"
    assert count_messages(api, wang, "新报告") == 0
    await asyncio.sleep(max(0.0, 14 - (monotonic() - began)))
    end_outage(faults)

    ended = monotonic()
    for person, marker, n in [
        (wang, "新报告 #", 2),
        (wang, "已自动上报网格员", 2),
        (zhang, "已自动上报给你", 2),
        (li, "处理超时", 1),
        (wu, "处理超时", 1),
    ]:
        await wait_until(
            lambda p=person, m=marker, k=n: count_messages(api, p, m) >= k,
            45,
            f"{n}× {marker!r} to {person.name}",
        )
    recovered = monotonic() - ended
    await asyncio.sleep(1.5)
    assert count_messages(api, wang, "新报告 #1") == count_messages(api, wang, "新报告 #2") == 1
    assert count_messages(api, zhang, "已自动上报给你") == 2
    rows = await dbcheck.outbox(bound_sqlite_url)
    assert {r["status"] for r in rows} == {"sent"}, rows
    assert all(r["attempts"] > 1 for r in rows if r["kind"] == "report_new"), rows
    await li.send("/myreports")
    mine = await api.wait_for_message(li, "我的报告")
    # Their own report, whichever number it got: the two residents wrote at the same
    # moment and the bot handles different people's updates concurrently.
    assert "3栋门口垃圾堆了三天没人清理" in body(mine) and "电梯" not in body(mine)
    assert api.stats.duplicates == []
    assert bot.alive
    print(f"outage ended; everything delivered {recovered:.1f}s later")


@pytest.mark.slow
@pytest.mark.postgres
async def test_postgres_down_users_told_to_retry_bot_recovers(
    api: FakeBotAPI,
    launch: Launch,
    pg: tuple[PgCluster, Any],
    pg_url: str,
) -> None:
    """PostgreSQL down ~10 s: "try again shortly", nothing half-written, same process recovers."""
    cluster, invites = pg
    url = pg_url
    community = Community(api, invites)
    wang = community.person("王芳")
    bot = await launch(url)
    li = community.resident("小李")
    await community.join(li)
    await li.send("/report 2栋楼道灯坏了，晚上很黑")
    notice = await api.wait_for_message(wang, "新报告 #1")
    pid = bot.pid

    await cluster.stop("fast")
    stopped = monotonic()
    try:
        await li.send("/report 4栋电梯按钮坏了")
        busy = await api.wait_for_message(li, BUSY, timeout=20)
        assert "你刚才的内容没有保存" in body(busy)
        press = await wang.press(notice, "确认收到")
        answer = await wait_until(lambda: callback_answer(api, press), 20, "busy alert")
        assert BUSY in body(answer) and answer.get("show_alert") is True
        await li.send("吾邻党建是什么？")
        await api.wait_for_message(li, BUSY, timeout=20)
        await asyncio.sleep(max(0.0, 10 - (monotonic() - stopped)))
        assert bot.alive
    finally:
        await cluster.start()

    # Back: the same process answers again (pool reconnects), within a few tries.
    for attempt in range(15):
        await li.send("/report 4栋电梯按钮坏了")
        try:
            await api.wait_for_message(li, "已提交，报告编号 #2", timeout=4)
            break
        except AssertionError:
            if attempt == 14:
                raise
    await api.wait_for_message(wang, "新报告 #2", timeout=15)
    await wang.press(notice, "确认收到")
    await api.wait_for_message(li, "报告 #1（设施维修）：已确认收到", timeout=15)
    assert bot.pid == pid and bot.starts == 1 and bot.alive
    assert await dbcheck.scalar(url, "SELECT count(*) FROM reports") == 2
    assert await dbcheck.consistency_problems(url) == []
    assert count_messages(api, wang, "新报告 #1") == 1
    # (The resident was told "busy" twice and saw the one-shot answers twice: expected.)
    assert [d for d in api.stats.duplicates if d[0] != li.id] == []


@pytest.mark.postgres
async def test_postgres_down_busy_is_the_only_answer(
    api: FakeBotAPI,
    launch: Launch,
    pg: tuple[PgCluster, Any],
    pg_url: str,
) -> None:
    """While the database is down a member's /report is answered with "busy" and nothing else."""
    cluster, invites = pg
    community = Community(api, invites)
    await launch(pg_url)
    li = community.resident("小李")
    await community.join(li)
    await cluster.stop("fast")
    try:
        await li.send("/report 2栋楼道灯坏了，晚上很黑")
        await api.wait_for_message(li, BUSY, timeout=20)
        await asyncio.sleep(1.5)
    finally:
        await cluster.start()
    answers = texts(api, li)[-2:]
    assert not any("请先加入你的邻里小组" in t for t in answers), answers
