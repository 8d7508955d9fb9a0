"""SQLAlchemy's aiosqlite adapter, with one trip to the driver's thread per statement.

aiosqlite runs every ``sqlite3`` call on a thread of its own; each call is a trip there and
back (a queue, a wake-up, ``call_soon_threadsafe``: ≈ 60 µs here). SQLAlchemy's adapter
makes four trips for a ``SELECT`` (create the cursor, execute, fetch all, close), three for
``BEGIN`` and one for the rollback the pool sends after every commit, while the query
itself takes a few microseconds: reading the actor cost ≈ 0.5 ms of trips, a report filing
≈ 40 trips.

``OneTripCursor`` does create-execute-fetch-close in one trip (a closed sqlite3 cursor
keeps its description, rowcount and lastrowid, which is all SQLAlchemy reads afterwards);
the pool's rollback after a commit is skipped when no transaction is open
(sqlite3 would skip it too). Everything else — errors, transactions, the connection's
lifecycle — is SQLAlchemy's and aiosqlite's own code. It relies on
``aiosqlite.Connection._execute`` and ``._conn`` (SQLAlchemy's adapter itself uses ``_conn``
and ``_tx``); ``module()`` returns ``None`` when they are missing, and the engine falls back
to the stock adapter.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statements cost one trip to aiosqlite's thread each."""

    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return None  # made in the driver's thread, with the statement

    def _aenter_cursor(self, cursor: Any) -> Any:
        return None

    async def _one_trip(self, work: Any) -> Any:
        """Run ``work(cursor)`` on a new sqlite3 cursor in the driver's thread; keep the cursor
        (its description, rowcount and lastrowid are plain attributes) and return the result."""
        raw = self._connection._conn  # the sqlite3.Connection, used only in its thread

        def run() -> tuple[sqlite3.Cursor, Any]:
            cursor = raw.cursor()
            try:
                return cursor, work(cursor)
            finally:
                # Here, in the driver's thread, on every path: a fetch that fails half-way
                # (text that is not UTF-8) would otherwise leave the statement holding its
                # read snapshot until the exception is collected — and the connection's next
                # write would fail with "database is locked".
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            self._cursor, result = await self._connection._execute(run)
        return result

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        def work(cursor: sqlite3.Cursor) -> list[Any] | None:
            cursor.execute(operation, () if parameters is None else parameters)
            return cursor.fetchall() if cursor.description else None

        rows = await self._one_trip(work)
        if rows is not None:
            self._rows = collections.deque(rows)
        return self._cursor

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._one_trip(lambda cursor: cursor.executemany(operation, seq_of_parameters))
        return self._cursor

    async def _async_soft_close(self) -> None:
        if self._cursor is not None:
            self._soft_closed_memoized = self._soft_closed_memoized.union(
                {"description": self._cursor.description}
            )

    def close(self) -> None:
        # The sqlite3 cursor was closed in the driver's thread, right after its statement
        # (closing it here would touch it from the wrong thread); its rowcount stays
        # readable, as SQLAlchemy expects.
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """The stock adapted connection, with ``OneTripCursor``."""

    __slots__ = ()
    _cursor_cls = OneTripCursor

    def rollback(self) -> None:
        # The pool "resets" every connection it gets back with a rollback, even after a
        # commit; sqlite3 itself skips a rollback outside a transaction, so skipping the
        # trip as well changes nothing (``in_transaction`` reads a flag, no thread needed).
        aio = self._connection
        if aio._connection is not None and not aio._connection.in_transaction:
            return
        super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy is given (``create_engine(..., module=...)``)."""

    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        stock = super().connect(*args, **kwargs)
        return OneTripConnection(self, stock._connection)


def module() -> OneTripDBAPI | None:
    """The one-trip DBAPI, or None when this aiosqlite lacks what it relies on."""
    if not (hasattr(aiosqlite.Connection, "_execute") and hasattr(aiosqlite.Connection, "_conn")):
        return None
    return OneTripDBAPI(aiosqlite, sqlite3)
