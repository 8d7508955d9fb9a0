"""Report services through ``report_flow.perform``: the lifecycle with its events and
timestamps, idempotent repeats, escalation and send-back, who is notified of a new report,
what the group chat and other residents may (not) read, and two captains acting at once."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo.seed import seed_demo
from settings import Settings
from storage import reports as svc
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


@dataclass
class Cast:
    reporter: Actor  # 小李, 13900000011, g1-heping
    captain: Actor  # 王芳
    backup: Actor  # 陈刚 (bound to Telegram 2004)
    grid: Actor  # 张伟
    neighbour: Actor  # 小张, 13911112222, g1-heping
    neighbour2: Actor  # 小赵, g1-heping


async def _cast(session: AsyncSession) -> Cast:
    await seed_demo(session=session, now=T0)
    (await session.scalar(select(Person).where(Person.phone == "13800000004"))).telegram_id = 2004
    group = await session.scalar(select(NeighbourGroup).where(NeighbourGroup.code == "g1-heping"))
    for tg, name, phone in ((2001, "小张", "13911112222"), (2002, "小赵", None)):
        session.add(Person(telegram_id=tg, display_name=name, phone=phone, group_id=group.id,
                           community_id=group.community_id, created_at=T0, joined_at=T0))  # fmt: skip
    await session.flush()
    tgs = (1001, 1003, 2004, 1005, 2001, 2002)
    return Cast(*[await load_actor(session=session, telegram_id=tg) for tg in tgs])


async def _file(session: AsyncSession, cast: Cast, category: str = "repairs",
                description: str = "2栋楼道灯坏了", photos: tuple[str, ...] = ()) -> int:  # fmt: skip
    """File a report as the resident and queue its notices, as the /report handler does."""
    draft = svc.Draft(category=category, description=description, photos=list(photos),
                      building_id=cast.reporter.building_id, unit="3单元")  # fmt: skip
    report = await svc.create_report(session=session, reporter_id=cast.reporter.person_id,
                                     group_id=cast.reporter.group_id, draft=draft,
                                     deadlines=CONFIG.deadlines(category), now=T0)  # fmt: skip
    await Notices(session=session, categories=CONFIG.categories, tz=CONFIG.tz, now=T0).new_report(
        report
    )
    return report.id


async def _setup(db: Db, **file_args: object) -> tuple[Cast, int]:
    async with db.begin() as session:
        cast = await _cast(session)
        return cast, await _file(session, cast, **file_args)  # type: ignore[arg-type]


async def _act(db: Db, actor: Actor, rid: int, action: str, at: object = T0,
               note: str | None = None, photo: str | None = None) -> ActionResult:  # fmt: skip
    async with db.begin() as session:
        return await perform(session=session, actor=actor, report_id=rid, action=action,
                             now=at, config=CONFIG, note=note, photo=photo)  # type: ignore[arg-type]  # fmt: skip


async def _report(db: Db, rid: int) -> Report:
    async with db.begin() as session:
        return await session.get(Report, rid)


async def _events(db: Db, rid: int) -> list[ReportEvent]:
    async with db.begin() as session:
        query = select(ReportEvent).where(ReportEvent.report_id == rid).order_by(ReportEvent.id)
        return list(await session.scalars(query))


async def _outbox(db: Db, since: int = 0) -> list[OutboxMessage]:
    async with db.begin() as session:
        query = select(OutboxMessage).where(OutboxMessage.id > since).order_by(OutboxMessage.id)
        return list(await session.scalars(query))


def _keys(rows: list[OutboxMessage], person_id: int) -> list[tuple[str, str]]:
    return [(m.kind, m.payload["text"]["key"]) for m in rows if m.person_id == person_id]


async def test_full_lifecycle_records_events_and_timestamps(db: Db) -> None:
    """create → ack → progress → resolve → fixed: one event per step (actor, from, to, note,
    time), the matching timestamps, and the history shows the actors' names."""
    cast, rid = await _setup(db)
    rep, cap = cast.reporter.person_id, cast.captain.person_id
    steps = [("ack", cast.captain, None), ("progress", cast.captain, "已联系物业"),
             ("resolve", cast.captain, "换了灯泡"), ("fixed", cast.reporter, None)]  # fmt: skip
    for hours, (action, who, note) in enumerate(steps, start=1):
        assert (await _act(db, who, rid, action, T0 + hours * H, note)).outcome == "done"
        if action == "resolve":
            assert (await _report(db, rid)).confirm_due_at == T0 + 3 * H + timedelta(days=3)
    got = [(e.kind, e.actor_id, e.from_status, e.to_status, e.note, e.at) for e in await _events(db, rid)]  # fmt: skip
    assert got == [
        ("created", rep, None, "new", None, T0),
        ("status", cap, "new", "acknowledged", None, T0 + H),
        ("status", cap, "acknowledged", "in_progress", "已联系物业", T0 + 2 * H),
        ("status", cap, "in_progress", "resolved", "换了灯泡", T0 + 3 * H),
        ("status", rep, "resolved", "closed", None, T0 + 4 * H),
    ]
    r = await _report(db, rid)
    assert (r.status, r.version, r.updated_at) == ("closed", 5, T0 + 4 * H)
    assert (r.acknowledged_at, r.resolved_at, r.closed_at) == (T0 + H, T0 + 3 * H, T0 + 4 * H)
    assert r.confirm_due_at is None
    async with db.begin() as session:
        detail = await report_detail(session=session, report_id=rid, now=T0 + 5 * H)
    assert [e.actor for e in detail.events] == ["小李", "王芳", "王芳", "王芳", "小李"]


