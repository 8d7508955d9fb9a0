"""Small waits on what the bot is doing right now: a Bot API call the fake is holding, a row
appearing in the database.  Used to kill the process at a chosen moment."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e import dbcheck
from tests.e2e.community import wait_until
from tests.e2e.fake_botapi import FakeBotAPI, UserHandle
from tests.e2e.times import monotonic


def held_call(api: FakeBotAPI, method: str, chat: UserHandle | None = None) -> Any:
    """The call of ``method`` the fake is holding right now (no answer yet), if any."""
    for call in api.calls:
        if call.method == method and call.status is None and not call.dropped:
            if chat is None or call.params.get("chat_id") == chat.id:
                return call
    return None


async def wait_held(api: FakeBotAPI, method: str, chat: UserHandle | None = None) -> Any:
    """Wait until the bot is blocked in a held ``method`` call."""
    return await wait_until(lambda: held_call(api, method, chat), 20, f"a held {method} call")


async def db_eventually(url: str, sql: str, what: str, timeout: float = 10, **params: Any) -> None:  # noqa: ASYNC109
    """Poll until ``sql`` returns a row."""
    deadline = monotonic() + timeout
    while not await dbcheck.rows(url, sql, **params):
        if monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)
