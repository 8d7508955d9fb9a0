"""The SQLite adapter sends each statement to aiosqlite's thread in one trip."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.engine import create_engine, make_sessionmaker
from storage.models import Base, Street


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call aiosqlite runs on its thread, by name."""
    calls: list[str] = []
    real = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    yield calls


async def _engine(path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await _engine(tmp_path / "one-trip.sqlite3")
    yield engine
    await engine.dispose()


def test_the_installed_aiosqlite_gets_the_one_trip_adapter(engine: AsyncEngine) -> None:
    """If an upgrade of aiosqlite drops what the adapter relies on, this says so (the
    engine then silently falls back to SQLAlchemy's stock adapter)."""
    assert isinstance(engine.dialect.dbapi, sqlite_driver.OneTripDBAPI)


async def _trips_of_a_read(engine: AsyncEngine, trips: list[str]) -> int:
    db = make_sessionmaker(engine)
    async with db.begin() as session:
        session.add(Street(code="s1", name="舜耕街道"))
    async with db.begin() as session:
        await session.execute(text("SELECT 1"))  # the transaction has begun
        trips.clear()
        name = await session.scalar(select(Street.name).where(Street.code == "s1"))
        counted = len(trips)
    assert name == "舜耕街道"
    return counted


async def test_a_select_is_one_trip_to_the_driver_thread(
    engine: AsyncEngine, trips: list[str]
) -> None:
    assert await _trips_of_a_read(engine, trips) == 1


async def test_the_stock_adapter_makes_four_trips_for_the_same_select(
    tmp_path: Path, trips: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the adapter saves (and proof the count above can fail)."""
    monkeypatch.setattr(sqlite_driver, "module", lambda: None)
    stock = await _engine(tmp_path / "stock.sqlite3")
    try:
        assert not isinstance(stock.dialect.dbapi, sqlite_driver.OneTripDBAPI)
        assert await _trips_of_a_read(stock, trips) == 4  # cursor, execute, fetch, close
    finally:
        await stock.dispose()


async def test_a_read_transaction_is_three_trips(engine: AsyncEngine, trips: list[str]) -> None:
    """BEGIN, the SELECT, COMMIT: nothing else crosses to the thread."""
    db = make_sessionmaker(engine)
    async with engine.connect() as warm:  # the pool's connection is opened beforehand
        await warm.execute(text("SELECT 1"))
    trips.clear()
    async with db.begin() as session:
        await session.scalar(select(Street.id))
    assert len(trips) == 3, trips


async def test_rowcount_lastrowid_returning_and_empty_results(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(insert(Street).values(code="a", name="甲"))
        first_id = result.inserted_primary_key[0]
        assert first_id is not None
        returned = await conn.execute(
            insert(Street).values(code="b", name="乙").returning(Street.id, Street.code)
        )
        assert [tuple(r)[1] for r in returned] == ["b"]
        changed = await conn.execute(update(Street).values(name="丙"))
        assert changed.rowcount == 2
        none = await conn.execute(select(Street.id, Street.name).where(Street.code == "zz"))
        assert list(none.keys()) == ["id", "name"]
        assert none.all() == []


async def test_executemany_writes_every_row(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(Street), [{"code": f"s{i}", "name": f"街{i}"} for i in range(5)])
        await conn.execute(
            text("UPDATE streets SET name = :name WHERE code = :code"),
            [{"code": f"s{i}", "name": f"路{i}"} for i in range(5)],
        )
    async with engine.connect() as conn:
        names = (await conn.execute(select(Street.name).order_by(Street.code))).scalars().all()
    assert names == [f"路{i}" for i in range(5)]


async def test_a_failed_statement_raises_and_the_connection_carries_on(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(Street).values(code="dup", name="一"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(Street).values(code="dup", name="二"))
    async with engine.begin() as conn:
        await conn.execute(insert(Street).values(code="ok", name="三"))
    async with engine.connect() as conn:
        codes = (await conn.execute(select(Street.code).order_by(Street.code))).scalars().all()
    assert codes == ["dup", "ok"]


async def test_a_transaction_that_raises_is_rolled_back(engine: AsyncEngine) -> None:
    """The rollback that skips its trip outside a transaction still runs inside one."""
    db = make_sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with db.begin() as session:
            session.add(Street(code="lost", name="丢"))
            await session.flush()
            raise RuntimeError("handler failed")
    async with db.begin() as session:
        assert await session.scalar(select(Street.code)) is None


async def test_a_fetch_failing_half_way_leaves_no_snapshot_behind(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Text that is not UTF-8 fails the fetch after a row; the statement must not keep its
    read snapshot (while the error is alive), or the connection's next write — after
    someone else wrote — fails at once with "database is locked"."""
    async with engine.begin() as conn:
        await conn.execute(insert(Street).values(code="ok", name="好"))
        await conn.execute(
            text("INSERT INTO streets (code, name) VALUES ('bad', CAST(X'FF' AS TEXT))")
        )
    with pytest.raises(OperationalError) as failed:
        async with engine.connect() as conn:
            await conn.execute(select(Street.name).order_by(Street.code.desc()))
    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one-trip.sqlite3'}")
    try:
        async with other.begin() as conn:
            await conn.execute(insert(Street).values(code="other", name="别处"))
    finally:
        await other.dispose()
    async with engine.begin() as conn:  # the same pooled connection
        await conn.execute(insert(Street).values(code="after", name="之后"))
    assert failed.value is not None  # kept alive until here, as a handler's error may be
