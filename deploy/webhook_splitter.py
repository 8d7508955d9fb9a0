"""A small reverse proxy that spreads Telegram webhook calls over several Wulin instances.

Deployment (two or more bot processes on one PostgreSQL)::

    Telegram ──HTTPS──> nginx/Caddy (TLS) ──> webhook_splitter :8443 ──┬─> bot 1 :9001/telegram
                                                                       └─> bot 2 :9002/telegram

    python -m deploy.webhook_splitter --listen 0.0.0.0:8443 \\
        --backend http://127.0.0.1:9001/telegram --backend http://127.0.0.1:9002/telegram

Each bot runs ``python bot.py run --webhook`` with its own ``WEBHOOK_LISTEN``/``WEBHOOK_PORT``
(9001, 9002, …) but the *same* public ``WEBHOOK_URL``/``WEBHOOK_PATH`` (the splitter's
address, e.g. ``https://bot.example.org`` + ``telegram``) and the same
``WEBHOOK_SECRET_TOKEN``: every instance calls ``setWebhook`` at start, and they must all
register the one URL.  All instances run the scheduler and the outbox sender; the database
makes that safe (idempotency keys on reminders, leased outbox rows, row-locked timers).

Routing.  Every update is sent to one instance chosen by a stable hash of the chat (else the
user) it concerns — rendezvous hashing over the backend URLs — so one person's updates always
reach the same process.  That matters: PTB keeps conversation state in memory (persisted to
the database, but only *read* at start), so a conversation must stay on one instance.

Failover.  When the chosen instance does not answer (connection refused or reset, timeout,
5xx), the update goes to the next instance in that key's rendezvous order, and the dead one
is skipped for ``--cooldown`` seconds; its people's updates land on the survivors (the
others' keep their instance), and go back to it once it answers again.  A person whose
conversation was mid-flow on the dead instance is told by the survivor that the form
expired and to start again.  If no instance answers, the splitter answers 502 and Telegram
retries the update later.  A 4xx from an instance (403 for a wrong secret token) is passed
back as is: it is an answer, not a failure.

The secret header ``X-Telegram-Bot-Api-Secret-Token`` is forwarded unchanged, so each bot
still checks it; with ``--secret-token`` (or ``WEBHOOK_SECRET_TOKEN``) the splitter also
refuses wrong ones itself, before forwarding.  ``GET /health`` reports the backends' state.

Needs ``aiohttp`` (``pip install aiohttp``; the bot itself does not, it is in the test extra).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger("webhook_splitter")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Update fields that carry a ``chat`` or a ``from`` user, in the order they are looked at.
_CARRIERS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "shipping_query",
    "pre_checkout_query",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "message_reaction",
    "message_reaction_count",
    "chat_boost",
    "removed_chat_boost",
)


def routing_key(update: dict[str, Any]) -> str:
    """The chat id (else the user id) an update concerns; the update id as a last resort.

    Private chats have the user's id, so a person's messages and button presses share a key.
    """
    for name in _CARRIERS:
        item = update.get(name)
        if not isinstance(item, dict):
            continue
        message = item.get("message") if name == "callback_query" else item
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and "id" in chat:
            return f"chat:{chat['id']}"
        for who in ("from", "user"):
            person = item.get(who)
            if isinstance(person, dict) and "id" in person:
                return f"chat:{person['id']}"
        inner = item.get("chat")
        if isinstance(inner, dict) and "id" in inner:
            return f"chat:{inner['id']}"
    return f"update:{update.get('update_id', '')}"


def rendezvous_order(key: str, backends: Sequence[str]) -> list[str]:
    """Backends by descending score of hash(backend, key): stable, and removing one backend
    only moves the keys that were on it."""

    def score(backend: str) -> bytes:
        return hashlib.blake2b(f"{backend}|{key}".encode(), digest_size=8).digest()

    return sorted(backends, key=score, reverse=True)


@dataclass
class Backend:
    """One bot instance's webhook URL and when it last failed."""

    url: str
    down_until: float = 0.0
    forwarded: int = 0
    failures: int = 0

    def available(self, now: float) -> bool:
        """False while cooling down after a failure."""
        return now >= self.down_until


