"""Measuring loops and the profiler for ``load_bench.py``.

* ``sequential``: one update at a time through ``Application.process_update`` (PTB's
  default, ``concurrent_updates`` off): throughput and per-update service time.
* ``open_loop``: arrivals scheduled every ``1/rate`` s regardless of how the bot keeps up,
  processed one at a time from a queue (PTB's default), or with ``concurrent=True`` each
  its own task through the application's update processor, as ``bot.py run`` does
  (``CONCURRENT_UPDATES``, each person's updates in order); latency is measured from the
  *scheduled* arrival, so a bot falling behind shows its queueing delay.
* ``burst``: every update offered at once through the update processor: throughput with
  concurrent updates.
* ``profile`` (cProfile: own time by library and function, CPU of the main thread and of
  the database driver's threads) and ``sample`` (a wall-clock sampling profiler: inclusive
  time of our functions through ``await`` chains), over a sequential run.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import pstats
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from telegram import Update


@dataclass
class Run:
    """Figures of one measured run."""

    count: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    max_in_flight: int = 0
    gc_pauses: list[float] = field(default_factory=list)  # collections ≥ 10 ms, in ms

    @property
    def rate(self) -> float:
        """Updates per second."""
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        """The q-quantile (0–1) of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class GcPauses:
    """``with``: the garbage collector's pauses of 10 ms or more meanwhile (``gc.callbacks``),
    the stalls that queue up updates in an open loop."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif (ms := (time.perf_counter() - self._start) * 1000) >= 10:
            self.pauses.append(ms)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


class StatementCounter:
    """Counts SQL statements and transactions sent by an engine (an event listener)."""

    def __init__(self, engine: Any) -> None:
        self.statements = self.transactions = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(engine.sync_engine, "commit", self._commit)

    def _statement(self, *args: Any) -> None:
        self.statements += 1

    def _commit(self, *args: Any) -> None:
        self.transactions += 1

    def snapshot(self) -> tuple[int, int]:
        """(statements, commits) so far."""
        return self.statements, self.transactions


class ErrorCounter:
    """An error handler that counts (and keeps the first few) handler exceptions."""

    def __init__(self) -> None:
        self.count = 0
        self.samples: list[str] = []

    async def __call__(self, update: object, context: Any) -> None:
        """PTB error-handler signature."""
        self.count += 1
        if len(self.samples) < 5:
            self.samples.append(repr(context.error))


async def sequential(app: Any, updates: Sequence[Update], errors: ErrorCounter) -> Run:
    """Process the updates one after the other."""
    before = errors.count
    latencies = []
    clock = time.perf_counter
    start = clock()
    for update in updates:
        t = clock()
        await app.process_update(update)
        latencies.append(clock() - t)
    seconds = clock() - start
    return Run(len(updates), seconds, latencies, errors.count - before)


async def open_loop(
    app: Any,
    updates: Sequence[Update],
    rate: float,
    errors: ErrorCounter,
    *,
    concurrent: bool = False,
) -> Run:
    """Offer the updates at ``rate`` per second; processed one at a time (or concurrently)."""
    before = errors.count
    loop = asyncio.get_running_loop()
    latencies = [0.0] * len(updates)  # in the order of ``updates``
    in_flight = peak = 0
    if not concurrent:
        return await _queued(app, updates, rate, errors, before)

    async def one(i: int, update: Update, due: float) -> None:
        """Process one update; its latency counts from its scheduled arrival."""
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            # Through the application's update processor, as PTB's update fetcher does with
            # concurrent updates (bot.py run: up to CONCURRENT_UPDATES, a person's in order).
            await app.update_processor.process_update(update, app.process_update(update))
        finally:
            in_flight -= 1
            latencies[i] = loop.time() - due

    start = loop.time() + 0.05
    tasks = []
    with GcPauses() as pauses:
        async for update, due in _paced(updates, rate, start):
            tasks.append(asyncio.create_task(one(len(tasks), update, due)))
        await asyncio.gather(*tasks)
    seconds = loop.time() - start
    return Run(len(updates), seconds, latencies, errors.count - before, peak, pauses.pauses)


async def _paced(
    updates: Sequence[Update], rate: float, start: float
) -> AsyncIterator[tuple[Update, float]]:
    """Each update at its scheduled arrival (``start + i / rate``), with that time."""
    loop = asyncio.get_running_loop()
    for i, update in enumerate(updates):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield update, due


async def burst(app: Any, updates: Sequence[Update], errors: ErrorCounter) -> Run:
    """All the updates offered at once, through the application's update processor (as
    PTB's fetcher hands them over with concurrent updates): throughput at full load."""
    before = errors.count
    clock = time.perf_counter
    latencies: list[float] = []
    start = clock()

    async def one(update: Update) -> None:
        await app.update_processor.process_update(update, app.process_update(update))
        latencies.append(clock() - start)

    await asyncio.gather(*(one(u) for u in updates))
    return Run(len(updates), clock() - start, latencies, errors.count - before)


