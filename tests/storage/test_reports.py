"""Report services through ``report_flow.perform``: the lifecycle with its events and
timestamps, idempotent repeats, escalation and send-back, who is told of a new report, what
the group chat and other residents may (not) read, and two people acting at once."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo.seed import seed_demo
from settings import Settings
from storage import reports as svc
from storage.checkins import due_people
from storage.models import NeighbourGroup, OutboxMessage, Person, Report, ReportEvent, ReportPhoto
from storage.people import Actor, load_actor
from storage.report_flow import ActionResult, ReportConfig, perform
from storage.report_notices import Notices
from storage.report_queries import followers_of, report_detail
from storage.routing import set_away
from tests.conftest import T0

H = timedelta(hours=1)
CONFIG = ReportConfig.from_settings(Settings(_env_file=None))
Db = async_sessionmaker[AsyncSession]
# 小李 (1001, the reporter), 王芳 (captain), 陈刚 (backup, bound here), 张伟 (grid leader),
# and two more residents of g1-heping: 小张 (with a phone) and 小赵.
CAST_TG = {"reporter": 1001, "captain": 1003, "backup": 2004, "grid": 1005, "neighbour": 2001,
           "neighbour2": 2002}  # fmt: skip


async def _cast(session: AsyncSession) -> dict[str, Actor]:
    await seed_demo(session=session, now=T0)
    backup = await session.scalar(select(Person).where(Person.phone == "13800000004"))
    backup.telegram_id = 2004
    group = await session.scalar(select(NeighbourGroup).where(NeighbourGroup.code == "g1-heping"))
    for tg, name, phone in ((2001, "小张", "13911112222"), (2002, "小赵", None)):
        person = Person(telegram_id=tg, display_name=name, phone=phone, created_at=T0)
        person.group_id, person.community_id = group.id, group.community_id
        session.add(person)
    await session.flush()
    return {k: await load_actor(session=session, telegram_id=tg) for k, tg in CAST_TG.items()}


async def _file(
    session: AsyncSession, cast: dict[str, Actor], now: datetime = T0, text: str = "2栋灯坏了",
    photos: tuple[str, ...] = (),
) -> int:  # fmt: skip
    """File a report as the resident and queue its notices, as the /report handler does."""
    reporter = cast["reporter"]
    draft = svc.Draft("repairs", text, list(photos), reporter.building_id, "3单元")
    report = await svc.create_report(session=session, reporter_id=reporter.person_id,
                                     group_id=reporter.group_id, draft=draft,
                                     deadlines=CONFIG.deadlines("repairs"), now=now)  # fmt: skip
    notices = Notices(session=session, categories=CONFIG.categories, tz=CONFIG.tz, now=now)
    await notices.new_report(report)
    return report.id


@dataclass
class Flow:
    """One filed report in the demo world, and the means to act on it and look at it."""

    db: Db
    cast: dict[str, Actor]
    rid: int

    def pid(self, who: str) -> int:
        return self.cast[who].person_id

    async def act(self, who: str, action: str, hours: float = 0, note: str | None = None,
                  photo: str | None = None) -> ActionResult:  # fmt: skip
        async with self.db.begin() as session:
            return await perform(session=session, actor=self.cast[who], report_id=self.rid,
                                 action=action, now=T0 + hours * H, config=CONFIG, note=note,
                                 photo=photo)  # fmt: skip

    async def report(self) -> Report:
        async with self.db.begin() as session:
            return await session.get(Report, self.rid)

    async def events(self) -> list[ReportEvent]:
        async with self.db.begin() as session:
            query = select(ReportEvent).where(ReportEvent.report_id == self.rid)
            return list(await session.scalars(query.order_by(ReportEvent.id)))

    async def outbox(self, since: int = 0) -> list[OutboxMessage]:
        async with self.db.begin() as session:
            query = select(OutboxMessage).where(OutboxMessage.id > since)
            return list(await session.scalars(query.order_by(OutboxMessage.id)))

    async def last_message(self) -> int:
        return max((m.id for m in await self.outbox()), default=0)

    async def keys(self, who: str, since: int) -> list[tuple[str, str]]:
        rows = await self.outbox(since)
        return [(m.kind, m.payload["text"]["key"]) for m in rows if m.person_id == self.pid(who)]


async def _flow(db: Db, **file_args: object) -> Flow:
    async with db.begin() as session:
        cast = await _cast(session)
        return Flow(db, cast, await _file(session, cast, **file_args))  # type: ignore[arg-type]


async def test_full_lifecycle_records_events_and_timestamps(db: Db) -> None:
    """create → ack → progress → resolve → fixed: one event per step (actor, from, to, note,
    time), the matching timestamps, and the history shows the actors' names."""
    f = await _flow(db)
    steps = [("captain", "ack", None), ("captain", "progress", "已联系物业"),
             ("captain", "resolve", "换了灯泡"), ("reporter", "fixed", None)]  # fmt: skip
    for hours, (who, action, note) in enumerate(steps, start=1):
        assert (await f.act(who, action, hours, note)).outcome == "done"
        if action == "resolve":
            assert (await f.report()).confirm_due_at == T0 + 3 * H + timedelta(days=3)
    got = [(e.kind, e.actor_id, e.from_status, e.to_status, e.note, e.at) for e in await f.events()]
    rep, cap = f.pid("reporter"), f.pid("captain")
    assert got == [
        ("created", rep, None, "new", None, T0),
        ("status", cap, "new", "acknowledged", None, T0 + H),
        ("status", cap, "acknowledged", "in_progress", "已联系物业", T0 + 2 * H),
        ("status", cap, "in_progress", "resolved", "换了灯泡", T0 + 3 * H),
        ("status", rep, "resolved", "closed", None, T0 + 4 * H),
    ]
    r = await f.report()
    assert (r.status, r.version, r.updated_at, r.confirm_due_at) == ("closed", 5, T0 + 4 * H, None)
    assert (r.acknowledged_at, r.resolved_at, r.closed_at) == (T0 + H, T0 + 3 * H, T0 + 4 * H)
    async with db.begin() as session:
        detail = await report_detail(session=session, report_id=f.rid, now=T0 + 5 * H)
    assert [e.actor for e in detail.events] == ["小李", "王芳", "王芳", "王芳", "小李"]


