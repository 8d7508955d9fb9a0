"""Shared fixtures: a migrated database per test on SQLite and, when available, PostgreSQL.

Storage and handler tests take the ``db`` fixture and so run once per backend.  PostgreSQL
is used when ``WULIN_TEST_PG_URL`` (or a ``postgresql`` ``DATABASE_URL``) names a server;
otherwise those runs are skipped with the reason.  ``.ci/run`` starts a real server.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.engine import create_engine, make_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Base

#: A fixed "now" for tests that do not move time: a Tuesday, 09:30 in Shanghai.
T0 = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)


def pg_url() -> str | None:
    """The PostgreSQL URL tests may use, or None."""
    url = os.environ.get("WULIN_TEST_PG_URL") or os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return None


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_to_head(engine)
    # Closing the last connection checkpoints the WAL into the main file, so a plain copy
    # of the file is a complete database.
    await engine.dispose()
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
async def pg_engine() -> AsyncIterator[AsyncEngine | None]:
    """One engine on the test PostgreSQL database, migrated once (None when unavailable)."""
    url = pg_url()
    if url is None:
        yield None
        return
    engine = create_engine(url, pool_size=5)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


async def _truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
async def db_engine(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    pg_engine: AsyncEngine | None,
    tmp_path: Path,
) -> AsyncIterator[AsyncEngine]:
    """A clean, migrated database engine for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(sqlite_template, path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        yield engine
        await engine.dispose()
        return
    if pg_engine is None:
        pytest.skip("PostgreSQL not available: set WULIN_TEST_PG_URL (.ci/run starts a server)")
    await _truncate_all(pg_engine)
    yield pg_engine


@pytest.fixture
def db(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory on the test database."""
    return make_sessionmaker(db_engine)
