"""Handler fixtures: a started ``Harness`` per test and backend; swallowed errors fail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.clock import SimClock
from settings import Settings
from tests.conftest import T0
from tests.harness import PEOPLE, Harness


@pytest.fixture
async def bot(
    db: async_sessionmaker[AsyncSession], request: pytest.FixtureRequest
) -> AsyncIterator[Harness]:
    """A started bot on the demo organisation; fails the test if any handler raised."""
    settings = Settings(_env_file=None, database_url="sqlite+aiosqlite:///:memory:")
    harness = Harness(db=db, clock=SimClock(T0), settings=settings)
    await harness.start()
    yield harness
    await harness.stop()
    expected = request.node.get_closest_marker("expect_errors")
    if not expected:
        assert not harness.errors, f"handlers raised: {harness.errors!r}"


@pytest.fixture
def people() -> dict:
    """The demo identities by key (resident, newcomer, captain, captain2, grid, admin)."""
    return PEOPLE
