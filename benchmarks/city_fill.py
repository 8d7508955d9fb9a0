"""Fill a Wulin database with a synthetic city, quickly: bulk inserts, no ORM.

Shape at scale 1 (DOMAIN.md): 20 streets, 300 communities of 5 grids × 4 neighbour groups
(6,000 groups, 24,000 buildings), a leader per grid, a captain per group, an admin per
community, 500,000 residents, and 1,000,000 reports over two years with ~3.8 events each.
The status mix is the one a running city has: almost everything closed, ~1.3% open (some
escalated, most fresh), a few thousand resolved and awaiting confirmation, and a few hundred
reports whose deadline passed while the timer job was down, so a sweep has work to do.

Ids are assigned here, not by the database, so reports can point at people and buildings
without reading anything back.  Everything comes from a seeded RNG and the fixed ``NOW``:
one scale always gives the same city, and a reused database stays comparable.  SQLite is
written through SQLAlchemy Core (the column types format values exactly as the app does),
PostgreSQL through COPY.  Used by ``reports_bench.py``; reusable by other benchmarks.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from storage import lifecycle as lc
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.models import Base
from storage.report_flow import ReportConfig

#: The benchmark's clock: a Monday, 10:00 in Shanghai.  Nothing in the fill is stamped at
#: exactly NOW, so whatever a benchmark run writes can be found (and undone) by that stamp.
NOW = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CHUNK = 10_000

COMMUNITIES = 300
COMMUNITIES_PER_STREET = 15
# The brief said 20 grids per community, which with 6,000 groups leaves one group per grid;
# a grid's squad has several captains (DOMAIN.md), so 5 grids of 4 groups keep 20 groups.
GRIDS_PER_COMMUNITY = 5
GROUPS_PER_GRID = 4
BUILDINGS_PER_GROUP = 4
RESIDENTS = 500_000
REPORTS = 1_000_000
HISTORY_DAYS = 730
TELEGRAM_BASE = 7_000_000_000

# Reports that are not plain closed history, at scale 1.
OVERDUE_UNMARKED = 300  # deadline passed in the last 6 h, timer not run yet: the sweep's work
CONFIRM_EXPIRED = 200  # resolved, confirmation window over in the last 6 h: auto-close work
ESCALATED_OPEN = 4_000  # open at grid (80%) or community (20%) level, 8-60 days old
FRESH_OPEN = 6_000  # open at captain level, inside their deadlines
RESOLVED_PENDING = 3_000  # resolved in the last 3 days, awaiting the resident's confirmation

CATEGORIES = {
    "sanitation": (30, "垃圾桶满了好几天没人清理，味道很大"),
    "repairs": (30, "楼道灯坏了，晚上很黑"),
    "safety": (8, "有人在楼道里给电动车充电，有火灾隐患"),
    "dispute": (10, "楼上深夜噪音扰民，沟通无果"),
    "property": (15, "电梯经常停运，物业一直没有处理"),
    "other": (7, "小区门口的井盖松动"),
}


@dataclass(frozen=True)
class City:
    """Sizes and id layout of the city at one scale.

    People ids: grid leaders first (leader of grid g is person g), then one admin per
    community, then one captain per group, then the residents, contiguous per group.
    """

    scale: float
    communities: int
    residents: int
    reports: int

    @classmethod
    def at(cls, scale: float) -> City:
        """The city at ``scale`` (1.0 = the whole city of DOMAIN.md)."""
        return cls(
            scale,
            max(1, round(COMMUNITIES * scale)),
            max(1, round(RESIDENTS * scale)),
            max(1, round(REPORTS * scale)),
        )

    @property
    def streets(self) -> int:
        """One street per 15 communities."""
        return -(-self.communities // COMMUNITIES_PER_STREET)

    @property
    def grids(self) -> int:
        """Grids in the city."""
        return self.communities * GRIDS_PER_COMMUNITY

    @property
    def groups(self) -> int:
        """Neighbour groups in the city."""
        return self.grids * GROUPS_PER_GRID

    @property
    def first_resident(self) -> int:
        """Id of the first plain resident."""
        return self.grids + self.communities + self.groups + 1

    def scaled(self, count: int) -> int:
        """A scale-1 count at this scale (at least one)."""
        return max(1, round(count * self.scale))

    def admin_of(self, community: int) -> int:
        """Person id of the community's admin."""
        return self.grids + community

    def captain_of(self, group: int) -> int:
        """Person id of the group's captain."""
        return self.grids + self.communities + group

    @staticmethod
    def grid_of(group: int) -> int:
        """The grid a group belongs to."""
        return (group - 1) // GROUPS_PER_GRID + 1

    @staticmethod
    def community_of(grid: int) -> int:
        """The community a grid belongs to."""
        return (grid - 1) // GRIDS_PER_COMMUNITY + 1

    @staticmethod
    def building_of(group: int, person: int) -> int:
        """The building a person of ``group`` lives in."""
        return (group - 1) * BUILDINGS_PER_GROUP + person % BUILDINGS_PER_GROUP + 1

    @staticmethod
    def telegram_id(person: int) -> int:
        """The Telegram id of a person (everyone in the city has one)."""
        return TELEGRAM_BASE + person

    def resident_ranges(self) -> list[tuple[int, int]]:
        """(first person id, count) of the residents of each group; index 0 is group 1."""
        rng = random.Random(1)
        weights = [rng.uniform(0.5, 1.5) for _ in range(self.groups)]
        total = sum(weights)
        sizes = [int(self.residents * w / total) for w in weights]
        for i in range(self.residents - sum(sizes)):
            sizes[i % self.groups] += 1
        ranges, start = [], self.first_resident
        for size in sizes:
            ranges.append((start, size))
            start += size
        return ranges


