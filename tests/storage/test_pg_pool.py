"""PostgreSQL's pool pings only connections that sat idle (``storage.engine``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import engine as engine_module
from storage.engine import create_engine
from tests.conftest import pg_url


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    url = pg_url()
    if url is None:
        pytest.skip("PostgreSQL not available: set WULIN_TEST_PG_URL (.ci/run starts a server)")
    engine = create_engine(url, pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per ping the pool sends."""
    sent: list[int] = []
    real = AsyncAdapt_asyncpg_connection.ping

    def counting(self: Any) -> None:
        sent.append(1)
        real(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting)
    return sent


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _kill(pid: int) -> None:
    url = pg_url()
    assert url is not None
    other = create_engine(url, pool_size=1)
    try:
        async with other.begin() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(
    engine: AsyncEngine, pings: list[int]
) -> None:
    for _ in range(5):
        await _backend_pid(engine)
    assert pings == []


async def test_a_connection_that_sat_idle_is_pinged_first(
    engine: AsyncEngine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    await _backend_pid(engine)
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    await _backend_pid(engine)
    await _backend_pid(engine)
    assert len(pings) == 2


async def test_an_idle_connection_that_died_is_replaced_before_use(
    engine: AsyncEngine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server restart at night or an idle-timeout middlebox: nobody sees an error."""
    first = await _backend_pid(engine)
    await _kill(first)
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    second = await _backend_pid(engine)
    assert second != first
    assert pings  # it was the ping that found the dead connection


async def test_a_connection_dying_in_steady_use_fails_once_then_the_pool_recovers(
    engine: AsyncEngine, pings: list[int]
) -> None:
    """The price of not pinging every checkout: one statement fails (the handler tells
    that user to try again shortly) and the pool replaces the connection."""
    first = await _backend_pid(engine)
    await _kill(first)
    with pytest.raises(DBAPIError) as failed:
        await _backend_pid(engine)
    assert failed.value.connection_invalidated
    assert await _backend_pid(engine) != first
    assert pings == []