async def test_not_fixed_reopens_with_new_deadlines(db: Db) -> None:
    """"Not fixed" reopens a resolved report, clears its resolution and restarts both clocks."""
    cast, rid = await _setup(db)
    await _act(db, cast.captain, rid, "resolve", T0 + H, "修好了")
    since = max(m.id for m in await _outbox(db))
    later = T0 + timedelta(days=2)
    assert (await _act(db, cast.reporter, rid, "not_fixed", later, "还是坏的")).outcome == "done"
    r = await _report(db, rid)
    assert (r.status, r.resolved_at, r.confirm_due_at, r.acknowledged_at) == ("reopened", None, None, None)  # fmt: skip
    assert (r.ack_due_at, r.resolve_due_at) == (later + 24 * H, later + 168 * H)
    last = (await _events(db, rid))[-1]
    assert (last.actor_id, last.from_status, last.to_status, last.note) == (
        cast.reporter.person_id, "resolved", "reopened", "还是坏的")  # fmt: skip
    assert _keys(await _outbox(db, since), cast.captain.person_id) == [
        ("report_handler", "rep.notice.reopened")]  # fmt: skip


async def test_double_ack_is_already_and_writes_one_event(db: Db) -> None:
    """A second "ack" answers ``already`` and changes nothing."""
    cast, rid = await _setup(db)
    first = await _act(db, cast.captain, rid, "ack", T0 + H)
    second = await _act(db, cast.captain, rid, "ack", T0 + 2 * H)
    assert (first.outcome, second.outcome) == ("done", "already")
    assert [e.to_status for e in await _events(db, rid)] == ["new", "acknowledged"]
    r = await _report(db, rid)
    assert (r.version, r.acknowledged_at, r.updated_at) == (2, T0 + H, T0 + H)


async def test_resolving_a_closed_report_is_illegal(db: Db) -> None:
    """A captain cannot resolve a closed report: ``illegal``, no event, same version."""
    cast, rid = await _setup(db)
    await _act(db, cast.captain, rid, "resolve", T0 + H, "好了")
    await _act(db, cast.reporter, rid, "fixed", T0 + 2 * H)
    before = (await _report(db, rid)).version, len(await _events(db, rid))
    result = await _act(db, cast.captain, rid, "resolve", T0 + 3 * H, "再次")
    assert (result.outcome, result.status) == ("illegal", "closed")
    assert ((await _report(db, rid)).version, len(await _events(db, rid))) == before


