"""Databases, applications and pre-built updates for ``load_bench.py``.

* ``prepare_database``: a fresh SQLite file or a fresh PostgreSQL database (dropped and
  re-created on the server named by ``--pg``, never the URL's own database), migrated, with
  the demo organisation and ``residents`` residents bulk-inserted into its groups, each bound
  to a Telegram id (``RESIDENT_BASE + i``) and a building of their group.
* ``echo_application`` (the baseline) and ``wulin_application`` (the real bot, as
  ``bot.py run`` builds it but with the in-process Bot API stand-in, no updater and — unless
  asked — no rate limiter) share the same request class, so both pay the same request cost.
* ``faq_json`` / ``report_json``: Telegram's JSON of the residents' messages, built once;
  ``parse`` turns them into ``Update`` objects bound to one application's bot.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters

from bot import build_application, build_runtime
from demo.seed import seed_demo
from demo.stand_in import BotAPIStandIn
from faq import load_kb
from handlers.context import Runtime
from handlers.faq import KB_DIR, refresh_faq
from handlers.heap import settle_heap
from handlers.ordering import PerUserUpdateProcessor
from scheduler.clock import SystemClock
from settings import Settings
from storage.engine import create_engine, make_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Building, NeighbourGroup, Person

RESIDENT_BASE = 20_000_000
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


@dataclass
class Database:
    """One prepared database: its SQLAlchemy URL and how to drop it afterwards."""

    label: str
    url: str
    drop: Any = None  # async callable, or None


async def prepare_database(
    backend: str, *, residents: int, sqlite_path: Path, pg_server: str | None, pg_db: str
) -> Database:
    """A fresh, migrated, seeded database on ``backend`` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        _remove_sqlite(sqlite_path)
        database = Database("SQLite", f"sqlite+aiosqlite:///{sqlite_path}")
    else:
        assert pg_server is not None
        server = make_url(pg_server)
        dsn = server.set(drivername="postgresql", database="postgres").render_as_string(False)
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{pg_db}"')
        finally:
            await admin.close()

        async def drop() -> None:
            """Drop the benchmark's database."""
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            finally:
                await conn.close()

        url = server.set(drivername="postgresql+asyncpg", database=pg_db)
        database = Database("PostgreSQL", url.render_as_string(False), drop)
    engine = create_engine(database.url)
    try:
        await upgrade_to_head(engine)
        db = make_sessionmaker(engine)
        now = datetime.now(UTC)
        async with db.begin() as session:
            await seed_demo(session=session, now=now)
        async with db.begin() as session:
            await _insert_residents(session, residents, now)
    finally:
        await engine.dispose()
    return database


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


