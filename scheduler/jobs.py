"""Registering the scheduled jobs on PTB's JobQueue from the schedules in our tables.

Every job has a cron trigger in the configured time zone and a deterministic id, so a
re-registration replaces instead of duplicating, and jobs no longer wanted are removed
(DESIGN rule 7).  Call ``register_jobs`` at start and after any schedule change, and
``catch_up_all`` at start.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from scheduler.digest_jobs import catch_up_digest, digest_job
from scheduler.meeting_jobs import BEFORE, catch_up_meetings, meeting_reminder_job
from scheduler.planning import shifted
from scheduler.reminders import KINDS, catch_up, checkin_job, default_schedule
from settings import parse_hhmm
from storage import checkins, meetings
from storage.deadlines import BATCH, run_timers
from storage.report_flow import ReportConfig

log = logging.getLogger(__name__)

_OURS = ("report_timers", "ci:", "mt:", "digest", "metrics")


async def report_timers_job(context: Any) -> None:
    """Escalate overdue reports and close unconfirmed ones, in bounded batches."""
    config = ReportConfig.from_settings(context.settings)
    for _ in range(50):
        async with context.db.begin() as session:
            run = await run_timers(session=session, now=context.clock.now(), config=config)
        if run.escalated or run.closed:
            log.info("report timers: escalated %s, closed %s", len(run.escalated), len(run.closed))
            context.wake_outbox()
        if len(run.escalated) < BATCH and len(run.closed) < BATCH:
            break


async def metrics_job(context: Any) -> None:
    """Refresh the gauges that need the database (outbox depth, unreachable people)."""
    metrics = context.runtime.extras.get("metrics")
    if metrics is None:
        return
    from sqlalchemy import func, select

    from storage.models import Person
    from storage.outbox import pending_count

    async with context.db.begin() as session:
        metrics.outbox_pending.set(await pending_count(session=session))
        metrics.unreachable_people.set(
            await session.scalar(
                select(func.count())
                .select_from(Person)
                .where(Person.unreachable_since.is_not(None))
            )
            or 0
        )


def _every(seconds: int, tz: Any) -> CronTrigger:
    """A cron trigger firing every ``seconds`` (a divisor of 60, or whole minutes)."""
    if seconds < 60:
        return CronTrigger(second=f"*/{seconds}", timezone=tz)
    return CronTrigger(minute=f"*/{seconds // 60}", timezone=tz)


def _add(app: Any, callback: Any, trigger: CronTrigger, job_id: str, data: Any = None) -> None:
    app.job_queue.run_custom(
        callback,
        job_kwargs={
            "trigger": trigger,
            "id": job_id,
            "replace_existing": True,
            "coalesce": True,
            "misfire_grace_time": 600,
        },
        name=job_id,
        data=data,
    )


async def register_jobs(app: Any) -> int:
    """(Re-)create every job from the settings and the schedules in our tables."""
    if app.job_queue is None:
        return 0
    runtime = app.bot_data["wulin"]
    settings = runtime.settings
    tz = settings.tz
    wanted: dict[str, tuple[Any, CronTrigger, Any]] = {
        "report_timers": (
            report_timers_job,
            _every(settings.report_timer_seconds, tz),
            None,
        ),
    }
    if "metrics" in runtime.extras:
        wanted["metrics"] = (metrics_job, CronTrigger(second="*/30", timezone=tz), None)
    digest_at = parse_hhmm(settings.digest_time)
    wanted["digest"] = (
        digest_job,
        CronTrigger(day_of_week="mon", hour=digest_at.hour, minute=digest_at.minute, timezone=tz),
        None,
    )
    async with runtime.db.begin() as session:
        all_schedules = await checkins.schedules(
            session=session, default=default_schedule(settings)
        )
        all_meetings = await meetings.all_meetings(session=session)
    for kind in KINDS:
        times = {getattr(s, kind) for s in all_schedules.values()} | {
            getattr(default_schedule(settings), kind)
        }
        for time in sorted(times):
            at = parse_hhmm(time)
            wanted[f"ci:{kind}:{time}"] = (
                checkin_job,
                CronTrigger(hour=at.hour, minute=at.minute, timezone=tz),
                {"kind": kind, "time": time},
            )
    for meeting in all_meetings:
        for kind, before in BEFORE.items():
            spec = shifted(meeting.weekday, meeting.time, before)
            trigger = CronTrigger(
                day_of_week=spec.day_of_week, hour=spec.hour, minute=spec.minute, timezone=tz
            )
            wanted[f"mt:{meeting.grid_id}:{kind}"] = (
                meeting_reminder_job,
                trigger,
                {"grid_id": meeting.grid_id, "kind": kind},
            )
    for job in app.job_queue.jobs():
        if job.name and job.name.startswith(_OURS) and job.name not in wanted:
            job.schedule_removal()
    for job_id, (callback, trigger, data) in wanted.items():
        _add(app, callback, trigger, job_id, data)
    log.info("registered %s scheduled jobs", len(wanted))
    return len(wanted)


async def catch_up_all(context: Any) -> None:
    """At start: what a stopped bot missed — today's check-in reminders inside their windows,
    meeting reminders of meetings still to come, and this week's digest (DESIGN rule 7)."""
    await catch_up(context)
    await catch_up_meetings(context)
    await catch_up_digest(context)


def describe(app: Any) -> list[str]:
    """The registered jobs' names (for logs and tests)."""
    return sorted(job.name for job in app.job_queue.jobs() if job.name)


__all__ = ["catch_up_all", "describe", "register_jobs", "report_timers_job", "timedelta"]
