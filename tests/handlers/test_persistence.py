"""DbPersistence writes a user's data only when it changed, and never floods the pool."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import persistence
from handlers.persistence import DbPersistence
from scheduler.clock import SimClock
from storage.models import BotState
from tests.conftest import T0


class Writes:
    """Counts INSERT/UPDATE/DELETE statements on the bot_state table."""

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.count = 0
        self.engine = db.kw["bind"].sync_engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip().split(None, 1)[0].upper()
        if head in ("INSERT", "UPDATE", "DELETE") and "bot_state" in statement:
            self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.fixture
def writes(db: async_sessionmaker[AsyncSession]) -> Any:
    counter = Writes(db)
    yield counter
    counter.close()


async def _rows(db: async_sessionmaker[AsyncSession]) -> dict[str, bytes]:
    async with db.begin() as session:
        return {r.key: r.value for r in await session.scalars(select(BotState))}


async def test_unchanged_data_is_not_written_again(
    db: async_sessionmaker[AsyncSession], writes: Writes
) -> None:
    """A draft is stored once, not again while unchanged; changed, it is stored; emptied,
    its row is deleted once; a user who never had data costs nothing."""
    p = DbPersistence(db, SimClock(T0))
    await p.get_user_data()
    await p.update_user_data(7, {"draft": "漏水"})
    await p.update_user_data(7, {"draft": "漏水"})
    assert writes.count == 1
    await p.update_user_data(7, {"draft": "漏水，很急"})
    assert writes.count == 2
    await p.update_user_data(7, {})
    await p.update_user_data(7, {})
    assert writes.count == 3
    assert await _rows(db) == {}
    await p.update_user_data(8, {})  # an FAQ question: nothing stored, nothing written
    assert writes.count == 3


async def test_loaded_data_counts_as_written(
    db: async_sessionmaker[AsyncSession], writes: Writes
) -> None:
    """After a restart, data loaded from the table is not written back unchanged, and data
    emptied since is deleted."""
    first = DbPersistence(db, SimClock(T0))
    await first.update_user_data(7, {"draft": "灯坏了"})
    await first.update_user_data(9, {"draft": "垃圾"})
    second = DbPersistence(db, SimClock(T0))
    loaded = await second.get_user_data()
    assert loaded == {7: {"draft": "灯坏了"}, 9: {"draft": "垃圾"}}
    before = writes.count
    await second.update_user_data(7, {"draft": "灯坏了"})
    assert writes.count == before
    await second.update_user_data(9, {})
    assert writes.count == before + 1
    assert list(await _rows(db)) == ["7"]


async def test_a_flush_of_many_users_uses_few_connections(
    db: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PTB flushes every user at once; at most WRITERS of those writes hold a connection."""
    p = DbPersistence(db, SimClock(T0))
    busy = peak = 0
    real_save = persistence.state.save_many

    calls = 0

    async def counting_save(**kwargs: Any) -> None:
        nonlocal busy, peak, calls
        calls += 1
        busy += 1
        peak = max(peak, busy)
        await asyncio.sleep(0.001)
        await real_save(**kwargs)
        busy -= 1

    monkeypatch.setattr(persistence.state, "save_many", counting_save)
    monkeypatch.setattr(persistence, "BATCH", 5)  # eight batches: more than WRITERS
    await asyncio.gather(*(p.update_user_data(uid, {"n": uid}) for uid in range(1, 41)))
    assert calls == 8 and peak <= persistence.WRITERS
    assert len(await _rows(db)) == 40


async def test_a_flush_is_one_transaction(
    db: async_sessionmaker[AsyncSession], writes: Writes
) -> None:
    """The writes PTB gathers in one flush (drafts and conversation states of many users)
    are committed together, not one transaction each; every row arrives."""
    p = DbPersistence(db, SimClock(T0))
    commits = 0

    def committed(*args: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(writes.engine, "commit", committed)
    try:
        await asyncio.gather(
            *(p.update_user_data(uid, {"n": uid}) for uid in range(1, 41)),
            *(p.update_conversation("report", (uid, uid), 2) for uid in range(1, 11)),
        )
    finally:
        event.remove(writes.engine, "commit", committed)
    assert commits == 1 and writes.count == 1  # one multi-row upsert
    rows = await _rows(db)
    assert len(rows) == 50 and "[3, 3]" in rows and "40" in rows


async def test_a_failed_flush_is_reported_to_every_writer_and_retried_next_time(
    db: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the batch: each gathered write raises (PTB logs it), nothing is
    marked as saved, and the next flush writes the data."""
    p = DbPersistence(db, SimClock(T0))
    real_save = persistence.state.save_many

    async def down(**kwargs: Any) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(persistence.state, "save_many", down)
    outcomes = await asyncio.gather(
        *(p.update_user_data(uid, {"n": uid}) for uid in (1, 2, 3)), return_exceptions=True
    )
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    assert await _rows(db) == {}
    monkeypatch.setattr(persistence.state, "save_many", real_save)
    await asyncio.gather(*(p.update_user_data(uid, {"n": uid}) for uid in (1, 2, 3)))
    assert sorted(await _rows(db)) == ["1", "2", "3"]