async def test_reporter_withdraws(db: Db) -> None:
    """The reporter withdraws a new report: final, closed_at set, the captain told; no more acks."""
    cast, rid = await _setup(db)
    since = max(m.id for m in await _outbox(db))
    assert (await _act(db, cast.reporter, rid, "withdraw", T0 + H)).outcome == "done"
    r = await _report(db, rid)
    assert (r.status, r.closed_at) == ("withdrawn", T0 + H)
    assert ("report_handler", "rep.notice.withdrawn") in _keys(await _outbox(db, since), cast.captain.person_id)  # fmt: skip
    assert (await _act(db, cast.captain, rid, "ack", T0 + 2 * H)).outcome == "illegal"


async def test_add_info_and_photo_limit(db: Db) -> None:
    """Filed with the maximum of photos, as many more may be added; the next is refused with
    nothing written, while a note still goes through and reaches the captain."""
    cast, rid = await _setup(db, photos=("f1", "f2", "f3"))
    for i in range(CONFIG.max_photos):
        assert (await _act(db, cast.reporter, rid, "add_info", photo=f"a{i}")).outcome == "done"
    events = len(await _events(db, rid))
    refused = await _act(db, cast.reporter, rid, "add_info", note="再一张", photo="extra")
    assert refused.outcome == "illegal" and len(await _events(db, rid)) == events
    async with db.begin() as session:
        photos = list(await session.scalars(select(ReportPhoto.file_id).where(ReportPhoto.report_id == rid)))  # fmt: skip
    assert sorted(photos) == ["a0", "a1", "a2", "f1", "f2", "f3"]
    since = max(m.id for m in await _outbox(db))
    assert (await _act(db, cast.reporter, rid, "add_info", note="晚上更暗")).outcome == "done"
    assert _keys(await _outbox(db, since), cast.captain.person_id) == [("report_handler", "rep.notice.info")]  # fmt: skip
    assert (await _events(db, rid))[-1].kind == "info"


async def test_follow_counts_supporters(db: Db) -> None:
    """Two neighbours' +1 make two supporters and two followers; a repeat adds nothing."""
    cast, rid = await _setup(db)
    for who in (cast.neighbour, cast.neighbour2):
        assert (await _act(db, who, rid, "follow", T0 + H)).outcome == "done"
    async with db.begin() as session:
        report = await session.get(Report, rid)
        again = await svc.follow_report(session=session, report=report, person_id=cast.neighbour.person_id, now=T0)  # fmt: skip
        people = await followers_of(session=session, report_id=rid)
    assert again is False
    assert sorted(people) == sorted([cast.neighbour.person_id, cast.neighbour2.person_id])
    assert (await _report(db, rid)).supporters == 2


@pytest.mark.xfail(strict=True, reason="BUG: perform() answers a repeated +1 with 'forbidden', not 'already'")
async def test_follow_is_idempotent_through_perform(db: Db) -> None:
    """Pressing +1 twice answers ``already`` the second time (render_outcome's "already following")."""
    cast, rid = await _setup(db)
    await _act(db, cast.neighbour, rid, "follow", T0 + H)
    repeat = await _act(db, cast.neighbour, rid, "follow", T0 + 2 * H)
    assert (await _report(db, rid)).supporters == 1
    assert repeat.outcome == "already"


