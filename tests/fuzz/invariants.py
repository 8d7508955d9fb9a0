"""Database invariants that no sequence of updates may break, checked with plain SQL.

Each check is a query that returns the offending rows; ``violations`` runs them all and
describes what it found, so a failing fuzz example says which rule broke and on which rows.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.lifecycle import LEVELS, STATUSES
from storage.models.outbox import FAILED, PENDING, SENT, UNREACHABLE

_STATUSES = ", ".join(f"'{s}'" for s in STATUSES)
_LEVELS = ", ".join(str(level) for level in LEVELS)
_OUTBOX = ", ".join(f"'{s}'" for s in (PENDING, SENT, FAILED, UNREACHABLE))

#: rule → query returning offending rows (empty = the rule holds).
CHECKS: dict[str, str] = {
    "report without a valid group": (
        "SELECT r.id, r.group_id FROM reports r "
        "LEFT JOIN neighbour_groups g ON g.id = r.group_id WHERE g.id IS NULL"
    ),
    "report with an unknown status": (
        f"SELECT id, status FROM reports WHERE status IS NULL OR status NOT IN ({_STATUSES})"
    ),
    "report with a level outside 0-2": (
        f"SELECT id, level FROM reports WHERE level IS NULL OR level NOT IN ({_LEVELS})"
    ),
    "report event for a missing report": (
        "SELECT e.id, e.report_id FROM report_events e "
        "LEFT JOIN reports r ON r.id = e.report_id WHERE r.id IS NULL"
    ),
    "report event with an unknown status": (
        "SELECT id, from_status, to_status FROM report_events "
        f"WHERE (from_status IS NOT NULL AND from_status NOT IN ({_STATUSES})) "
        f"OR (to_status IS NOT NULL AND to_status NOT IN ({_STATUSES}))"
    ),
    "report photo for a missing report": (
        "SELECT p.id, p.report_id FROM report_photos p "
        "LEFT JOIN reports r ON r.id = p.report_id WHERE r.id IS NULL"
    ),
    "follower of a missing report": (
        "SELECT f.report_id, f.person_id FROM report_followers f "
        "LEFT JOIN reports r ON r.id = f.report_id WHERE r.id IS NULL"
    ),
    "outbox row with an unknown status": (
        f"SELECT id, status FROM outbox WHERE status IS NULL OR status NOT IN ({_OUTBOX})"
    ),
    "person in a missing group": (
        "SELECT p.id, p.group_id FROM people p "
        "LEFT JOIN neighbour_groups g ON g.id = p.group_id "
        "WHERE p.group_id IS NOT NULL AND g.id IS NULL"
    ),
    "forgotten person still identifiable": (
        "SELECT id, telegram_id, display_name FROM people WHERE forgotten_at IS NOT NULL "
        "AND (telegram_id IS NOT NULL OR display_name IS NOT NULL OR phone IS NOT NULL)"
    ),
}


async def violations(db: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every broken rule with up to five offending rows; empty when all hold."""
    found: list[str] = []
    async with db.begin() as session:
        for rule, query in CHECKS.items():
            rows = (await session.execute(text(query + " LIMIT 5"))).all()
            if rows:
                found.append(f"{rule}: {[tuple(r) for r in rows]}")
    return found
