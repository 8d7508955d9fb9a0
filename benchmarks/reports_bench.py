"""Benchmark: report lists, filing a report and the overdue sweep on a city-sized database.

Fills SQLite and PostgreSQL with the synthetic city of ``city_fill.py`` (at ``--scale 1``:
6,000 groups, 500,000 residents, 1,000,000 reports over two years) and times the real
service functions, one transaction each, as the handlers and the timer job run them:

* a grid leader's first ``/escalated`` page (``escalated_reports``, 50 random leaders);
* a captain's ``/reports`` (``group_open_reports``, 200 random captains);
* filing a report (``create_report`` + ``Notices.new_report`` + commit, 200 residents);
* the overdue sweep (``run_timers`` until a batch finds nothing).

It prints p50/p95/max with PASS/FAIL against the targets (50 ms per interactive query, 5 s
for the sweep over the whole city), the SQLite/PostgreSQL ratios, and the plans of the
queries the services actually sent (captured at the driver, so they cannot drift from the
code).  Figures to compare within one run, never timed assertions (DESIGN.md).

    .venv/bin/python benchmarks/reports_bench.py --scale 0.1 --pg postgresql://postgres@HOST:PORT/

PostgreSQL: ``--pg`` (default ``$WULIN_TEST_PG_URL``) names the *server*; the benchmark
works in its own database ``--pg-db`` there, never in the URL's database (the tests'
database is truncated by the tests and must not hold a city).  Without ``--keep`` the
SQLite file (overwritten) and the benchmark database are filled afresh and the temporary
ones removed at the end; with ``--keep`` a database already filled at this scale is reused
after undoing the previous run's writes, and kept.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from city_fill import NOW, City, fill_postgres, fill_sqlite
from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from settings import Settings
from storage import lifecycle as lc
from storage.deadlines import run_timers
from storage.engine import create_engine, make_sessionmaker
from storage.migrate import current_revision, head_revision
from storage.models import NeighbourGroup, OutboxMessage, Report, ReportEvent
from storage.people import Actor, load_actor
from storage.report_flow import ReportConfig
from storage.report_notices import Notices
from storage.report_queries import Filters, escalated_reports, group_open_reports
from storage.reports import Draft, create_report

INTERACTIVE_MS = 50.0
SWEEP_S = 5.0
PAGE = 5  # handlers/report_lists.PAGE; not imported, handlers pull in telegram
LEADERS, CAPTAINS, FILERS, WARMUP = 50, 200, 200, 3

ESCALATED = "/escalated first page"
CAPTAIN = "captain /reports"
FILE = "file report + notices"


@dataclass
class Outcome:
    """What one backend measured."""

    name: str
    fill_s: float | None = None  # None: an existing database was reused
    ms: dict[str, list[float]] = field(default_factory=dict)
    sweep_s: float = 0.0
    swept: tuple[int, int, int] = (0, 0, 0)  # escalated, closed, batches
    notes: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Capture:
    """Records the SQL and parameters the driver receives while active (for EXPLAIN)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.active = False
        self.statements: list[tuple[str, Any]] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.active:
            self.statements.append((statement, parameters))

    @contextmanager
    def __call__(self) -> Iterator[list[tuple[str, Any]]]:
        """Capture the statements of the block into the yielded list."""
        self.statements, self.active = [], True
        try:
            yield self.statements
        finally:
            self.active = False


async def explain(engine: AsyncEngine, title: str, statement: str, parameters: Any) -> list[str]:
    """The plan of one captured statement (SQLite: QUERY PLAN; PostgreSQL: ANALYZE)."""
    lines = [f"-- {title}"]
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
            depth = {0: 0}
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * depth[node] + detail)
        else:
            sql = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement
            lines += [line for (line,) in await conn.exec_driver_sql(sql, parameters)]
        await conn.rollback()  # EXPLAIN ANALYZE ran a FOR UPDATE: let nothing stay locked
    return lines


def bench_config() -> ReportConfig:
    """The default report settings (no .env: the benchmark must not depend on a local file)."""
    return ReportConfig.from_settings(Settings(_env_file=None))


