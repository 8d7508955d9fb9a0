"""The outbox sender's loop: a database that is briefly unavailable is retried quietly."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from locales import translate
from scheduler.clock import SimClock
from scheduler.sender import OutboxSender
from storage import outbox
from tests.conftest import T0


async def test_locked_database_is_retried_with_a_warning(
    db: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's "database is locked" (past the busy timeout) while claiming: a warning, the
    loop goes on and claims on its next turn; no error is logged."""
    sender = OutboxSender(db=db, clock=SimClock(T0), default_language="zh")
    turns = 0
    retried = asyncio.Event()

    async def flaky(bot: object) -> int:
        nonlocal turns
        turns += 1
        if turns == 1:
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        retried.set()
        return 0

    sender.drain_once = flaky  # type: ignore[method-assign]
    caplog.set_level(logging.WARNING, logger="scheduler.sender")
    task = asyncio.create_task(sender.run_forever(None, poll_seconds=0.01, workers=1))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(retried.wait(), timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    records = [r for r in caplog.records if r.name == "scheduler.sender"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert "database is locked" in records[0].getMessage()


class _GatedBot:
    """A Bot stand-in whose sendMessage waits for a gate; records what it was asked to send."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.asked = asyncio.Event()
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str, **_: object) -> None:
        self.asked.set()
        await self.gate.wait()
        self.sent.append((chat_id, text))


async def _queue(db: async_sessionmaker[AsyncSession], chat_id: int) -> None:
    async with db.begin() as session:
        await outbox.enqueue(
            session=session,
            chat_id=chat_id,
            kind="t",
            payload={"text": outbox.text("common.cancelled")},
            now=T0,
        )


def _count_claims(sender: OutboxSender) -> list[int]:
    claims: list[int] = []
    drain_once = sender.drain_once

    async def counted(bot: object) -> int:
        claimed = await drain_once(bot)  # type: ignore[arg-type]
        claims.append(claimed)
        return claimed

    sender.drain_once = counted  # type: ignore[method-assign]
    return claims


async def _until(condition: object, what: str) -> None:
    for _ in range(500):  # a bound on waiting, not a timing assertion
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


def _idle(sender: OutboxSender, loops: int) -> bool:
    waiting = len(sender.wakeup._waiters) + len(sender.backlog._waiters)  # type: ignore[attr-defined]
    return waiting == loops


async def test_one_notice_costs_one_claim(db: async_sessionmaker[AsyncSession]) -> None:
    """A wake-up for one queued message: one claim in all (not one per loop plus an empty
    re-claim), and the message is sent once."""
    sender = OutboxSender(db=db, clock=SimClock(T0), default_language="zh")
    bot = _GatedBot()
    claims = _count_claims(sender)
    task = asyncio.create_task(sender.run_forever(bot, poll_seconds=60, workers=2))  # type: ignore[arg-type]
    try:
        # At start each loop claims once (nothing is due), then both wait.
        await _until(lambda: len(claims) == 2 and _idle(sender, 2), "the first empty claims")
        await _queue(db, 501)
        sender.wakeup.set()
        await _until(lambda: bot.sent and _idle(sender, 2), "the message to be sent")
        assert claims == [0, 0, 1]
        assert bot.sent == [(501, translate("zh", "common.cancelled"))]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_message_queued_during_a_send_goes_out_without_waiting_for_the_poll(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """A wake-up that arrives while a batch is being sent is not lost (poll is 60 s)."""
    sender = OutboxSender(db=db, clock=SimClock(T0), default_language="zh")
    bot = _GatedBot()
    bot.gate.clear()
    task = asyncio.create_task(sender.run_forever(bot, poll_seconds=60, workers=2))  # type: ignore[arg-type]
    try:
        await _queue(db, 501)
        sender.wakeup.set()
        await asyncio.wait_for(bot.asked.wait(), timeout=5)
        await _queue(db, 502)  # filed while the first notice is still on its way
        sender.wakeup.set()
        bot.gate.set()
        await _until(lambda: len(bot.sent) == 2, "both messages")
        assert sorted(chat for chat, _ in bot.sent) == [501, 502]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_backlog_brings_in_the_second_loop(db: async_sessionmaker[AsyncSession]) -> None:
    """Full batches (a fan-out) wake the second loop; every message is sent exactly once."""
    sender = OutboxSender(db=db, clock=SimClock(T0), default_language="zh", batch_size=2)
    bot = _GatedBot()
    claims = _count_claims(sender)
    for chat in range(601, 608):
        await _queue(db, chat)
    task = asyncio.create_task(sender.run_forever(bot, poll_seconds=60, workers=2))  # type: ignore[arg-type]
    try:
        await _until(lambda: len(bot.sent) == 7 and _idle(sender, 2), "all seven messages")
        assert sorted(chat for chat, _ in bot.sent) == list(range(601, 608))
        assert sum(claims) == 7 and claims.count(2) == 3
        assert len(claims) >= 5  # the backlog loop claimed too (the first loop alone: 4)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_notices_queued_in_quick_succession_go_out_in_one_claim(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Three reports filed within the linger: one claim sends all three notices."""
    sender = OutboxSender(db=db, clock=SimClock(T0), default_language="zh", linger=0.5)
    bot = _GatedBot()
    claims = _count_claims(sender)
    task = asyncio.create_task(sender.run_forever(bot, poll_seconds=60, workers=2))  # type: ignore[arg-type]
    try:
        await _until(lambda: len(claims) == 2 and _idle(sender, 2), "the first empty claims")
        for chat in (701, 702, 703):
            await _queue(db, chat)
            sender.wakeup.set()  # as each filing's handler does
        await _until(lambda: len(bot.sent) == 3 and _idle(sender, 2), "the three notices")
        assert claims == [0, 0, 3]
        assert sorted(chat for chat, _ in bot.sent) == [701, 702, 703]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
