"""Registering the scheduled jobs on PTB's JobQueue, and the job callbacks (``*_job``).

Every job has a cron trigger in the configured time zone and a deterministic id, so a
re-registration replaces instead of duplicating (DESIGN rule 7).  Job callbacks get the
application's context (``.db``, ``.clock``, ``.settings``) and open one transaction per
batch; they never assume they are the only bot process.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from storage.deadlines import BATCH, run_timers
from storage.report_flow import ReportConfig

log = logging.getLogger(__name__)

#: How often the report timers look for overdue and unconfirmed reports.
TIMER_MINUTES = 5


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
    tz = runtime.settings.tz
    _add(
        app,
        report_timers_job,
        CronTrigger(minute=f"*/{TIMER_MINUTES}", timezone=tz),
        "report_timers",
    )
    return len(app.job_queue.jobs())
