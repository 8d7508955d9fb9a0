"""The outbox sender: what each Telegram answer means for a queued message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from demo.stand_in import BotAPIStandIn
from scheduler.clock import SimClock
from scheduler.sender import OutboxSender
from storage import outbox
from storage.models import OutboxMessage, Person
from tests.conftest import T0


@pytest.fixture
async def setup(db: async_sessionmaker[AsyncSession]):
    """A bot on the stand-in, a sender, and one person with Telegram id 42."""
    clock = SimClock(T0)
    stand_in = BotAPIStandIn(clock)
    bot = Bot("1:x", request=stand_in, get_updates_request=stand_in)
    await bot.initialize()
    sender = OutboxSender(db=db, clock=clock, default_language="zh", max_attempts=3)
    async with db.begin() as session:
        person = Person(telegram_id=42, display_name="p", language="en", created_at=T0)
        session.add(person)
        await session.flush()
        person_id = person.id
    yield db, clock, stand_in, bot, sender, person_id
    await bot.shutdown()


async def _queue(db, person_id: int, key: str = "common.cancelled") -> None:
    async with db.begin() as session:
        await outbox.enqueue_to_person(
            session=session,
            person_id=person_id,
            kind="t",
            now=T0,
            payload={
                "text": outbox.text(key),
                "buttons": [[outbox.button(outbox.text("common.yes"), "x:1")]],
            },
        )


async def _status(db) -> tuple[str, int]:
    async with db.begin() as session:
        message = await session.scalar(select(OutboxMessage))
    return message.status, message.attempts


async def test_sends_in_the_recipients_language(setup) -> None:
    """Texts and button labels are rendered in the recipient's language at send time."""
    db, _clock, stand_in, bot, sender, person_id = setup
    await _queue(db, person_id)
    assert await sender.drain(bot) == 1
    (message,) = stand_in.sent_to(42)
    assert message.text == "Cancelled. Come back any time." and message.button_labels() == ["Yes"]
    assert await _status(db) == ("sent", 1)


async def test_429_waits_retry_after_then_delivers(setup) -> None:
    """RetryAfter postpones the message by retry_after; it is delivered once due again."""
    db, clock, stand_in, bot, sender, person_id = setup
    stand_in.fail_next("sendMessage", 429, retry_after=5)
    await _queue(db, person_id)
    await sender.drain(bot)
    assert stand_in.sent_to(42) == [] and await _status(db) == ("pending", 1)
    await sender.drain(bot)
    assert stand_in.sent_to(42) == []  # not due yet: nothing is sent early
    clock.advance(timedelta(seconds=6))
    await sender.drain(bot)
    assert len(stand_in.sent_to(42)) == 1 and await _status(db) == ("sent", 2)


async def test_403_marks_unreachable(setup) -> None:
    """Forbidden marks the message and the person unreachable; no retry."""
    db, clock, stand_in, bot, sender, person_id = setup
    stand_in.blocked.add(42)
    await _queue(db, person_id)
    await sender.drain(bot)
    clock.advance(timedelta(hours=1))
    await sender.drain(bot)
    assert await _status(db) == ("unreachable", 1)
    async with db.begin() as session:
        assert (await session.get(Person, person_id)).unreachable_since == T0


async def test_5xx_retries_with_backoff_then_gives_up(setup) -> None:
    """Server errors are retried with growing delays, then recorded as failed."""
    db, clock, stand_in, bot, sender, person_id = setup
    stand_in.fail_next("sendMessage", 502, times=10)
    await _queue(db, person_id)
    for _ in range(5):
        await sender.drain(bot)
        clock.advance(timedelta(minutes=10))
    assert await _status(db) == ("failed", 3)
    assert stand_in.sent_to(42) == []


async def test_bad_request_is_not_retried(setup) -> None:
    """A 400 about the message itself fails at once."""
    db, _clock, stand_in, bot, sender, person_id = setup
    stand_in.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    await _queue(db, person_id)
    await sender.drain(bot)
    assert await _status(db) == ("failed", 1)
