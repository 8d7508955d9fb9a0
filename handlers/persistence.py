"""PTB persistence in our database: conversation states and per-user drafts survive a
restart (even ``kill -9``, up to the last flush a second or two earlier), so a resident in
the middle of a report carries on where they were.

Only ``user_data`` and conversations are stored (chat and bot data are not used); empty
user data is deleted rather than stored, so the table holds only people mid-flow.

PTB flushes every ``update_interval`` seconds, for every user who sent anything, all at
once. Three things keep that from starving the handlers of the database: a user's data is
written only when it differs from what this process last wrote (or loaded); the writes
of one flush go into one transaction per ``BATCH`` rows (on SQLite every transaction
takes the one write lock: a hundred separate ones kept the handlers waiting in line);
and at most ``WRITERS`` of those transactions run at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from handlers.ui import FLOW_TIMEOUT
from scheduler.clock import Clock
from storage import state

log = logging.getLogger(__name__)
USER = "user"
#: Concurrent persistence writes (the pool must keep connections for the handlers).
WRITERS = 4
#: Rows written in one transaction at most.
BATCH = 200
#: A restored conversation state last written longer ago than the flows' timeout is dropped
#: at load (PTB restores states but not their timeout jobs).
STALE_AFTER = FLOW_TIMEOUT


class _Batch:
    """Writes gathered in one turn of the event loop, committed together."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], bytes | None] = {}
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class DbPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Stores conversations and user data in the ``bot_state`` table."""

    def __init__(
        self, db: async_sessionmaker[AsyncSession], clock: Clock, update_interval: float = 2.0
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.db = db
        self.clock = clock
        # What the table holds for each user, as far as this process knows (absent: no row).
        self._saved: dict[int, bytes] = {}
        self._writers = asyncio.Semaphore(WRITERS)
        self._batch: _Batch | None = None
        self._commits: set[asyncio.Task[None]] = set()
        #: (conversation, key) → when a restored state was last written; the flow guard
        #: (``handlers/__init__.py``) ends those that time out before they are used again.
        self.restored: dict[tuple[str, tuple[Any, ...]], datetime] = {}

    async def _write(self, kind: str, key: str, value: bytes | None) -> None:
        """Store (None: delete) one row, together with the other writes of this flush.

        PTB gathers a flush's writes, so they all start in the same turn of the event
        loop: the first opens a batch whose commit is scheduled after that turn, the others
        join it, and each returns once the batch is committed (or raises its error).
        """
        batch = self._batch
        if batch is None or len(batch.rows) >= BATCH:
            batch = self._batch = _Batch()
            asyncio.get_running_loop().call_soon(self._start_commit, batch)
        batch.rows[(kind, key)] = value
        await asyncio.shield(batch.done)

    def _start_commit(self, batch: _Batch) -> None:
        if self._batch is batch:
            self._batch = None  # later writes start a new batch
        task = asyncio.ensure_future(self._commit(batch))
        self._commits.add(task)  # keep a reference until it is done
        task.add_done_callback(self._commits.discard)

    async def _commit(self, batch: _Batch) -> None:
        """One transaction for the batch; its waiters get the outcome (never lost)."""
        try:
            async with self._writers, self.db.begin() as session:
                await state.save_many(session=session, rows=batch.rows, now=self.clock.now())
        except asyncio.CancelledError:
            batch.done.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 — not swallowed: every waiter raises it
            batch.done.set_exception(exc)
        else:
            batch.done.set_result(None)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Every stored user's data."""
        async with self.db.begin() as session:
            rows = await state.load_kind(session=session, kind=USER)
        out: dict[int, dict[Any, Any]] = {}
        for key, value in rows.items():
            try:
                out[int(key)] = pickle.loads(value)
                self._saved[int(key)] = value
            except (pickle.UnpicklingError, AttributeError, ImportError, ValueError, EOFError):
                log.warning("dropping unreadable saved state of user %s (code changed?)", key)
        return out

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Chat data is not persisted."""
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        """Bot data is not persisted (the runtime lives there)."""
        return {}

    async def get_callback_data(self) -> None:
        """Arbitrary callback data is not used."""
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        """The states of one conversation handler, without those older than the flows'
        timeout (deleted: nobody would have been waiting in them any more)."""
        now, kind = self.clock.now(), f"conv:{name}"
        out: ConversationDict = {}
        async with self.db.begin() as session:
            rows = await state.load_kind_dated(session=session, kind=kind)
            stale: dict[tuple[str, str], bytes | None] = {}
            for key, value, updated_at in rows:
                if now - updated_at > STALE_AFTER:
                    stale[(kind, key)] = None
                    continue
                out[tuple(json.loads(key))] = pickle.loads(value)
                self.restored[(name, tuple(json.loads(key)))] = updated_at
            if stale:
                log.info(
                    "dropping %d timed-out %s states saved before the restart", len(stale), name
                )
                await state.save_many(session=session, rows=stale, now=now)
        return out

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store (or forget, when ended) one person's state in one conversation."""
        self.restored.pop((name, tuple(key)), None)
        value = None if new_state is None else pickle.dumps(new_state)
        await self._write(f"conv:{name}", json.dumps(list(key)), value)

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Store a user's drafts (or forget them when empty)."""
        try:
            value = pickle.dumps(data) if data else None
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            log.warning("user %s data not saved: %s", user_id, exc)
            return
        if self._saved.get(user_id) == value:
            return  # unchanged: most updates (an FAQ question) change nothing here
        await self._write(USER, str(user_id), value)
        if value is None:
            self._saved.pop(user_id, None)
        else:
            self._saved[user_id] = value

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def update_callback_data(self, data: Any) -> None:
        """Not persisted."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not persisted."""

    async def drop_user_data(self, user_id: int) -> None:
        """Forget a user's stored data."""
        await self._write(USER, str(user_id), None)
        self._saved.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh: one process owns a user's updates."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def flush(self) -> None:
        """Everything is written as it changes."""
