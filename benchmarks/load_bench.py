"""Load benchmark: the whole bot under residents' traffic, against a bare PTB echo bot.

Measured in one run, on SQLite (a temporary file) and on PostgreSQL (a database of its own,
``--pg-db``, created on the server ``--pg`` names and dropped afterwards):

1. baseline: a bare PTB ``Application`` with one ``MessageHandler`` echoing the text back;
2. FAQ: the real bot (``build_application``) answering FAQ questions (the knowledge base's
   own Chinese phrasings) from ``--residents`` distinct residents (default 10,000, bulk
   inserted into the demo groups, bound Telegram ids);
3. reports: residents filing ``/report TEXT`` one-shot reports (``--reports`` residents).

Both applications use the same in-process Bot API stand-in (``demo/stand_in.py``) as their
request class, so both pay the same cost per Bot API call; the real bot runs without its
``AIORateLimiter`` here (Telegram's 30 msg/s is not what is measured) but with everything
else ``bot.py run`` starts: persistence flushing and the outbox sender task. The sequential
runs are repeated with every Bot API call over loopback HTTP (PTB's ``HTTPXRequest``
against the fake Bot API in a process of its own, ``load_fake_server.py``), where the echo
bot pays for its replies as any bot does.

``Update.de_json`` is **outside** the timed loops, in both: updates are parsed in advance
from the same JSON (the baseline is fed the very same FAQ messages).  The parse cost per
update is measured separately and printed, with the ratios as they would be with parsing
inside the loop (sequential costs add up: ``1 / (1/rate + parse)``).

For each: sequential throughput (one update at a time, PTB's default) with p50/p99 service
time and the ratio to the baseline; then latency at a fixed offered load (``--rate``,
default 100 updates/s, open loop for ``--open-seconds``, each update its own task as with
``concurrent_updates``) with p50/p99 from the scheduled arrival and the garbage
collector's pauses meanwhile.  Then ``python bot.py run`` as a real process over HTTP
against ``tests/e2e``'s fake Bot API with ``--http-users`` residents asking FAQ questions
and ``/help`` for ``--http-seconds``: errors counted.

Targets (PASS/FAIL printed): FAQ ≥ 50 % of the baseline throughput, report filing ≥ 25 %,
p99 ≤ 100 ms at 100 updates/s, zero errors over HTTP.  When a target fails, the failing
path is profiled (cProfile) and the time split printed.  Figures to compare within one
run, never timed assertions (DESIGN.md).

    .venv/bin/python benchmarks/load_bench.py --pg postgresql://postgres@127.0.0.1:55432/
    .venv/bin/python benchmarks/load_bench.py --quick --backends sqlite   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the fake Bot API lives in tests/, which is not installed
    sys.path.insert(0, str(ROOT))

from load_http import HttpResult, http_run  # noqa: E402
from load_measure import (  # noqa: E402
    ErrorCounter,
    Run,
    StatementCounter,
    burst,
    open_loop,
    profile,
    sample,
    sequential,
)
from load_report import FAQ_SHARE, P99_MS, REPORT_SHARE, BackendFigures, report  # noqa: E402
from load_setup import (  # noqa: E402
    RESIDENT_BASE,
    echo_application,
    faq_json,
    faq_questions,
    parse,
    prepare_database,
    report_json,
    stop_echo,
    stop_wulin,
    wulin_application,
)
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from demo.stand_in import BotAPIStandIn  # noqa: E402
from locales import translate  # noqa: E402
from scheduler.clock import SystemClock  # noqa: E402
from settings import Settings  # noqa: E402
from storage.models import NeighbourGroup, OutboxMessage, Person, Report  # noqa: E402

#: The bot's default number of updates at once (bot.py run), for the echo bot's burst.
CONCURRENT = Settings.model_fields["concurrent_updates"].default


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default="sqlite,postgres", help="comma list: sqlite,postgres")
    p.add_argument("--pg", default=os.environ.get("WULIN_TEST_PG_URL"), help="PostgreSQL server")
    p.add_argument("--pg-db", default="wulin_load_bench", help="database created for the run")
    p.add_argument("--residents", type=int, default=10_000)
    p.add_argument("--reports", type=int, default=2_000, help="sequential report filings")
    p.add_argument("--rate", type=float, default=100.0, help="offered load, updates/s")
    p.add_argument("--open-seconds", type=float, default=20.0, help="length of each open loop")
    p.add_argument(
        "--loopback", type=int, default=2_000, help="FAQ updates over loopback HTTP (0 skips)"
    )
    p.add_argument("--http-seconds", type=float, default=60.0, help="0 skips the HTTP run")
    p.add_argument("--http-users", type=int, default=100)
    p.add_argument("--think", default="2,6", help="seconds a resident reads a reply (min,max)")
    p.add_argument("--profile", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = p.parse_args(argv)
    if args.quick:
        args.residents, args.reports, args.open_seconds = 1_000, 300, 5.0
        args.loopback = min(args.loopback, 500)
        args.http_seconds, args.http_users = min(args.http_seconds, 10.0), 20
    return args


async def measure_backend(backend: str, args: argparse.Namespace, tmp: Path) -> BackendFigures:
    """All in-process figures (and the HTTP run) on one backend."""
    database = await prepare_database(
        backend,
        residents=args.residents,
        sqlite_path=tmp / "load.sqlite3",
        pg_server=args.pg,
        pg_db=args.pg_db,
    )
    figures = BackendFigures(database.label)
    try:
        await _in_process(database.url, args, figures)
        if args.loopback > 0:
            await _over_loopback(database.url, args, figures, tmp)
        if args.http_seconds > 0:
            figures.http = await _http(database.url, args, tmp)
    finally:
        if database.drop is not None:
            await database.drop()
    return figures


async def _in_process(url: str, args: argparse.Namespace, figures: BackendFigures) -> None:
    questions = faq_questions()
    residents = args.residents
    open_count = int(args.rate * args.open_seconds)
    faq_payloads = faq_json(range(residents), questions, first_id=1)
    # The open loops use other residents' (or the same residents' second) messages.
    faq_open = faq_json(
        [(i * 7919) % residents for i in range(open_count)], questions[::-1], first_id=10**6
    )
    reports_seq = report_json(range(args.reports), first_id=2 * 10**6)
    reports_open = report_json(
        [(args.reports + i) % residents for i in range(open_count)], first_id=3 * 10**6, seed=12
    )
    warmup = faq_json(range(residents - 200, residents), questions[7:], first_id=4 * 10**6)

    # 1. the baseline, fed the very same FAQ messages (again after the bot, to see drift).
    figures.load.append(os.getloadavg()[0])
    await _baseline(figures, "echo", faq_payloads, faq_open, warmup, args.rate)

    # 2./3. the real bot.
    stand_in = BotAPIStandIn(SystemClock())
    app, runtime, engine = await wulin_application(url, stand_in)
    errors = ErrorCounter()
    app.add_error_handler(errors)
    sql = StatementCounter(engine)
    try:
        await sequential(app, parse(warmup, app), errors)
        outcomes = _faq_mix(runtime, questions)
        figures.notes.append(f"FAQ outcomes over the questions asked: {outcomes}")
        figures.runs["faq"] = await _per_update_sql(
            sql, figures, "FAQ", sequential(app, parse(faq_payloads, app), errors)
        )
        concurrent = app.update_processor.max_concurrent_updates > 1
        figures.notes.append(
            f"bot: {app.update_processor.max_concurrent_updates} updates at once "
            "(CONCURRENT_UPDATES), each person's in order; the echo bot one at a time, and "
            "with the same update processor for its burst"
        )
        figures.runs["faq open"] = await _timed(
            open_loop(app, parse(faq_open, app), args.rate, errors, concurrent=concurrent)
        )
        figures.runs["faq burst"] = await _timed(
            burst(app, parse(faq_json(range(residents), questions[11:], 11 * 10**6), app), errors)
        )
        before = await _count_reports(runtime)
        figures.runs["report"] = await _per_update_sql(
            sql, figures, "/report", sequential(app, parse(reports_seq, app), errors)
        )
        filed = await _count_reports(runtime) - before
        figures.notes.append(_filing_split(stand_in, reports_seq, figures.runs["report"], filed))
        before = await _count_reports(runtime)
        figures.runs["report open"] = await _timed(
            open_loop(app, parse(reports_open, app), args.rate, errors, concurrent=concurrent)
        )
        filed = await _count_reports(runtime) - before
        figures.notes.append(
            "open loop " + _filing_split(stand_in, reports_open, figures.runs["report open"], filed)
        )
        # The same, with the duplicate check finding nothing: every message files a report
        # (the mix above is mostly "same as #N?" offers, which cost half as much).
        filing_users = [(args.reports + 2 * open_count + i) % residents for i in range(open_count)]
        filings = report_json(filing_users, first_id=13 * 10**6, seed=23)
        days, runtime.settings.report_duplicate_days = runtime.settings.report_duplicate_days, 0
        try:
            before = await _count_reports(runtime)
            figures.runs["filing open"] = await _timed(
                open_loop(app, parse(filings, app), args.rate, errors, concurrent=concurrent)
            )
            filed = await _count_reports(runtime) - before
        finally:
            runtime.settings.report_duplicate_days = days
        figures.notes.append(
            "open loop, every one filed "
            + _filing_split(stand_in, filings, figures.runs["filing open"], filed)
        )
        burst_users = [(args.reports + open_count + i) % residents for i in range(args.reports)]
        figures.runs["report burst"] = await _timed(
            burst(app, parse(report_json(burst_users, 12 * 10**6, seed=19), app), errors)
        )
        await asyncio.sleep(2.5)  # let the persistence flush and the outbox sender catch up
        if errors.count:
            figures.notes.append(f"handler errors: {errors.count}, e.g. {errors.samples}")
        if args.profile != "never":
            await _profile_if_needed(app, args, figures, questions, errors)
    finally:
        if not await stop_wulin(app, runtime, engine):
            figures.notes.append(
                "REGRESSION: the outbox sender task survived its first cancel (see "
                "scheduler/sender.py _loop and the fuzz suite's cancel test); cancelled again"
            )
    await _baseline(figures, "echo after", faq_payloads, [], warmup, args.rate)
    figures.load.append(os.getloadavg()[0])


async def _baseline(
    figures: BackendFigures,
    key: str,
    payloads: list[dict],
    open_payloads: list[dict],
    warmup: list[dict],
    rate: float,
) -> None:
    """The echo bot: sequential over ``payloads``, open loop over ``open_payloads``."""
    errors = ErrorCounter()
    echo = await echo_application(BotAPIStandIn(SystemClock()))
    echo.add_error_handler(errors)
    try:
        t = time.perf_counter()
        parsed = parse(payloads, echo)
        figures.parse_us = (time.perf_counter() - t) / len(payloads) * 1e6
        await sequential(echo, parse(warmup, echo), errors)
        figures.runs[key] = await _timed(sequential(echo, parsed, errors))
        if open_payloads:
            figures.runs[key + " open"] = await _timed(
                open_loop(echo, parse(open_payloads, echo), rate, errors)
            )
    finally:
        await stop_echo(echo)
    echo = await echo_application(BotAPIStandIn(SystemClock()), concurrent=CONCURRENT)
    echo.add_error_handler(errors)
    try:
        figures.runs[key + " burst"] = await _timed(burst(echo, parse(payloads, echo), errors))
    finally:
        await stop_echo(echo)
    if errors.count:
        figures.notes.append(f"echo baseline errors: {errors.count}, e.g. {errors.samples}")


async def _over_loopback(
    url: str, args: argparse.Namespace, figures: BackendFigures, tmp: Path
) -> None:
    """Sequential echo, FAQ and /report again, every Bot API call over loopback HTTP.

    Both bots use PTB's own ``HTTPXRequest`` (the real bot's connection pool) against the
    fake Bot API running in a process of its own, as a bot talks to Telegram: the baseline
    then pays for what any bot pays per reply (serialising, HTTP, parsing the answer), which
    the in-process stand-in leaves out.
    """
    n = min(args.loopback, args.residents)
    questions = faq_questions()
    faq = faq_json(range(n), questions[5:], first_id=7 * 10**6)
    reports = report_json(range(n // 4), first_id=8 * 10**6, seed=17)
    warmup = faq_json(range(n, n + 100), questions, first_id=9 * 10**6)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            chats = set(await conn.scalars(select(Person.telegram_id).where(
                Person.telegram_id.is_not(None))))  # fmt: skip
            chats |= set(await conn.scalars(select(NeighbourGroup.chat_id).where(
                NeighbourGroup.chat_id.is_not(None))))  # fmt: skip
    finally:
        await engine.dispose()
    chats_file = tmp / "chats.txt"
    chats_file.write_text("\n".join(str(c) for c in sorted(chats)))
    server = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "benchmarks" / "load_fake_server.py"), str(chats_file),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        base_url = (await asyncio.wait_for(server.stdout.readline(), timeout=120)).decode().strip()
        await _loopback_echo(figures, "echo http", faq, warmup, base_url)
        app, runtime, engine = await wulin_application(url, None, base_url=base_url)
        errors = ErrorCounter()
        app.add_error_handler(errors)
        try:
            await sequential(app, parse(warmup, app), errors)
            figures.runs["faq http"] = await _timed(sequential(app, parse(faq, app), errors))
            figures.runs["report http"] = await _timed(sequential(app, parse(reports, app), errors))
            await asyncio.sleep(2.5)
            if errors.count:
                figures.notes.append(f"loopback handler errors: {errors.count}, {errors.samples}")
        finally:
            await stop_wulin(app, runtime, engine)
        await _loopback_echo(figures, "echo http after", faq, warmup, base_url)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            await asyncio.wait_for(server.wait(), timeout=10)
        except TimeoutError:
            server.kill()


async def _loopback_echo(
    figures: BackendFigures, key: str, payloads: list[dict], warmup: list[dict], base_url: str
) -> None:
    errors = ErrorCounter()
    echo = await echo_application(None, base_url)
    echo.add_error_handler(errors)
    try:
        await sequential(echo, parse(warmup, echo), errors)
        figures.runs[key] = await _timed(sequential(echo, parse(payloads, echo), errors))
    finally:
        await stop_echo(echo)
    if errors.count:
        figures.notes.append(f"loopback echo errors: {errors.count}, e.g. {errors.samples}")


async def _timed(coro: Any) -> Run:
    gc.collect()
    return await coro


async def _per_update_sql(
    sql: StatementCounter, figures: BackendFigures, label: str, coro: Any
) -> Run:
    statements, commits = sql.snapshot()
    run = await _timed(coro)
    statements, commits = sql.statements - statements, sql.transactions - commits
    figures.notes.append(
        f"{label}: {statements / run.count:.1f} SQL statements and {commits / run.count:.1f} "
        "commits per update (handlers, persistence flushes and the outbox sender together)"
    )
    return run


def _faq_mix(runtime: Any, questions: list[str]) -> dict[str, int]:
    mix: dict[str, int] = {}
    for q in questions:
        outcome = runtime.faq.match(q, lang="zh", community="xinxing").outcome
        mix[outcome] = mix.get(outcome, 0) + 1
    return mix


def _filing_split(stand_in: Any, payloads: list[dict], run: Run, filed: int) -> str:
    """How many /report TEXT were filed at once and how many offered +1, with their times
    (``run.latencies`` in the order of ``payloads``)."""
    mark = translate("zh", "rep.filed", id=0)[:6]
    times: dict[bool, list[float]] = {True: [], False: []}
    for payload, seconds in zip(payloads, run.latencies, strict=True):
        chat = payload["message"]["chat"]["id"]
        was_filed = any(m.text.startswith(mark) for m in stand_in.sent_to(chat))
        times[was_filed].append(seconds)

    def figures(xs: list[float]) -> str:
        """Mean and p99 in ms, or a dash."""
        if not xs:
            return "-"
        return f"mean {sum(xs) / len(xs) * 1000:.1f} ms, p99 {Run(len(xs), 1, xs).pct(0.99):.1f} ms"

    return (
        f"/report TEXT: {filed} of {len(payloads)} filed at once ({figures(times[True])}), "
        f"{len(times[False])} offered to +1 a similar open report (the duplicate check; "
        f"{figures(times[False])})"
    )


async def _count_reports(runtime: Any) -> int:
    async with runtime.db.begin() as session:
        return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


def _failing(figures: BackendFigures) -> list[str]:
    base = figures.base_rate
    failing = []
    if figures.runs["faq"].rate < FAQ_SHARE * base or figures.runs["faq open"].pct(0.99) > P99_MS:
        failing.append("faq")
    if (
        figures.runs["report"].rate < REPORT_SHARE * base
        or figures.runs["report open"].pct(0.99) > P99_MS
        or ("filing open" in figures.runs and figures.runs["filing open"].pct(0.99) > P99_MS)
    ):
        failing.append("report")
    return failing


async def _profile_if_needed(
    app: Any,
    args: argparse.Namespace,
    figures: BackendFigures,
    questions: list[str],
    errors: ErrorCounter,
) -> None:
    paths = ["faq", "report"] if args.profile == "always" else _failing(figures)
    n = min(1000, args.residents // 2)
    for path in paths:
        users = range(args.residents - n, args.residents)
        payloads = (
            faq_json(users, questions[3:], first_id=5 * 10**6)
            if path == "faq"
            else report_json(users, first_id=6 * 10**6, seed=13)
        )
        half = n // 2
        first, second = parse(payloads[:half], app), parse(payloads[half:], app)
        own = await profile(lambda u=first: sequential(app, u, errors))
        stacks = await sample(lambda u=second: sequential(app, u, errors))
        figures.profiles.append(
            f"profile of the {path} path ({half} + {n - half} sequential updates):\n{own}\n{stacks}"
        )


async def _http(url: str, args: argparse.Namespace, tmp: Path) -> HttpResult:
    low, high = (float(x) for x in args.think.split(","))
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            known = list(await conn.scalars(select(OutboxMessage.chat_id).distinct()))
    finally:
        await engine.dispose()
    return await http_run(
        known_chats=known,
        database_url=url,
        user_ids=[RESIDENT_BASE + i for i in range(args.http_users)],
        questions=faq_questions(),
        seconds=args.http_seconds,
        think=(low, high),
        log_path=tmp / "bot-http.log",
    )


async def main(argv: list[str] | None = None) -> int:
    """Run every part on every backend asked for, then print."""
    args = _args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.ERROR)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "postgres" in backends and not args.pg:
        print("PostgreSQL skipped: no --pg (or WULIN_TEST_PG_URL) server given")
        backends.remove("postgres")
    results = []
    with tempfile.TemporaryDirectory(prefix="wulin-load-") as tmp:
        for backend in backends:
            print(f"measuring on {backend}…", flush=True)
            results.append(await measure_backend(backend, args, Path(tmp)))
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