async def test_change_category_only_while_new(db: Db) -> None:
    """A new report moved to "safety" gets the 2 h acknowledge deadline from its filing time;
    the same category or a report already acknowledged is left alone."""
    cast, rid = await _setup(db)
    async with db.begin() as session:
        r = await session.get(Report, rid)
        change = dict(session=session, report=r, actor_id=cast.reporter.person_id, now=T0 + H / 6)
        assert await svc.change_category(category="safety", deadlines=CONFIG.deadlines("safety"), **change)  # fmt: skip
        assert not await svc.change_category(category="safety", deadlines=CONFIG.deadlines("safety"), **change)  # fmt: skip
    r = await _report(db, rid)
    assert (r.category, r.ack_due_at, r.resolve_due_at) == ("safety", T0 + 2 * H, T0 + 168 * H)
    assert [(e.kind, e.note) for e in await _events(db, rid)][-1] == ("category", "safety")
    await _act(db, cast.captain, rid, "ack", T0 + H)
    async with db.begin() as session:
        r = await session.get(Report, rid)
        assert not await svc.change_category(session=session, report=r, actor_id=cast.reporter.person_id, category="repairs", now=T0 + 2 * H, deadlines=CONFIG.deadlines("repairs"))  # fmt: skip
    assert (await _report(db, rid)).category == "safety"


async def test_escalate_then_send_back(db: Db) -> None:
    """Escalation puts the report at level 1 and tells the grid leader and the reporter; the
    grid leader's send-back returns it to level 0 with a fresh acknowledge deadline."""
    cast, rid = await _setup(db)
    since = max(m.id for m in await _outbox(db))
    assert (await _act(db, cast.captain, rid, "escalate", T0 + H, "需要物业")).outcome == "done"
    r = await _report(db, rid)
    assert (r.level, r.escalated_at) == (1, T0 + H)
    rows = await _outbox(db, since)
    assert _keys(rows, cast.grid.person_id) == [("report_handler", "rep.notice.escalated_to_you")]
    assert _keys(rows, cast.reporter.person_id) == [("report_status", "rep.notice.escalated_reporter")]  # fmt: skip
    assert _keys(rows, cast.captain.person_id) == []
    since = rows[-1].id
    back = T0 + 30 * H
    assert (await _act(db, cast.grid, rid, "send_back", back, "请邻长先处理")).outcome == "done"
    r = await _report(db, rid)
    assert (r.level, r.ack_due_at, r.overdue_at) == (0, back + 24 * H, None)
    assert _keys(await _outbox(db, since), cast.captain.person_id) == [("report_handler", "rep.notice.sent_back")]  # fmt: skip
    got = [(e.kind, e.actor_id, e.from_level, e.to_level, e.note) for e in (await _events(db, rid))[1:]]  # fmt: skip
    assert got == [("escalate", cast.captain.person_id, 0, 1, "需要物业"),
                   ("send_back", cast.grid.person_id, 1, 0, "请邻长先处理")]  # fmt: skip


LOCAL_NEXT_DAY = T0 + timedelta(hours=15, minutes=30)  # 17:00 UTC = 01:00 next day in Shanghai


@pytest.mark.parametrize(("situation", "expected"), [
    ("normal", "captain"), ("captain_away", "backup"), ("captain_unreachable", "backup"),
    ("away_by_local_date", "backup"), ("captain_away_backup_unreachable", "grid"),
    ("captain_away_backup_never_joined", "grid"),
])  # fmt: skip
async def test_new_report_goes_to_whoever_answers_today(db: Db, situation: str, expected: str) -> None:
    """The new-report notice (with buttons) goes to the captain, else the backup (captain away
    today in local time, or unreachable), else the grid leader."""
    async with db.begin() as session:
        cast = await _cast(session)
        heping, now = (cast.reporter.group_id,), T0
        if "away" in situation:
            day = date(2026, 12, 2) if situation == "away_by_local_date" else date(2026, 12, 1)
            now = LOCAL_NEXT_DAY if situation == "away_by_local_date" else T0
            await set_away(session=session, group_ids=heping, person_id=cast.captain.person_id, starts=day, ends=day, now=T0)  # fmt: skip
        person = {"captain": cast.captain, "backup": cast.backup}
        if situation == "captain_unreachable" or situation.endswith("backup_unreachable"):
            who = person["captain" if situation == "captain_unreachable" else "backup"]
            (await session.get(Person, who.person_id)).unreachable_since = T0
        if situation.endswith("never_joined"):
            (await session.get(Person, cast.backup.person_id)).telegram_id = None
        report = await svc.create_report(session=session, reporter_id=cast.reporter.person_id, group_id=cast.reporter.group_id, draft=svc.Draft("repairs", "灯坏了"), deadlines=CONFIG.deadlines("repairs"), now=now)  # fmt: skip
        await Notices(session=session, categories=CONFIG.categories, tz=CONFIG.tz, now=now).new_report(report)  # fmt: skip
    rows = [m for m in await _outbox(db) if m.kind == "report_new"]
    want = {"captain": cast.captain, "backup": cast.backup, "grid": cast.grid}[expected]
    assert [(m.person_id, m.chat_id) for m in rows] == [(want.person_id, want.telegram_id)]
    assert rows[0].payload["buttons"] and rows[0].payload["reroute"] is True


