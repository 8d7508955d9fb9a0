"""Several people's updates at once, each person's in order.

PTB processes one update at a time by default: while one resident's report is written,
everybody else waits, and the database round trips leave the process idle a quarter of the
time. ``PerUserUpdateProcessor`` lets up to ``max_concurrent_updates`` updates run together
but never two of the same user (or, without a user, the same chat): a person's messages and
button presses are handled in the order they arrived, so conversations, drafts and
``user_data`` see them one after the other exactly as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def ordering_key(update: object) -> int | None:
    """Whose updates must not overlap: the user's id, else the chat's; None for neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across users, in arrival order within one user."""

    __slots__ = ("_lanes",)

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        # key -> (lock, number of updates holding or waiting for it); removed when idle.
        self._lanes: dict[int, list[Any]] = {}

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the user's earlier updates, then for a free slot, then process.

        PTB starts one task per update in arrival order and this is the first thing each
        does, so the per-user lock (FIFO) is queued for in arrival order; the concurrency
        limit is taken only after it, so a busy user never holds a slot while waiting.
        """
        key = ordering_key(update)
        if key is None:
            await super().process_update(update, coroutine)
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = [asyncio.Lock(), 0]
        lane[1] += 1
        try:
            async with lane[0]:
                await super().process_update(update, coroutine)
        finally:
            lane[1] -= 1
            if lane[1] == 0:
                del self._lanes[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers."""
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    @property
    def busy_users(self) -> int:
        """How many users have an update running or waiting (for tests and metrics)."""
        return len(self._lanes)
