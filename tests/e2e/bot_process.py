"""The real bot as a separate process: ``python bot.py run [--webhook]`` against the fake Bot API.

``BotProcess`` starts the bot with a clean environment (only what the test gives it, never a
developer's ``.env`` or proxy settings, so nothing can reach the internet), waits until the
fake server has seen it come up (``getUpdates`` in polling mode, ``setWebhook`` plus an open
port in webhook mode), copies every line it prints into the test log (logger ``e2e.bot``)
and kills it for good at teardown.  ``kill(signal.SIGKILL)`` is the ``kill -9`` of the fault
tests; ``restart()`` starts the same command with the same environment again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot.py"
TOKEN = "7000000001:AAE2e-FakeTokenForTheLoopbackBotApi"

log = logging.getLogger("e2e.bot")
# Captured by pytest's log capture (shown with a failing test) without touching the root level.
log.setLevel(logging.INFO)

#: Environment variables a developer's shell may carry that must not leak into the bot.
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ws_proxy", "wss_proxy"}


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environ() -> dict[str, str]:
    """``os.environ`` without Wulin's settings, Telegram variables and proxies."""
    ours = {name.upper() for name in Settings.model_fields}
    return {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in ours
        and key.lower() not in _PROXY_VARS
        and not key.startswith(("TELEGRAM_", "WEBHOOK_", "WULIN_TEST_"))
    }


def bot_env(api: Any, database_url: str, **settings: Any) -> dict[str, str]:
    """The environment of a bot talking to ``api`` on ``database_url``; ``settings`` as env."""
    env = clean_environ()
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_API_FILE_URL=api.file_url,
        DATABASE_URL=database_url,
        TIMEZONE="Asia/Shanghai",
        LOG_LEVEL="INFO",
        OUTBOX_POLL_SECONDS="0.5",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        NO_PROXY="*",
    )
    env.update({key.upper(): str(value) for key, value in settings.items()})
    return env


class BotProcess:
    """One ``bot.py run`` process; an async context manager that always kills it at exit."""

    def __init__(
        self,
        api: Any,
        env: Mapping[str, str],
        *,
        cwd: Path,
        webhook: bool = False,
        name: str = "bot",
        metrics_port: int | None = None,
    ) -> None:
        self.api = api
        self.env = dict(env)
        self.cwd = cwd
        self.webhook = webhook
        self.name = name
        self.metrics_port = metrics_port
        self.lines: list[str] = []
        self.starts = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._logfile = cwd / f"{name}.log"  # the test's directory, whatever cwd becomes

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def argv(self) -> list[str]:
        """The command line."""
        argv = [sys.executable, str(BOT), "run"]
        if self.webhook:
            argv.append("--webhook")
        if self.metrics_port:
            argv += ["--metrics-port", str(self.metrics_port)]
        return argv

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.proc is not None and self.proc.returncode is None

    @property
    def pid(self) -> int | None:
        """The process id (of the current run)."""
        return self.proc.pid if self.proc is not None else None

    @property
    def webhook_port(self) -> int | None:
        """Where this bot's webhook server listens (webhook mode)."""
        port = self.env.get("WEBHOOK_PORT")
        return int(port) if port else None

    async def start(self, timeout: float = 60) -> BotProcess:  # noqa: ASYNC109 - startup deadline
        """Spawn the bot and wait until the fake Bot API sees it polling or its webhook set."""
        if self.alive:
            raise RuntimeError(f"{self.name} is already running")
        self.starts += 1
        mark = len(self.api.calls)
        self._write(f"--- start #{self.starts}: {' '.join(self.argv)}")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # our own process group: signals never hit pytest
        )
        self._readers = [
            asyncio.create_task(self._read(self.proc.stdout, "out")),
            asyncio.create_task(self._read(self.proc.stderr, "err")),
        ]
        try:
            await self._wait_ready(mark, timeout)
        except BaseException:
            await self.kill(signal.SIGKILL)
            raise
        return self

    async def _wait_ready(self, mark: int, timeout: float) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        method = "setWebhook" if self.webhook else "getUpdates"
        while time.monotonic() < deadline:
            if not self.alive:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode if self.proc else '?'} "
                    f"during start:\n{self.tail()}"
                )
            seen = any(c.method == method for c in self.api.calls[mark:])
            if seen and (not self.webhook or await self._port_open()):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} did not come up within {timeout}s:\n{self.tail()}")

    async def _port_open(self) -> bool:
        port = self.webhook_port
        if port is None:
            return True
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    async def kill(self, sig: int = signal.SIGKILL, timeout: float = 15) -> int | None:  # noqa: ASYNC109
        """Send ``sig`` (default: ``kill -9``) and wait for the exit; returns the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.returncode is None:
            self._write(f"--- {signal.Signals(sig).name} to pid {proc.pid}")
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        await asyncio.gather(*self._readers, return_exceptions=True)
        self._readers = []
        return proc.returncode

    async def stop(self) -> int | None:
        """A graceful stop (SIGTERM, as systemd would), SIGKILL if it hangs."""
        return await self.kill(signal.SIGTERM, timeout=20)

    async def restart(self, timeout: float = 60, **env: Any) -> BotProcess:  # noqa: ASYNC109
        """Start again (after a kill), optionally with changed environment variables."""
        if self.alive:
            await self.stop()
        self.env.update({key.upper(): str(value) for key, value in env.items()})
        return await self.start(timeout)

    async def __aenter__(self) -> BotProcess:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.kill(signal.SIGKILL)

    # -- output ---------------------------------------------------------------------------
    async def _read(self, stream: asyncio.StreamReader | None, label: str) -> None:
        if stream is None:
            return
        while True:
            raw = await stream.readline()
            if not raw:
                return
            self._write(f"[{label}] {raw.decode(errors='replace').rstrip()}")

    def _write(self, line: str) -> None:
        self.lines.append(line)
        log.info("[%s] %s", self.name, line)
        with self._logfile.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    def output(self) -> str:
        """Everything the bot printed so far (all runs)."""
        return "\n".join(self.lines)

    def tail(self, n: int = 60) -> str:
        """The last ``n`` lines printed."""
        return "\n".join(self.lines[-n:])

    def count(self, needle: str) -> int:
        """How many printed lines contain ``needle``."""
        return sum(needle in line for line in self.lines)

    def tracebacks(self) -> list[str]:
        """Lines that start a Python traceback (for "no unexpected errors" checks)."""
        return [line for line in self.lines if "Traceback (most recent call last)" in line]

    async def wait_for_line(self, needle: str, timeout: float = 30, *, after: int = 0) -> str:  # noqa: ASYNC109
        """The first printed line (from index ``after``) containing ``needle``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if needle in line:
                    return line
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} never printed {needle!r}:\n{self.tail()}")
