"""Reports through the bot: filing, the captain's actions, the resident's confirmation,
and that every message reaches exactly who it should."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from demo.updates import User
from storage.models import OutboxMessage, Report
from tests.harness import Harness


async def file_report(
    bot: Harness,
    user: User,
    text: str = "2栋楼道灯坏了，晚上很黑",
    *,
    category: str = "设施维修",
    photos: int = 0,
) -> int:
    """Walk the /report form; returns the new report's number."""
    await bot.send(user, "/report")
    await bot.press(user, category)
    await bot.send(user, text)
    for n in range(photos):
        await bot.process(bot.updates.photo(user, file_id=f"p{n}"))
    await bot.press(user, "照片好了")
    await bot.press(user, "就在我家")
    reply = await bot.press(user, "提交")
    filed = next(m for m in reply.to(user) if "报告编号" in m.text)
    return int(filed.text.split("#")[1].split("。")[0])


async def test_guided_report_reaches_the_captain_with_details(bot: Harness, people: dict) -> None:
    """The form files a report; the captain gets details, the photo and the action buttons."""
    resident, captain = people["resident"], people["captain"]
    await bot.send(resident, "/report")
    reply = await bot.press(resident, "设施维修")
    assert "请用文字描述问题" in reply.edits[0].text
    await bot.send(resident, "2栋楼道灯坏了，晚上很黑")
    await bot.process(bot.updates.photo(resident, file_id="ph-1"))
    await bot.press(resident, "照片好了")
    await bot.press(resident, "就在我家")
    summary = bot.stand_in.sent_to(resident.id)[-1].text
    assert "设施维修" in summary and "2栋 3单元" in summary and "照片：1 张" in summary
    reply = await bot.press(resident, "提交")
    assert "已提交，报告编号 #1" in reply.to(resident)[0].text
    (notice,) = reply.to(captain)
    assert notice.kind == "photo" and "新报告 #1" in notice.text and "小李" in notice.text
    assert notice.button_labels()[:2] == ["✅ 确认收到", "🔧 处理中"]
    assert reply.to(people["grid"]) == [] and reply.to(people["captain2"]) == []


async def test_report_is_committed_before_the_number_is_told(bot: Harness, people: dict) -> None:
    """When the resident reads #N, report N exists in the database."""
    number = await file_report(bot, people["resident"])
    async with bot.db.begin() as session:
        report = await session.get(Report, number)
    assert report is not None and report.status == "new" and report.category == "repairs"


async def test_captain_ack_resolve_and_resident_confirms(bot: Harness, people: dict) -> None:
    """Ack and resolve reach the resident; 已修好 closes the report."""
    resident, captain = people["resident"], people["captain"]
    number = await file_report(bot, resident)
    reply = await bot.press(captain, "确认收到")
    assert reply.to(captain)[0].text == f"已确认收到报告 #{number}，居民会收到通知。"
    assert "已确认收到" in reply.to(resident)[0].text
    await bot.send(captain, f"/resolve {number} 已更换灯泡")
    notice = bot.stand_in.sent_to(resident.id)[-1]
    assert "已标记为解决" in notice.text and "已更换灯泡" in notice.text
    assert notice.button_labels() == ["👍 已修好", "👎 没修好"]
    reply = await bot.press(resident, "已修好")
    assert f"报告 #{number} 已关闭" in reply.to(resident)[0].text
    async with bot.db.begin() as session:
        assert (await session.get(Report, number)).status == "closed"


async def test_not_fixed_reopens_to_the_captain_with_the_note(bot: Harness, people: dict) -> None:
    """没修好 + a note reopens the report and the captain reads the note."""
    resident, captain = people["resident"], people["captain"]
    number = await file_report(bot, resident)
    await bot.send(captain, f"/resolve {number} 修好了")
    await bot.press(resident, "没修好")
    reply = await bot.send(resident, "灯还是不亮")
    assert "已重新打开" in reply.to(resident)[0].text
    assert "灯还是不亮" in reply.to(captain)[0].text


async def test_unanswered_resolution_closes_after_three_days(bot: Harness, people: dict) -> None:
    """No answer within 3 days: the report is closed and the resident is told."""
    resident, captain = people["resident"], people["captain"]
    number = await file_report(bot, resident)
    await bot.send(captain, f"/resolve {number} 好了")
    reply = await bot.advance(timedelta(days=3, minutes=10))
    assert any("自动关闭" in m.text for m in reply.to(resident))
    async with bot.db.begin() as session:
        assert (await session.get(Report, number)).status == "closed"


async def test_overdue_ack_escalates_to_the_grid_leader(bot: Harness, people: dict) -> None:
    """24 h without acknowledgement: grid leader, captain and resident are all told."""
    number = await file_report(bot, people["resident"])
    reply = await bot.advance(timedelta(hours=24, minutes=10))
    assert any(
        f"#{number}" in m.text and "自动上报给你" in m.text for m in reply.to(people["grid"])
    )
    assert any("已自动上报网格员" in m.text for m in reply.to(people["captain"]))
    assert any("处理超时" in m.text for m in reply.to(people["resident"]))
    listing = (await bot.send(people["grid"], "/escalated")).only().text
    assert f"#{number}" in listing and "超时" in listing


