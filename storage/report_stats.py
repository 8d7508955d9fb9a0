"""Report export (CSV rows) and statistics for grid leaders and admins."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import lifecycle as lc
from storage.models import Building, NeighbourGroup, Report
from storage.report_queries import report_scope

EXPORT_COLUMNS = (
    "id", "group", "building", "unit", "category", "status", "level", "supporters", "description",
    "created", "acknowledged", "resolved", "closed", "hours_to_acknowledge", "hours_to_resolve",
)  # fmt: skip
EXPORT_LIMIT = 100_000


def _scope(grid_ids: tuple[int, ...], community_ids: tuple[int, ...]):  # type: ignore[no-untyped-def]
    return report_scope(grid_ids, community_ids)


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 3600, 2)


async def export_csv(
    *,
    session: AsyncSession,
    grid_ids: tuple[int, ...],
    community_ids: tuple[int, ...],
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
) -> tuple[str, int]:
    """CSV (UTF-8 with BOM, for spreadsheets) of reports created in [start, end); row count.

    No reporter names or phone numbers: the file may travel further than the bot's chats.
    """
    rows = await session.execute(
        select(Report, NeighbourGroup.name, Building.name)
        .join(NeighbourGroup, NeighbourGroup.id == Report.group_id)
        .outerjoin(Building, Building.id == Report.building_id)
        .where(_scope(grid_ids, community_ids), Report.created_at >= start, Report.created_at < end)
        .order_by(Report.created_at, Report.id)
        .limit(EXPORT_LIMIT)
    )

    def local(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for report, group, building in rows:
        count += 1
        writer.writerow(
            [
                report.id,
                group,
                building or "",
                report.unit or "",
                report.category,
                report.status,
                report.level,
                report.supporters,
                _safe_cell(report.description),
                local(report.created_at),
                local(report.acknowledged_at),
                local(report.resolved_at),
                local(report.closed_at),
                _hours(report.created_at, report.acknowledged_at) or "",
                _hours(report.created_at, report.resolved_at) or "",
            ]
        )
    return out.getvalue(), count


def _safe_cell(text: str) -> str:
    """Neutralise spreadsheet formulas (=, +, -, @ at the start of a cell)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@dataclass(frozen=True, slots=True)
class GroupStats:
    """Counts and medians of one group."""

    group: str
    total: int
    open: int
    median_ack_hours: float | None
    median_resolve_hours: float | None


@dataclass(frozen=True, slots=True)
class Stats:
    """Statistics over a scope."""

    by_status: dict[str, int]
    by_category: dict[str, int]
    groups: tuple[GroupStats, ...]


async def report_stats(
    *,
    session: AsyncSession,
    grid_ids: tuple[int, ...],
    community_ids: tuple[int, ...],
    since: datetime | None = None,
) -> Stats:
    """Counts by status and category, and per group the median time to acknowledge/resolve."""
    conditions = [_scope(grid_ids, community_ids)]
    if since is not None:
        conditions.append(Report.created_at >= since)
    rows = await session.execute(
        select(
            Report.status,
            Report.category,
            NeighbourGroup.name,
            Report.created_at,
            Report.acknowledged_at,
            Report.resolved_at,
        )
        .join(NeighbourGroup, NeighbourGroup.id == Report.group_id)
        .where(and_(*conditions))
    )
    by_status: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    per_group: dict[str, dict[str, list[float] | int]] = {}
    for status, category, group, created, acked, resolved in rows:
        by_status[status] += 1
        by_category[category] += 1
        entry = per_group.setdefault(group, {"total": 0, "open": 0, "ack": [], "resolve": []})
        entry["total"] += 1  # type: ignore[operator]
        if status in lc.OPEN:
            entry["open"] += 1  # type: ignore[operator]
        if (h := _hours(created, acked)) is not None:
            entry["ack"].append(h)  # type: ignore[union-attr]
        if (h := _hours(created, resolved)) is not None:
            entry["resolve"].append(h)  # type: ignore[union-attr]
    groups = tuple(
        GroupStats(
            name,
            int(e["total"]),
            int(e["open"]),  # type: ignore[arg-type]
            statistics.median(e["ack"]) if e["ack"] else None,  # type: ignore[arg-type]
            statistics.median(e["resolve"]) if e["resolve"] else None,
        )  # type: ignore[arg-type]
        for name, e in sorted(per_group.items())
    )
    return Stats(dict(by_status), dict(by_category), groups)