async def _queued(
    app: Any, updates: Sequence[Update], rate: float, errors: ErrorCounter, before: int
) -> Run:
    """Arrivals into a queue, one consumer: PTB's update fetcher without concurrent updates."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[Update, float] | None] = asyncio.Queue()
    latencies: list[float] = []
    peak = 0

    async def consume() -> None:
        nonlocal peak
        while (item := await queue.get()) is not None:
            peak = max(peak, queue.qsize() + 1)
            update, due = item
            await app.process_update(update)
            latencies.append(loop.time() - due)

    consumer = asyncio.create_task(consume())
    start = loop.time() + 0.05
    with GcPauses() as pauses:
        async for update, due in _paced(updates, rate, start):
            queue.put_nowait((update, due))
        queue.put_nowait(None)
        await consumer
    seconds = loop.time() - start
    return Run(len(updates), seconds, latencies, errors.count - before, peak, pauses.pauses)


# -- profiling ---------------------------------------------------------------------------------
BUCKETS = (
    ("event loop idle (waiting for the DB thread / server)", ("epoll", "/selectors.py")),
    ("python-telegram-bot", ("/telegram/",)),
    ("SQLAlchemy", ("/sqlalchemy/",)),
    ("aiosqlite / sqlite3", ("aiosqlite", "sqlite3")),
    ("asyncpg", ("asyncpg",)),
    ("jieba (segmentation)", ("/jieba/",)),
    ("rapidfuzz", ("rapidfuzz",)),
    ("zhconv", ("zhconv",)),
    ("faq/ (matcher)", ("/main/faq/",)),
    ("handlers/", ("/main/handlers/",)),
    ("storage/", ("/main/storage/",)),
    ("scheduler/ (outbox sender)", ("/main/scheduler/",)),
    ("locales/", ("/main/locales/",)),
    ("demo/stand_in (in-process Bot API)", ("/main/demo/",)),
    ("greenlet (SQLAlchemy async bridge)", ("greenlet",)),
    ("asyncio machinery", ("/asyncio/",)),
    ("json", ("/json/", "json.")),
    ("pickle (persistence)", ("pickle",)),
)


def _bucket(filename: str, name: str) -> str:
    where = f"{filename} {name}"
    for label, needles in BUCKETS:
        if any(n in where for n in needles):
            return label
    return "other (builtins, stdlib)"


def _short(filename: str) -> str:
    return filename.split("site-packages/")[-1].split("/work/main/")[-1]


def _ours(filename: str) -> bool:
    return (
        "/work/main/" in filename
        and "site-packages" not in filename
        and "/benchmarks/" not in filename
    )


def _own_time_by_bucket(rows: dict) -> dict[str, float]:
    """Own time per library; a builtin's time goes to the libraries of its callers."""
    by_bucket: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, tottime, _ct, callers) in rows.items():
        if filename != "~" or not callers:
            by_bucket[_bucket(filename, name)] += tottime
            continue
        if "epoll" in name or "select" in name:
            by_bucket[BUCKETS[0][0]] += tottime
            continue
        share = sum(c[2] for c in callers.values()) or 1.0
        for (c_file, _c_line, c_name), c_stats in callers.items():
            by_bucket[_bucket(c_file, c_name)] += tottime * c_stats[2] / share
    return by_bucket