async def test_not_fixed_reopens_with_new_deadlines(db: Db) -> None:
    """The reporter's "not fixed" reopens a resolved report, clears its resolution, restarts
    both clocks and tells the captain."""
    f = await _flow(db)
    await f.act("captain", "resolve", 1, "修好了")
    since = await f.last_message()
    assert (await f.act("reporter", "not_fixed", 48, "还是坏的")).outcome == "done"
    r, later = await f.report(), T0 + 48 * H
    assert r.status == "reopened"
    assert (r.resolved_at, r.confirm_due_at, r.acknowledged_at) == (None, None, None)
    assert (r.ack_due_at, r.resolve_due_at) == (later + 24 * H, later + 168 * H)
    last = (await f.events())[-1]
    got = (last.actor_id, last.from_status, last.to_status, last.note)
    assert got == (f.pid("reporter"), "resolved", "reopened", "还是坏的")
    assert await f.keys("captain", since) == [("report_handler", "rep.notice.reopened")]


async def test_double_ack_is_already_and_writes_one_event(db: Db) -> None:
    """A second "ack" answers ``already`` and changes nothing."""
    f = await _flow(db)
    outcomes = [(await f.act("captain", "ack", hours)).outcome for hours in (1, 2)]
    assert outcomes == ["done", "already"]
    assert [e.to_status for e in await f.events()] == ["new", "acknowledged"]
    r = await f.report()
    assert (r.version, r.acknowledged_at, r.updated_at) == (2, T0 + H, T0 + H)


async def test_resolving_a_closed_report_is_illegal(db: Db) -> None:
    """A captain cannot resolve a closed report: ``illegal``, no event, same version."""
    f = await _flow(db)
    await f.act("captain", "resolve", 1, "好了")
    await f.act("reporter", "fixed", 2)
    before = (await f.report()).version, len(await f.events())
    result = await f.act("captain", "resolve", 3, "再次")
    assert (result.outcome, result.status) == ("illegal", "closed")
    assert ((await f.report()).version, len(await f.events())) == before


