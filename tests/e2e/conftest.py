"""End-to-end fixtures (DESIGN testing layer 4): the fake Bot API, databases with the sample
organisation imported through the CLI, and the real bot as a process.

- ``api``: a fresh :class:`FakeBotAPI` on loopback per test.
- ``sqlite_url``: a copy of an SQLite file into which ``bot.py org import demo/org.yaml`` ran
  once per session (the CLI costs seconds; a copy costs nothing); ``bound_sqlite_url`` the
  same after every staff member bound their Telegram account through a bot run.
- ``pg``: a throwaway PostgreSQL cluster the session owns (so a test may stop and start
  it); ``pg_url`` a fresh database cloned from its template (imported, staff bound).
- ``launch(...)``: start ``bot.py run`` against ``api``; every process is killed at teardown.
- ``community``: the people of demo/org.yaml acting through ``api``.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import signal
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.bot_process import BotProcess, bot_env, free_port
from tests.e2e.community import Community, Invites, bind_everyone, import_org
from tests.e2e.fake_botapi import FakeBotAPI
from tests.e2e.pg_cluster import PgCluster, find_pg_bin

Launch = Callable[..., Awaitable[BotProcess]]
_db_names = itertools.count(1)


@pytest.fixture(scope="session")
async def sqlite_template(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Invites]:
    """An SQLite file with demo/org.yaml imported by the CLI, and the invites it printed."""
    directory = tmp_path_factory.mktemp("e2e-template")
    path = directory / "org.sqlite3"
    invites = await import_org(f"sqlite:///{path}", directory)
    assert not path.with_name(path.name + "-wal").exists(), "CLI left an open WAL behind"
    return path, invites


@pytest.fixture
def sqlite_url(sqlite_template: tuple[Path, Invites], tmp_path: Path) -> str:
    """A private copy of the imported organisation for one test."""
    path = tmp_path / "wulin.sqlite3"
    shutil.copy(sqlite_template[0], path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
async def bound_sqlite_template(
    sqlite_template: tuple[Path, Invites], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The imported organisation with every staff member bound to their Telegram account."""
    directory = tmp_path_factory.mktemp("e2e-bound")
    path = directory / "bound.sqlite3"
    shutil.copy(sqlite_template[0], path)
    await bind_everyone(f"sqlite:///{path}", sqlite_template[1], directory)
    checkpoint(path)
    return path


def checkpoint(path: Path) -> None:
    """Fold the WAL into the main file (the bot exits without doing so), so a copy is whole."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture
def bound_sqlite_url(bound_sqlite_template: Path, tmp_path: Path) -> str:
    """A private copy of the organisation with its staff already bound (Community.IDS)."""
    path = tmp_path / "wulin.sqlite3"
    shutil.copy(bound_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def invites(sqlite_template: tuple[Path, Invites]) -> Invites:
    """Invite codes of the SQLite copies (the template's)."""
    return sqlite_template[1]


@pytest.fixture(scope="session")
async def pg() -> AsyncIterator[tuple[PgCluster, Invites]]:
    """A private PostgreSQL cluster with a template database: organisation imported, staff bound."""
    bin_dir, why = find_pg_bin()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL e2e tests need a server they own: {why}")
    cluster = PgCluster(bin_dir)
    try:
        await cluster.init()
        await cluster.start()
        url = await cluster.createdb("e2e_template")
        invites = await import_org(url, cluster.root)
        await bind_everyone(url, invites, cluster.root)
        yield cluster, invites
    finally:
        await cluster.destroy()


@pytest.fixture
async def pg_url(pg: tuple[PgCluster, Invites]) -> str:
    """A fresh database cloned from the template (organisation imported, staff bound)."""
    cluster, _ = pg
    return await cluster.createdb(f"e2e_{next(_db_names)}", template="e2e_template")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """The fake Telegram for one test."""
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
def community(api: FakeBotAPI, invites: Invites) -> Community:
    """The sample organisation's people on the SQLite copy."""
    return Community(api, invites)


@pytest.fixture
async def launch(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Launch]:
    """``await launch(database_url, webhook=False, name="bot", **SETTINGS)`` → a running bot."""
    started: list[BotProcess] = []

    async def start(
        database_url: str,
        *,
        webhook: bool = False,
        name: str = "bot",
        metrics: bool = False,
        **settings: Any,
    ) -> BotProcess:
        if webhook:
            port = int(settings.pop("webhook_port", 0) or free_port())
            settings.setdefault("webhook_url", f"http://127.0.0.1:{port}")
            settings.setdefault("webhook_listen", "127.0.0.1")
            settings.setdefault("webhook_path", "telegram")
            settings["webhook_port"] = port
        env = bot_env(api, database_url, **settings)
        process = BotProcess(
            api,
            env,
            cwd=tmp_path,
            webhook=webhook,
            name=name,
            metrics_port=free_port() if metrics else None,
        )
        started.append(process)
        return await process.start()

    yield start
    for process in started:
        await process.kill(signal.SIGKILL)
