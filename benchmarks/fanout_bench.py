"""Benchmark: the 09:00 check-in fan-out to every captain, through a rate-limited fake Telegram.

Fills a database with a city of ``--captains`` captains (``fanout_city.py``), starts the fake
Bot API of ``tests/e2e`` in a child process (its own core, as Telegram would be) enforcing
Telegram's limits scaled to ``--rate`` messages a second and answering 429 ``retry_after``
beyond them, and runs the real stack against it: ``build_runtime`` + ``build_application``
with its ``AIORateLimiter`` set to the same scaled rate.

1. plan: ``run_kind(context, "checkin", "09:00")`` on a Tuesday (target ≤ 1 s);
2. deliver: the outbox sender's ``run_forever`` until the outbox is empty; delivered/s as a
   fraction of the allowed rate (target ≥ 90 %), 429s the server sent (target: a handful),
   lost and duplicated messages (target 0), counted at the server, not from the bot's view;
3. restart: a fresh stack's ``catch_up`` (what ``bot.py run`` does at start) must queue 0.

It also prints who-is-due alone, the SQL statements ``run_kind`` sent, how long a handler's
transaction waited meanwhile, and the CPU milliseconds per message of the bot and of the
fake Telegram (on a shared machine the wall figures move with the load; these move less).

``--two-senders`` adds a second process-like stack (own engine, bot and rate limiter) on the
same database, draining at the same time.  ``--batch-size 25,50`` and ``--limiter-share
1,0.95`` repeat phases 1–3 per combination on the same city.  Figures to compare within one
run, never timed assertions (DESIGN.md).

    .venv/bin/python benchmarks/fanout_bench.py --pg postgresql://postgres@HOST:PORT/
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import multiprocessing
import os
import pstats
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the fake Bot API lives in tests/, which is not installed
    sys.path.insert(0, str(ROOT))

from fanout_city import (  # noqa: E402
    drop_database,
    fanout_city,
    make_postgres,
    make_sqlite,
    remove_sqlite,
    sqlite_path,
)
from sqlalchemy import delete, event, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

import bot as composition  # noqa: E402
from scheduler.calendar import is_working_day  # noqa: E402
from scheduler.reminders import catch_up, default_schedule, run_kind  # noqa: E402
from settings import Settings  # noqa: E402
from storage import checkins  # noqa: E402
from storage.engine import create_engine, make_sessionmaker  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from storage.models.outbox import PENDING, SENT  # noqa: E402

TELEGRAM_RATE = 30  # messages a second a bot may send overall
TELEGRAM_GROUP_PER_MINUTE = 20
#: A Tuesday (a working day) at 09:00 in Shanghai, the day after city_fill's NOW.
MORNING = datetime(2025, 6, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PLAN_S, RATE_FRACTION, FEW_429 = 1.0, 0.90, 5


class RunningClock:
    """Starts at a chosen instant and runs at real speed.

    A frozen ``SimClock`` would never make a 429-retried row due again (its ``not_before``
    lies in the clock's future), so the sender would stop with messages left.
    """

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        """The start instant plus the real time elapsed since."""
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


# -- the fake Telegram, in a child process ----------------------------------------------------
def serve_fake_api(conn: Any, rate: float, user_ids: list[int]) -> None:
    """Child process: serve the fake Bot API; answer "stats" requests until "stop"."""
    asyncio.run(_serve(conn, rate, user_ids))


async def _serve(conn: Any, rate: float, user_ids: list[int]) -> None:
    # Imported here: only the child needs the fake (and aiohttp).
    from tests.e2e.fake_botapi import FakeBotAPI, RateLimits

    logging.getLogger("aiohttp").setLevel(logging.ERROR)
    api = FakeBotAPI(rate_limit=RateLimits(scale=rate / TELEGRAM_RATE))
    for uid in user_ids:
        api.user(f"邻长{uid}", uid)
    async with api:
        conn.send((api.base_url, api.file_url))
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, conn.recv) == "stats":
            sends = [c for c in api.calls if c.method == "sendMessage"]
            conn.send(
                {
                    "rate_limited": api.stats.rate_limited,
                    "errors": dict(api.stats.errors),
                    "accepted": dict(api.stats.accepted),
                    "accepted_at": sorted(c.at for c in sends if c.status == 200),
                    "cpu": time.process_time(),
                }
            )


class FakeApi:
    """Parent side of the child-process fake Bot API."""

    def __init__(self, rate: float, user_ids: list[int]) -> None:
        spawn = multiprocessing.get_context("spawn")  # never fork a process with a running loop
        self.conn, self._child = spawn.Pipe()
        self.process = spawn.Process(
            target=serve_fake_api, args=(self._child, rate, user_ids), daemon=True
        )
        self.base_url = self.file_url = ""

    async def start(self) -> None:
        """Start the child and wait until it listens."""
        self.process.start()
        # Only the child keeps its end open, so its death shows here as EOFError, not a hang.
        self._child.close()
        self.base_url, self.file_url = await asyncio.to_thread(self.conn.recv)

    async def stats(self) -> dict[str, Any]:
        """What the server saw so far."""
        self.conn.send("stats")
        return await asyncio.to_thread(self.conn.recv)

    def stop(self) -> None:
        """Stop the child (it ends its loop on "stop")."""
        if self.process.pid is None:
            return
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()


@contextlib.asynccontextmanager
async def fake_api(rate: float, user_ids: list[int]) -> AsyncIterator[FakeApi]:
    """A fresh fake server (fresh buckets and statistics) for one run."""
    api = FakeApi(rate, user_ids)
    try:
        await api.start()
        yield api
    finally:
        api.stop()


# -- the bot's stack ---------------------------------------------------------------------------
@dataclass
class Stack:
    """One bot process: runtime (engine, sender), Application with its rate limiter."""

    runtime: Any
    engine: AsyncEngine
    app: Any
    statements: int = 0  # SQL statements sent through this stack's engine

    @classmethod
    async def open(cls, url: str, api: FakeApi, clock: RunningClock, args: Any, run: Run) -> Stack:
        """Build and initialise the stack exactly as ``bot.py run`` does, minus polling."""
        settings = Settings(
            _env_file=None,
            telegram_bot_token="123:ABC",
            telegram_api_base_url=api.base_url,
            telegram_api_file_url=api.file_url,
            database_url=url,
            outbox_batch_size=run.batch,
            outbox_poll_seconds=args.poll,
            log_level="WARNING",
        )
        runtime, engine = composition.build_runtime(settings, clock=clock)
        # Telegram's limits scaled up like the fake's (the limiter keeps its 95 % headroom).
        scale = args.rate * run.share / TELEGRAM_RATE
        app = composition.build_application(runtime, with_updater=False, rate_scale=scale)
        await app.initialize()
        stack = cls(runtime, engine, app)
        # Counting statements shows whether planning is set-based or one round trip per row.
        event.listen(engine.sync_engine, "before_cursor_execute", stack._count)
        return stack

    def _count(self, *_: Any) -> None:
        self.statements += 1

    def context(self) -> Any:
        """A job-like context (``WulinContext``) for calling the scheduler directly."""
        return self.app.context_types.context(application=self.app)

    async def close(self) -> None:
        """Shut the Application down and dispose of the engine."""
        await self.app.shutdown()
        await self.engine.dispose()


# -- one run -------------------------------------------------------------------------------------
@dataclass
class Run:
    """The figures of one run."""

    backend: str
    batch: int
    share: float  # the AIORateLimiter's rate as a share of the allowed rate
    senders: int
    due_s: float = 0.0
    plan_s: float = 0.0
    plan_statements: int = 0
    blocked_s: float = 0.0  # longest wait of a concurrent transaction while planning
    blocked_failures: list[str] = field(default_factory=list)  # their errors, if they failed
    queued: int = 0
    deliver_s: float = 0.0
    bot_cpu_ms: float = 0.0  # CPU of this process (all senders) per delivered message
    server_cpu_ms: float = 0.0  # CPU of the fake Telegram per delivered message
    delivered: int = 0
    server_rate: float = 0.0
    rate_limited: int = 0
    lost: int = 0
    duplicated: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    sender_stats: list[dict[str, int]] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    requeued: int = -1
    replan_s: float = 0.0


async def pending(monitor: AsyncEngine) -> int:
    """Rows still pending (leased rows in flight included)."""
    async with monitor.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
        )
    return int(count or 0)


async def one_run(
    backend: str, url: str, user_ids: list[int], args: Any, batch: int, share: float
) -> Run:
    """Phases 1–3 on a database whose outbox is empty."""
    run = Run(backend, batch, share, 2 if args.two_senders else 1)
    clock = RunningClock(MORNING)
    # A plain engine for watching progress: on SQLite the app's engine opens every
    # transaction with BEGIN IMMEDIATE, which would queue the monitor behind the writers.
    monitor = create_async_engine(url)
    async with fake_api(args.rate, user_ids) as api:
        stacks = [await Stack.open(url, api, clock, args, run) for _ in range(run.senders)]
        try:
            await plan(stacks[0], url, clock, run)
            await deliver(stacks, monitor, api, run, args)
            await count(monitor, api, run)
            await restart(url, api, clock, args, run)
        finally:
            for stack in stacks:
                await stack.close()
            await monitor.dispose()
    return run


async def who_is_due(stack: Stack, now: datetime) -> int:
    """The first half of ``run_kind`` alone: schedules, overrides and ``due_people``."""
    settings = stack.runtime.settings
    day = now.astimezone(settings.tz).date()
    async with stack.runtime.db.begin() as session:
        schedules = await checkins.schedules(session=session, default=default_schedule(settings))
        chosen = {cid for cid, s in schedules.items() if s.checkin == "09:00"}
        overrides = await checkins.overrides(session=session, start=day, end=day)
        dues = await checkins.due_people(
            session=session,
            day=day,
            community_ids=chosen,
            is_working=lambda c: schedules[c].every_day or is_working_day(day, overrides.get(c)),
        )
    return len(dues)


class Probe:
    """A handler's transaction every 50 ms while the fan-out is planned: how long it waits.

    Its own engine, set up like the app's (on SQLite every transaction is BEGIN IMMEDIATE,
    so a handler that merely reads also queues behind the planning transaction's lock).
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.longest = 0.0
        self.failures: list[str] = []
        self._since: float | None = None

    async def run(self) -> None:
        """Loop until cancelled."""
        db = make_sessionmaker(self.engine)
        while True:
            self._since = time.perf_counter()
            try:
                async with db.begin() as session:
                    await session.execute(select(1))
            except DBAPIError as exc:  # e.g. SQLite's "database is locked" after busy_timeout
                self.failures.append(str(exc.orig))
            self.longest = max(self.longest, time.perf_counter() - self._since)
            self._since = None
            await asyncio.sleep(0.05)

    async def stop(self, task: asyncio.Task[None]) -> None:
        """Cancel; a wait still under way at that moment counts too."""
        if self._since is not None:
            self.longest = max(self.longest, time.perf_counter() - self._since)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self.engine.dispose()


async def plan(stack: Stack, url: str, clock: RunningClock, run: Run) -> None:
    """Phase 1: who is due, then the whole ``run_kind`` (plan and queue)."""
    started = time.perf_counter()
    due = await who_is_due(stack, clock.now())
    run.due_s = time.perf_counter() - started
    before, probe = stack.statements, Probe(url)
    task = asyncio.create_task(probe.run())
    started = time.perf_counter()
    try:
        fan = await run_kind(stack.context(), "checkin", "09:00", now=clock.now())
    finally:
        run.plan_s = time.perf_counter() - started
        await probe.stop(task)
    run.plan_statements = stack.statements - before
    run.blocked_s, run.blocked_failures = probe.longest, probe.failures
    run.queued = fan.queued
    if due != fan.queued:
        print(f"  note: {due} due but {fan.queued} queued", flush=True)


async def deliver(
    stacks: list[Stack], monitor: AsyncEngine, api: FakeApi, run: Run, args: Any
) -> None:
    """Phase 2: run the senders until nothing is pending (or the deadline passes)."""
    deadline = 60 + 4 * run.queued / args.rate
    server_cpu = (await api.stats())["cpu"]
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    tasks = [
        asyncio.create_task(s.runtime.sender.run_forever(s.app.bot, args.poll)) for s in stacks
    ]
    try:
        while time.perf_counter() - started < deadline:
            if not await pending(monitor):
                break
            await asyncio.sleep(0.05)  # polling the table: the senders signal nothing
        run.deliver_s = time.perf_counter() - started
        run.bot_cpu_ms = (time.process_time() - cpu) * 1000 / max(1, run.queued)
        if profiler is not None:
            profiler.disable()
            print_profile(profiler, run.queued)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    run.sender_stats = [dict(s.runtime.sender.stats) for s in stacks]
    run.server_cpu_ms = ((await api.stats())["cpu"] - server_cpu) * 1000 / max(1, run.queued)


async def count(monitor: AsyncEngine, api: FakeApi, run: Run) -> None:
    """What arrived, counted at the server against the outbox."""
    stats = await api.stats()
    async with monitor.connect() as conn:
        rows = (await conn.execute(select(OutboxMessage.chat_id, OutboxMessage.status))).all()
    accepted: dict[int, int] = stats["accepted"]
    run.statuses = {}
    for _, status in rows:
        run.statuses[status] = run.statuses.get(status, 0) + 1
    run.delivered = run.statuses.get(SENT, 0)
    # Lost: queued but never accepted by Telegram, whatever the outbox row says.
    run.lost = sum(1 for chat, _ in rows if accepted.get(chat, 0) == 0)
    run.duplicated = sum(n - 1 for n in accepted.values() if n > 1)
    run.rate_limited = stats["rate_limited"]
    run.errors = {k: v for k, v in stats["errors"].items() if k != 429}
    times = stats["accepted_at"]
    if len(times) > 1:
        run.server_rate = (len(times) - 1) / (times[-1] - times[0])


async def restart(url: str, api: FakeApi, clock: RunningClock, args: Any, run: Run) -> None:
    """Phase 3: a freshly started bot catches up on today's missed sends; must queue 0."""
    stack = await Stack.open(url, api, clock, args, run)
    try:
        started = time.perf_counter()
        # What ``bot.py run`` does at start: re-run every kind whose window is still open.
        fanouts = await catch_up(stack.context())
        run.replan_s = time.perf_counter() - started
    finally:
        await stack.close()
    run.requeued = sum(f.queued for f in fanouts)


async def reset_outbox(url: str) -> None:
    """Empty the outbox between runs on one city."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(delete(OutboxMessage.__table__))
    await engine.dispose()


# -- reporting -----------------------------------------------------------------------------------
def print_profile(profiler: cProfile.Profile, messages: int) -> None:
    """Own CPU time per delivered message, by library, and the top functions (``--profile``)."""
    stats = pstats.Stats(profiler)
    by_lib: dict[str, float] = {}
    rows = []
    for (filename, line, name), (_, calls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        lib = _library(filename)
        by_lib[lib] = by_lib.get(lib, 0.0) + own
        rows.append((own, calls, f"{lib}: {filename.rsplit('/', 1)[-1]}:{line} {name}"))
    total = sum(by_lib.values()) or 1.0
    print(f"\nprofile of the delivery (own time, ms per message; {total:.1f} s in all):")
    for lib, own in sorted(by_lib.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {own * 1000 / messages:6.3f}  {own / total:5.1%}  {lib}")
    for own, calls, where in sorted(rows, reverse=True)[:20]:
        print(f"  {own * 1000 / messages:6.3f}  {calls:>8}×  {where}")


def _library(filename: str) -> str:
    for lib in ("telegram", "httpx", "httpcore", "aiolimiter", "sqlalchemy", "aiosqlite",
                "asyncpg", "asyncio", "json", "selectors", "ssl", "h11", "anyio"):  # fmt: skip
        if f"/{lib}/" in filename or filename.endswith(f"/{lib}.py"):
            return lib
    if "/work/main/" in filename and "site-packages" not in filename:
        return "wulin: " + filename.split("/work/main/")[-1].split("/")[0]
    return "other" if filename.startswith("/") else filename


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def print_table(runs: list[Run], rate: float) -> None:
    """All figures, one row per run and phase, then the targets."""
    head = (
        f"{'backend':<10} {'batch':>5} {'snd':>3} {'due s':>6} {'plan s':>7} {'stmts':>6}"
        f" {'queued':>6} {'blocked s':>9} {'failed':>6} {'re-plan s':>9} {'requeued':>8}"
    )
    print(
        "\nplan (due s: who is due; plan s: run_kind, planning and queueing; blocked s /"
        " failed: longest wait / failures of a handler's transaction meanwhile)"
    )
    print(head + "\n" + "-" * len(head))
    for r in runs:
        print(
            f"{r.backend:<10} {r.batch:>5} {r.senders:>3} {r.due_s:>6.2f} {r.plan_s:>7.2f}"
            f" {r.plan_statements:>6} {r.queued:>6} {r.blocked_s:>9.2f}"
            f" {len(r.blocked_failures):>6} {r.replan_s:>9.2f} {r.requeued:>8}"
        )
    head = (
        f"{'backend':<10} {'batch':>5} {'lim':>4} {'snd':>3} {'deliver s':>9} {'msg/s':>6}"
        f" {'of rate':>7}"
        f" {'srv msg/s':>9} {'429s':>5} {'lost':>4} {'dup':>4} {'bot ms':>6} {'srv ms':>6}"
        f" {'1-core cap':>10}"
    )
    print(f"\ndeliver at {rate:g} msg/s allowed (Telegram's {TELEGRAM_RATE}/s × {rate / 30:g});")
    print(
        "lim: the AIORateLimiter's rate as a share of that; bot ms / srv ms: CPU milliseconds"
        " per message in the bot / the fake Telegram; 1-core cap: the rate the bot's CPU per"
        " message allows on a core of its own, as a share of the allowed rate"
    )
    print(head + "\n" + "-" * len(head))
    for r in runs:
        per_s = r.delivered / r.deliver_s if r.deliver_s else 0.0
        print(
            f"{r.backend:<10} {r.batch:>5} {r.share:>4.0%} {r.senders:>3} {r.deliver_s:>9.2f}"
            f" {per_s:>6.0f}"
            f" {per_s / rate:>7.1%} {r.server_rate:>9.0f} {r.rate_limited:>5} {r.lost:>4}"
            f" {r.duplicated:>4} {r.bot_cpu_ms:>6.2f} {r.server_cpu_ms:>6.2f}"
            f" {1000 / r.bot_cpu_ms / rate if r.bot_cpu_ms else 0:>10.0%}"
        )
    print()
    for r in runs:
        per_s = r.delivered / r.deliver_s if r.deliver_s else 0.0
        print(
            f"{r.backend} batch {r.batch}, limiter {r.share:.0%}, {r.senders} sender(s):"
            f" who is due ≤ {PLAN_S:g} s {verdict(r.due_s <= PLAN_S)};"
            f" run_kind ≤ {PLAN_S:g} s {verdict(r.plan_s <= PLAN_S)};"
            f" rate ≥ {RATE_FRACTION:.0%} {verdict(per_s / rate >= RATE_FRACTION)};"
            f" lost 0 {verdict(r.lost == 0)}; duplicated 0 {verdict(r.duplicated == 0)};"
            f" 429s ≤ {FEW_429} {verdict(r.rate_limited <= FEW_429)};"
            f" restart queues 0 {verdict(r.requeued == 0)}"
        )
        print(f"  outbox {r.statuses}; senders {r.sender_stats}; other errors {r.errors}")
        if r.blocked_failures:
            print(f"  a handler's transaction failed while planning: {r.blocked_failures[0]}")


# -- main ----------------------------------------------------------------------------------------
async def run_backend(backend: str, url: str, user_ids: list[int], args: Any) -> list[Run]:
    """Every batch size and limiter share on one filled database."""
    runs = []
    for batch in args.batches:
        for share in args.shares:
            await reset_outbox(url)
            senders = 2 if args.two_senders else 1
            print(f"  run: batch {batch}, limiter {share:.0%}, {senders} sender(s)", flush=True)
            runs.append(await one_run(backend, url, user_ids, args, batch, share))
    return runs


def log(line: str) -> None:
    """A progress line of the fill."""
    print(f"  … {line}", flush=True)


async def main(argv: list[str] | None = None) -> None:
    """Parse the options, fill each backend, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captains", type=int, default=6000, help="captains (whole communities)")
    parser.add_argument("--rate", type=float, default=300, help="allowed msg/s (Telegram: 30)")
    parser.add_argument("--batch-size", default="50", help="sender batch sizes, e.g. 50,200")
    parser.add_argument(
        "--limiter-share",
        default="1",
        help="AIORateLimiter rate as shares of --rate, e.g. 1,0.9 (bot.py uses exactly 1)",
    )
    parser.add_argument("--poll", type=float, default=1.0, help="sender poll seconds")
    parser.add_argument("--two-senders", action="store_true", help="a second sender stack")
    parser.add_argument("--residents", type=int, help="residents (default 10 per group)")
    parser.add_argument("--reports", type=int, help="reports (default 20 per group)")
    parser.add_argument("--pg", default=os.environ.get("WULIN_TEST_PG_URL"), help="server URL")
    parser.add_argument("--pg-db", default="wulin_fanout_bench", help="database to work in")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="run one backend")
    parser.add_argument("--verbose", action="store_true", help="log each retry and 429")
    parser.add_argument("--profile", action="store_true", help="profile the delivery phase")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not args.verbose:
        # It logs a traceback per message whose 429 retries ran out; the table counts them.
        logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    args.batches = [int(b) for b in args.batch_size.split(",")]
    args.shares = [float(b) for b in args.limiter_share.split(",")]
    city = fanout_city(args.captains, args.residents, args.reports)
    staff = range(1, city.first_resident)  # leaders, admins and captains all have Telegram
    user_ids = [city.telegram_id(p) for p in staff]
    print(
        f"Wulin fan-out benchmark: {city.groups:,} captains in {city.communities} communities,"
        f" {city.residents:,} residents, {city.reports:,} reports; {args.rate:g} msg/s allowed;"
        f" check-in at {MORNING:%a %Y-%m-%d %H:%M %Z}; {os.cpu_count()} CPUs, load average"
        " {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    )
    runs: list[Run] = []
    if args.only != "postgresql":
        print("\n== SQLite ==", flush=True)
        path = sqlite_path(city.groups)
        url, fill_s = await make_sqlite(path, city, log)
        print(f"  filled in {fill_s:.1f} s", flush=True)
        try:
            runs += await run_backend("sqlite", url, user_ids, args)
        finally:
            remove_sqlite(path)
    if args.only != "sqlite":
        if not args.pg:
            print("\n== PostgreSQL skipped: give --pg URL or set WULIN_TEST_PG_URL ==")
        else:
            server = make_url(args.pg)
            print(f"\n== PostgreSQL, database {args.pg_db} ==", flush=True)
            url, fill_s = await make_postgres(server, args.pg_db, city, log)
            print(f"  filled in {fill_s:.1f} s", flush=True)
            try:
                runs += await run_backend("postgresql", url, user_ids, args)
            finally:
                await drop_database(server, args.pg_db)
    print_table(runs, args.rate)
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    asyncio.run(main())
