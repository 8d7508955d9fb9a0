"""A Telegram Bot API look-alike on loopback, for running the real bot process end to end.

The bot talks HTTP to it exactly as to api.telegram.org (``TELEGRAM_API_BASE_URL``);
the test drives the people (``api.user(...).send(...)``), reads what the bot did and
injects Telegram's failures (429, 403, 5xx, slow or dropped answers) on demand.
Run standalone with ``python -m tests.e2e.fake_botapi --port 8081``.

    async with FakeBotAPI() as api:             # env for the bot: api.base_url, api.file_url
        wang = api.user("王芳")
        await wang.send("/start")
        reply = await api.wait_for_message(wang, "欢迎")
        await wang.press(reply, "确认")
        api.fail_next("sendMessage", error=429, retry_after=2)

Helpers: _protocol (envelope, decoding), _world (state), _http (pipeline), _send/_methods/
_updates (Bot API methods), _markup (parse modes), _media, _faults, _actors (people), _cli.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.e2e.fake_botapi_actors import ChatHandle, InjectedUpdate, UserHandle
from tests.e2e.fake_botapi_faults import DropMode, Fault, Faults, RateLimiter, RateLimits, Stats
from tests.e2e.fake_botapi_http import HttpFront
from tests.e2e.fake_botapi_protocol import Call
from tests.e2e.fake_botapi_updates import WebhookDeliverer
from tests.e2e.fake_botapi_world import BOT_USERNAME, World

__all__ = [
    "BOT_USERNAME",
    "Call",
    "ChatHandle",
    "FakeBotAPI",
    "InjectedUpdate",
    "RateLimits",
    "UserHandle",
]

Target = UserHandle | ChatHandle | int
Predicate = str | Callable[[dict[str, Any]], bool] | None


def _chat_id(target: Target) -> int:
    return target if isinstance(target, int) else target.chat_id


def _matches(message: dict[str, Any], predicate: Predicate) -> bool:
    """A string predicate means "text or caption contains it"."""
    if predicate is None:
        return True
    if isinstance(predicate, str):
        return predicate in (message.get("text") or message.get("caption") or "")
    return bool(predicate(message))


class FakeBotAPI:
    """The fake Telegram server plus the test-side controls; also an async context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        rate_limit: RateLimits | None = None,
        privacy_mode: bool = True,
        clock: Callable[[], float] | None = None,
        webhook_attempts: int = 4,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.host, self.port, self.token = host, port, token
        self.world = World(clock=clock or time.time, privacy_mode=privacy_mode)
        self.faults = Faults()
        self.limiter = RateLimiter(rate_limit) if rate_limit else None
        self.stats = Stats()
        self.calls: list[Call] = []
        self.answered_callbacks: list[dict[str, Any]] = []
        self.webhook = WebhookDeliverer(self, webhook_attempts, webhook_retry_delay)
        self.active_poll: Any = None
        self.closing = False
        self._runner: web.AppRunner | None = None
        self._cursor: dict[int, int] = {}

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> FakeBotAPI:
        """Bind (a free port by default) and start serving."""
        self._runner = web.AppRunner(
            HttpFront(self).make_app(), access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.webhook.start()
        return self

    async def stop(self) -> None:
        """Release open long polls, stop webhook delivery and close the port."""
        self.closing = True
        self.world.update_signal.fire()
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Root URL of the server."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for TELEGRAM_API_BASE_URL / Bot(base_url=...)."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """Value for TELEGRAM_API_FILE_URL / Bot(base_file_url=...)."""
        return f"{self.url}/file/bot"

    # -- people --------------------------------------------------------------------------
    def user(
        self,
        name: str = "王芳",
        user_id: int | None = None,
        language_code: str | None = "zh-hans",
        *,
        username: str | None = None,
        last_name: str | None = None,
        started: bool = True,
    ) -> UserHandle:
        """Declare a person; ``started=False`` means the bot may not write first (403)."""
        user = self.world.add_user(name, user_id, language_code, username, last_name, started)
        return UserHandle(self.world, user)

    def group_chat(
        self, title: str = "邻里群", chat_id: int | None = None, *, supergroup: bool = True
    ) -> ChatHandle:
        """Declare a group the bot is a member of."""
        return ChatHandle(self.world, self.world.add_group(title, chat_id, supergroup))

    # -- what the bot did ----------------------------------------------------------------
    def calls_of(self, method: str) -> list[Call]:
        """Calls of one method, in order."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def messages_to(self, target: Target) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they are now (edits applied, deletions gone)."""
        chat_id = _chat_id(target)
        stored = self.world.messages.get(chat_id, {})
        return [
            copy.deepcopy(stored[mid])
            for cid, mid in self.world.bot_sent
            if cid == chat_id and mid in stored
        ]

    def history(self, target: Target) -> list[dict[str, Any]]:
        """Every message still in a chat, both sides, in order (for readable transcripts)."""
        stored = self.world.messages.get(_chat_id(target), {})
        return [copy.deepcopy(stored[mid]) for mid in sorted(stored)]

    def reply_keyboard(self, target: Target) -> dict[str, Any] | None:
        """The reply keyboard currently shown in a chat, if any."""
        return copy.deepcopy(self.world.reply_keyboards.get(_chat_id(target)))

    async def wait_for_message(
        self,
        target: Target,
        predicate: Predicate = None,
        timeout: float = 10,  # noqa: ASYNC109 - a per-call deadline is the point of this API
    ) -> dict[str, Any]:
        """The next bot message in the chat matching ``predicate`` (str = text contains).

        Like pexpect, each call consumes the chat's bot messages up to the one returned, so
        consecutive calls walk the conversation forward even if the bot answered earlier.
        """
        chat_id = _chat_id(target)
        sent = self.world.bot_sent
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self.world.activity.current()
                    for index in range(self._cursor.get(chat_id, 0), len(sent)):
                        cid, mid = sent[index]
                        message = self.world.message(cid, mid)
                        if cid == chat_id and message is not None and _matches(message, predicate):
                            self._cursor[chat_id] = index + 1
                            return copy.deepcopy(message)
                    await changed.wait()
        except TimeoutError:
            seen = [m.get("text") or m.get("caption") for m in self.messages_to(chat_id)]
            raise AssertionError(
                f"no bot message to {target!r} matching {predicate!r} within {timeout}s; "
                f"bot messages in that chat so far: {seen}"
            ) from None

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10,  # noqa: ASYNC109 - a per-call deadline is the point of this API
        *,
        after: int = 0,
    ) -> Call:
        """The first answered call of ``method`` (from index ``after``) matching ``predicate``."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self.world.activity.current()
                    for call in self.calls[after:]:
                        if (
                            call.method.lower() == method.lower()
                            and call.status is not None
                            and (predicate is None or predicate(call))
                        ):
                            return call
                    await changed.wait()
        except TimeoutError:
            raise AssertionError(f"no answered {method} call within {timeout}s") from None

    # -- faults --------------------------------------------------------------------------
    def fail_next(
        self,
        method: str | None = None,
        times: int = 1,
        error: int | None = None,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0.0,
        drop: bool | DropMode = False,
        chat: Target | None = None,
    ) -> Fault:
        """Make the next ``times`` calls (of ``method``, to ``chat``; None = any) misbehave.

        ``error`` answers that HTTP/Telegram code; ``delay`` answers late (and then normally
        unless ``error``); ``drop=True``/"before" closes the connection without processing,
        ``drop="after"`` processes the call (the message is sent) and then closes it.
        """
        mode: DropMode = "before" if drop is True else drop
        fault = Fault(
            method=method,
            chat_id=None if chat is None else _chat_id(chat),
            times=times,
            error=error,
            retry_after=retry_after,
            description=description,
            delay=delay,
            drop=mode,
        )
        return self.faults.add(fault)

    def block(self, target: Target, description: str | None = None) -> None:
        """The person blocks the bot (or the bot is kicked from the group): sends answer 403."""
        chat_id = _chat_id(target)
        default = (
            "Forbidden: bot was blocked by the user"
            if chat_id > 0
            else "Forbidden: bot was kicked from the supergroup chat"
        )
        self.faults.blocked[chat_id] = description or default

    def unblock(self, target: Target) -> None:
        """Undo :meth:`block`."""
        self.faults.blocked.pop(_chat_id(target), None)

    def clear_faults(self) -> None:
        """Forget pending fault rules and blocks."""
        self.faults.clear()

    @property
    def webhook_url(self) -> str:
        """The webhook URL the bot set ("" in polling mode)."""
        return self.world.webhook["url"]

    async def inject(self, payload: dict[str, Any]) -> InjectedUpdate:
        """Queue a raw update payload (without update_id) for update types not modelled here."""
        update = InjectedUpdate(self.world.push_update(payload))
        await asyncio.sleep(0)
        return update


if __name__ == "__main__":
    from tests.e2e.fake_botapi_cli import main

    main()