async def undo_previous_run(engine: AsyncEngine) -> None:
    """Put back what an earlier run wrote; the fill never stamps NOW, a run stamps only NOW.

    (``updated_at`` of swept reports keeps the run's stamp: nothing measured reads it.)
    """
    reports, events = Report.__table__, ReportEvent.__table__
    async with engine.begin() as conn:
        await conn.execute(delete(OutboxMessage.__table__))
        touched = select(reports.c.id).where(
            or_(
                reports.c.created_at == NOW, reports.c.overdue_at == NOW, reports.c.closed_at == NOW
            )
        )
        await conn.execute(
            delete(events).where(events.c.report_id.in_(touched), events.c.at == NOW)
        )
        await conn.execute(delete(reports).where(reports.c.created_at == NOW))
        await conn.execute(
            update(reports)
            .where(reports.c.overdue_at == NOW)
            .values(
                level=lc.CAPTAIN, overdue_at=None, escalated_at=None, version=reports.c.version - 1
            )
        )
        closed = (
            await conn.execute(
                select(reports.c.id, reports.c.resolved_at).where(reports.c.closed_at == NOW)
            )
        ).all()
        config = bench_config()
        for report_id, resolved_at in closed:
            await conn.execute(
                update(reports)
                .where(reports.c.id == report_id)
                .values(
                    status=lc.RESOLVED,
                    closed_at=None,
                    confirm_due_at=resolved_at + timedelta(days=config.confirm_days),
                    version=reports.c.version - 1,
                )
            )


async def refill_reason(engine: AsyncEngine, city: City) -> str | None:
    """None when the database holds exactly this city; otherwise why not."""
    try:
        if await current_revision(engine) != head_revision():
            return "schema missing or not at head"
    except Exception as exc:  # noqa: BLE001 - any failure here just means "fill it"
        return f"cannot read it ({type(exc).__name__})"
    await undo_previous_run(engine)
    async with engine.connect() as conn:
        groups = await conn.scalar(select(func.count()).select_from(NeighbourGroup))
        reports = await conn.scalar(select(func.count()).select_from(Report))
    if (groups, reports) != (city.groups, city.reports):
        return f"holds {groups:,} groups / {reports:,} reports, not this scale's"
    return None


async def actors(
    sm: async_sessionmaker[AsyncSession], people: list[int], city: City
) -> list[Actor]:
    """Load the actors as the bot does for each update (by Telegram id)."""
    found = []
    async with sm() as session:
        for person in people:
            actor = await load_actor(session=session, telegram_id=city.telegram_id(person))
            assert actor is not None, person
            found.append(actor)
    return found


async def timed(call: Callable[[Actor], Awaitable[None]], people: list[Actor]) -> list[float]:
    """Call once per actor, one after another; milliseconds of each call."""
    spent = []
    for actor in people:
        started = time.perf_counter()
        await call(actor)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