async def _insert_residents(session: Any, count: int, now: datetime) -> None:
    """Bulk-insert residents spread evenly over the demo groups and their buildings."""
    groups = (await session.execute(select(NeighbourGroup.id, NeighbourGroup.community_id))).all()
    buildings: dict[int, list[int]] = {}
    for building_id, group_id in await session.execute(select(Building.id, Building.group_id)):
        buildings.setdefault(group_id, []).append(building_id)
    rows = []
    for i in range(count):
        group_id, community_id = groups[i % len(groups)]
        homes = buildings.get(group_id) or [None]
        rows.append(
            {
                "telegram_id": RESIDENT_BASE + i,
                "display_name": SURNAMES[i % len(SURNAMES)] + f"居民{i}",
                "phone": f"139{i:08d}",
                "language": "zh",
                "community_id": community_id,
                "group_id": group_id,
                "building_id": homes[(i // len(groups)) % len(homes)],
                "unit": f"{i % 6 + 1}单元",
                "created_at": now,
                "joined_at": now,
            }
        )
    for start in range(0, len(rows), 2000):
        await session.execute(insert(Person), rows[start : start + 2000])


def settings_for(url: str, base_url: str | None = None) -> Settings:
    """The bot's settings for a benchmark database (nothing read from .env)."""
    extra = {"telegram_api_base_url": base_url} if base_url else {}
    return Settings(
        _env_file=None,
        database_url=url,
        telegram_bot_token="123:BENCH",
        log_level="WARNING",
        **extra,
    )


async def wulin_application(
    url: str,
    stand_in: BotAPIStandIn | None,
    *,
    rate_limit: bool = False,
    base_url: str | None = None,
) -> tuple[Application, Runtime, Any]:  # type: ignore[type-arg]
    """The real bot on ``url``, started like ``bot.py run`` (minus the updater and jobs).

    ``stand_in`` None: PTB's own HTTP requests to ``base_url`` (a fake Bot API), with the
    connection pool ``bot.py run`` configures.
    """
    # start() runs PTB's persistence flusher (conversations and drafts are written every 2 s,
    # as in production); the outbox sender runs as a task, as bot.py run starts it.
    runtime, engine = build_runtime(settings_for(url, base_url), clock=SystemClock())
    app = build_application(runtime, request=stand_in, rate_limit=rate_limit, with_updater=False)
    await app.initialize()
    runtime.bot_username = app.bot.username
    await refresh_faq(runtime)
    await app.start()
    runtime.extras["sender_task"] = _spawn_sender(app, runtime)
    settle_heap()  # as bot.py run does once started
    return app, runtime, engine


def _spawn_sender(app: Application, runtime: Runtime) -> asyncio.Task[None]:  # type: ignore[type-arg]
    return asyncio.create_task(
        runtime.sender.run_forever(app.bot, runtime.settings.outbox_poll_seconds)
    )


async def stop_wulin(app: Application, runtime: Runtime, engine: Any) -> bool:  # type: ignore[type-arg]
    """Stop the sender, the application and the engine; False if one cancel was not enough."""
    # On Python 3.11 the sender's asyncio.wait_for can swallow a cancel (see load_bench notes).
    task = runtime.extras.pop("sender_task", None)
    stopped_at_once = True
    if task is not None:
        for _ in range(10):
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
            if task.done():
                break
            stopped_at_once = False
    await app.stop()
    await app.shutdown()
    await engine.dispose()
    return stopped_at_once


async def echo_application(
    stand_in: BotAPIStandIn | None, base_url: str | None = None, *, concurrent: int = 1
) -> Application:  # type: ignore[type-arg]
    """The baseline: a bare PTB Application whose one handler echoes text back.

    ``stand_in`` None: PTB's own HTTP requests to ``base_url``, pooled like the real bot's.
    ``concurrent`` > 1: the same update processor as ``bot.py run``.
    """

    async def echo(update: Update, context: Any) -> None:
        """Send the text back."""
        message = update.effective_message
        if message is not None and message.text:
            await message.reply_text(message.text, do_quote=False)

    builder = ApplicationBuilder().token("123:BENCH").updater(None)
    if stand_in is not None:
        builder = builder.request(stand_in).get_updates_request(stand_in)
    else:
        pool = Settings(_env_file=None, telegram_bot_token="1:x").telegram_connection_pool
        builder = builder.base_url(base_url or "").connection_pool_size(pool)
    if concurrent > 1:
        builder = builder.concurrent_updates(PerUserUpdateProcessor(concurrent))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    await app.start()
    return app


async def stop_echo(app: Application) -> None:  # type: ignore[type-arg]
    """Stop the baseline application."""
    await app.stop()
    await app.shutdown()


# -- the residents' messages ----------------------------------------------------------------
def faq_questions(seed: int = 7) -> list[str]:
    """Every Chinese phrasing of the knowledge base, shuffled (real questions residents ask)."""
    kb = load_kb(KB_DIR)
    questions = [p for e in kb.entries for p in e.phrasings.get("zh", ())]
    questions += [e.question["zh"] for e in kb.entries]
    random.Random(seed).shuffle(questions)
    return questions


OBJECTS = (
    "路灯", "水管", "电梯按钮", "垃圾桶", "井盖", "消防栓", "健身器材", "快递柜", "监控摄像头",
    "门禁", "窗户玻璃", "楼梯扶手", "车棚顶棚", "充电桩", "排水沟", "信报箱", "宣传栏", "花坛围栏",
    "自行车架", "单元门", "屋顶水箱", "化粪池", "燃气表", "电表箱", "晾衣架", "防盗网", "雨棚",
    "地砖", "台阶", "空调外机",
)  # fmt: skip
PROBLEMS = (
    "坏了", "漏水", "松动", "被人占用", "有很大异味", "晚上噪音很大", "经常断电", "一直不亮",
    "锈得厉害", "裂开了", "被砸坏", "堵住了", "掉下来了", "歪了", "冒烟",
)  # fmt: skip
PLACES = ("门口", "车棚旁边", "二楼转角", "地下室", "屋顶", "电梯间", "楼后面", "小区东门")


def report_text(i: int, rng: random.Random) -> str:
    """A resident's one-line problem (place, thing, what is wrong), varied per resident."""
    # Neighbours in one building report the same thing now and then: the bot then offers to
    # +1 the open report instead of filing (its duplicate check); the benchmark counts both.
    thing = OBJECTS[i % len(OBJECTS)]
    problem = PROBLEMS[(i // len(OBJECTS) + i) % len(PROBLEMS)]
    return f"{rng.choice(PLACES)}{thing}{problem}"


def message_json(update_id: int, user_index: int, text: str, *, command: bool = False) -> dict:
    """Telegram's JSON of a resident's private text message."""
    uid = RESIDENT_BASE + user_index
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(datetime.now(UTC).timestamp()),
        "chat": {"id": uid, "type": "private", "first_name": f"居民{user_index}"},
        "from": {
            "id": uid,
            "is_bot": False,
            "first_name": f"居民{user_index}",
            "language_code": "zh-hans",
        },
        "text": text,
    }
    if command:
        head = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(head)}]
    return {"update_id": update_id, "message": message}


def faq_json(users: Iterable[int], questions: list[str], first_id: int) -> list[dict]:
    """One FAQ question per user (questions cycled)."""
    return [
        message_json(first_id + n, user, questions[n % len(questions)])
        for n, user in enumerate(users)
    ]


def report_json(users: Iterable[int], first_id: int, seed: int = 11) -> list[dict]:
    """One ``/report TEXT`` per user."""
    rng = random.Random(seed)
    return [
        message_json(first_id + n, user, "/report " + report_text(user, rng), command=True)
        for n, user in enumerate(users)
    ]


def parse(payloads: list[dict], app: Application) -> list[Update]:  # type: ignore[type-arg]
    """``Update.de_json`` of each payload, bound to the application's bot."""
    return [Update.de_json(p, app.bot) for p in payloads]  # type: ignore[misc]
