"""The outbox sender's leases: a batch still being sent keeps its rows from other senders."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.clock import SimClock
from scheduler.sender import OutboxSender
from storage import outbox
from storage.models import OutboxMessage
from tests.conftest import T0


class _GatedBot:
    """A Bot stand-in whose sendMessage waits for a gate (a send held by the rate limiter)."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.asked = asyncio.Event()
        self.sent: list[int] = []

    async def send_message(self, chat_id: int, text: str, **_: object) -> None:
        self.asked.set()
        await self.gate.wait()
        self.sent.append(chat_id)


async def _queue(db: async_sessionmaker[AsyncSession], *chats: int) -> None:
    async with db.begin() as session:
        for chat in chats:
            await outbox.enqueue(
                session=session, chat_id=chat, kind="t", payload={"text": "hi"}, now=T0
            )


async def _rows(db: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with db.begin() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _settle(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait (a bounded while, real time) for a background step; the assertions come after."""
    for _ in range(200):
        if await condition():
            return
        await asyncio.sleep(0.01)


async def test_a_send_outlasting_the_lease_is_not_claimed_twice(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """A batch held for 90 s (lease 60 s) keeps renewing its leases: a second sender claiming
    meanwhile gets nothing, and each message is delivered once."""
    clock = SimClock(T0)
    bot = _GatedBot()
    first = OutboxSender(db=db, clock=clock, default_language="zh", renew_every=0.01)
    second = OutboxSender(db=db, clock=clock, default_language="zh", renew_every=0.01)
    await _queue(db, 801, 802)
    sending = asyncio.create_task(first.drain_once(bot))  # type: ignore[arg-type]
    await asyncio.wait_for(bot.asked.wait(), timeout=5)
    late_claims = []
    for _ in range(3):  # 30 s steps of simulated time, each followed by a renewal
        clock.advance(timedelta(seconds=30))

        async def renewed() -> bool:
            return all(r.lease_until == clock.now() + outbox.LEASE for r in await _rows(db))

        await _settle(renewed)
        late_claims.append(asyncio.create_task(second.drain_once(bot)))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)  # let the claim happen while the first batch is still out
    bot.gate.set()
    assert await asyncio.wait_for(sending, timeout=5) == 2
    assert await asyncio.wait_for(asyncio.gather(*late_claims), timeout=5) == [0, 0, 0]
    assert Counter(bot.sent) == {801: 1, 802: 1}
    assert [(r.status, r.attempts, r.lease_until) for r in await _rows(db)] == [
        ("sent", 1, None),
        ("sent", 1, None),
    ]


async def test_a_renewal_that_fails_is_logged_and_the_batch_still_completes(
    db: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database refusing the renewal: a warning, the send goes on, its outcome is
    recorded and the renewal task is gone afterwards."""

    async def database_down(**_: object) -> int:
        raise OperationalError("UPDATE outbox", {}, Exception("connection refused"))

    monkeypatch.setattr(outbox, "renew_leases", database_down)
    caplog.set_level(logging.WARNING, logger="scheduler.sender")
    sender = OutboxSender(db=db, clock=SimClock(T0), default_language="zh", renew_every=0.01)
    bot = _GatedBot()
    await _queue(db, 803)
    tasks_before = asyncio.all_tasks()
    sending = asyncio.create_task(sender.drain_once(bot))  # type: ignore[arg-type]

    async def warned() -> bool:
        return any("could not renew" in r.getMessage() for r in caplog.records)

    await _settle(warned)
    bot.gate.set()
    assert await asyncio.wait_for(sending, timeout=5) == 1
    assert await warned()
    assert [r.status for r in await _rows(db)] == ["sent"] and bot.sent == [803]
    assert asyncio.all_tasks() == tasks_before


async def test_renewal_leaves_lapsed_and_finished_rows_alone(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """renew_leases extends only pending rows whose lease still runs: a lapsed lease may be
    another sender's by now, a sent row needs none."""
    await _queue(db, 804, 805, 806)
    async with db.begin() as session:
        claimed = await outbox.claim_due(session=session, now=T0, limit=3)
        await outbox.mark_sent(session=session, message_id=claimed[0].id, now=T0)
    ids = [m.id for m in claimed]
    at = T0 + timedelta(seconds=30)
    async with db.begin() as session:
        assert await outbox.renew_leases(session=session, message_ids=ids, now=at) == 2
    assert [r.lease_until for r in await _rows(db)] == [None, at + outbox.LEASE, at + outbox.LEASE]
    lapsed = at + outbox.LEASE + timedelta(seconds=1)
    async with db.begin() as session:
        assert await outbox.renew_leases(session=session, message_ids=ids, now=lapsed) == 0
    assert [r.lease_until for r in await _rows(db)] == [None, at + outbox.LEASE, at + outbox.LEASE]
