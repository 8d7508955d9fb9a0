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


async def save(
    *, session: AsyncSession, kind: str, key: str, value: bytes | None, now: datetime
) -> None:
    """Store (or, with None, forget) one piece of state."""
    if value is None:
        await session.execute(delete(BotState).where(BotState.kind == kind, BotState.key == key))
        return
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(BotState).values(kind=kind, key=key, value=value, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "key"], set_={"value": value, "updated_at": now}
    )
    await session.execute(stmt)
