"""The HTTP part of ``load_bench.py``: ``python bot.py run`` as a real process, long-polling
the fake Bot API of ``tests/e2e`` on loopback, with simulated residents talking to it.

Each simulated resident (already in the database, bound to their Telegram id) loops for the
given time: send an FAQ question or ``/help``, wait for the bot's reply, read it for a
while (``think`` seconds), again.  Errors counted: a reply missing after ``reply_timeout``,
a reply that is the bot's apology ("something went wrong", "busy", "slow down"), any error
status the fake server answered the bot (4xx/5xx), ERROR lines in the bot's log, and the
bot process exiting early.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load_measure import Run

from locales import translate
from settings import Settings
from tests.e2e.fake_botapi import FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
APOLOGIES = tuple(translate("zh", k) for k in ("common.error", "common.busy", "common.slow_down"))


@dataclass
class HttpResult:
    """What the HTTP run saw."""

    sent: int = 0
    replies: Run = field(default_factory=lambda: Run(0, 0.0))
    missing: int = 0
    apologies: int = 0
    server_errors: dict[int, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)  # "method: description", a few
    shutdown_errors: dict[int, int] = field(default_factory=dict)
    log_errors: list[str] = field(default_factory=list)
    exited_early: bool = False

    @property
    def errors(self) -> int:
        """Every kind of error counted together."""
        return (
            self.missing
            + self.apologies
            + sum(self.server_errors.values())
            + len(self.log_errors)
            + int(self.exited_early)
        )


async def http_run(
    *,
    database_url: str,
    user_ids: list[int],
    questions: list[str],
    seconds: float,
    think: tuple[float, float],
    help_share: float = 0.2,
    reply_timeout: float = 10.0,
    log_path: Path,
    known_chats: Sequence[int] = (),
) -> HttpResult:
    """Run the bot process against the fake server with one simulated resident per id.

    ``known_chats``: other people (captains) and group chats the bot will write to — the
    notifications left in the outbox by the in-process runs go out first.
    """
    result = HttpResult()
    async with FakeBotAPI() as api:
        people = [api.user(f"居民{uid}", uid) for uid in user_ids]
        for chat_id in set(known_chats) - set(user_ids):
            if chat_id > 0:
                api.user(f"邻长{chat_id}", chat_id)
            else:
                api.group_chat(f"邻里群{-chat_id}", chat_id)
        env = {
            **_clean_environ(),
            "TELEGRAM_BOT_TOKEN": "123:BENCH",
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_API_FILE_URL": api.file_url,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
        }
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bot.py"), "run", cwd=str(log_path.parent), env=env,
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            try:
                await api.wait_for_call("getUpdates", timeout=60)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + seconds
                latencies: list[float] = []
                rngs = [random.Random(uid) for uid in user_ids]
                start = time.perf_counter()
                residents = [
                    _resident(api, person, rng, questions, deadline, think, help_share,
                              reply_timeout, latencies, result)
                    for person, rng in zip(people, rngs, strict=True)
                ]  # fmt: skip
                await asyncio.gather(*residents)
                result.replies = Run(len(latencies), time.perf_counter() - start, latencies)
                result.exited_early = process.returncode is not None
                # Before stopping: at shutdown PTB polls once more and the fake kicks out the
                # abandoned long poll with 409, an answer nobody reads.
                result.server_errors = {c: n for c, n in api.stats.errors.items() if n}
                failed = [f"{c.method}: {c.error}" for c in api.calls if (c.status or 0) >= 400]
                result.error_samples = sorted(set(failed))[:5]
            finally:
                await _stop(process)
        result.shutdown_errors = {
            c: n - result.server_errors.get(c, 0)
            for c, n in api.stats.errors.items()
            if n > result.server_errors.get(c, 0)
        }
    result.log_errors = _log_errors(log_path)
    return result


def _clean_environ() -> dict[str, str]:
    """The environment without Wulin's settings, Telegram variables or proxies."""
    # The bot also runs in a temporary directory, so no developer's .env is read either.
    ours = {name.upper() for name in Settings.model_fields}
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in ours and k.lower() not in proxies and not k.startswith("TELEGRAM_")
    }


def _log_errors(path: Path) -> list[str]:
    """ERROR lines and tracebacks in the bot's log."""
    lines = path.read_text(errors="replace").splitlines()
    return [line for line in lines if " ERROR " in line or "Traceback" in line]


async def _resident(
    api: FakeBotAPI,
    person: Any,
    rng: random.Random,
    questions: list[str],
    deadline: float,
    think: tuple[float, float],
    help_share: float,
    reply_timeout: float,
    latencies: list[float],
    result: HttpResult,
) -> None:
    loop = asyncio.get_running_loop()
    # Spread the first messages over the first think period, as people arrive.
    await asyncio.sleep(rng.uniform(0, think[1]))
    while loop.time() < deadline:
        text = "/help" if rng.random() < help_share else rng.choice(questions)
        sent_at = loop.time()
        await person.send(text)
        result.sent += 1
        try:
            reply = await api.wait_for_message(person, timeout=reply_timeout)
        except AssertionError:
            result.missing += 1
        else:
            latencies.append(loop.time() - sent_at)
            body = reply.get("text") or reply.get("caption") or ""
            if any(body.startswith(a[:12]) for a in APOLOGIES):
                result.apologies += 1
        await asyncio.sleep(rng.uniform(*think))


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGINT (PTB stops gracefully), then kill if it hangs."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
