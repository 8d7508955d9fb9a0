"""One fuzz session: a fresh demo organisation, the actions in order, then the checks.

``run_session`` empties the database and re-seeds it (ids restart, so a session replays
exactly), starts a ``Harness``, plays the actions with ``Driver`` and reports every
unhandled exception — recorded by the Application's error handlers, raised by a job or the
outbox drain, or logged at ERROR by anything but the bot's own error handler (that would be
a swallowed failure) — and the broken database invariants.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scheduler.clock import SimClock
from settings import Settings
from storage.models import Base
from tests.conftest import T0
from tests.fuzz import actions as a
from tests.fuzz.driver import Driver
from tests.fuzz.invariants import violations
from tests.harness import Harness, Reply

ROOT = str(Path(__file__).resolve().parents[2]) + "/"


@dataclass
class Outcome:
    """What went wrong in one session: (action index, action, error) and broken rules."""

    errors: list[tuple[int, Any, str]] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    #: What the bot did in answer to the last action (None: it was no update at all).
    last: Reply | None = None

    def answered(self) -> list[str]:
        """Texts and alerts the bot sent in answer to the last action."""
        return [] if self.last is None else self.last.texts + self.last.alerts

    def __bool__(self) -> bool:
        """True when nothing went wrong."""
        return not self.errors and not self.broken

    def describe(self) -> str:
        """A readable account of the failures."""
        lines = [f"action #{i} {action!r} raised {error}" for i, action, error in self.errors]
        return "\n".join(lines + [f"invariant broken: {rule}" for rule in self.broken])


class _ErrorLog(logging.Handler):
    """Collects ERROR records; the bot's own error handler is excluded (already recorded)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        if record.name != "handlers.errors":
            self.records.append(record)


async def reset_database(engine: AsyncEngine) -> None:
    """Empty every table (ids restart at 1, so runs are reproducible)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        await conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for table in reversed(tables):
            await conn.execute(text(f'DELETE FROM "{table}"'))


def _describe(exc: BaseException) -> str:
    """The exception and the innermost frame of the product's code that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(ROOT) and "site-packages" not in f.filename]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return repr(exc)
    return f"{exc!r} at {frame.filename.removeprefix(ROOT)}:{frame.lineno} {frame.name}"


def fuzz_settings() -> Settings:
    """The settings the handler tests use (no .env, nothing from the environment's DB)."""
    return Settings(_env_file=None, database_url="sqlite+aiosqlite:///:memory:")


async def run_session(
    db: async_sessionmaker[AsyncSession], steps: list[a.Action], *, stop_at_first: bool = True
) -> Outcome:
    """A fresh demo organisation, the actions in order, then the invariants."""
    engine = db.kw["bind"]
    await reset_database(engine)
    harness = Harness(db=db, clock=SimClock(T0), settings=fuzz_settings())
    log = _ErrorLog()
    logging.getLogger().addHandler(log)
    outcome = Outcome()
    try:
        await harness.start()
        driver = Driver(harness)
        for index, action in enumerate(steps):
            try:
                outcome.last = await driver.play(action)
            except Exception as exc:  # noqa: BLE001 - a job or the harness raised: report it
                outcome.errors.append((index, action, _describe(exc)))
            outcome.errors.extend((index, action, _describe(e)) for e in harness.errors)
            outcome.errors.extend(
                (
                    index,
                    action,
                    f"logged {r.name}: {r.getMessage()} {r.exc_info and r.exc_info[1]!r}",
                )
                for r in log.records
            )
            harness.errors.clear()
            log.records.clear()
            if outcome.errors and stop_at_first:
                break
        outcome.broken = await violations(db)
    finally:
        logging.getLogger().removeHandler(log)
        await harness.stop()
    return outcome
