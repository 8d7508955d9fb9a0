"""FAQ records in the database: unanswered questions (counted), questions forwarded to
captains and their answers, entries promoted by admins, and 👍/👎 feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Community,
    CommunityAdmin,
    FaqFeedback,
    FaqLocalEntry,
    FaqQuestion,
    FaqUnanswered,
)

SAMPLE_MAX = 500


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


async def log_unanswered(
    *,
    session: AsyncSession,
    community_code: str | None,
    normalised: str,
    sample: str,
    lang: str,
    now: datetime,
) -> None:
    """Count one more unanswered question (the same normalised text counts together)."""
    if not normalised:
        return
    insert = _insert(session)
    stmt = insert(FaqUnanswered).values(
        community_code=community_code or "",
        normalised=normalised[:200],
        sample=sample[:SAMPLE_MAX],
        lang=lang,
        count=1,
        first_at=now,
        last_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["community_code", "normalised"],
        set_={"count": FaqUnanswered.count + 1, "last_at": now},
    )
    await session.execute(stmt)


@dataclass(frozen=True, slots=True)
class UnansweredLine:
    """A logged question and how often it was asked."""

    community: str
    sample: str
    lang: str
    count: int
    last_at: datetime


async def unanswered(
    *, session: AsyncSession, community_codes: tuple[str, ...] | None = None, limit: int = 50
) -> list[UnansweredLine]:
    """The most asked unanswered questions (optionally of some communities)."""
    query = select(FaqUnanswered).order_by(FaqUnanswered.count.desc(), FaqUnanswered.last_at.desc())
    if community_codes is not None:
        query = query.where(FaqUnanswered.community_code.in_(community_codes))
    rows = await session.scalars(query.limit(limit))
    return [UnansweredLine(r.community_code, r.sample, r.lang, r.count, r.last_at) for r in rows]


async def record_feedback(
    *, session: AsyncSession, person_id: int, entry_id: str, helpful: bool, now: datetime
) -> None:
    """Remember a 👍/👎 (a second vote on the same entry replaces the first)."""
    insert = _insert(session)
    stmt = insert(FaqFeedback).values(
        person_id=person_id, entry_id=entry_id[:64], helpful=helpful, at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["person_id", "entry_id"], set_={"helpful": helpful, "at": now}
    )
    await session.execute(stmt)


async def feedback_counts(*, session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Per entry: (👍, 👎)."""
    rows = await session.execute(
        select(FaqFeedback.entry_id, FaqFeedback.helpful, func.count()).group_by(
            FaqFeedback.entry_id, FaqFeedback.helpful
        )
    )
    out: dict[str, list[int]] = {}
    for entry_id, helpful, count in rows:
        out.setdefault(entry_id, [0, 0])[0 if helpful else 1] += int(count)
    return {k: (v[0], v[1]) for k, v in out.items()}


async def forward_question(
    *,
    session: AsyncSession,
    asker_id: int,
    group_id: int,
    community_id: int,
    question: str,
    lang: str,
    now: datetime,
) -> FaqQuestion:
    """Store a question a resident asked to forward to their captain."""
    row = FaqQuestion(
        asker_id=asker_id,
        group_id=group_id,
        community_id=community_id,
        question=question[:SAMPLE_MAX],
        lang=lang,
        created_at=now,
        promoted=False,
    )
    session.add(row)
    await session.flush()
    return row


async def answer_question(
    *, session: AsyncSession, question_id: int, answer: str, by: int, now: datetime
) -> FaqQuestion | None:
    """Record the captain's answer once; None when it was already answered."""
    result = await session.execute(
        update(FaqQuestion)
        .where(FaqQuestion.id == question_id, FaqQuestion.answered_at.is_(None))
        .values(answer=answer[:2000], answered_by_id=by, answered_at=now)
    )
    if result.rowcount != 1:
        return None
    return await session.get(FaqQuestion, question_id)


async def answered_for_promotion(
    *, session: AsyncSession, community_ids: tuple[int, ...], limit: int = 10
) -> list[FaqQuestion]:
    """Answered, not yet promoted questions of these communities, newest first."""
    return list(
        await session.scalars(
            select(FaqQuestion)
            .where(
                FaqQuestion.community_id.in_(community_ids),
                FaqQuestion.answered_at.is_not(None),
                FaqQuestion.promoted.is_(False),
            )
            .order_by(FaqQuestion.answered_at.desc())
            .limit(limit)
        )
    )


async def promote(
    *, session: AsyncSession, question_id: int, community_code: str, now: datetime
) -> FaqLocalEntry | None:
    """Turn an answered question into a local FAQ entry of its community (once)."""
    row = await session.get(FaqQuestion, question_id)
    if row is None or row.answer is None or row.promoted:
        return None
    row.promoted = True
    entry = FaqLocalEntry(
        community_code=community_code,
        question=row.question,
        answer=row.answer,
        lang=row.lang,
        source_question_id=row.id,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def local_entries(*, session: AsyncSession) -> list[FaqLocalEntry]:
    """Every promoted local entry (merged into the matcher at start and after a promotion)."""
    return list(await session.scalars(select(FaqLocalEntry).order_by(FaqLocalEntry.id)))


async def admins_of(*, session: AsyncSession, community_id: int) -> list[int]:
    """The admins of a community."""
    return list(
        await session.scalars(
            select(CommunityAdmin.person_id).where(CommunityAdmin.community_id == community_id)
        )
    )


async def community_codes(*, session: AsyncSession, ids: tuple[int, ...]) -> tuple[str, ...]:
    """Codes of communities by id."""
    return tuple(await session.scalars(select(Community.code).where(Community.id.in_(ids))))
