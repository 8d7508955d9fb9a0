"""The report timers: escalate what was not acknowledged or resolved in time to the grid
leader (telling everyone concerned), and close resolved reports nobody confirmed.

Run by a scheduled job; safe with several bot processes (rows are claimed with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL and the conditions are re-checked per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import lifecycle as lc
from storage import reports as svc
from storage.models import Report
from storage.report_flow import ReportConfig
from storage.report_notices import Notices, category_label

BATCH = 500


@dataclass
class TimerRun:
    """What one run of the timers did."""

    escalated: list[int]
    closed: list[int]


def _overdue_condition(now: datetime):  # type: ignore[no-untyped-def]
    # The top-level status term lets PostgreSQL use the status indexes (inside the OR alone
    # its estimate is off and it scans the primary key over the whole history).
    return and_(
        Report.status.in_(tuple(lc.OPEN)),
        Report.level == lc.CAPTAIN,
        Report.overdue_at.is_(None),
        or_(
            and_(Report.status.in_(tuple(lc.UNACKNOWLEDGED)), Report.ack_due_at < now),
            and_(Report.status.in_(tuple(lc.OPEN)), Report.resolve_due_at < now),
        ),
    )


async def _claim(session: AsyncSession, condition, limit: int) -> list[Report]:  # type: ignore[no-untyped-def]
    query = select(Report).where(condition).order_by(Report.id).limit(limit)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def escalate_overdue(
    *, session: AsyncSession, now: datetime, config: ReportConfig, limit: int = BATCH
) -> list[int]:
    """Escalate up to ``limit`` overdue captain-level reports; returns their ids."""
    done = []
    notices = Notices(session=session, categories=config.categories, tz=config.tz, now=now)
    for report in await _claim(session, _overdue_condition(now), limit):
        missed_ack = (
            report.status in lc.UNACKNOWLEDGED
            and report.ack_due_at is not None
            and report.ack_due_at < now
        )
        what = {"t": "rep.overdue.ack" if missed_ack else "rep.overdue.resolve"}
        change = await svc.change_level(
            session=session,
            report=report,
            actor_id=None,
            to_level=lc.GRID,
            note="ack" if missed_ack else "resolve",
            now=now,
            kind="overdue",
        )
        report.overdue_at = now
        if change.outcome != "done":
            continue
        done.append(report.id)
        captain_ids = await _captain_side(notices, report)
        await notices.to_handler(report, "rep.notice.overdue_leader", what=what)
        for person_id in captain_ids:
            await notices.to_person(
                person_id,
                "report_status",
                {
                    "text": {
                        "key": "rep.notice.overdue_captain",
                        "params": {
                            "id": report.id,
                            "category": category_label(config.categories, report.category),
                            "what": what,
                        },
                    }
                },
                report,
            )
        await notices.to_reporter_and_followers(report, "rep.notice.overdue_reporter")
    await session.flush()
    return done


async def _captain_side(notices: Notices, report: Report) -> tuple[int, ...]:
    return await notices.handlers_at_level(report, level=lc.CAPTAIN)


async def close_unconfirmed(
    *, session: AsyncSession, now: datetime, config: ReportConfig, limit: int = BATCH
) -> list[int]:
    """Close resolved reports whose confirmation window passed; returns their ids."""
    condition = and_(Report.status == lc.RESOLVED, Report.confirm_due_at < now)
    notices = Notices(session=session, categories=config.categories, tz=config.tz, now=now)
    done = []
    for report in await _claim(session, condition, limit):
        change = await svc.change_status(
            session=session,
            report=report,
            actor_id=None,
            to=lc.CLOSED,
            note=None,
            now=now,
            deadlines=config.deadlines(report.category),
            kind="auto_close",
        )
        if change.outcome != "done":
            continue
        done.append(report.id)
        await notices.to_reporter_and_followers(
            report, "rep.notice.closed_auto", days=int(config.confirm_days)
        )
        await notices.group_chat(report, "rep.notice.group_resolved")
    return done


async def run_timers(*, session: AsyncSession, now: datetime, config: ReportConfig) -> TimerRun:
    """Both timers, one batch each."""
    escalated = await escalate_overdue(session=session, now=now, config=config)
    closed = await close_unconfirmed(session=session, now=now, config=config)
    return TimerRun(escalated, closed)
