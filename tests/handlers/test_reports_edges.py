"""Reports with bad input, forged numbers, wrong roles, and the lists, export and stats."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from demo.updates import User
from storage.models import Report, ReportEvent, ReportPhoto
from tests.handlers.test_reports_flow import file_report
from tests.harness import Harness


async def _count(bot: Harness, model) -> int:  # type: ignore[no-untyped-def]
    async with bot.db.begin() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_stranger_cannot_report(bot: Harness) -> None:
    """Someone not in a group is told to join first."""
    assert "先加入" in (await bot.send(User(7001, "路人"), "/report 灯坏了")).only().text
    assert await _count(bot, Report) == 0


async def test_oversized_description_is_trimmed_with_notice(bot: Harness, people: dict) -> None:
    """A 4,000-character description is trimmed to the limit and the resident is told."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "其他")
    reply = await bot.send(resident, "灯" * 4000)
    assert any("已保留前 1000 个字" in t for t in reply.texts)
    await bot.press(resident, "不加照片")
    await bot.press(resident, "不提供位置")
    await bot.press(resident, "提交")
    async with bot.db.begin() as session:
        assert len((await session.scalar(select(Report))).description) == 1000


async def test_empty_and_unsupported_input_in_the_form(bot: Harness, people: dict) -> None:
    """Whitespace, stickers and voice notes in the form get an explanation; nothing is filed."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "其他")
    assert "不能为空" in (await bot.send(resident, "   ")).only().text
    assert "需要文字、照片或位置" in (await bot.process(bot.updates.sticker(resident))).only().text
    assert "需要文字、照片或位置" in (await bot.process(bot.updates.voice(resident))).only().text
    assert await _count(bot, Report) == 0


async def test_more_than_three_photos(bot: Harness, people: dict) -> None:
    """The fourth photo is refused with the limit named; three are kept."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")
    await bot.send(resident, "电梯坏了")
    for n in range(3):
        await bot.process(bot.updates.photo(resident, file_id=f"p{n}"))
    reply = await bot.process(bot.updates.photo(resident, file_id="p4"))
    assert "最多 3 张" in reply.only().text
    await bot.press(resident, "照片好了")
    await bot.press(resident, "不提供位置")
    await bot.press(resident, "提交")
    assert await _count(bot, ReportPhoto) == 3


async def test_far_location_is_accepted_with_a_warning(bot: Harness, people: dict) -> None:
    """A location 1,000 km away is kept, with a warning."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")
    await bot.send(resident, "路灯坏了")
    await bot.press(resident, "照片好了")
    reply = await bot.process(bot.updates.location(resident, 39.9, 116.4))
    assert any("离社区较远" in t for t in reply.texts)
    await bot.press(resident, "提交")
    async with bot.db.begin() as session:
        assert (await session.scalar(select(Report.latitude))) == 39.9


async def test_cancel_mid_form_files_nothing(bot: Harness, people: dict) -> None:
    """/cancel during the form drops the draft."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")
    assert "没有提交" in (await bot.send(resident, "/cancel")).only().text
    assert await _count(bot, Report) == 0


async def test_stale_form_button_after_cancel(bot: Harness, people: dict) -> None:
    """Pressing a category button of a cancelled form is refused as expired."""
    resident = people["resident"]
    menu = (await bot.send(resident, "/report")).only()
    await bot.send(resident, "/cancel")
    reply = await bot.press(resident, "设施维修", message=menu)
    assert reply.alerts and "过期" in reply.alerts[0]


async def test_other_feature_commands_mid_form(bot: Harness, people: dict) -> None:
    """/help in the middle of the form is answered and the form continues."""
    resident = people["resident"]
    await bot.send(resident, "/report")
    await bot.press(resident, "设施维修")
    assert "吾邻社区助手" in (await bot.send(resident, "/help")).only().text
    reply = await bot.send(resident, "门禁坏了")
    assert "照片" in reply.only().text


async def test_command_usage_lines(bot: Harness, people: dict) -> None:
    """Commands with missing or bad arguments answer with their usage line."""
    captain = people["captain"]
    assert "用法：/ack" in (await bot.send(captain, "/ack")).only().text
    assert "用法：/resolve" in (await bot.send(captain, "/resolve 12")).only().text
    assert "用法：/reject" in (await bot.send(captain, "/reject abc 理由")).only().text
    assert "用法：/escalate" in (await bot.send(captain, "/escalate")).only().text
    assert "用法：/away" in (await bot.send(captain, "/away tomorrow")).only().text


async def test_unknown_and_foreign_report_numbers_look_the_same(bot: Harness, people: dict) -> None:
    """A captain acting on another group's report gets the same answer as for a missing one."""
    number = await file_report(bot, people["resident"])
    events = await _count(bot, ReportEvent)
    foreign = (await bot.send(people["captain2"], f"/ack {number}")).only().text
    missing = (await bot.send(people["captain2"], "/ack 99999")).only().text
    assert foreign == f"找不到报告 #{number}，或你无权查看。"
    assert missing == "找不到报告 #99999，或你无权查看。"
    assert await _count(bot, ReportEvent) == events


