"""Scheduler fixtures: a bot started at a chosen local time (and time zone)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.clock import SimClock
from settings import Settings
from tests.harness import Harness

MakeBot = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_bot(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[MakeBot]:
    """``await make_bot("2026-12-01 08:30", timezone="Asia/Shanghai")`` → a started Harness."""
    started: list[Harness] = []

    async def make(local: str, *, timezone: str = "Asia/Shanghai", **settings: object) -> Harness:
        tz = ZoneInfo(timezone)
        start = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        config = Settings(
            _env_file=None,
            database_url="sqlite+aiosqlite:///:memory:",
            timezone=timezone,
            **settings,
        )
        harness = Harness(db=db, clock=SimClock(start), settings=config)
        await harness.start()
        started.append(harness)
        return harness

    yield make
    for harness in started:
        await harness.stop()
        assert not harness.errors, f"handlers raised: {harness.errors!r}"
