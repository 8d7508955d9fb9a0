"""The database of the fan-out benchmark: a city with N captains, on SQLite or PostgreSQL.

Reuses ``city_fill.py``: 20 neighbour groups (one captain each, bound to Telegram) per
community, 5 grids of 4 groups, a grid leader per grid, an admin per community.  Residents
and reports are fewer than the full city by default: the fan-out reads only the open
reports per group (the reminder says "N open, oldest MM-DD"), and ``city_fill`` always
writes the full share of open, escalated and pending reports whatever ``--reports`` says.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
from city_fill import GRIDS_PER_COMMUNITY, GROUPS_PER_GRID, City, fill_postgres, fill_sqlite
from sqlalchemy.engine import URL

from settings import Settings
from storage.report_flow import ReportConfig

GROUPS_PER_COMMUNITY = GRIDS_PER_COMMUNITY * GROUPS_PER_GRID
RESIDENTS_PER_GROUP = 10
REPORTS_PER_GROUP = 20


def fanout_city(captains: int, residents: int | None, reports: int | None) -> City:
    """The city with at least ``captains`` captains (rounded up to whole communities)."""
    communities = max(1, math.ceil(captains / GROUPS_PER_COMMUNITY))
    groups = communities * GROUPS_PER_COMMUNITY
    return City(
        # ``scale`` sizes city_fill's open/escalated/pending report counts; 1.0 = 6,000 groups.
        scale=groups / 6000,
        communities=communities,
        residents=residents if residents is not None else groups * RESIDENTS_PER_GROUP,
        reports=reports if reports is not None else groups * REPORTS_PER_GROUP,
    )


def report_config() -> ReportConfig:
    """Default report settings (no .env: the benchmark must not depend on a local file)."""
    return ReportConfig.from_settings(Settings(_env_file=None))


def sqlite_path(captains: int) -> Path:
    """The default temporary SQLite file for this size."""
    return Path(tempfile.gettempdir()) / f"wulin_fanout_bench_{captains}.sqlite3"


def remove_sqlite(path: Path) -> None:
    """Delete the file and its WAL companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def make_sqlite(path: Path, city: City, log: Callable[[str], None]) -> tuple[str, float]:
    """Fill a fresh SQLite file; returns (SQLAlchemy URL, seconds taken)."""
    remove_sqlite(path)
    url = f"sqlite+aiosqlite:///{path}"
    started = time.perf_counter()
    await fill_sqlite(url, city, report_config(), log)
    return url, time.perf_counter() - started


async def make_postgres(
    server: URL, database: str, city: City, log: Callable[[str], None]
) -> tuple[str, float]:
    """Create (or recreate) ``database`` on the server and fill it; returns (URL, seconds)."""
    bench = server.set(drivername="postgresql+asyncpg", database=database)
    url = bench.render_as_string(hide_password=False)
    dsn = bench.set(drivername="postgresql").render_as_string(hide_password=False)
    await recreate_database(server, database)
    started = time.perf_counter()
    await fill_postgres(dsn, url, city, report_config(), log)
    return url, time.perf_counter() - started


def _admin_dsn(server: URL) -> str:
    admin = server.set(drivername="postgresql", database=server.database or "postgres")
    return admin.render_as_string(hide_password=False)


async def recreate_database(server: URL, database: str) -> None:
    """Drop and create the benchmark's own database (never the URL's, which tests truncate)."""
    admin = await asyncpg.connect(_admin_dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()


async def drop_database(server: URL, database: str) -> None:
    """Remove the benchmark database."""
    admin = await asyncpg.connect(_admin_dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()
