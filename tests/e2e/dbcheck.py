"""Reading the bot's database from the test, to check what was (and was not) written.

Plain SQL through a short-lived engine: the bot process owns the database; the test only
looks.  ``consistency_problems`` lists half-written states a crash must never leave behind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def async_url(url: str) -> str:
    """The SQLAlchemy async URL for a ``sqlite:///`` or ``postgresql://`` URL."""
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


async def rows(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Run one query; rows as dicts."""
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(row._mapping) for row in result]
    finally:
        await engine.dispose()


async def scalar(url: str, sql: str, **params: Any) -> Any:
    """The first column of the first row (None when there is none)."""
    found = await rows(url, sql, **params)
    return next(iter(found[0].values())) if found else None


async def outbox(url: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Outbox rows (optionally of one kind), oldest first."""
    where = "WHERE kind = :kind" if kind else ""
    return await rows(
        url,
        f"SELECT id, chat_id, kind, status, attempts, dedup_key, last_error FROM outbox {where} "
        "ORDER BY id",
        kind=kind,
    )


async def consistency_problems(url: str) -> list[str]:
    """Half-written states: reports without their creation event, events or photos of
    reports that do not exist, reports without their new-report notice in the outbox."""
    problems = []
    for row in await rows(
        url,
        "SELECT r.id FROM reports r WHERE NOT EXISTS "
        "(SELECT 1 FROM report_events e WHERE e.report_id = r.id AND e.kind = 'created')",
    ):
        problems.append(f"report #{row['id']} has no 'created' event")
    for row in await rows(
        url,
        "SELECT e.id, e.report_id FROM report_events e LEFT JOIN reports r "
        "ON r.id = e.report_id WHERE r.id IS NULL",
    ):
        problems.append(f"event {row['id']} of missing report #{row['report_id']}")
    for row in await rows(
        url,
        "SELECT p.id, p.report_id FROM report_photos p LEFT JOIN reports r "
        "ON r.id = p.report_id WHERE r.id IS NULL",
    ):
        problems.append(f"photo {row['id']} of missing report #{row['report_id']}")
    reports = await scalar(url, "SELECT count(*) FROM reports")
    notices = await scalar(url, "SELECT count(*) FROM outbox WHERE kind = 'report_new'")
    if notices < reports:
        problems.append(f"{reports} reports but only {notices} new-report notices queued")
    return problems