async def test_resident_cannot_act_as_captain(bot: Harness, people: dict) -> None:
    """The reporter pressing a forged captain button is refused; the status is unchanged."""
    resident = people["resident"]
    number = await file_report(bot, resident)
    message = bot.stand_in.sent_to(resident.id)[-1]
    reply = await bot.press_data(resident, message, f"rep:ack:{number}")
    assert reply.only().text == "抱歉，你没有权限进行这个操作。"
    async with bot.db.begin() as session:
        assert (await session.get(Report, number)).status == "new"


async def test_double_tap_is_idempotent(bot: Harness, people: dict) -> None:
    """Pressing 确认收到 twice changes the report once and says so the second time."""
    number = await file_report(bot, people["resident"])
    notice = bot.stand_in.sent_to(people["captain"].id)[-1]
    await bot.press(people["captain"], "确认收到", message=notice)
    reply = await bot.press(people["captain"], "确认收到", message=notice)
    assert "已经是“已确认收到”状态" in reply.only().text
    async with bot.db.begin() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ReportEvent)
            .where(ReportEvent.report_id == number, ReportEvent.kind == "status")
        )
    assert count == 1


async def test_illegal_transition_is_explained(bot: Harness, people: dict) -> None:
    """Resolving a withdrawn report is refused with its status."""
    resident, captain = people["resident"], people["captain"]
    number = await file_report(bot, resident)
    await bot.send(resident, "/myreports")
    await bot.press(resident, f"#{number}")
    await bot.press(resident, "撤回报告")
    await bot.press(resident, "确定")
    reply = await bot.send(captain, f"/resolve {number} 好了")
    assert "现在是“已撤回”" in reply.only().text


async def test_reports_list_paginates_oldest_first(bot: Harness, people: dict) -> None:
    """Seven open reports: page 1 has the oldest five and a next button; page 2 the rest."""
    problems = [
        "门禁坏了",
        "电梯停了",
        "楼道堆满杂物",
        "水管漏水",
        "窗户玻璃碎了",
        "下水道堵了",
        "路灯不亮",
    ]
    for problem in problems:
        await bot.send(people["resident"], f"/report {problem}")
        bot.clock.advance(timedelta(minutes=1))
    page = (await bot.send(people["captain"], "/reports")).only()
    assert "共 7 条，第 1/2 页" in page.text and page.text.index("#1 ") < page.text.index("#5 ")
    assert "#6 " not in page.text and page.button_labels()[-1] == "下一页 ▶"
    reply = await bot.press(people["captain"], "下一页", message=page)
    assert "#6 " in reply.edits[0].text and "#7 " in reply.edits[0].text


async def test_lists_are_only_for_their_roles(bot: Harness, people: dict) -> None:
    """Residents cannot use /reports, /escalated, /export or /stats."""
    for command in ("/reports", "/escalated", "/export", "/stats"):
        assert (
            "给邻长、网格员和社区管理员用的"
            in (await bot.send(people["resident"], command)).only().text
        )


async def test_export_csv_for_grid_leader(bot: Harness, people: dict) -> None:
    """/export sends a CSV with timestamps and hours to acknowledge, without names."""
    number = await file_report(bot, people["resident"])
    bot.clock.advance(timedelta(hours=2))
    await bot.send(people["captain"], f"/ack {number}")
    reply = await bot.send(people["grid"], "/export")
    document = reply.only()
    assert document.kind == "document" and "共 1 条" in document.text
    call = next(c for c in reversed(bot.stand_in.calls) if c.method == "sendDocument")
    content = call.files["document"].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == 1 and rows[0]["id"] == str(number)
    assert rows[0]["hours_to_acknowledge"] == "2.0" and rows[0]["status"] == "acknowledged"
    assert "小李" not in content and "13900000011" not in content


async def test_export_bad_dates(bot: Harness, people: dict) -> None:
    """Reversed or garbage dates get the usage line."""
    assert (
        "用法：/export"
        in (await bot.send(people["grid"], "/export 2026-12-05 2026-12-01")).only().text
    )
    assert "用法：/export" in (await bot.send(people["grid"], "/export yesterday")).only().text


async def test_stats_counts(bot: Harness, people: dict) -> None:
    """/stats shows counts by status and category per group."""
    await file_report(bot, people["resident"])
    text = (await bot.send(people["grid"], "/stats")).only().text
    assert "新报告 1" in text and "设施维修 1" in text and "和平里邻里小组：共 1" in text


def test_export_rows_neutralise_formulas() -> None:
    """A description starting with = is written as text, not a spreadsheet formula."""
    from storage.report_stats import _safe_cell

    assert _safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    rows = list(csv.reader(io.StringIO("a,b\n")))
    assert rows == [["a", "b"]]
