"""Report timers: overdue captain-level reports are escalated to the grid leader once, with
notices for the grid leader, the captain and the reporter; resolved reports nobody confirmed
are closed automatically."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo.seed import seed_demo
from settings import Settings
from storage import reports as svc
from storage.deadlines import TimerRun, run_timers
from storage.models import OutboxMessage, Person, Report, ReportEvent
from storage.people import Actor, load_actor
from storage.report_flow import ReportConfig, perform
from tests.conftest import T0

H, MIN, DAY = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)
CONFIG = ReportConfig.from_settings(Settings(_env_file=None))
Db = async_sessionmaker[AsyncSession]


@dataclass
class World:
    reporter: Actor
    captain: Actor
    grid: Actor
    report_ids: list[int]


async def _world(db: Db, category: str = "repairs", count: int = 1) -> World:
    """The demo, and ``count`` reports of the resident filed at T0."""
    async with db.begin() as session:
        await seed_demo(session=session, now=T0)
        reporter, captain, grid = [
            await load_actor(session=session, telegram_id=tg) for tg in (1001, 1003, 1005)
        ]
        ids = []
        for i in range(count):
            report = await svc.create_report(
                session=session,
                reporter_id=reporter.person_id,
                group_id=reporter.group_id,
                draft=svc.Draft(category=category, description=f"问题 {i}"),
                deadlines=CONFIG.deadlines(category),
                now=T0,
            )
            ids.append(report.id)
    return World(reporter, captain, grid, ids)


async def _act(db: Db, actor: Actor, rid: int, action: str, at: datetime) -> str:
    async with db.begin() as session:
        result = await perform(
            session=session,
            actor=actor,
            report_id=rid,
            action=action,
            now=at,
            config=CONFIG,
            note="n",
        )
    return result.outcome


async def _run(db: Db, at: datetime) -> TimerRun:
    async with db.begin() as session:
        return await run_timers(session=session, now=at, config=CONFIG)


async def _state(db: Db, rid: int) -> tuple[Report, list[ReportEvent], list[OutboxMessage]]:
    async with db.begin() as session:
        report = await session.get(Report, rid)
        events = list(
            await session.scalars(
                select(ReportEvent).where(ReportEvent.report_id == rid).order_by(ReportEvent.id)
            )
        )
        outbox = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return report, events, outbox


def _notices(outbox: list[OutboxMessage]) -> set[tuple[int | None, str, str]]:
    return {(m.person_id, m.kind, m.payload["text"]["key"]) for m in outbox}


@pytest.mark.parametrize(("category", "ack_hours"), [("repairs", 24), ("safety", 2)])
async def test_unacknowledged_report_escalates_once_after_ack_deadline(
    db: Db, category: str, ack_hours: int
) -> None:
    """Before and at the acknowledge deadline nothing happens; a minute after it the report
    goes to level 1 once (overdue event, overdue_at) with notices for grid leader, captain
    and reporter; later runs do nothing more."""
    w = await _world(db, category)
    rid, due = w.report_ids[0], T0 + ack_hours * H
    for early in (T0 + H / 2, due - MIN, due):
        assert await _run(db, early) == TimerRun([], [])
    report, events, outbox = await _state(db, rid)
    assert (report.level, report.overdue_at, len(events), outbox) == (0, None, 1, [])
    assert (await _run(db, due + MIN)).escalated == [rid]
    report, events, outbox = await _state(db, rid)
    assert (report.level, report.overdue_at, report.escalated_at) == (1, due + MIN, due + MIN)
    last = events[-1]
    assert (last.kind, last.actor_id, last.from_level, last.to_level, last.note) == (
        "overdue",
        None,
        0,
        1,
        "ack",
    )
    assert _notices(outbox) == {
        (w.grid.person_id, "report_handler", "rep.notice.overdue_leader"),
        (w.captain.person_id, "report_status", "rep.notice.overdue_captain"),
        (w.reporter.person_id, "report_status", "rep.notice.overdue_reporter"),
    }
    assert len(outbox) == 3
    leader = next(m for m in outbox if m.person_id == w.grid.person_id)
    assert leader.payload["text"]["params"]["what"] == {"t": "rep.overdue.ack"}
    for later in (due + 2 * MIN, due + 30 * DAY):
        assert await _run(db, later) == TimerRun([], [])
    _, events_after, outbox_after = await _state(db, rid)
    assert (len(events_after), len(outbox_after)) == (len(events), len(outbox))


async def test_acknowledged_report_escalates_for_resolve_deadline(db: Db) -> None:
    """An acknowledged report is not chased for the acknowledge deadline, but past its
    resolve deadline (7 days) it is escalated with the "resolve" reason."""
    w = await _world(db)
    rid, due = w.report_ids[0], T0 + 168 * H
    assert await _act(db, w.captain, rid, "ack", T0 + H) == "done"
    for early in (T0 + 24 * H + MIN, due - MIN):
        assert (await _run(db, early)).escalated == []
    assert (await _run(db, due + MIN)).escalated == [rid]
    report, events, outbox = await _state(db, rid)
    assert (report.level, report.status, report.overdue_at) == (1, "acknowledged", due + MIN)
    assert (events[-1].kind, events[-1].note) == ("overdue", "resolve")
    leader = [m for m in outbox if m.person_id == w.grid.person_id]
    assert [m.payload["text"]["params"]["what"] for m in leader] == [{"t": "rep.overdue.resolve"}]


async def test_resolved_report_closes_after_confirm_window(db: Db) -> None:
    """A resolved report is closed by an ``auto_close`` event once ``confirm_due_at`` passed
    (not before, and never escalated), and the reporter is told."""
    w = await _world(db)
    rid = w.report_ids[0]
    assert await _act(db, w.captain, rid, "resolve", T0 + H) == "done"
    due = T0 + H + CONFIG.confirm_days * DAY
    assert await _run(db, due - MIN) == TimerRun([], [])
    _, _, outbox_before = await _state(db, rid)
    later = T0 + 8 * DAY  # past both confirm_due_at and the 7-day resolve deadline
    assert await _run(db, later) == TimerRun([], [rid])
    report, events, outbox = await _state(db, rid)
    assert (report.status, report.closed_at, report.level, report.confirm_due_at) == (
        "closed",
        later,
        0,
        None,
    )
    last = events[-1]
    assert (last.kind, last.actor_id, last.from_status, last.to_status) == (
        "auto_close",
        None,
        "resolved",
        "closed",
    )
    assert _notices(outbox[len(outbox_before) :]) == {
        (w.reporter.person_id, "report_status", "rep.notice.closed_auto")
    }
    assert await _run(db, later + DAY) == TimerRun([], [])


async def test_escalated_reports_are_not_escalated_again(db: Db) -> None:
    """A report the captain already escalated is left alone by the timers."""
    w = await _world(db)
    rid = w.report_ids[0]
    assert await _act(db, w.captain, rid, "escalate", T0 + H) == "done"
    _, events, outbox = await _state(db, rid)
    assert (await _run(db, T0 + 10 * DAY)).escalated == []
    report, events_after, outbox_after = await _state(db, rid)
    assert (report.level, len(events_after), len(outbox_after)) == (1, len(events), len(outbox))


async def test_sent_back_report_gets_a_fresh_deadline(db: Db) -> None:
    """After an overdue escalation and a send-back, the captain has a new 24 h: no escalation
    before it runs out, one more after."""
    w = await _world(db)
    rid = w.report_ids[0]
    assert (await _run(db, T0 + 25 * H)).escalated == [rid]
    back = T0 + 26 * H
    assert await _act(db, w.grid, rid, "send_back", back) == "done"
    assert (await _run(db, back + 24 * H - MIN)).escalated == []
    assert (await _run(db, back + 24 * H + MIN)).escalated == [rid]
    _, events, _ = await _state(db, rid)
    assert [e.kind for e in events].count("overdue") == 2


async def test_overdue_escalation_reaches_someone_reachable(db: Db) -> None:
    """When the grid leader blocked the bot, the overdue report's notice still reaches a
    reachable person above the captain (the community admin), as new reports do."""
    w = await _world(db)
    async with db.begin() as session:
        (await session.get(Person, w.grid.person_id)).unreachable_since = T0
    assert (await _run(db, T0 + 25 * H)).escalated == w.report_ids
    _, _, outbox = await _state(db, w.report_ids[0])
    async with db.begin() as session:
        reachable = set(await session.scalars(select(Person.id).where(
            Person.telegram_id.is_not(None), Person.unreachable_since.is_(None))))  # fmt: skip
    told = {m.person_id for m in outbox if m.payload["text"]["key"] == "rep.notice.overdue_leader"}
    assert told & reachable


async def test_finished_reports_are_never_chased(db: Db) -> None:
    """Withdrawn and rejected reports are neither escalated nor closed by the timers."""
    w = await _world(db, count=2)
    assert await _act(db, w.reporter, w.report_ids[0], "withdraw", T0 + H) == "done"
    assert await _act(db, w.captain, w.report_ids[1], "reject", T0 + H) == "done"
    assert await _run(db, T0 + 60 * DAY) == TimerRun([], [])


async def test_concurrent_timer_runs_escalate_each_report_once(db: Db) -> None:
    """Two timer runs at once (two bot processes) escalate every overdue report exactly once."""
    w = await _world(db, count=6)
    runs = await asyncio.gather(*(_run(db, T0 + 25 * H) for _ in range(2)))
    escalated = [rid for run in runs for rid in run.escalated]
    assert sorted(escalated) == sorted(w.report_ids)
    async with db.begin() as session:
        kinds = list(await session.scalars(select(ReportEvent.kind)))
    assert kinds.count("overdue") == 6