async def test_group_chat_summary_hides_the_reporter(db: Db) -> None:
    """The linked group chat gets one summary without the reporter's name or phone and with
    phone-like digits masked, while the captain's notice does carry the contact."""
    async with db.begin() as session:
        cast = await _cast(session)
        (await session.get(NeighbourGroup, cast.reporter.group_id)).chat_id = -100777
        await _file(session, cast, description="漏水，请联系 139 1234 5678 或 0554-1234567")
    rows = await _outbox(db)
    chat = [json.dumps(m.payload, ensure_ascii=False) for m in rows if m.chat_id == -100777]
    captain = [json.dumps(m.payload, ensure_ascii=False) for m in rows if m.person_id == cast.captain.person_id]  # fmt: skip
    assert len(chat) == 1 and len(captain) == 1
    assert "小李" in captain[0] and "13900000011" in captain[0]
    for secret in ("小李", "13900000011", "1234 5678", "5678", "1234567"):
        assert secret not in chat[0], secret
    assert chat[0].count("****") == 2 and "漏水" in chat[0]


async def test_residents_never_see_each_others_names_or_phones(db: Db) -> None:
    """Across a whole life with a follower, no outbox payload addressed to one resident holds
    another resident's name or phone."""
    cast, rid = await _setup(db)
    await _act(db, cast.neighbour, rid, "follow", T0)
    steps = [(cast.captain, "ack", None), (cast.captain, "escalate", "物业"), (cast.grid, "send_back", "邻长跟进"),
             (cast.reporter, "add_info", "晚上更暗"), (cast.captain, "resolve", "修好了"),
             (cast.reporter, "not_fixed", "还是坏"), (cast.captain, "resolve", "再修"), (cast.reporter, "fixed", None)]  # fmt: skip
    for i, (who, action, note) in enumerate(steps, start=1):
        assert (await _act(db, who, rid, action, T0 + i * H, note)).outcome == "done", action
    secrets = {cast.reporter.person_id: ("小李", "13900000011"), cast.neighbour.person_id: ("小张", "13911112222")}  # fmt: skip
    seen = dict.fromkeys(secrets, 0)
    for m in await _outbox(db):
        if m.person_id in secrets:
            seen[m.person_id] += 1
            body = json.dumps(m.payload, ensure_ascii=False)
            for other, words in secrets.items():
                assert other == m.person_id or not any(w in body for w in words), body
    assert min(seen.values()) >= 3  # both residents were told of several steps


async def test_two_captains_ack_at_once(db: Db) -> None:
    """Captain and backup acknowledge the same report concurrently in two sessions: exactly
    one ``done``, one ``already`` and one status event."""
    cast, rid = await _setup(db)
    results = await asyncio.gather(
        _act(db, cast.captain, rid, "ack", T0 + H), _act(db, cast.backup, rid, "ack", T0 + H)
    )
    assert sorted(r.outcome for r in results) == ["already", "done"]
    assert [e.to_status for e in await _events(db, rid)] == ["new", "acknowledged"]
    assert (await _report(db, rid)).version == 2
