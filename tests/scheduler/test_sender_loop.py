"""The outbox sender's loop: a database that is briefly unavailable is retried quietly."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.clock import SimClock
from scheduler.sender import OutboxSender
from tests.conftest import T0


async def test_locked_database_is_retried_with_a_warning(
    db: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's "database is locked" (past the busy timeout) while claiming: a warning, the
    loop goes on and claims on its next turn; no error is logged."""
    sender = OutboxSender(db=db, clock=SimClock(T0), default_language="zh")
    turns = 0
    retried = asyncio.Event()

    async def flaky(bot: object) -> int:
        nonlocal turns
        turns += 1
        if turns == 1:
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        retried.set()
        return 0

    sender.drain_once = flaky  # type: ignore[method-assign]
    caplog.set_level(logging.WARNING, logger="scheduler.sender")
    task = asyncio.create_task(sender.run_forever(None, poll_seconds=0.01, workers=1))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(retried.wait(), timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    records = [r for r in caplog.records if r.name == "scheduler.sender"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert "database is locked" in records[0].getMessage()
