"""How updates reach the bot: getUpdates long polling, or webhook delivery with retries."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.e2e.fake_botapi_protocol import ApiError, Ctx, api_method, bad_request

log = logging.getLogger(__name__)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class _Poll:
    """One open getUpdates request; a newer one kicks it out with 409 like Telegram."""

    kicked = False


@api_method("getUpdates")
async def get_updates(ctx: Ctx) -> list[dict[str, Any]]:
    """Long polling: confirm by offset, hold until an update arrives or timeout passes."""
    api, world = ctx.api, ctx.world
    if world.webhook["url"]:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    try:
        offset = int(ctx.params.get("offset") or 0)
        limit = min(max(int(ctx.params.get("limit") or 100), 1), 100)
        timeout = max(float(ctx.params.get("timeout") or 0), 0.0)
    except (TypeError, ValueError):
        raise bad_request("wrong parameter in getUpdates request") from None
    world.confirm(offset)
    me = _Poll()
    if api.active_poll is not None:
        api.active_poll.kicked = True
    api.active_poll = me
    world.update_signal.fire()  # wakes the kicked request so it answers 409 now
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            changed = world.update_signal.current()
            if me.kicked:
                raise ApiError(409)
            if world.updates or api.closing or loop.time() >= deadline:
                return copy.deepcopy(world.updates[:limit])
            try:
                await asyncio.wait_for(changed.wait(), deadline - loop.time())
            except TimeoutError:
                pass
    finally:
        if api.active_poll is me:
            api.active_poll = None


@api_method("setWebhook")
async def set_webhook(ctx: Ctx) -> bool:
    """Switch to webhook delivery (loopback URLs only: tests must never reach the internet)."""
    params, world = ctx.params, ctx.world
    url = str(params.get("url") or "")
    secret = params.get("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
        raise bad_request("secret token contains unallowed characters")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: invalid webhook URL specified")
        if parts.hostname not in LOOPBACK_HOSTS:
            raise bad_request("bad webhook: the fake Bot API only delivers to loopback hosts")
    if params.get("drop_pending_updates"):
        world.updates.clear()
    world.webhook = {
        "url": url,
        "secret_token": secret,
        "max_connections": int(params.get("max_connections") or 40),
        "allowed_updates": params.get("allowed_updates"),
    }
    world.update_signal.fire()
    return True


@api_method("deleteWebhook")
async def delete_webhook(ctx: Ctx) -> bool:
    """Back to getUpdates; optionally forget pending updates."""
    if ctx.params.get("drop_pending_updates"):
        ctx.world.updates.clear()
    ctx.world.webhook = {"url": ""}
    ctx.world.update_signal.fire()
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(ctx: Ctx) -> dict[str, Any]:
    """The current webhook, pending count and last delivery error."""
    hook = ctx.world.webhook
    info: dict[str, Any] = {
        "url": hook["url"],
        "has_custom_certificate": False,
        "pending_update_count": len(ctx.world.updates),
    }
    for key in ("max_connections", "allowed_updates", "last_error_date", "last_error_message"):
        if hook.get(key) is not None and hook["url"]:
            info[key] = hook[key]
    return info


class WebhookDeliverer:
    """Posts pending updates to the webhook in order, retrying a few times like Telegram."""

    def __init__(
        self, api: Any, attempts: int = 4, retry_delay: float = 0.2, timeout: float = 10.0
    ) -> None:
        self.api = api
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.delivered: list[dict[str, Any]] = []
        self.failures: list[tuple[dict[str, Any], str]] = []
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin watching for updates to push."""
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="fake-botapi-webhook")

    async def stop(self) -> None:
        """Stop delivering and close the HTTP client."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        world = self.api.world
        while True:
            changed = world.update_signal.current()
            hook = world.webhook
            if hook["url"] and world.updates and not self.api.closing:
                await self._deliver(hook, world.updates[0])
            else:
                await changed.wait()

    async def _deliver(self, hook: dict[str, Any], update: dict[str, Any]) -> None:
        world = self.api.world
        error = ""
        for attempt in range(self.attempts):
            error = await self._post(hook, update)
            if world.webhook is not hook:
                return  # webhook changed or removed meanwhile: re-evaluate from scratch
            if not error:
                break
            hook["last_error_date"], hook["last_error_message"] = world.now(), error
            log.info("webhook delivery of %s failed: %s", update["update_id"], error)
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.retry_delay * 2**attempt)
        world.updates = [u for u in world.updates if u["update_id"] != update["update_id"]]
        if error:
            self.failures.append((update, error))
        else:
            self.delivered.append(update)
        world.activity.fire()

    async def _post(self, hook: dict[str, Any], update: dict[str, Any]) -> str:
        """One delivery attempt; returns Telegram's wording of the failure, or ""."""
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        assert self._session is not None
        try:
            async with self._session.post(
                hook["url"],
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                if 200 <= response.status < 300:
                    return ""
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError as exc:
            return f"Connection failed: {exc.__class__.__name__}"