async def test_reporter_withdraws(db: Db) -> None:
    """The reporter withdraws a new report: final, closed_at set, the captain told, no acks."""
    f = await _flow(db)
    since = await f.last_message()
    assert (await f.act("reporter", "withdraw", 1)).outcome == "done"
    r = await f.report()
    assert (r.status, r.closed_at) == ("withdrawn", T0 + H)
    assert await f.keys("captain", since) == [("report_handler", "rep.notice.withdrawn")]
    assert (await f.act("captain", "ack", 2)).outcome == "illegal"


async def test_add_info_and_photo_limit(db: Db) -> None:
    """Filed with the maximum of photos, as many more may be added; the next one is refused
    with nothing written, while a plain note still goes through and reaches the captain."""
    f = await _flow(db, photos=("f1", "f2", "f3"))
    for i in range(CONFIG.max_photos):
        assert (await f.act("reporter", "add_info", photo=f"a{i}")).outcome == "done"
    events = len(await f.events())
    assert (await f.act("reporter", "add_info", note="再一张", photo="x")).outcome == "illegal"
    assert len(await f.events()) == events
    async with db.begin() as session:
        query = select(ReportPhoto.file_id).where(ReportPhoto.report_id == f.rid)
        assert sorted(await session.scalars(query)) == ["a0", "a1", "a2", "f1", "f2", "f3"]
    since = await f.last_message()
    assert (await f.act("reporter", "add_info", note="晚上更暗")).outcome == "done"
    assert await f.keys("captain", since) == [("report_handler", "rep.notice.info")]
    assert [(e.kind, e.note) for e in await f.events()][-1] == ("info", "晚上更暗")


async def test_follow_counts_supporters_and_is_idempotent(db: Db) -> None:
    """Two neighbours' +1 make two supporters and followers; a repeat answers ``already`` and
    writes nothing, through ``perform`` and through the service."""
    f = await _flow(db)
    for who in ("neighbour", "neighbour2"):
        assert (await f.act(who, "follow", 1)).outcome == "done"
    before = (await f.report()).version, len(await f.events())
    assert (await f.act("neighbour", "follow", 2)).outcome == "already"
    async with db.begin() as session:
        report = await session.get(Report, f.rid)
        again = await svc.follow_report(
            session=session, report=report, person_id=f.pid("neighbour"), now=T0 + 2 * H
        )
        people = await followers_of(session=session, report_id=f.rid)
    assert again is False
    assert sorted(people) == sorted([f.pid("neighbour"), f.pid("neighbour2")])
    r = await f.report()
    assert (r.supporters, r.version, len(await f.events())) == (2, *before)


async def test_change_category_only_while_new(db: Db) -> None:
    """A new report moved to "safety" gets the 2 h acknowledge deadline counted from its
    filing; the same category again, or an acknowledged report, is left alone."""
    f = await _flow(db)

    async def change(category: str, hours: float) -> bool:
        async with db.begin() as session:
            report = await session.get(Report, f.rid)
            return await svc.change_category(session=session, report=report, category=category,
                                             actor_id=f.pid("reporter"), now=T0 + hours * H,
                                             deadlines=CONFIG.deadlines(category))  # fmt: skip

    assert (await change("safety", 0.2), await change("safety", 0.3)) == (True, False)
    r = await f.report()
    assert (r.category, r.ack_due_at, r.resolve_due_at) == ("safety", T0 + 2 * H, T0 + 168 * H)
    assert [(e.kind, e.note) for e in await f.events()][-1] == ("category", "safety")
    await f.act("captain", "ack", 1)
    assert await change("repairs", 2) is False
    assert (await f.report()).category == "safety"