async def test_safety_hazard_deadline_is_two_hours(bot: Harness, people: dict) -> None:
    """A safety hazard escalates after 2 h, not 24."""
    await file_report(bot, people["resident"], "3栋电线私拉，很危险", category="安全隐患")
    early = await bot.advance(timedelta(hours=1, minutes=50))
    assert early.to(people["grid"]) == []
    late = await bot.advance(timedelta(minutes=20))
    assert len(late.to(people["grid"])) == 1


async def test_escalate_and_send_back(bot: Harness, people: dict) -> None:
    """Captain escalates with a reason; the grid leader sends it back with an instruction."""
    resident, captain, grid = people["resident"], people["captain"], people["grid"]
    number = await file_report(bot, resident)
    reply = await bot.send(captain, f"/escalate {number} 需要物业维修基金")
    assert "需要物业维修基金" in reply.to(grid)[0].text
    assert "已上报给网格员" in reply.to(resident)[0].text
    await bot.press(grid, "退回邻长", message=reply.to(grid)[0])
    reply = await bot.send(grid, "先联系物业")
    assert "先联系物业" in reply.to(captain)[0].text


async def test_duplicate_offers_plus_one(bot: Harness, people: dict) -> None:
    """A neighbour reporting the same thing is offered +1 and then follows the report."""
    number = await file_report(bot, people["resident"])
    neighbour = User(5001, "邻居老王")
    await bot.send(neighbour, "/start demo-heping")
    await bot.press(neighbour, "2栋")
    await bot.press(neighbour, "跳过")
    reply = await bot.send(neighbour, "/report 2栋楼道的灯不亮了")
    assert f"#{number}" in reply.only().text and reply.only().button_labels()[0].startswith("➕")
    reply = await bot.press(neighbour, "+1")
    assert f"#{number} +1" in reply.only().text
    await bot.send(people["captain"], f"/ack {number}")
    assert "已确认收到" in bot.stand_in.sent_to(neighbour.id)[-1].text
    follower_notice = bot.stand_in.sent_to(neighbour.id)[-1].text
    assert "小李" not in follower_notice and "139" not in follower_notice


async def test_follower_sees_the_report_but_not_who_filed_it_or_where_they_live(
    bot: Harness, people: dict
) -> None:
    """A neighbour who pressed +1 may view the report: its building, status and history, but
    not the reporter's name, unit or pin; the reporter sees their own home but not the
    follower's name; the captain sees everyone."""
    resident, captain = people["resident"], people["captain"]
    number = await file_report(bot, resident)
    neighbour = User(5001, "邻居老王")
    await bot.send(neighbour, "/start demo-heping")
    await bot.press(neighbour, "2栋")
    await bot.press(neighbour, "跳过")
    await bot.send(neighbour, "/report 2栋楼道的灯不亮了")
    message = bot.last_with_buttons(neighbour)
    await bot.press(neighbour, "+1")
    seen = (await bot.press_data(neighbour, message, f"rep:v:{number}")).to(neighbour)[-1].text
    assert f"#{number}" in seen and "2栋" in seen and "报告人" in seen  # the history, unnamed
    assert "小李" not in seen and "3单元" not in seen and "139" not in seen
    assert "邻居老王" in seen  # their own +1
    message = bot.stand_in.sent_to(resident.id)[-1]
    mine = (await bot.press_data(resident, message, f"rep:v:{number}")).to(resident)[-1].text
    assert "3单元" in mine and "邻居老王" not in mine and "一位邻居" in mine
    message = bot.stand_in.sent_to(captain.id)[-1]
    staff = (await bot.press_data(captain, message, f"rep:v:{number}")).to(captain)[-1].text
    assert "小李" in staff and "3单元" in staff and "邻居老王" in staff


async def test_one_shot_report_guesses_category_and_building(bot: Harness, people: dict) -> None:
    """/report TEXT files at once; the category and the mentioned building are guessed."""
    reply = await bot.send(people["resident"], "/report 3栋门口垃圾堆了三天没人清理")
    # One message: the number, the guessed category, and buttons to change it.
    answer = reply.to(people["resident"])
    assert len(answer) == 1, [m.text for m in answer]
    assert "已提交，报告编号 #1" in answer[0].text and "环境卫生" in answer[0].text
    assert "安全隐患" in answer[0].button_labels() and "环境卫生" not in answer[0].button_labels()
    async with bot.db.begin() as session:
        report = await session.scalar(select(Report))
        building = await session.scalar(select(Report.building_id).where(Report.id == report.id))
    assert report.category == "sanitation" and building is not None
    assert "3栋" in reply.to(people["captain"])[0].text


async def test_category_can_be_corrected_after_one_shot(bot: Harness, people: dict) -> None:
    """The guessed category is changed with a button; safety moves the deadline to 2 h."""
    reply = await bot.send(people["resident"], "/report 楼下有东西")
    (message,) = reply.to(people["resident"])
    pressed = await bot.press(people["resident"], "安全隐患", message=message)
    # The message keeps its report number and now says the new category, without buttons.
    assert pressed.edits == [message] and message.buttons == []
    assert "已提交，报告编号 #1" in message.text and "“安全隐患”" in message.text
    async with bot.db.begin() as session:
        report = await session.scalar(select(Report))
    assert report.category == "safety"
    assert report.ack_due_at - report.created_at == timedelta(hours=2)