async def measure(engine: AsyncEngine, city: City, outcome: Outcome) -> None:
    """Time the four operations on a filled database; collect the plans of their queries."""
    config = bench_config()
    sm = make_sessionmaker(engine)
    capture = Capture(engine)
    rng = random.Random(7)

    def some(population: range, count: int) -> list[int]:
        return rng.sample(population, min(count, len(population)))

    leaders = await actors(sm, some(range(1, city.grids + 1), LEADERS), city)
    groups = some(range(1, city.groups + 1), CAPTAINS)
    captains = await actors(sm, [city.captain_of(g) for g in groups], city)
    residents = range(city.first_resident, city.first_resident + city.residents)
    filers = await actors(sm, some(residents, FILERS), city)
    totals: dict[str, list[int]] = {}  # list lengths seen, to show the data is realistic

    async def escalated_page(actor: Actor) -> None:
        async with sm.begin() as session:
            _, total = await escalated_reports(
                session=session,
                grid_ids=actor.leads_grids,
                community_ids=actor.admin_of,
                filters=Filters(),
                offset=0,
                limit=PAGE,
                now=NOW,
            )
        totals.setdefault(ESCALATED, []).append(total)

    async def captain_page(actor: Actor) -> None:
        async with sm.begin() as session:
            _, total = await group_open_reports(
                session=session,
                group_ids=actor.captain_of + actor.backup_of,
                offset=0,
                limit=PAGE,
                now=NOW,
            )
        totals.setdefault(CAPTAIN, []).append(total)

    categories = list(config.categories)

    async def file_report(actor: Actor) -> None:
        category = rng.choice(categories)
        draft = Draft(category, "楼道里的灯又坏了", [], actor.building_id, actor.unit)
        async with sm.begin() as session:
            report = await create_report(
                session=session,
                reporter_id=actor.person_id,
                group_id=actor.group_id or 0,
                draft=draft,
                deadlines=config.deadlines(category),
                now=NOW,
            )
            await Notices(
                session=session, categories=config.categories, tz=config.tz, now=NOW
            ).new_report(report)

    plans: list[tuple[str, list[tuple[str, Any]]]] = []
    for name, call, people in (
        (ESCALATED, escalated_page, leaders),
        (CAPTAIN, captain_page, captains),
        (FILE, file_report, filers),
    ):
        # Warm-up, untimed: the first calls pay for statement compilation and cold caches.
        with capture() as statements:
            await call(people[0])
        plans.append((name, statements))
        for actor in people[1:WARMUP]:
            await call(actor)
        totals[name] = []
        outcome.ms[name] = await timed(call, people)
    for name in (ESCALATED, CAPTAIN):
        seen = totals[name]
        outcome.notes.append(f"{name}: {sum(seen) / len(seen):.1f} reports in the list on average")
    for name, statements in plans[:2]:
        selects = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]
        for label, (sql, params) in zip(("count", "page"), selects, strict=False):
            outcome.plans += await explain(engine, f"{name}: {label}", sql, params)

    # The sweep's claim queries, captured from a run that is rolled back, and explained
    # while the overdue reports are still there.
    async with sm() as session:
        with capture() as statements:
            await run_timers(session=session, now=NOW, config=config)
        await session.rollback()
    claims = [s for s in statements if "ORDER BY reports.id" in s[0]]
    for label, (sql, params) in zip(("overdue", "unconfirmed"), claims, strict=False):
        outcome.plans += await explain(engine, f"sweep claim: {label}", sql, params)

    started = time.perf_counter()
    escalated = closed = batches = 0
    while True:
        async with sm.begin() as session:
            run = await run_timers(session=session, now=NOW, config=config)
        batches += 1
        escalated, closed = escalated + len(run.escalated), closed + len(run.closed)
        if not run.escalated and not run.closed:
            break
    outcome.sweep_s = time.perf_counter() - started
    outcome.swept = (escalated, closed, batches)


def report(outcome: Outcome) -> None:
    """Print one backend's figures against the targets, then the plans."""
    print(f"  fill: {outcome.fill_s:.1f} s" if outcome.fill_s is not None else "  fill: reused")
    for note in outcome.notes:
        print(f"  {note}")
    for name, values in outcome.ms.items():
        p50, p95, top = (percentile(values, q) for q in (0.5, 0.95, 1.0))
        verdict = "PASS" if p95 <= INTERACTIVE_MS else "FAIL"
        print(
            f"  {name:<22} n={len(values):<4} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
            f"  max {top:7.1f} ms  {verdict} (p95 ≤ {INTERACTIVE_MS:.0f} ms)"
        )
    escalated, closed, batches = outcome.swept
    verdict = "PASS" if outcome.sweep_s <= SWEEP_S else "FAIL"
    print(
        f"  {'overdue sweep':<22} {outcome.sweep_s:.2f} s  ({escalated} escalated, {closed}"
        f" auto-closed, {batches} batches)  {verdict} (≤ {SWEEP_S:.0f} s)"
    )
    print(f"  plans ({outcome.name}, as the services sent them):")
    for line in outcome.plans:
        print(f"     {line}")


def remove_sqlite(path: Path) -> None:
    """Delete the SQLite file and its WAL files."""
    for stale in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)


async def run_sqlite(path: Path, city: City, keep: bool) -> Outcome:
    """Fill (or reuse) the SQLite file and measure."""
    outcome = Outcome("SQLite")
    url = f"sqlite+aiosqlite:///{path}"
    print(f"\n== SQLite {path} ==")
    why = "new file"
    if keep and path.exists():  # noqa: ASYNC240 - one stat() before the database work
        engine = create_engine(url)
        why = await refill_reason(engine, city) or ""
        await engine.dispose()
    if why:
        print(f"  filling ({why})")
        remove_sqlite(path)
        started = time.perf_counter()
        await fill_sqlite(url, city, bench_config(), log)
        outcome.fill_s = time.perf_counter() - started
    else:
        print("  reusing the filled file")
    engine = create_engine(url)
    try:
        await measure(engine, city, outcome)
    finally:
        await engine.dispose()
    return outcome


