"""Flood control slows one noisy user without touching others; metrics count updates and
outbox outcomes and are served with a liveness document."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from demo.updates import User
from tests.harness import Harness


async def test_burst_is_slowed_politely_and_others_unaffected(bot: Harness, people: dict) -> None:
    """50 messages in a second: a dozen answered, one polite note, the neighbour still served."""
    noisy = people["resident"]
    answered, notes = 0, 0
    for n in range(50):
        reply = await bot.send(noisy, f"邻长是怎么选出来的 {n}")
        for message in reply.messages:
            if "发得太快" in message.text:
                notes += 1
            else:
                answered += 1
    assert 10 <= answered <= 14 and notes == 1
    other = await bot.send(User(9100, "邻居"), "/help")
    assert "吾邻社区助手" in other.only().text


async def test_allowance_comes_back_with_time(bot: Harness, people: dict) -> None:
    """After a burst, waiting a few seconds lets messages through again."""
    from datetime import timedelta

    for n in range(30):
        await bot.send(people["resident"], f"hi {n}")
    assert (await bot.send(people["resident"], "/help")).messages == []
    bot.clock.advance(timedelta(seconds=5))
    assert "吾邻社区助手" in (await bot.send(people["resident"], "/help")).only().text


async def test_metrics_count_and_health(bot: Harness, people: dict) -> None:
    """/metrics counts updates and sent messages; /health answers JSON."""
    from bot import enable_metrics

    metrics = enable_metrics(bot.app, bot.runtime, None)
    await bot.send(people["resident"], "/report 2栋楼道灯坏了")
    from handlers.metrics import serve

    server = serve(metrics, 0, host="127.0.0.1")
    try:
        port = server.server_address[1]

        def get(path: str) -> bytes:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                return answer.read()

        text = (await asyncio.to_thread(get, "/metrics")).decode()
        health = json.loads(await asyncio.to_thread(get, "/health"))
    finally:
        server.shutdown()
    assert 'wulin_updates_total{kind="command"} 1.0' in text
    assert 'wulin_messages_sent_total{kind="report"} 1.0' in text
    assert health["status"] == "ok" and health["seconds_since_update"] is not None
