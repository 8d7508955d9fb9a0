"""PTB persistence in our database: conversation states and per-user drafts survive a
restart (even ``kill -9``, up to the last flush a second or two earlier), so a resident in
the middle of a report carries on where they were.

Only ``user_data`` and conversations are stored (chat and bot data are not used); empty
user data is deleted rather than stored, so the table holds only people mid-flow.

PTB flushes every ``update_interval`` seconds, for every user who sent anything, all at
once. Two things keep that from starving the handlers of database connections: a user's
data is written only when it differs from what this process last wrote (or loaded), and
at most ``WRITERS`` writes run at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from scheduler.clock import Clock
from storage import state

log = logging.getLogger(__name__)
USER = "user"
#: Concurrent persistence writes (the pool must keep connections for the handlers).
WRITERS = 4


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
        """The states of one conversation handler."""
        async with self.db.begin() as session:
            rows = await state.load_kind(session=session, kind=f"conv:{name}")
        return {tuple(json.loads(k)): pickle.loads(v) for k, v in rows.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store (or forget, when ended) one person's state in one conversation."""
        value = None if new_state is None else pickle.dumps(new_state)
        async with self._writers, self.db.begin() as session:
            await state.save(
                session=session,
                kind=f"conv:{name}",
                key=json.dumps(list(key)),
                value=value,
                now=self.clock.now(),
            )

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Store a user's drafts (or forget them when empty)."""
        try:
            value = pickle.dumps(data) if data else None
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            log.warning("user %s data not saved: %s", user_id, exc)
            return
        if self._saved.get(user_id) == value:
            return  # unchanged: most updates (an FAQ question) change nothing here
        async with self._writers, self.db.begin() as session:
            await state.save(
                session=session, kind=USER, key=str(user_id), value=value, now=self.clock.now()
            )
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
        async with self._writers, self.db.begin() as session:
            await state.save(
                session=session, kind=USER, key=str(user_id), value=None, now=self.clock.now()
            )
        self._saved.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh: one process owns a user's updates."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def flush(self) -> None:
        """Everything is written as it changes."""