async def profile(coro_factory: Any, *, top: int = 20) -> str:
    """cProfile (wall-clock timer): own time by library and the top functions, main thread."""
    profiler = cProfile.Profile()
    cpu, wall = time.thread_time(), time.perf_counter()
    process_cpu = time.process_time()
    profiler.enable()
    try:
        await coro_factory()
    finally:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    others = time.process_time() - process_cpu - cpu
    rows = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in rows.values()) or 1.0
    lines = [
        f"  wall {wall:.2f} s; CPU: main thread {cpu:.2f} s, other threads (database driver "
        f"workers) {others:.2f} s",
        "  cProfile, main thread, own time by library (builtins charged to their callers):",
    ]
    for label, seconds in sorted(_own_time_by_bucket(rows).items(), key=lambda kv: -kv[1]):
        if seconds / total >= 0.005:
            lines.append(f"    {seconds / total:6.1%}  {label}")
    lines.append(f"  top {top} functions by own time:")
    ranked = sorted(rows.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, name), (_cc, calls, tottime, _ct, _callers) in ranked:
        lines.append(f"    {tottime / total:6.1%}  {calls:>8}×  {_short(filename)}:{line} {name}")
    return "\n".join(lines)


async def sample(coro_factory: Any, *, interval: float = 0.001, top: int = 25) -> str:
    """Wall-clock sampling: share of time each of our functions is on the stack, and idle."""
    # SIGALRM is handled on the main thread between bytecodes, so a sample sees the running
    # coroutine's whole await chain, which cProfile cannot attribute through.
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    idle = samples = 0

    def on_alarm(signum: int, frame: Any) -> None:
        """Record where the main thread is."""
        nonlocal idle, samples
        samples += 1
        if frame is None:
            return
        bucket = _bucket(frame.f_code.co_filename, frame.f_code.co_name)
        if bucket == BUCKETS[0][0]:
            idle += 1
            return
        leaf[bucket] += 1
        seen = set()
        stack = []
        while frame is not None:
            stack.append(frame.f_code)
            frame = frame.f_back
        mine = False
        for code in stack:  # innermost first
            if _ours(code.co_filename):
                mine = True
                key = f"{_short(code.co_filename)}:{code.co_firstlineno} {code.co_qualname}"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += 1
        if not mine:
            ptb = [c for c in stack if "/telegram/" in c.co_filename]
            if ptb:
                code = ptb[0]
                outside[f"{_short(code.co_filename)}:{code.co_firstlineno} {code.co_name}"] += 1
            else:
                outside[f"(no PTB frame) {_bucket(stack[0].co_filename, stack[0].co_name)}"] += 1

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, interval, interval)
    try:
        await coro_factory()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    n = samples or 1
    lines = [
        f"  sampled every {interval * 1000:g} ms ({samples} samples): main thread idle in the "
        f"event loop {idle / n:.0%} of wall time; running, by library of the innermost frame:",
    ]
    for label, count in leaf.most_common():
        if count / n >= 0.005:
            lines.append(f"    {count / n:6.1%}  {label}")
    lines.append(f"  our functions on the stack (share of wall time, inclusive), top {top}:")
    for key, count in inclusive.most_common(top):
        lines.append(f"    {count / n:6.1%}  {key}")
    lines.append("  running outside our code: innermost PTB frame (or library), top 8:")
    for key, count in outside.most_common(8):
        lines.append(f"    {count / n:6.1%}  {key}")
    return "\n".join(lines)
