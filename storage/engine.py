"""Engine and session factories; database-specific setup lives here and nowhere else."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from storage import sqlite_driver

log = logging.getLogger(__name__)

#: Execution option of the reader's connections (``make_reader``).
READ_ONLY = "wulin_read_only"


class WriteInReadOnly(RuntimeError):
    """A statement that writes was sent through a read-only session (a bug in the caller)."""


def is_sqlite(url: str) -> bool:
    """True for an SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """Create the async engine for ``url`` (sqlite+aiosqlite or postgresql+asyncpg).

    SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` transactions, so two
    writers queue up behind the lock instead of failing with "database is locked" on upgrade,
    and an adapter that sends each statement to aiosqlite's thread in one trip
    (``storage/sqlite_driver.py``).
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        one_trip = sqlite_driver.module()
        if one_trip is not None:
            kwargs["module"] = one_trip
        engine = create_async_engine(url, **kwargs)
        _setup_sqlite(engine)
        _guard_read_only(engine)
        return engine
    kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine)
    _guard_read_only(engine)
    return engine


#: A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 10.0
_LAST_USED = "wulin_last_used"  # record.info key: when the connection was last checked in


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping pooled connections that sat idle, instead of every checkout (``pool_pre_ping``).

    SQLAlchemy's pre-ping on asyncpg is three round trips (BEGIN, ``;``, ROLLBACK) on every
    transaction: ≈ 0.2 ms, a fifth of reading the actor. Under traffic connections go back
    and forth within milliseconds and are known good; the ones that sat idle (behind an
    idle-timeout middlebox, or across a server restart at night) are pinged, and a dead one
    is replaced before anyone uses it. A connection that dies while in steady use fails one
    statement (that user is told to try again shortly, ``handlers/context.py``) and the
    pool drops every connection opened before the failure.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    @event.listens_for(sync_engine, "checkin")
    def _stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = _uptime()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and _uptime() - last < IDLE_PING_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:  # the pool replaces this connection and checks out again
            log.info("an idle database connection failed its ping, replaced: %r", exc)
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc


def _uptime() -> float:
    """Seconds on a clock that keeps counting while the machine is suspended (Linux), so a
    connection idle across a suspended VM is pinged too; elsewhere the monotonic clock."""
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):
        return time.monotonic()


def _guard_read_only(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _refuse_writes(conn: Any, _c: Any, statement: str, _p: Any, context: Any, _m: Any) -> None:
        if (
            context is not None
            and (context.isinsert or context.isupdate or context.isdelete)
            and conn.get_execution_options().get(READ_ONLY)
        ):
            raise WriteInReadOnly(f"write in a read-only session: {statement[:80]}")


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
        # A reader's transaction begins DEFERRED: in WAL mode it reads its snapshot without
        # the write lock, so loading the actor never waits for the outbox sender's writes.
        conn.exec_driver_sql(
            "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
        )


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
    """The one session factory; objects stay usable after commit for rendering replies.

    On SQLite, ``begin()`` also takes this process's turn to write (``TakingTurns``); a
    reader (``make_reader``) does not.
    """
    options = {"expire_on_commit": False, "sync_session_class": KeepingSession}
    if engine.dialect.name == "sqlite" and not engine.get_execution_options().get(READ_ONLY):
        return TakingTurns(engine, **options)
    return async_sessionmaker(engine, **options)


class _TaskLock:
    """An asyncio lock its holding task may take again (a write nested in a write)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def acquire(self) -> None:
        me = asyncio.current_task()
        if me is not None and self._owner is me:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = me, 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class _Turn:
    """``async with``: wait for the turn, then the transaction; release both at the end."""

    def __init__(self, turn: _TaskLock, transaction: Any) -> None:
        self._turn, self._transaction = turn, transaction

    async def __aenter__(self) -> AsyncSession:
        await self._turn.acquire()
        try:
            return await self._transaction.__aenter__()
        except BaseException:
            self._turn.release()
            raise

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            return await self._transaction.__aexit__(*exc)
        finally:
            self._turn.release()


class TakingTurns(async_sessionmaker[AsyncSession]):
    """SQLite sessions whose write transactions take turns on an asyncio lock.

    SQLite has one write lock per database. Without the turn, concurrent updates (and the
    outbox sender) all send ``BEGIN IMMEDIATE`` and the losers wait in SQLite's busy
    handler, which sleeps in growing steps of up to 100 ms: tails of hundreds of ms at
    100 reports a second. Waiting here instead hands the lock over the moment it is free,
    in arrival order. Other processes (the admin CLI) still meet the busy timeout.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.turn = _TaskLock()

    def begin(self) -> Any:  # an async context manager yielding the session
        """A session in a transaction, once this process's earlier writers are done."""
        return _Turn(self.turn, super().begin())


def make_reader(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for transactions that only read (the actor, the /report form's lookups).

    On SQLite they begin ``DEFERRED`` instead of ``IMMEDIATE`` (see ``_on_begin``); on
    every backend a statement that writes through them raises ``WriteInReadOnly``.
    """
    return make_sessionmaker(engine.execution_options(**{READ_ONLY: True}))