Rows = list[tuple[Any, ...]]
#: Receives one chunk of rows of a table, in the order of ``columns``.
Write = Callable[[str, tuple[str, ...], Rows], Awaitable[None]]
#: Receives a progress line of a long fill.
Log = Callable[[str], None]


def organisation(city: City) -> Iterator[tuple[str, tuple[str, ...], Rows]]:
    """Streets, communities, grids, groups, buildings, people and admins, in chunks."""
    born = NOW - timedelta(days=HISTORY_DAYS + 30)
    yield (
        "streets",
        ("id", "code", "name"),
        [(s, f"S{s:02d}", f"第{s}街道") for s in range(1, city.streets + 1)],
    )
    yield (
        "communities",
        ("id", "street_id", "code", "name", "households", "latitude", "longitude"),
        [
            (c, (c - 1) // COMMUNITIES_PER_STREET + 1, f"C{c:03d}", f"第{c}社区", 1700, None, None)
            for c in range(1, city.communities + 1)
        ],
    )
    yield (
        "grids",
        ("id", "community_id", "code", "name", "leader_id"),
        [(g, city.community_of(g), f"G{g}", f"第{g}网格", g) for g in range(1, city.grids + 1)],
    )
    # Half of the groups linked a Telegram group chat, so filing also queues a chat summary.
    yield (
        "neighbour_groups",
        ("id", "community_id", "grid_id", "code", "name", "captain_id", "chat_id"),
        [
            (
                n,
                city.community_of(city.grid_of(n)),
                city.grid_of(n),
                f"N{n}",
                f"第{n}邻里小组",
                city.captain_of(n),
                -1_000_000_000_000 - n if n % 2 else None,
            )
            for n in range(1, city.groups + 1)
        ],
    )
    buildings = [
        ((n - 1) * BUILDINGS_PER_GROUP + b + 1, n, f"{(n - 1) * BUILDINGS_PER_GROUP + b + 1}栋", b)
        for n in range(1, city.groups + 1)
        for b in range(BUILDINGS_PER_GROUP)
    ]
    for i in range(0, len(buildings), CHUNK):
        yield "buildings", ("id", "group_id", "name", "position"), buildings[i : i + CHUNK]
    yield (
        "community_admins",
        ("community_id", "person_id"),
        [(c, city.admin_of(c)) for c in range(1, city.communities + 1)],
    )
    columns = (
        "id", "telegram_id", "display_name", "phone", "community_id", "group_id",
        "building_id", "unit", "staff_key", "created_at", "joined_at",
    )  # fmt: skip
    staff: Rows = [
        (g, city.telegram_id(g), f"网格员{g}", f"139{g:08d}", city.community_of(g), None,
         None, None, f"grid-{g}", born, None)
        for g in range(1, city.grids + 1)
    ]  # fmt: skip
    staff += [
        (city.admin_of(c), city.telegram_id(city.admin_of(c)), f"社区管理员{c}", None, c, None,
         None, None, f"admin-{c}", born, None)
        for c in range(1, city.communities + 1)
    ]  # fmt: skip
    # Captains live in their group, like its residents.
    staff += [
        (p, city.telegram_id(p), f"邻长{n}", f"138{n:08d}", city.community_of(city.grid_of(n)),
         n, city.building_of(n, p), "1单元", f"captain-{n}", born, born)
        for n in range(1, city.groups + 1)
        for p in (city.captain_of(n),)
    ]  # fmt: skip
    yield "people", columns, staff
    chunk: Rows = []
    for n, (start, size) in enumerate(city.resident_ranges(), start=1):
        community = city.community_of(city.grid_of(n))
        for p in range(start, start + size):
            chunk.append(
                (p, city.telegram_id(p), f"居民{p}", None, community, n,
                 city.building_of(n, p), f"{p % 6 + 1}单元", None, born, born)
            )  # fmt: skip
            if len(chunk) >= CHUNK:
                yield "people", columns, chunk
                chunk = []
    if chunk:
        yield "people", columns, chunk


REPORT_COLUMNS = (
    "id", "group_id", "grid_id", "community_id", "reporter_id", "category", "description",
    "building_id", "unit", "latitude", "longitude", "status", "level", "supporters", "version",
    "created_at", "updated_at", "acknowledged_at", "resolved_at", "closed_at", "escalated_at",
    "ack_due_at", "resolve_due_at", "confirm_due_at", "overdue_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "report_id", "actor_id", "at", "kind", "from_status", "to_status", "from_level",
    "to_level", "note",
)  # fmt: skip


class _Life:
    """One report's history, applied the way ``storage.reports`` applies changes."""

    def __init__(
        self, created: datetime, reporter: int, ack_h: float, resolve_h: float, confirm_days: float
    ) -> None:
        self.ack_h, self.resolve_h, self.confirm_days = ack_h, resolve_h, confirm_days
        self.f: dict[str, Any] = dict.fromkeys(REPORT_COLUMNS[15:])
        self.f.update(
            status=lc.NEW,
            level=lc.CAPTAIN,
            created_at=created,
            updated_at=created,
            ack_due_at=created + ack_h * HOUR,
            resolve_due_at=created + resolve_h * HOUR,
        )
        self.events: Rows = [(reporter, created, "created", None, lc.NEW, None, lc.CAPTAIN, None)]

    def status(self, at: datetime, actor: int | None, to: str, kind: str = "status") -> datetime:
        """Move to ``to`` at ``at`` (as ``change_status`` does); returns ``at``."""
        f = self.f
        self.events.append((actor, at, kind, f["status"], to, None, None, None))
        f["status"], f["updated_at"] = to, at
        if to in (lc.ACKNOWLEDGED, lc.IN_PROGRESS) and f["acknowledged_at"] is None:
            f["acknowledged_at"] = at
        if to == lc.RESOLVED:
            f["resolved_at"], f["confirm_due_at"] = at, at + timedelta(days=self.confirm_days)
        if to in lc.FINAL:
            f["closed_at"], f["confirm_due_at"] = at, None
        if to == lc.REOPENED:
            f.update(resolved_at=None, confirm_due_at=None, acknowledged_at=None, overdue_at=None)
            f["ack_due_at"] = at + self.ack_h * HOUR
            f["resolve_due_at"] = at + self.resolve_h * HOUR
        return at

    def level(self, at: datetime, actor: int | None, to: int, kind: str = "escalate") -> datetime:
        """Escalate to ``to`` at ``at``; ``kind="overdue"`` is the timer doing it."""
        f = self.f
        note = "ack" if kind == "overdue" else None
        self.events.append((actor, at, kind, f["status"], f["status"], f["level"], to, note))
        f["level"], f["updated_at"], f["escalated_at"] = to, at, at
        if kind == "overdue":
            f["overdue_at"] = at
        return at


# Kinds of report in the plan; HISTORY is everything closed long ago.
HISTORY, UNMARKED, EXPIRED, ESCALATED, FRESH, PENDING = range(6)


class ReportMaker:
    """Makes the reports and their events, oldest first (ids follow filing order)."""

    def __init__(self, city: City, config: ReportConfig) -> None:
        self.city, self.config = city, config
        self.rng = random.Random(2)
        self.ranges = city.resident_ranges()
        self.categories = list(CATEGORIES)
        self.weights = [w for w, _ in CATEGORIES.values()]

    def _u(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def _category(self) -> str:
        return self.rng.choices(self.categories, self.weights)[0]

    def _hours(self, category: str) -> tuple[float, float]:
        d = self.config.deadlines(category)
        return d.ack_hours, d.resolve_hours

    def _plan(self) -> Iterator[tuple[float, int, str | None, str | None, float]]:
        """(age in hours, kind, category, status, resolved age) of every report, oldest first."""
        city, u = self.city, self._u
        recent = []
        confirm_h = self.config.confirm_days * 24
        for _ in range(city.scaled(OVERDUE_UNMARKED)):
            cat = self._category()
            ack_h, resolve_h = self._hours(cat)
            status = self.rng.choice((lc.NEW, lc.NEW, lc.ACKNOWLEDGED, lc.IN_PROGRESS))
            due_h = ack_h if status == lc.NEW else resolve_h
            recent.append((due_h + u(0.1, 6), UNMARKED, cat, status, 0.0))
        for kind, count, resolved_low, resolved_high in (
            (EXPIRED, CONFIRM_EXPIRED, confirm_h + 0.1, confirm_h + 6),
            (PENDING, RESOLVED_PENDING, 0.05, confirm_h - 0.1),
        ):
            for _ in range(city.scaled(count)):
                resolved_age = u(resolved_low, resolved_high)
                recent.append(
                    (resolved_age + u(2, 120), kind, self._category(), None, resolved_age)
                )
        statuses = (lc.NEW, lc.ACKNOWLEDGED, lc.IN_PROGRESS, lc.REOPENED)
        for _ in range(city.scaled(ESCALATED_OPEN)):
            status = self.rng.choices(statuses, (20, 30, 40, 10))[0]
            recent.append((u(8 * 24, 60 * 24), ESCALATED, self._category(), status, 0.0))
        for _ in range(city.scaled(FRESH_OPEN)):
            cat = self._category()
            ack_h, resolve_h = self._hours(cat)
            status = self.rng.choices(statuses[:3], (20, 35, 45))[0]
            age = u(0.02, 0.95) * ack_h if status == lc.NEW else u(0.1, resolve_h - 1)
            recent.append((age, FRESH, cat, status, 0.0))
        history = max(0, city.reports - len(recent))
        # Ten days back every life below is over (the longest takes under ten days).
        ages = sorted((u(240, HISTORY_DAYS * 24) for _ in range(history)), reverse=True)
        recent.sort(key=lambda spec: spec[0], reverse=True)
        old = ((age, HISTORY, None, None, 0.0) for age in ages)
        return heapq.merge(old, recent, key=lambda spec: -spec[0])

    def chunks(self) -> Iterator[tuple[Rows, Rows]]:
        """(report rows, event rows) in chunks of about ``CHUNK`` reports."""
        reports: Rows = []
        events: Rows = []
        event_id = 0
        for report_id, spec in enumerate(self._plan(), start=1):
            row, life_events = self._report(report_id, *spec)
            reports.append(row)
            for actor, at, kind, from_s, to_s, from_l, to_l, note in life_events:
                event_id += 1
                events.append(
                    (event_id, report_id, actor, at, kind, from_s, to_s, from_l, to_l, note)
                )
            if len(reports) >= CHUNK:
                yield reports, events
                reports, events = [], []
        if reports:
            yield reports, events

    def _report(
        self,
        report_id: int,
        age_h: float,
        kind: int,
        cat: str | None,
        status: str | None,
        resolved_age_h: float,
    ) -> tuple[tuple[Any, ...], Rows]:
        """One report row and its events (``age_h`` … as planned by ``_plan``)."""
        city, rng = self.city, self.rng
        group = rng.randrange(city.groups) + 1
        start, size = self.ranges[group - 1]
        reporter = start + rng.randrange(size)
        grid = city.grid_of(group)
        who = (reporter, city.captain_of(group), grid)  # reporter, captain, grid leader
        category = cat or self._category()
        ack_h, resolve_h = self._hours(category)
        life = _Life(NOW - age_h * HOUR, reporter, ack_h, resolve_h, self.config.confirm_days)
        if kind == HISTORY:
            self._closed_life(life, who)
        elif kind in (EXPIRED, PENDING):
            self._resolved_life(life, who, NOW - resolved_age_h * HOUR)
        elif kind == ESCALATED:
            self._escalated_life(life, who, status or lc.NEW)
        elif status != lc.NEW:  # UNMARKED or FRESH, acknowledged in time
            created = life.f["created_at"]
            ack = life.status(
                created + self._u(0.05, 0.9) * min(ack_h, age_h) * HOUR, who[1], lc.ACKNOWLEDGED
            )
            if status == lc.IN_PROGRESS:
                life.status(ack + self._u(0.05, 0.9) * min(24 * HOUR, NOW - ack), who[1], status)
        f = life.f
        f["version"] = len(life.events)
        row = (
            report_id, group, grid, city.community_of(grid), reporter, category,
            CATEGORIES[category][1], city.building_of(group, reporter), f"{reporter % 6 + 1}单元",
            None, None, f["status"], f["level"], 0, f["version"],
            *(f[c] for c in REPORT_COLUMNS[15:]),
        )  # fmt: skip
        return row, life.events

    def _closed_life(self, life: _Life, who: tuple[int, int, int]) -> None:
        """Closed (88%), rejected (7%) or withdrawn (5%); 8% were escalated on the way."""
        u, rng = self._u, self.rng
        reporter, captain, leader = who
        created = life.f["created_at"]
        fate = rng.random()
        if fate >= 0.95:
            life.status(created + u(0.1, 10) * HOUR, reporter, lc.WITHDRAWN)
            return
        if fate >= 0.88:
            life.status(created + u(0.2, 20) * HOUR, captain, lc.REJECTED)
            return
        escalated = rng.random() < 0.08
        resolver = leader if escalated else captain
        if escalated and rng.random() < 0.5:
            late = life.level(life.f["ack_due_at"] + u(0, 0.08) * HOUR, None, lc.GRID, "overdue")
            last = life.status(late + u(0.5, 12) * HOUR, leader, lc.ACKNOWLEDGED)
        else:
            last = life.status(created + u(0.05, 0.9) * life.ack_h * HOUR, captain, lc.ACKNOWLEDGED)
            if escalated:
                last = life.level(last + u(0.5, 24) * HOUR, captain, lc.GRID)
        resolved = life.status(last + u(2, 100) * HOUR, resolver, lc.RESOLVED)
        if rng.random() < 0.6:
            life.status(resolved + u(0.5, 60) * HOUR, reporter, lc.CLOSED)
        else:
            auto = resolved + timedelta(days=self.config.confirm_days)
            life.status(auto, None, lc.CLOSED, "auto_close")

    def _resolved_life(self, life: _Life, who: tuple[int, int, int], resolved: datetime) -> None:
        """Acknowledged, sometimes escalated (10%), resolved at ``resolved``."""
        u = self._u
        _, captain, leader = who
        created = life.f["created_at"]
        span = min(life.ack_h * HOUR, resolved - created)
        ack = life.status(created + u(0.05, 0.9) * span, captain, lc.ACKNOWLEDGED)
        resolver = captain
        if self.rng.random() < 0.1:
            life.level(ack + u(0.1, 0.5) * (resolved - ack), captain, lc.GRID)
            resolver = leader
        life.status(resolved, resolver, lc.RESOLVED)

    def _escalated_life(self, life: _Life, who: tuple[int, int, int], status: str) -> None:
        """Open above the captain: escalated by the timer (60%) or by hand; 20% went on up."""
        u, rng = self._u, self.rng
        reporter, captain, leader = who
        created = life.f["created_at"]
        ack_at = created + u(0.05, 0.9) * life.ack_h * HOUR
        if status == lc.REOPENED:
            last = life.status(ack_at, captain, lc.ACKNOWLEDGED)
            last = life.status(last + u(2, 48) * HOUR, captain, lc.RESOLVED)
            last = life.status(last + u(1, 48) * HOUR, reporter, lc.REOPENED)
            last = life.level(last + u(0.5, 12) * HOUR, captain, lc.GRID)
        elif rng.random() < 0.6:
            last = life.level(life.f["ack_due_at"] + u(0, 0.08) * HOUR, None, lc.GRID, "overdue")
            if status != lc.NEW:
                last = life.status(last + u(0.5, 12) * HOUR, leader, lc.ACKNOWLEDGED)
        elif status == lc.NEW:
            last = life.level(ack_at, captain, lc.GRID)
        else:
            last = life.status(ack_at, captain, lc.ACKNOWLEDGED)
            last = life.level(last + u(0.5, 24) * HOUR, captain, lc.GRID)
        if status == lc.IN_PROGRESS:
            last = life.status(last + u(0.5, 24) * HOUR, leader, lc.IN_PROGRESS)
        if rng.random() < 0.2:
            life.level(last + u(1, 48) * HOUR, leader, lc.COMMUNITY)


async def load(city: City, config: ReportConfig, write: Write, log: Log) -> None:
    """Write the whole city through ``write``; ``log`` gets a progress line now and then."""
    for table, columns, rows in organisation(city):
        await write(table, columns, rows)
    log("organisation and people written")
    done, started = 0, time.perf_counter()
    for reports, events in ReportMaker(city, config).chunks():
        await write("reports", REPORT_COLUMNS, reports)
        await write("report_events", EVENT_COLUMNS, events)
        done += len(reports)
        if done % 200_000 < CHUNK:
            log(f"reports {done:,}/{city.reports:,} ({time.perf_counter() - started:.0f} s)")


async def fill_sqlite(url: str, city: City, config: ReportConfig, log: Log) -> None:
    """Migrate the (empty) SQLite file at ``url`` and load the city through Core inserts."""
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    # A plain engine for the load: foreign keys off (SQLite's default) and no fsync, which
    # is several times faster and safe for a file we would simply refill after a crash.
    loader = create_async_engine(url)

    @event.listens_for(loader.sync_engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-1000000")
        cursor.close()

    tables = Base.metadata.tables
    async with loader.connect() as conn:

        async def write(table: str, columns: tuple[str, ...], rows: Rows) -> None:
            await conn.execute(
                tables[table].insert(), [dict(zip(columns, r, strict=True)) for r in rows]
            )
            await conn.commit()

        await load(city, config, write, log)
    await loader.dispose()


async def fill_postgres(dsn: str, url: str, city: City, config: ReportConfig, log: Log) -> None:
    """Migrate the (empty) database and load the city with COPY, then VACUUM ANALYZE.

    ``dsn`` is the libpq form for asyncpg, ``url`` the SQLAlchemy one for the migration.
    """
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    conn = await asyncpg.connect(dsn)
    try:
        # Replica mode skips the foreign-key triggers: people and groups point at each
        # other, and checking 5 million rows one by one would dominate the load.
        await conn.execute("SET session_replication_role = replica")

        async def write(table: str, columns: tuple[str, ...], rows: Rows) -> None:
            await conn.copy_records_to_table(table, records=rows, columns=list(columns))

        await load(city, config, write, log)
        await conn.execute("SET session_replication_role = origin")
        # Ids came from us, so the sequences must catch up before the app inserts.
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                    f" coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                )
        started = time.perf_counter()
        # What autovacuum would have done by now on a live server: statistics for the
        # planner and a visibility map for index-only scans.
        await conn.execute("VACUUM ANALYZE")
        log(f"VACUUM ANALYZE {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()