async def test_escalate_then_send_back(db: Db) -> None:
    """Escalation puts the report at level 1 and tells the grid leader and the reporter; the
    grid leader's send-back returns it to level 0 with a fresh acknowledge deadline."""
    f = await _flow(db)
    since = await f.last_message()
    assert (await f.act("captain", "escalate", 1, "需要物业")).outcome == "done"
    r = await f.report()
    assert (r.level, r.escalated_at) == (1, T0 + H)
    assert await f.keys("grid", since) == [("report_handler", "rep.notice.escalated_to_you")]
    assert await f.keys("reporter", since) == [("report_status", "rep.notice.escalated_reporter")]
    assert await f.keys("captain", since) == []
    since = await f.last_message()
    assert (await f.act("grid", "send_back", 30, "请邻长先处理")).outcome == "done"
    r = await f.report()
    assert (r.level, r.ack_due_at, r.overdue_at) == (0, T0 + 54 * H, None)
    assert await f.keys("captain", since) == [("report_handler", "rep.notice.sent_back")]
    got = [(e.kind, e.actor_id, e.from_level, e.to_level, e.note) for e in await f.events()]
    assert got[1:] == [("escalate", f.pid("captain"), 0, 1, "需要物业"),
                       ("send_back", f.pid("grid"), 1, 0, "请邻长先处理")]  # fmt: skip


async def test_escalate_never_lowers_the_level(db: Db) -> None:
    """The captain's (stale) escalate button on a report the grid leader already passed to the
    admins does not pull it back down to the grid leader."""
    f = await _flow(db)
    await f.act("captain", "escalate", 1, "需要网格员")
    assert (await f.act("grid", "escalate_up", 2, "需要社区")).outcome == "done"
    events = len(await f.events())
    result = await f.act("captain", "escalate", 3, "旧按钮")
    assert ((await f.report()).level, len(await f.events())) == (2, events)
    assert result.outcome in ("already", "illegal")


#: situation → (when, captain away that local day, changes to people, who gets the notice)
ROUTES = {
    "normal": (T0, False, {}, "captain"),
    "captain_away": (T0, True, {}, "backup"),
    "captain_unreachable": (T0, False, {"captain": {"unreachable_since": T0}}, "backup"),
    # 17:00 UTC on 1 Dec is 01:00 on 2 Dec in Shanghai: the away day is the local date.
    "away_by_local_date": (T0 + 15.5 * H, True, {}, "backup"),
    "away_backup_unreachable": (T0, True, {"backup": {"unreachable_since": T0}}, "grid"),
    "away_backup_never_joined": (T0, True, {"backup": {"telegram_id": None}}, "grid"),
}


@pytest.mark.parametrize("situation", ROUTES)
async def test_new_report_goes_to_whoever_answers_today(db: Db, situation: str) -> None:
    """The new-report notice (with buttons) goes to the captain, else the backup (captain away
    today in local time, or unreachable), else the grid leader."""
    now, away, changes, expected = ROUTES[situation]
    async with db.begin() as session:
        cast = await _cast(session)
        for who, values in changes.items():
            person = await session.get(Person, cast[who].person_id)
            for name, value in values.items():
                setattr(person, name, value)
        if away:
            day = now.astimezone(CONFIG.tz).date()
            group, captain = cast["reporter"].group_id, cast["captain"].person_id
            await set_away(session=session, group_ids=(group,), person_id=captain,
                           starts=day, ends=day, now=T0)  # fmt: skip
        await _file(session, cast, now=now)
    rows = [m for m in await Flow(db, cast, 0).outbox() if m.kind == "report_new"]
    want = cast[expected]
    assert [(m.person_id, m.chat_id) for m in rows] == [(want.person_id, want.telegram_id)]
    assert rows[0].payload["buttons"] and rows[0].payload["reroute"] is True


async def test_a_backup_away_from_their_own_group_is_away_for_every_group(db: Db) -> None:
    """The backup captain is a captain elsewhere and declared /away there (away periods are
    recorded under the groups one captains): with the captain away too, this group's new
    reports and check-in reminders go to the grid leader, not to the away backup."""
    async with db.begin() as session:
        cast = await _cast(session)
        group, day = cast["reporter"].group_id, T0.astimezone(CONFIG.tz).date()
        other = await session.scalar(
            select(NeighbourGroup).where(NeighbourGroup.id != group).limit(1)
        )
        other.captain_id = cast["backup"].person_id
        for person, where in ((cast["captain"], group), (cast["backup"], other.id)):
            await set_away(session=session, group_ids=(where,), person_id=person.person_id,
                           starts=day, ends=day, now=T0)  # fmt: skip
        await _file(session, cast)
        due = await due_people(
            session=session, day=day, community_ids={other.community_id}, is_working=lambda c: True
        )
    rows = [m for m in await Flow(db, cast, 0).outbox() if m.kind == "report_new"]
    assert [m.person_id for m in rows] == [cast["grid"].person_id]
    (ours,) = [d for d in due if d.group_id == group]
    assert ours.person_id == cast["grid"].person_id and ours.stand_in


