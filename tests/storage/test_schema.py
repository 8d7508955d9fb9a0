"""The schema: migrations match the models; SQLite runs with WAL and foreign keys."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import current_revision, head_revision, upgrade_to_head
from storage.models import Base


async def test_migrations_match_models(db_engine: AsyncEngine) -> None:
    """Autogenerate finds no difference between the migrated database and the models."""
    async with db_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
            )
        )
    assert diff == []


async def test_upgrade_is_idempotent(db_engine: AsyncEngine) -> None:
    """Upgrading an up-to-date database is a no-op and stays at head."""
    await upgrade_to_head(db_engine)
    assert await current_revision(db_engine) == head_revision()


async def test_sqlite_pragmas(db_engine: AsyncEngine) -> None:
    """SQLite connections use WAL and enforce foreign keys."""
    if db_engine.dialect.name != "sqlite":
        return
    async with db_engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