async def test_linked_group_chat_gets_a_name_free_summary(bot: Harness, people: dict) -> None:
    """After /linkgroup, the group chat sees the report without name or phone."""
    chat = {"id": -100777, "type": "supergroup", "title": "和平里居民群"}
    reply = await bot.send(people["captain"], "/linkgroup", chat=chat)
    assert "已关联到「和平里邻里小组」" in reply.only().text
    await file_report(bot, people["resident"], "2栋灯坏了，有事打我 13912345678")
    summary = bot.stand_in.sent_to(chat["id"])[-1].text
    assert "新报告 #1" in summary and "小李" not in summary and "13912345678" not in summary


async def test_blocked_captain_hands_report_to_backup(bot: Harness, people: dict) -> None:
    """The captain blocked the bot: the new report goes to the backup captain instead."""
    from storage.models import Person

    backup = User(6001, "陈刚")
    async with bot.db.begin() as session:
        (
            await session.scalar(select(Person).where(Person.display_name == "陈刚"))
        ).telegram_id = backup.id
    bot.stand_in.blocked.add(people["captain"].id)
    await file_report(bot, people["resident"])
    assert any("新报告 #1" in m.text for m in bot.stand_in.sent_to(backup.id))
    async with bot.db.begin() as session:
        statuses = {
            m.status
            for m in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "report_new")
            )
        }
    assert statuses == {"unreachable", "sent"}


async def test_captain_replaced_before_the_notice_left_never_sees_the_reporter(
    bot: Harness, people: dict
) -> None:
    """The notice (with the reporter's phone) waits in the outbox; meanwhile the captain is
    replaced: the old captain gets nothing, the new one gets the notice with its buttons."""
    from storage.models import NeighbourGroup, Person

    resident, captain = people["resident"], people["captain"]
    successor = User(6001, "陈刚")
    reply = await bot.process(bot.updates.text(resident, "/report 2栋楼道灯坏了"), drain=False)
    assert "已提交，报告编号 #1" in reply.to(resident)[0].text and reply.to(captain) == []
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person).where(Person.display_name == "陈刚"))
        person.telegram_id = successor.id
        group = await session.scalar(
            select(NeighbourGroup).where(NeighbourGroup.code == "g1-heping")
        )
        group.captain_id, group.backup_captain_id = person.id, None
    await bot.runtime.sender.drain(bot.app.bot)
    assert all("13900000011" not in m.text for m in bot.stand_in.sent_to(captain.id))
    (notice,) = [m for m in bot.stand_in.sent_to(successor.id) if "新报告 #1" in m.text]
    assert "13900000011" in notice.text and notice.button_labels()[0] == "✅ 确认收到"


async def test_away_captain_routes_to_backup(bot: Harness, people: dict) -> None:
    """/away sends the group's new reports to the backup captain for that period."""
    from storage.models import Person

    backup = User(6001, "陈刚")
    async with bot.db.begin() as session:
        (
            await session.scalar(select(Person).where(Person.display_name == "陈刚"))
        ).telegram_id = backup.id
    reply = await bot.send(people["captain"], "/away 2026-12-01 2026-12-03")
    assert "备用邻长" in reply.only().text
    await file_report(bot, people["resident"])
    assert not any("新报告 #1" in m.text for m in bot.stand_in.sent_to(people["captain"].id))
    assert any("新报告" in m.text for m in bot.stand_in.sent_to(backup.id))
    assert "已取消" in (await bot.send(people["captain"], "/away off")).only().text
    await file_report(bot, people["resident"], "4栋门禁坏了")
    assert any("新报告 #2" in m.text for m in bot.stand_in.sent_to(people["captain"].id))


async def test_a_backup_captain_can_declare_away_too(bot: Harness, people: dict) -> None:
    """A backup (captain of no group) may /away: with the captain away as well, the group's
    new reports go to the grid leader, not to the away backup."""
    from storage.models import Person

    backup = User(6001, "陈刚")
    async with bot.db.begin() as session:
        (
            await session.scalar(select(Person).where(Person.display_name == "陈刚"))
        ).telegram_id = backup.id
    answer = (await bot.send(backup, "/away 2026-12-01 2026-12-03")).only().text
    assert "不会由你代为负责" in answer and "2026-12-01" in answer
    told = (await bot.send(people["captain"], "/away 2026-12-01 2026-12-02")).only().text
    assert "网格员" in told and "备用邻长" not in told  # the backup is away too
    await file_report(bot, people["resident"])
    assert not any("新报告 #1" in m.text for m in bot.stand_in.sent_to(backup.id))
    assert any("新报告 #1" in m.text for m in bot.stand_in.sent_to(people["grid"].id))
    assert "2026-12-01" in (await bot.send(backup, "/away")).only().text
