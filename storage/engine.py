"""Engine and session factories; database-specific setup lives here and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session


def is_sqlite(url: str) -> bool:
    """True for an SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """Create the async engine for ``url`` (sqlite+aiosqlite or postgresql+asyncpg).

    SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` transactions, so two
    writers queue up behind the lock instead of failing with "database is locked" on upgrade.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        _setup_sqlite(engine)
        return engine
    kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    return create_async_engine(url, **kwargs)


def _setup_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class KeepingSession(Session):
    """A session that keeps every object it loaded alive until it is closed.

    SQLAlchemy's identity map holds objects weakly: a group loaded by one service and
    dropped is loaded *again* by the next ``session.get`` in the same transaction (filing a
    report read the same group five times). Our sessions last one update or one job, so
    keeping their objects costs little and saves those round trips.
    """


@event.listens_for(KeepingSession, "loaded_as_persistent")
def _keep(session: Session, instance: object) -> None:
    session.info.setdefault("kept", []).append(instance)


@event.listens_for(KeepingSession, "after_transaction_end")
def _release(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction: the update or job is done
        session.info.pop("kept", None)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The one session factory; objects stay usable after commit for rendering replies."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=KeepingSession)
