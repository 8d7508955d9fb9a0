"""The session factory: objects loaded in a transaction are not loaded twice."""

from __future__ import annotations

import gc
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
