"""Reading and writing persisted conversation state (opaque bytes, by kind and key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BotState


async def load_kind(*, session: AsyncSession, kind: str) -> dict[str, bytes]:
    """Every key of one kind."""
    rows = await session.execute(select(BotState.key, BotState.value).where(BotState.kind == kind))
    return {k: v for k, v in rows}


async def load_kind_dated(*, session: AsyncSession, kind: str) -> list[tuple[str, bytes, datetime]]:
    """Every key of one kind, with its value and when it was last written."""
    rows = await session.execute(
        select(BotState.key, BotState.value, BotState.updated_at).where(BotState.kind == kind)
    )
    return [(k, v, at) for k, v, at in rows]


async def save_many(
    *, session: AsyncSession, rows: dict[tuple[str, str], bytes | None], now: datetime
) -> None:
    """Store (value) or forget (None) many pieces of state, by (kind, key): one statement
    for all the upserts and one delete per kind, however many rows."""
    upserts = [
        {"kind": kind, "key": key, "value": value, "updated_at": now}
        for (kind, key), value in rows.items()
        if value is not None
    ]
    forgotten: dict[str, list[str]] = {}
    for (kind, key), value in rows.items():
        if value is None:
            forgotten.setdefault(kind, []).append(key)
    for kind, keys in forgotten.items():
        await session.execute(delete(BotState).where(BotState.kind == kind, BotState.key.in_(keys)))
    if upserts:
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(BotState)
        stmt = stmt.on_conflict_do_update(
            index_elements=["kind", "key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        await session.execute(stmt, upserts)