@dataclass
class Splitter:
    """The routing and forwarding logic, independent of the HTTP server around it."""

    backends: list[Backend]
    secret_token: str | None = None
    timeout: float = 10.0
    cooldown: float = 5.0
    session: aiohttp.ClientSession | None = None
    stats: dict[str, int] = field(default_factory=lambda: {"updates": 0, "failovers": 0})

    def order(self, key: str) -> list[Backend]:
        """The backends to try for ``key``: available ones first, each group in hash order."""
        by_url = {b.url: b for b in self.backends}
        ranked = [by_url[url] for url in rendezvous_order(key, list(by_url))]
        now = time.monotonic()
        return [b for b in ranked if b.available(now)] + [b for b in ranked if not b.available(now)]

    async def forward(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Deliver one update body to its instance (failing over); the status to answer."""
        try:
            update = json.loads(body)
        except ValueError:
            return 400, b"not a JSON update"
        if not isinstance(update, dict):
            return 400, b"not a JSON update"
        self.stats["updates"] += 1
        key = routing_key(update)
        assert self.session is not None, "call start() first"
        for attempt, backend in enumerate(self.order(key)):
            try:
                async with self.session.post(
                    backend.url,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    payload = await response.read()
                    if response.status < 500:
                        backend.forwarded += 1
                        backend.down_until = 0.0
                        if attempt:
                            self.stats["failovers"] += 1
                        return response.status, payload
                    reason = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                reason = f"{exc.__class__.__name__}: {exc}"
            backend.failures += 1
            backend.down_until = time.monotonic() + self.cooldown
            log.warning("instance %s did not take %s (%s); trying next", backend.url, key, reason)
        return 502, b"no instance answered"

    def check_secret(self, given: str | None) -> bool:
        """True when no secret is configured here or ``given`` matches it."""
        if self.secret_token is None:
            return True
        return given is not None and hmac.compare_digest(given, self.secret_token)

    async def start(self) -> None:
        """Open the HTTP client."""
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Close the HTTP client."""
        if self.session is not None:
            await self.session.close()
            self.session = None


def make_app(splitter: Splitter, path: str = "/telegram") -> web.Application:
    """The aiohttp application: POST ``path`` (and ``/``) forwards, GET /health reports."""

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if not splitter.check_secret(given):
            log.warning("refused a webhook call with a wrong secret token from %s", request.remote)
            return web.Response(status=403, text="wrong secret token")
        headers = {"Content-Type": "application/json"}
        if given is not None:
            headers[SECRET_HEADER] = given
        status, payload = await splitter.forward(await request.read(), headers)
        return web.Response(status=status, body=payload)

    async def health(request: web.Request) -> web.Response:
        now = time.monotonic()
        return web.json_response(
            {
                "backends": [
                    {
                        "url": b.url,
                        "up": b.available(now),
                        "forwarded": b.forwarded,
                        "failures": b.failures,
                    }
                    for b in splitter.backends
                ],
                **splitter.stats,
            }
        )

    async def on_startup(_: web.Application) -> None:
        await splitter.start()

    async def on_cleanup(_: web.Application) -> None:
        await splitter.close()

    app = web.Application(client_max_size=10 * 1024 * 1024)
    app.router.add_post(path, handle)
    if path != "/":
        app.router.add_post("/", handle)
    app.router.add_get("/health", health)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m deploy.webhook_splitter",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--listen", default="0.0.0.0:8443", help="HOST:PORT to serve on")
    parser.add_argument(
        "--backend",
        action="append",
        required=True,
        metavar="URL",
        help="a bot instance's webhook URL (repeat for each instance)",
    )
    parser.add_argument("--path", default="/telegram", help="path Telegram posts to")
    parser.add_argument(
        "--secret-token",
        default=os.environ.get("WEBHOOK_SECRET_TOKEN"),
        help="refuse calls without this secret here too (default: $WEBHOOK_SECRET_TOKEN)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per instance")
    parser.add_argument(
        "--cooldown", type=float, default=5.0, help="seconds to skip an instance after it failed"
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the splitter until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host, _, port = args.listen.rpartition(":")
    splitter = Splitter(
        backends=[Backend(url) for url in args.backend],
        secret_token=args.secret_token or None,
        timeout=args.timeout,
        cooldown=args.cooldown,
    )
    log.info("splitting %s:%s%s over %s", host, port, args.path, ", ".join(args.backend))
    web.run_app(make_app(splitter, args.path), host=host or "0.0.0.0", port=int(port), print=None)


if __name__ == "__main__":
    main()


__all__ = ["Backend", "Splitter", "main", "make_app", "rendezvous_order", "routing_key"]
