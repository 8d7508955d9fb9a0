"""The session factory: objects loaded in a transaction are not loaded twice."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.engine import WriteInReadOnly, make_reader
from storage.models import Street


async def test_an_object_dropped_by_one_service_is_not_read_again(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """SQLAlchemy's identity map is weak; our sessions keep what they loaded until the
    transaction ends, so a second ``session.get`` in the same transaction is free — and a
    new transaction reads again (nothing stale is kept across updates)."""
    async with db.begin() as session:
        session.add(Street(code="s1", name="舜耕街道"))
    selects: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "streets" in statement:
            selects.append(statement)

    engine = db.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        async with db.begin() as session:
            street_id = await session.scalar(select(Street.id))
            assert street_id is not None
            selects.clear()
            first = await session.get(Street, street_id)
            assert first is not None and first.name == "舜耕街道"
            del first
            gc.collect()
            again = await session.get(Street, street_id)
            assert again is not None
            assert len(selects) == 1, selects
        async with db.begin() as session:
            await session.get(Street, street_id)
        assert len(selects) == 2, selects
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def test_a_reader_reads_while_a_writer_holds_the_lock(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Read-only sessions (the actor, the /report lookups) do not queue behind a write in
    progress: on SQLite they begin DEFERRED and read the last committed snapshot."""
    engine = db.kw["bind"]
    reader = make_reader(engine)
    async with db.begin() as session:
        session.add(Street(code="s1", name="舜耕街道"))
    async with db.begin() as writer:
        writer.add(Street(code="s2", name="田家庵街道"))
        await writer.flush()  # the writer now holds SQLite's write lock
        async with asyncio.timeout(5):  # a bound on waiting: without DEFERRED this waits 10 s
            async with reader.begin() as session:
                names = list(await session.scalars(select(Street.name).order_by(Street.code)))
    assert names == ["舜耕街道"]  # the committed snapshot, not the writer's pending row


@pytest.mark.parametrize("write", ["add", "update", "delete"])
async def test_a_reader_refuses_to_write(db: async_sessionmaker[AsyncSession], write: str) -> None:
    """A write through a read-only session is a bug: it raises, and nothing is written."""
    async with db.begin() as session:
        session.add(Street(code="s1", name="舜耕街道"))
    reader = make_reader(db.kw["bind"])
    with pytest.raises(WriteInReadOnly):
        async with reader.begin() as session:
            if write == "add":
                session.add(Street(code="s2", name="田家庵街道"))
                await session.flush()
            elif write == "update":
                await session.execute(update(Street).values(name="改名"))
            else:
                await session.execute(delete(Street))
    async with db.begin() as session:
        assert list(await session.scalars(select(Street.name))) == ["舜耕街道"]


async def test_sqlite_writers_take_turns_in_arrival_order(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """On SQLite a second writer waits for the first one's transaction to end before its
    own begins (no sleeping in SQLite's busy handler); readers are not held up. PostgreSQL
    writers run side by side."""
    log: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with db.begin() as session:
            log.append("first in")
            session.add(Street(code="s1", name="舜耕街道"))
            await session.flush()
            holding.set()
            await release.wait()
        log.append("first out")

    async def second() -> None:
        async with db.begin() as session:
            log.append("second in")
            session.add(Street(code="s2", name="田家庵街道"))

    one = asyncio.create_task(first())
    two = None
    try:
        async with asyncio.timeout(15):  # a bound on waiting, not a timing assertion
            await holding.wait()
            two = asyncio.create_task(second())
            await asyncio.sleep(0.05)
            async with make_reader(db.kw["bind"]).begin() as session:
                # the reader is not held up, and sees nothing of the open transaction
                assert "舜耕街道" not in list(await session.scalars(select(Street.name)))
            if db.kw["bind"].dialect.name == "sqlite":
                assert log == ["first in"]  # the second waits for its turn, outside SQLite
            else:
                assert log == ["first in", "second in"]
    finally:
        release.set()
        await asyncio.gather(one, *([two] if two else []))
    assert log[-1] in ("first out", "second in") and len(log) == 3
    async with db.begin() as session:
        assert sorted(await session.scalars(select(Street.code))) == ["s1", "s2"]


async def test_a_write_nested_in_a_write_of_the_same_task_does_not_wait_for_itself(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """The turn is the task's: a transaction opened inside another (before the outer one
    has written) goes ahead instead of waiting for ever."""
    async with asyncio.timeout(5):
        async with db.begin():
            async with db.begin() as inner:
                inner.add(Street(code="s3", name="洞山街道"))
    async with db.begin() as session:
        assert list(await session.scalars(select(Street.code))) == ["s3"]