async def run_postgres(server: URL, database: str, city: City, keep: bool) -> Outcome:
    """Fill (or reuse) the benchmark database on the server and measure."""
    outcome = Outcome("PostgreSQL")
    bench = server.set(drivername="postgresql+asyncpg", database=database)
    url = bench.render_as_string(hide_password=False)
    dsn = bench.set(drivername="postgresql").render_as_string(hide_password=False)
    admin_dsn = server.set(drivername="postgresql", database=server.database or "postgres")
    admin = await asyncpg.connect(admin_dsn.render_as_string(hide_password=False))
    print(f"\n== PostgreSQL {bench.render_as_string()} ==")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        why = "new database"
        if keep and exists:
            engine = create_engine(url)
            why = await refill_reason(engine, city) or ""
            await engine.dispose()
        if why:
            print(f"  filling ({why})")
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{database}"')
            started = time.perf_counter()
            await fill_postgres(dsn, url, city, bench_config(), log)
            outcome.fill_s = time.perf_counter() - started
        else:
            print("  reusing the filled database")
        engine = create_engine(url)
        try:
            await measure(engine, city, outcome)
        finally:
            await engine.dispose()
        if not keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()
    return outcome


def log(line: str) -> None:
    """A progress line of the fill."""
    print(f"  … {line}", flush=True)


def compare(sqlite: Outcome, postgres: Outcome) -> None:
    """Print SQLite/PostgreSQL ratios (above 1: SQLite is slower)."""
    print("\n== SQLite / PostgreSQL ==")
    for name in sqlite.ms:
        a, b = (percentile(o.ms[name], 0.5) for o in (sqlite, postgres))
        print(f"  {name:<22} p50 {a:7.1f} / {b:7.1f} ms = {a / b:5.2f}")
    print(
        f"  {'overdue sweep':<22} {sqlite.sweep_s:.2f} / {postgres.sweep_s:.2f} s"
        f" = {sqlite.sweep_s / postgres.sweep_s:5.2f}"
    )


async def main(argv: list[str] | None = None) -> None:
    """Parse the options, run each backend, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="city size (1.0 = DOMAIN.md)")
    parser.add_argument("--sqlite", type=Path, help="SQLite file (default: a temporary file)")
    parser.add_argument("--pg", default=os.environ.get("WULIN_TEST_PG_URL"), help="server URL")
    parser.add_argument("--pg-db", default="wulin_reports_bench", help="database to work in")
    parser.add_argument("--keep", action="store_true", help="reuse a filled database; keep it")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="run one backend")
    args = parser.parse_args(argv)
    city = City.at(args.scale)
    print(
        f"Wulin reports benchmark, scale {args.scale:g}: {city.communities} communities,"
        f" {city.grids:,} grids, {city.groups:,} groups, {city.residents:,} residents,"
        f" {city.reports:,} reports (~3.8 events each); now = {NOW:%Y-%m-%d %H:%M} UTC"
    )
    results: dict[str, Outcome] = {}
    if args.only != "postgresql":
        default = Path(tempfile.gettempdir()) / f"wulin_reports_bench_{args.scale:g}.sqlite3"
        path = args.sqlite or default
        results["sqlite"] = await run_sqlite(path, city, args.keep)
        report(results["sqlite"])
        if args.sqlite is None and not args.keep:
            remove_sqlite(path)
    if args.only != "sqlite":
        if not args.pg:
            print("\n== PostgreSQL skipped: give --pg URL or set WULIN_TEST_PG_URL ==")
        else:
            server = make_url(args.pg)
            results["pg"] = await run_postgres(server, args.pg_db, city, args.keep)
            report(results["pg"])
    if len(results) == 2:
        compare(results["sqlite"], results["pg"])


if __name__ == "__main__":
    asyncio.run(main())
