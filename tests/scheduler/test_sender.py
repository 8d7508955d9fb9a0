"""The outbox sender: what each Telegram answer means for a queued message."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

from demo.stand_in import BotAPIStandIn
from scheduler.clock import SimClock
from scheduler.sender import OutboxSender
from settings import Settings
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


async def test_5xx_is_retried_with_capped_backoff_until_the_horizon(setup) -> None:
    """Server errors are retried past max_attempts (it bounds unknown errors only), at most
    5 minutes apart, until retry_for after the message was queued; then it is failed."""
    db, clock, stand_in, bot, _sender, person_id = setup
    sender = OutboxSender(
        db=db, clock=clock, default_language="zh", max_attempts=3, retry_for=timedelta(hours=2)
    )
    stand_in.fail_next("sendMessage", 502, times=10_000)
    await _queue(db, person_id)
    waits = []
    while (await _status(db))[0] == "pending":
        await sender.drain(bot)
        async with db.begin() as session:
            message = await session.scalar(select(OutboxMessage))
        waits.append(message.not_before - clock.now())
        clock.advance(timedelta(minutes=5))
    status, attempts = await _status(db)
    assert status == "failed" and attempts > 3 and stand_in.sent_to(42) == []
    assert clock.now() > T0 + timedelta(hours=2)
    assert waits[:3] == [timedelta(seconds=s) for s in (2, 4, 8)]
    assert max(waits) == timedelta(minutes=5)


async def test_bad_request_is_not_retried(setup) -> None:
    """A 400 about the message itself fails at once."""
    db, _clock, stand_in, bot, sender, person_id = setup
    stand_in.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    await _queue(db, person_id)
    await sender.drain(bot)
    assert await _status(db) == ("failed", 1)


class _FlakyBot:
    """A Bot stand-in: sendMessage to ``failing`` chats raises ``error``; records the rest."""

    def __init__(self, error: Exception, failing: set[int]) -> None:
        self.error = error
        self.failing = failing
        self.sent: list[int] = []

    async def send_message(self, chat_id: int, text: str, **_: object) -> None:
        if chat_id in self.failing:
            raise self.error
        self.sent.append(chat_id)


async def _queue_chats(db, *chats: int) -> None:
    async with db.begin() as session:
        for chat in chats:
            await outbox.enqueue(
                session=session, chat_id=chat, kind="t", payload={"text": "hi"}, now=T0
            )


async def _rows(db) -> list[OutboxMessage]:
    async with db.begin() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.parametrize(
    "error",
    [
        TelegramError("Invalid server response"),
        InvalidToken(),
        Conflict("terminated by other getUpdates request"),
        ValueError("the digest chart could not be drawn"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_an_unexpected_error_costs_one_message_not_the_batch(
    setup, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch [ok, ok, bad]: the two are recorded sent (and never sent again), the bad one
    counts an attempt and waits for a retry; the error is logged with its traceback."""
    db, clock, _stand_in, _bot, sender, _person_id = setup
    bot = _FlakyBot(error, failing={3})
    await _queue_chats(db, 1, 2, 3)
    caplog.set_level(logging.ERROR, logger="scheduler.sender")
    assert await sender.drain_once(bot) == 3  # type: ignore[arg-type]
    ok_1, ok_2, bad = await _rows(db)
    assert (ok_1.status, ok_1.attempts, ok_2.status, ok_2.attempts) == ("sent", 1, "sent", 1)
    assert (bad.status, bad.attempts, bad.lease_until) == ("pending", 1, None)
    assert bad.not_before == T0 + timedelta(seconds=2) and type(error).__name__ in bad.last_error
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None and record.exc_info[1] is error
    clock.advance(outbox.LEASE + timedelta(seconds=1))
    await sender.drain(bot)  # type: ignore[arg-type]
    assert bot.sent == [1, 2]


async def test_an_error_that_persists_stops_after_max_attempts(setup) -> None:
    """The same unexpected error every time: failed after max_attempts (3 here), not forever."""
    db, clock, _stand_in, _bot, sender, _person_id = setup
    bot = _FlakyBot(ValueError("a bug"), failing={4})
    await _queue_chats(db, 4)
    for _ in range(6):
        await sender.drain(bot)  # type: ignore[arg-type]
        clock.advance(timedelta(minutes=10))
    ((status, attempts),) = [(r.status, r.attempts) for r in await _rows(db)]
    assert (status, attempts) == ("failed", 3)


class _OutageBot:
    """A Bot stand-in whose sendMessage fails with a network error until ``until``."""

    def __init__(self, clock: SimClock, until: datetime) -> None:
        self.clock = clock
        self.until = until
        self.sent: list[int] = []

    async def send_message(self, chat_id: int, text: str, **_: object) -> None:
        if self.clock.now() < self.until:
            raise NetworkError("Bad Gateway")
        self.sent.append(chat_id)


async def test_a_ten_minute_outage_loses_nothing(db: async_sessionmaker[AsyncSession]) -> None:
    """Telegram unreachable for 10 minutes (more than the old 8 attempts, ~4 minutes): the
    sender, as configured by default, keeps retrying and delivers the message once after."""
    clock = SimClock(T0)
    sender = OutboxSender(
        db=db,
        clock=clock,
        default_language="zh",
        max_attempts=Settings(_env_file=None).outbox_max_attempts,
    )
    bot = _OutageBot(clock, until=T0 + timedelta(minutes=10))
    await _queue_chats(db, 5)
    while clock.now() < T0 + timedelta(minutes=20):
        await sender.drain(bot)  # type: ignore[arg-type]
        clock.advance(timedelta(seconds=10))
    ((status, attempts),) = [(r.status, r.attempts) for r in await _rows(db)]
    assert bot.sent == [5] and status == "sent" and attempts > 8
