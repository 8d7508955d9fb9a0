"""End to end over HTTP: ``python bot.py run`` as a process against the fake Bot API.

The whole story of a report in long-polling mode (join → FAQ → report with photo and location
→ captain acknowledges → the deadline escalates it → the grid leader looks, resolves → the
resident confirms), a day of check-ins (morning reminders sent by the catch-up at start,
answers with buttons, the afternoon nudge from the real cron job, the evening summary), and a
shorter story in webhook mode with the secret token.  Every assertion is about what the
people actually received from the fake Telegram, plus the rows the bot left behind.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest

from tests.e2e import dbcheck
from tests.e2e.community import (
    Community,
    body,
    buttons,
    callback_answer,
    count_messages,
    latest_with_button,
    texts,
    wait_edit,
    wait_until,
)
from tests.e2e.conftest import Launch
from tests.e2e.fake_botapi import FakeBotAPI
from tests.e2e.times import hhmm, local_now, midday_zone, next_minute, sleep_until

#: Deadlines of a few seconds: ack within ~7 s, resolve within ~11 s; timers every 5 s.
FAST_DEADLINES = {
    "report_ack_hours": '{"default": 0.002}',
    "report_resolve_hours": '{"default": 0.003}',
    "report_timer_seconds": 5,
}


async def file_guided_report(api: FakeBotAPI, resident, *, photo: bool = True) -> int:  # type: ignore[no-untyped-def]
    """Walk /report: category, description, a photo, a location pin, submit; the number."""
    await resident.send("/report")
    ask = await api.wait_for_message(resident, "请选择类别")
    await resident.press(ask, "设施维修")
    await wait_edit(api, ask, "请用文字描述问题")
    await resident.send("2栋3单元楼道灯坏了，晚上很黑")
    photos = await api.wait_for_message(resident, "照片")
    if photo:
        await resident.send_photo("灯泡不亮")
        await api.wait_for_message(resident, "已收到照片（1/3）")
    await resident.press(photos, "照片好了" if photo else "不加照片")
    await api.wait_for_message(resident, "问题在哪里")
    await resident.send_location(32.6265, 116.9990)
    summary = await api.wait_for_message(resident, "请确认报告内容")
    assert "设施维修" in body(summary) and "📍32.62650,116.99900" in body(summary)
    assert f"照片：{int(photo)} 张" in body(summary)
    await resident.press(summary, "提交")
    filed = await api.wait_for_message(resident, "已提交，报告编号 #")
    return int(body(filed).split("#")[1].split("。")[0])


@pytest.mark.slow
async def test_report_story_in_polling_mode(
    api: FakeBotAPI, launch: Launch, community: Community, sqlite_url: str
) -> None:
    """The whole report story: everyone receives exactly their messages, once; report closed."""
    bot = await launch(sqlite_url, **FAST_DEADLINES)
    wang, zhang = await community.bind_all("王芳", "张伟")
    li = community.resident("小李")

    welcome = await community.join(li)
    assert "✅ 已加入「和平里邻里小组」（2栋 3单元）" in body(welcome)

    await li.send("吾邻党建是什么？")
    answer = await api.wait_for_message(li, "邻长制度")
    assert "最后一公里" in body(answer)
    feedback = await latest_with_button(api, li, "有帮助")
    press = await li.press(feedback, "有帮助")
    thanks = await wait_until(lambda: callback_answer(api, press), what="the FAQ thanks")
    assert "谢谢你的反馈" in body(thanks)

    number = await file_guided_report(api, li)
    assert number == 1
    notice = await api.wait_for_message(wang, f"新报告 #{number}")
    assert "photo" in notice, "the captain's notice carries the resident's photo"
    assert "2栋 3单元" in body(notice) and "居民：小李" in body(notice)
    assert buttons(notice)[:2] == ["✅ 确认收到", "🔧 处理中"]

    await wang.press(notice, "确认收到")
    await api.wait_for_message(wang, f"已确认收到报告 #{number}")
    await api.wait_for_message(li, f"报告 #{number}（设施维修）：已确认收到")

    # Nobody resolves it within ~11 s: the timer job escalates it to the grid leader.
    overdue = await api.wait_for_message(zhang, "已自动上报给你", timeout=30)
    assert f"报告 #{number}" in body(overdue) and "超过处理时限仍未解决" in body(overdue)
    await api.wait_for_message(wang, "已自动上报网格员", timeout=10)
    await api.wait_for_message(li, "处理超时，已上报网格员跟进", timeout=10)

    await zhang.send("/escalated")
    listing = await api.wait_for_message(zhang, "上报和超时的报告")
    assert f"#{number} 已确认收到 ⏰超时" in body(listing)
    # (Opening the report from this list fails while it has exactly one photo: see
    # test_report_detail_with_one_photo.  The grid leader resolves from the notice.)
    await zhang.press(overdue, "已解决")
    await api.wait_for_message(zhang, "请简单说明处理结果")
    await zhang.send("已联系物业更换灯泡")
    await api.wait_for_message(zhang, f"报告 #{number} 已标记为解决")

    resolved = await api.wait_for_message(li, f"报告 #{number}（设施维修）已标记为解决")
    assert "已联系物业更换灯泡" in body(resolved)
    assert buttons(resolved) == ["👍 已修好", "👎 没修好"]
    await li.press(resolved, "已修好")
    await api.wait_for_message(li, f"感谢确认！报告 #{number} 已关闭")

    assert await dbcheck.scalar(sqlite_url, "SELECT status FROM reports WHERE id = 1") == "closed"
    for person, marker in [
        (wang, f"新报告 #{number}"),
        (zhang, "已自动上报给你"),
        (li, "：已确认收到"),
        (li, "处理超时"),
        (li, "已标记为解决"),
    ]:
        assert count_messages(api, person, marker) == 1, (person, marker, texts(api, person))
    assert api.stats.duplicates == []
    assert not bot.tracebacks(), bot.tail()


async def test_report_detail_with_one_photo(
    api: FakeBotAPI, launch: Launch, community: Community, bound_sqlite_url: str
) -> None:
    """Opening a report that has one photo shows the photo and the detail with history."""
    await launch(bound_sqlite_url)
    li = community.resident("小李")
    await community.join(li)
    number = await file_guided_report(api, li, photo=True)
    await li.send("/myreports")
    mine = await api.wait_for_message(li, "我的报告")
    await li.press(mine, f"#{number}")
    await wait_until(
        lambda: (
            any("处理记录" in body(m) for m in api.messages_to(li))
            or any(c.method == "sendMediaGroup" and c.status for c in api.calls)
        ),
        10,
        "the detail view or the album call",
    )
    detail = await api.wait_for_message(li, "处理记录", timeout=2)
    assert f"📋 报告 #{number}（设施维修）" in body(detail), body(detail)
    assert any("photo" in m for m in api.messages_to(li)[-3:]), "the photo is shown"


@pytest.mark.slow
async def test_a_day_of_checkins(
    api: FakeBotAPI, launch: Launch, community: Community, bound_sqlite_url: str
) -> None:
    """Catch-up reminders, button answers, cron nudge to the silent one, one summary, no doubles."""
    captains = [community.person(n) for n in ("王芳", "刘洋", "赵丽", "周敏", "吴军")]
    wang, liu, zhao, zhou, wu = captains
    zhang, sun = community.person("张伟"), community.person("孙强")
    zone = midday_zone()
    start = local_now(zone)
    nudge_at = next_minute(zone, at_least=12)  # start ≈4 s + the morning answers ≈2 s
    bot = await launch(
        bound_sqlite_url,
        timezone=zone,
        checkin_every_day="true",
        checkin_time=hhmm(start - timedelta(minutes=1)),
        nudge_time=hhmm(nudge_at),
        summary_time=hhmm(nudge_at + timedelta(minutes=1)),
    )

    for captain in captains:
        morning = await api.wait_for_message(captain, "早上好")
        assert f"☀️ {captain.name}，早上好！" in body(morning)
        assert buttons(morning) == ["✅ 一切正常", "📝 有情况", "🏖 今天请假"]
    assert count_messages(api, zhang, "早上好") == 0, "grid leaders do not check in"

    morning = api.messages_to(wang)[-1]
    await wang.press(morning, "有情况")
    await api.wait_for_message(wang, "有什么情况")
    await wang.send("3栋门口井盖松了")
    await api.wait_for_message(wang, "已打卡并记下情况：3栋门口井盖松了")
    await liu.press(api.messages_to(liu)[-1], "今天请假")
    await api.wait_for_message(liu, "已登记今天请假")
    for captain in (zhou, wu):
        await captain.press(api.messages_to(captain)[-1], "一切正常")
        await api.wait_for_message(captain, "已打卡：一切正常")

    # 赵丽 stays silent: the nudge job fires at nudge_at and reminds only her.
    assert local_now(zone) < nudge_at, "the machine is too slow: answers came after the nudge"
    await sleep_until(nudge_at)
    nudge = await api.wait_for_message(zhao, "今天还没有打卡", timeout=20)
    await asyncio.sleep(2)  # the other captains would have been nudged by now
    for captain in (wang, liu, zhou, wu):
        assert count_messages(api, captain, "今天还没有打卡") == 0, captain
    await zhao.press(nudge, "一切正常")
    await api.wait_for_message(zhao, "已打卡：一切正常")

    # The evening, compressed: the bot is restarted with the summary time moved to this very
    # minute (as if it had been down when the summary was due); its catch-up sends the
    # summary once and neither the morning reminders nor the nudge again.
    await bot.stop()
    now = local_now(zone)
    await bot.restart(
        nudge_time=hhmm(now - timedelta(minutes=1)), summary_time=hhmm(now), timeout=60
    )
    summary = await api.wait_for_message(zhang, "每日沟通汇总", timeout=15)
    text = body(summary)
    assert "✅ 已打卡（2）" in text and "王芳" in text and "⚠️ 3栋门口井盖松了" in text, text
    assert "赵丽" in text and "🏖 请假/外出（1）：刘洋" in text and "❌ 未打卡（0）" in text, text
    other = await api.wait_for_message(sun, "每日沟通汇总", timeout=10)
    assert "周敏" in body(other) and "吴军" in body(other)

    await asyncio.sleep(1.5)
    for captain in captains:
        assert count_messages(api, captain, "早上好") == 1, captain
    assert count_messages(api, zhao, "今天还没有打卡") == 1
    assert count_messages(api, zhang, "每日沟通汇总") == 1
    assert api.stats.duplicates == []
    assert not bot.tracebacks(), bot.tail()


async def test_report_story_in_webhook_mode(
    api: FakeBotAPI, launch: Launch, community: Community, sqlite_url: str
) -> None:
    """Webhook mode: the story works through the webhook; a wrong or missing secret gets 403."""
    secret = "e2e-Secret_token-123"
    bot = await launch(sqlite_url, webhook=True, webhook_secret_token=secret)
    hook_url = f"http://127.0.0.1:{bot.webhook_port}/telegram"
    assert api.webhook_url == hook_url
    assert api.world.webhook["secret_token"] == secret

    wang = await community.bind("王芳")
    li = community.resident("小李")
    await community.join(li, unit=None)
    await li.send("/report 3栋门口垃圾堆了三天没人清理")
    filed = await api.wait_for_message(li, "已提交，报告编号 #1")
    assert "已根据内容归类为“环境卫生”" in filed["text"]  # one message: number and category
    notice = await api.wait_for_message(wang, "新报告 #1（环境卫生）")
    await wang.press(notice, "确认收到")
    await api.wait_for_message(li, "报告 #1（环境卫生）：已确认收到")

    intruder = community.resident("冒充者")
    forged = {
        "update_id": 999_000_001,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": intruder.id, "type": "private", "first_name": "冒充者"},
            "from": {"id": intruder.id, "is_bot": False, "first_name": "冒充者"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    async with aiohttp.ClientSession() as http:
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            async with http.post(hook_url, json=forged, headers=headers) as response:
                assert response.status == 403, headers
    await asyncio.sleep(1.5)
    assert api.messages_to(intruder) == [], "a forged webhook call must not reach a handler"
    assert api.webhook.failures == []
    assert count_messages(api, wang, "新报告 #1") == 1
    assert api.stats.duplicates == []
    assert not bot.tracebacks(), bot.tail()
