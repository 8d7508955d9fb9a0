"""Outbox: idempotent enqueue by key, leases that keep two senders apart, outcomes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import outbox
from storage.models import OutboxMessage, Person
from tests.conftest import T0


async def test_dedup_key_enqueues_once(db: async_sessionmaker[AsyncSession]) -> None:
    """The same dedup key twice queues one message; the second call says so."""
    async with db.begin() as session:
        first = await outbox.enqueue(
            session=session,
            chat_id=1,
            kind="k",
            payload={"text": "a"},
            now=T0,
            dedup_key="p1:k:2026-12-01",
        )
        second = await outbox.enqueue(
            session=session,
            chat_id=1,
            kind="k",
            payload={"text": "a"},
            now=T0,
            dedup_key="p1:k:2026-12-01",
        )
    assert (first, second) == (True, False)
    async with db.begin() as session:
        assert len(list(await session.scalars(select(OutboxMessage)))) == 1


async def test_claims_do_not_overlap_until_the_lease_expires(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """A claimed message is not claimed again until its lease runs out."""
    async with db.begin() as session:
        for i in range(5):
            await outbox.enqueue(
                session=session, chat_id=i + 1, kind="k", payload={"text": str(i)}, now=T0
            )
    async with db.begin() as session:
        first = await outbox.claim_due(session=session, now=T0, limit=3)
    async with db.begin() as session:
        second = await outbox.claim_due(session=session, now=T0, limit=10)
    assert {m.id for m in first}.isdisjoint({m.id for m in second})
    assert len(first) + len(second) == 5
    async with db.begin() as session:
        again = await outbox.claim_due(
            session=session, now=T0 + outbox.LEASE + timedelta(seconds=1), limit=10
        )
    assert len(again) == 5


async def test_concurrent_claimers_get_disjoint_batches(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Four claimers at once never receive the same message."""
    async with db.begin() as session:
        for i in range(40):
            await outbox.enqueue(
                session=session, chat_id=i + 1, kind="k", payload={"text": str(i)}, now=T0
            )

    async def claim() -> list[int]:
        async with db.begin() as session:
            return [m.id for m in await outbox.claim_due(session=session, now=T0, limit=15)]

    batches = await asyncio.gather(*(claim() for _ in range(4)))
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(set(ids)) == 40


async def test_unreachable_marks_the_person(db: async_sessionmaker[AsyncSession]) -> None:
    """A 403 outcome records the message as unreachable and the person's unreachable_since."""
    async with db.begin() as session:
        person = Person(telegram_id=77, display_name="x", created_at=T0)
        session.add(person)
        await session.flush()
        await outbox.enqueue_to_person(
            session=session, person_id=person.id, kind="k", payload={"text": "hi"}, now=T0
        )
    async with db.begin() as session:
        (claimed,) = await outbox.claim_due(session=session, now=T0, limit=1)
        await outbox.mark_unreachable(
            session=session, message_id=claimed.id, person_id=claimed.person_id, now=T0, error="403"
        )
    async with db.begin() as session:
        message = await session.get(OutboxMessage, claimed.id)
        person = await session.get(Person, claimed.person_id)
    assert message.status == "unreachable" and person.unreachable_since is not None


async def test_retry_gives_up_after_max_attempts(db: async_sessionmaker[AsyncSession]) -> None:
    """Retries push not_before forward and stop at max_attempts with status failed."""
    async with db.begin() as session:
        await outbox.enqueue(session=session, chat_id=5, kind="k", payload={"text": "x"}, now=T0)
    async with db.begin() as session:
        (claimed,) = await outbox.claim_due(session=session, now=T0, limit=1)
    results = []
    for _ in range(3):
        async with db.begin() as session:
            results.append(
                await outbox.mark_retry(
                    session=session,
                    message_id=claimed.id,
                    now=T0,
                    delay=timedelta(seconds=5),
                    error="net",
                    max_attempts=3,
                )
            )
    assert results == [True, True, False]
    async with db.begin() as session:
        assert (await session.get(OutboxMessage, claimed.id)).status == "failed"