async def test_group_chat_summary_hides_the_reporter(db: Db) -> None:
    """The linked group chat gets one summary without the reporter's name or phone and with
    phone-like digits masked, while the captain's notice does carry the contact."""
    async with db.begin() as session:
        cast = await _cast(session)
        (await session.get(NeighbourGroup, cast["reporter"].group_id)).chat_id = -100777
        text = "漏水，请联系 139 1234 5678 或 0554-1234567"
        f = Flow(db, cast, await _file(session, cast, text=text))
    rows = await f.outbox()
    body = {m.chat_id: json.dumps(m.payload, ensure_ascii=False) for m in rows}
    assert len(rows) == len(body) == 2  # the captain's private chat and the group chat
    captain, chat = body[cast["captain"].telegram_id], body[-100777]
    assert "小李" in captain and "13900000011" in captain
    for secret in ("小李", "13900000011", "1234 5678", "5678", "1234567"):
        assert secret not in chat, secret
    assert chat.count("****") == 2 and "漏水" in chat


async def test_group_chat_summary_masks_door_numbers_and_the_reporters_name(db: Db) -> None:
    """Room numbers and the reporter's own name in the description do not reach the group
    chat (the unit field never does); the building, the unit entrance and the problem do."""
    async with db.begin() as session:
        cast = await _cast(session)
        (await session.get(NeighbourGroup, cast["reporter"].group_id)).chat_id = -100777
        text = "2单元301室小李家门口漏水，楼上3-502也有，7室门口也湿了"
        f = Flow(db, cast, await _file(session, cast, text=text))
    (chat,) = [m.payload["text"]["params"]["excerpt"] for m in await f.outbox() if m.chat_id < 0]
    for secret in ("301", "502", "7室", "小李"):
        assert secret not in chat, (secret, chat)
    assert chat.startswith("2单元***室**家门口漏水") and "3-***" in chat and "***室门口" in chat


async def test_residents_never_see_each_others_names_or_phones(db: Db) -> None:
    """Across a whole life with a follower, no outbox payload addressed to one resident holds
    another resident's name or phone."""
    f = await _flow(db)
    await f.act("neighbour", "follow")
    steps = [("captain", "ack", None), ("captain", "escalate", "物业"),
             ("grid", "send_back", "邻长跟进"), ("reporter", "add_info", "晚上更暗"),
             ("captain", "resolve", "修好了"), ("reporter", "not_fixed", "还是坏"),
             ("captain", "resolve", "再修"), ("reporter", "fixed", None)]  # fmt: skip
    for hours, (who, action, note) in enumerate(steps, start=1):
        assert (await f.act(who, action, hours, note)).outcome == "done", action
    secrets = {f.pid("reporter"): ("小李", "13900000011"),
               f.pid("neighbour"): ("小张", "13911112222")}  # fmt: skip
    told = dict.fromkeys(secrets, 0)
    for m in await f.outbox():
        if m.person_id in secrets:
            told[m.person_id] += 1
            body = json.dumps(m.payload, ensure_ascii=False)
            leaked = [w for p, words in secrets.items() if p != m.person_id for w in words]
            assert not [w for w in leaked if w in body], body
    assert min(told.values()) >= 3  # both residents were told of several steps


async def test_captain_and_backup_ack_at_once(db: Db) -> None:
    """Captain and backup acknowledge the same report concurrently in two sessions: exactly
    one ``done``, one ``already`` and one status event."""
    f = await _flow(db)
    results = await asyncio.gather(f.act("captain", "ack", 1), f.act("backup", "ack", 1))
    assert sorted(r.outcome for r in results) == ["already", "done"]
    assert [e.to_status for e in await f.events()] == ["new", "acknowledged"]
    assert (await f.report()).version == 2
