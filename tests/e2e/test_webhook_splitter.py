"""The webhook splitter (deploy/webhook_splitter.py) on its own, against two stand-in
instances on loopback: stable routing per person, the secret header passed on, failover
when an instance is gone, answers (4xx) passed back, and its own secret check."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from deploy.webhook_splitter import (
    SECRET_HEADER,
    Backend,
    Splitter,
    make_app,
    rendezvous_order,
    routing_key,
)
from tests.e2e.bot_process import free_port


def message_update(update_id: int, chat_id: int) -> dict[str, Any]:
    """A private text message from ``chat_id``."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "x"},
            "text": "hi",
        },
    }


class Instance:
    """A stand-in bot webhook server that records what it got; ``status`` is its answer."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.status = 200
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Serve on the port."""

        async def handle(request: web.Request) -> web.Response:
            self.received.append((await request.json(), request.headers.get(SECRET_HEADER)))
            return web.Response(status=self.status)

        app = web.Application()
        app.router.add_post("/telegram", handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Close the port (as a killed process would)."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@pytest.fixture
async def instances():
    """Two running stand-in instances."""
    pair = [Instance("A"), Instance("B")]
    for instance in pair:
        await instance.start()
    yield pair
    for instance in pair:
        await instance.stop()


async def serve_splitter(splitter: Splitter) -> tuple[web.AppRunner, str]:
    """Run the splitter app on a free port; (runner, URL)."""
    port = free_port()
    runner = web.AppRunner(make_app(splitter), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/telegram"


async def post(url: str, update: dict[str, Any], secret: str | None = "s3cret") -> int:
    """POST one update as Telegram does; the HTTP status."""
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=json.dumps(update), headers=headers) as response:
            return response.status


def test_routing_key_follows_the_person() -> None:
    """Messages and button presses of one person share a key; groups route by chat."""
    press = {
        "update_id": 2,
        "callback_query": {
            "id": "1",
            "from": {"id": 42},
            "chat_instance": "x",
            "data": "d",
            "message": {"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"}},
        },
    }
    member = {"update_id": 3, "my_chat_member": {"chat": {"id": -100}, "from": {"id": 7}}}
    assert routing_key(message_update(1, 42)) == routing_key(press) == "chat:42"
    assert routing_key(member) == "chat:-100"
    assert routing_key({"update_id": 9}) == "update:9"


def test_rendezvous_moves_only_the_keys_of_a_removed_backend() -> None:
    """With one backend gone, keys that were elsewhere stay where they were."""
    backends = ["http://a/t", "http://b/t", "http://c/t"]
    keys = [f"chat:{n}" for n in range(300)]
    before = {k: rendezvous_order(k, backends)[0] for k in keys}
    after = {k: rendezvous_order(k, backends[1:])[0] for k in keys}
    assert all(after[k] == before[k] for k in keys if before[k] != "http://a/t")
    assert set(Counter(before.values())) == set(backends)  # every backend gets some


async def test_each_person_stays_on_one_instance_and_secret_is_forwarded(instances) -> None:
    """Forty people × three updates: each person's updates reach one instance, both used."""
    a, b = instances
    runner, url = await serve_splitter(Splitter([Backend(a.url), Backend(b.url)]))
    try:
        for n in range(120):
            assert await post(url, message_update(n, 1000 + n % 40)) == 200
    finally:
        await runner.cleanup()
    where: dict[int, set[str]] = {}
    for instance in instances:
        for update, secret in instance.received:
            assert secret == "s3cret"
            where.setdefault(update["message"]["chat"]["id"], set()).add(instance.name)
    assert len(where) == 40 and all(len(names) == 1 for names in where.values())
    assert a.received and b.received


async def test_failover_when_an_instance_is_gone(instances) -> None:
    """Instance A stops: its people's updates go to B; B's people stay on B; A back → A."""
    a, b = instances
    splitter = Splitter([Backend(a.url), Backend(b.url)], cooldown=0.3)
    runner, url = await serve_splitter(splitter)
    try:
        on_a = next(
            n
            for n in range(1000, 2000)
            if rendezvous_order(f"chat:{n}", [a.url, b.url])[0] == a.url
        )
        on_b = next(
            n
            for n in range(1000, 2000)
            if rendezvous_order(f"chat:{n}", [a.url, b.url])[0] == b.url
        )
        await a.stop()
        assert await post(url, message_update(1, on_a)) == 200
        assert await post(url, message_update(2, on_b)) == 200
        assert [u["update_id"] for u, _ in b.received] == [1, 2]
        assert splitter.stats["failovers"] == 1
        await a.start()
        await asyncio.sleep(0.4)  # past the cooldown
        assert await post(url, message_update(3, on_a)) == 200
        assert [u["update_id"] for u, _ in a.received] == [3]
        await a.stop()
        await b.stop()
        assert await post(url, message_update(4, on_a)) == 502  # Telegram will retry
    finally:
        await runner.cleanup()


async def test_an_instance_answer_is_passed_back(instances) -> None:
    """A 403 (wrong secret at the bot) is the answer: no failover to the other instance."""
    a, b = instances
    a.status = b.status = 403
    runner, url = await serve_splitter(Splitter([Backend(a.url), Backend(b.url)]))
    try:
        assert await post(url, message_update(1, 5), secret="wrong") == 403
    finally:
        await runner.cleanup()
    assert len(a.received) + len(b.received) == 1


async def test_splitter_checks_the_secret_itself_when_told(instances) -> None:
    """With --secret-token, wrong or missing secrets are refused before any forwarding."""
    a, b = instances
    splitter = Splitter([Backend(a.url), Backend(b.url)], secret_token="s3cret")
    runner, url = await serve_splitter(splitter)
    try:
        assert await post(url, message_update(1, 5), secret="nope") == 403
        assert await post(url, message_update(2, 5), secret=None) == 403
        assert await post(url, message_update(3, 5)) == 200
    finally:
        await runner.cleanup()
    assert [u["update_id"] for i in instances for u, _ in i.received] == [3]
