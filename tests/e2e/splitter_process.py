"""The webhook splitter (deploy/webhook_splitter.py) as a process, started with its own CLI
exactly as the deployment runs it, output in the test log like the bots'."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.bot_process import ROOT, BotProcess, clean_environ


class SplitterProcess(BotProcess):
    """``python -m deploy.webhook_splitter`` as a process (ready when its port accepts)."""

    def __init__(self, api: Any, *, cwd: Path, port: int, backends: list[str]) -> None:
        env = clean_environ()
        env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", NO_PROXY="*")
        super().__init__(api, env, cwd=cwd, name="splitter")
        self.cwd = ROOT  # ``-m deploy.webhook_splitter`` imports from the repository root
        self.port = port
        self.backends = backends

    @property
    def argv(self) -> list[str]:
        """The deployment's command line."""
        argv = [sys.executable, "-m", "deploy.webhook_splitter"]
        argv += ["--listen", f"127.0.0.1:{self.port}", "--timeout", "5", "--cooldown", "3"]
        for backend in self.backends:
            argv += ["--backend", backend]
        return argv

    @property
    def url(self) -> str:
        """The public URL the bots register (WEBHOOK_URL)."""
        return f"http://127.0.0.1:{self.port}"

    async def _wait_ready(self, mark: int, timeout: float) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise AssertionError(f"splitter exited during start:\n{self.tail()}")
            if await self._port_open_at(self.port):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"splitter did not come up within {timeout}s:\n{self.tail()}")

    async def health(self) -> dict[str, Any]:
        """The splitter's /health document."""
        import aiohttp

        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/health") as response,
        ):
            return await response.json()

    @staticmethod
    async def _port_open_at(port: int) -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
