"""Outbox services: enqueue in the caller's transaction; claim, and record outcomes.

A message is claimed with a short lease, so several sender processes on one database never
send the same row at the same time; the sender renews the lease while a slow batch is still
being sent (``renew_leases``).  A sender that dies mid-send leaves a lease that expires and the
row is retried (at-least-once per row, which is the best Telegram allows: it has no
idempotency keys).  ``dedup_key`` makes enqueueing itself idempotent (reminders).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, Person
from storage.models.outbox import FAILED, PENDING, SENT, UNREACHABLE

LEASE = timedelta(seconds=60)


def text(key: str, /, **params: Any) -> dict[str, Any]:
    """A message text to be translated at send time into the recipient's language."""
    return {"key": key, "params": params}


def button(label: dict[str, Any] | str, data: str) -> dict[str, Any]:
    """An inline button for an outbox payload (label translated like texts)."""
    return {"text": label, "data": data}


async def enqueue(
    *,
    session: AsyncSession,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    person_id: int | None = None,
    dedup_key: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue one message; returns False when ``dedup_key`` was already queued (nothing added)."""
    values = {
        "chat_id": chat_id,
        "person_id": person_id,
        "kind": kind,
        "payload": payload,
        "dedup_key": dedup_key,
        "status": PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
    }
    if dedup_key is None:
        session.add(OutboxMessage(**values))
        await session.flush()
        return True
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)


async def enqueue_many(*, session: AsyncSession, rows: list[dict[str, Any]], now: datetime) -> int:
    """Queue many messages at once (a fan-out); rows with a ``dedup_key`` already queued are
    skipped.  Each row: ``chat_id``, ``person_id``, ``kind``, ``payload``, ``dedup_key``.

    Multi-row inserts in chunks: a few statements for thousands of reminders, instead of a
    round trip each (which kept SQLite's write lock for seconds).
    """
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    queued = 0
    for start in range(0, len(rows), 500):  # 500 × 11 columns stays under SQLite's variable limit
        chunk = [
            {"status": PENDING, "attempts": 0, "not_before": now, "created_at": now, **row}
            for row in rows[start : start + 500]
        ]
        stmt = (
            insert(OutboxMessage).values(chunk).on_conflict_do_nothing(index_elements=["dedup_key"])
        )
        result = await session.execute(stmt)
        queued += max(0, result.rowcount or 0)
    return queued


async def enqueue_to_person(
    *,
    session: AsyncSession,
    person_id: int,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    dedup_key: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue a message to a person's private chat; False if they have no Telegram account."""
    # session.get: the person is usually loaded already (routing just looked at them).
    person = await session.get(Person, person_id)
    chat_id = person.telegram_id if person is not None else None
    if chat_id is None:
        return False
    return await enqueue(
        session=session,
        chat_id=chat_id,
        kind=kind,
        payload=payload,
        now=now,
        person_id=person_id,
        dedup_key=dedup_key,
        not_before=not_before,
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed message, detached from the session, with the recipient's language."""

    id: int
    chat_id: int
    person_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int
    language: str | None


async def claim_due(*, session: AsyncSession, now: datetime, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due messages to this sender, oldest first."""
    due = and_(
        OutboxMessage.status == PENDING,
        OutboxMessage.not_before <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )
    query = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(await session.scalars(query))
    if not ids:
        return []
    # Re-check the condition in the UPDATE so a concurrent claimer cannot take the same row.
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), due)
        .values(lease_until=now + LEASE)
        .returning(OutboxMessage.id)
    )
    claimed_ids = sorted(result.scalars())
    rows = await session.execute(
        select(OutboxMessage, Person.language)
        .outerjoin(Person, Person.id == OutboxMessage.person_id)
        .where(OutboxMessage.id.in_(claimed_ids))
        .order_by(OutboxMessage.id)
    )
    return [
        Claimed(m.id, m.chat_id, m.person_id, m.kind, m.payload, m.attempts, language)
        for m, language in rows
    ]


async def renew_leases(*, session: AsyncSession, message_ids: list[int], now: datetime) -> int:
    """Extend the leases of messages still being sent; returns how many were renewed.

    Only rows still pending whose lease has not run out: a lapsed lease may already have been
    claimed by another sender, and a finished row needs none.
    """
    if not message_ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.status == PENDING,
            OutboxMessage.lease_until >= now,
        )
        .values(lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return max(0, result.rowcount or 0)


async def mark_sent(*, session: AsyncSession, message_id: int, now: datetime) -> None:
    """Record a delivered message."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=SENT, sent_at=now, lease_until=None, attempts=OutboxMessage.attempts + 1)
    )


async def mark_sent_many(*, session: AsyncSession, message_ids: list[int], now: datetime) -> None:
    """Record many delivered messages in one statement."""
    if not message_ids:
        return
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .values(status=SENT, sent_at=now, lease_until=None, attempts=OutboxMessage.attempts + 1)
    )


async def mark_retry(
    *,
    session: AsyncSession,
    message_id: int,
    now: datetime,
    delay: timedelta,
    error: str,
    max_attempts: int | None = None,
    retry_for: timedelta | None = None,
) -> bool:
    """Schedule another attempt after ``delay``; give up (FAILED) once the message has had
    ``max_attempts`` attempts or was queued ``retry_for`` ago, whichever comes first (None:
    no such bound).

    Returns True when the message will be retried.
    """
    message = await session.get(OutboxMessage, message_id)
    if message is None:
        return False
    message.attempts += 1
    message.last_error = error[:500]
    message.lease_until = None
    out_of_attempts = max_attempts is not None and message.attempts >= max_attempts
    out_of_time = retry_for is not None and now >= message.created_at + retry_for
    if out_of_attempts or out_of_time:
        message.status = FAILED
        return False
    message.not_before = now + delay
    return True


async def mark_failed(*, session: AsyncSession, message_id: int, error: str) -> None:
    """Telegram refused the message itself (bad request): do not retry."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status=FAILED,
            last_error=error[:500],
            lease_until=None,
            attempts=OutboxMessage.attempts + 1,
        )
    )


async def mark_unreachable(
    *, session: AsyncSession, message_id: int, person_id: int | None, now: datetime, error: str
) -> None:
    """The recipient blocked the bot (403): record it on the message and on the person."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status=UNREACHABLE,
            last_error=error[:500],
            lease_until=None,
            attempts=OutboxMessage.attempts + 1,
        )
    )
    if person_id is not None:
        await session.execute(
            update(Person)
            .where(Person.id == person_id, Person.unreachable_since.is_(None))
            .values(unreachable_since=now)
        )


async def pending_count(*, session: AsyncSession) -> int:
    """How many messages wait to be sent (a health figure)."""
    from sqlalchemy import func

    return int(
        await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
        )
        or 0
    )
