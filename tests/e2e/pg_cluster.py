"""A throwaway PostgreSQL cluster the tests own: initdb on a free port, start, stop, start again.

The "database down for 30 s" fault needs a server the test may stop, and the two-instance test
needs one both bot processes share.  PostgreSQL refuses to run as root, so as root every
command runs through ``runuser -u postgres`` on a data directory owned by ``postgres``.
``find_pg_bin()`` returns None (and the tests skip with the reason) when the binaries or the
``postgres`` account are missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import tempfile
from pathlib import Path

from tests.e2e.bot_process import free_port


def find_pg_bin() -> tuple[Path | None, str]:
    """The directory with initdb/pg_ctl (``WULIN_PG_BIN``, Debian's layout, PATH) or why not."""
    candidates = []
    if os.environ.get("WULIN_PG_BIN"):
        candidates.append(Path(os.environ["WULIN_PG_BIN"]))
    candidates += [Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            if os.geteuid() == 0:
                try:
                    pwd.getpwnam("postgres")
                except KeyError:
                    return None, "running as root and there is no postgres account for runuser"
                if shutil.which("runuser") is None:
                    return None, "running as root and runuser is missing"
            return directory, ""
    return None, "PostgreSQL binaries not found (set WULIN_PG_BIN or install postgresql)"


class PgCluster:
    """One private cluster: ``init()``, ``start()``, ``stop()``, ``url(db)``, ``destroy()``."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="wulin-e2e-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.running = False

    def _argv(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return argv

    async def _run(self, tool: str, *args: str, check: bool = True) -> str:
        proc = await asyncio.create_subprocess_exec(
            *self._argv(tool, *args),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )
        out, _ = await proc.communicate()
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({proc.returncode}): {out.decode()}"
            )
        return out.decode()

    async def init(self) -> PgCluster:
        """initdb a trust-auth cluster (data directory owned by postgres when we are root)."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        await self._run(
            "initdb", "-A", "trust", "-U", "postgres", "-E", "UTF8", "-D", str(self.data)
        )
        return self

    async def start(self) -> None:
        """pg_ctl start -w on loopback only, with a socket directory of our own."""
        options = (
            f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c max_connections=100"
        )
        log_file = self.root / "server.log"
        await self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(log_file), "-w", "-o", options, "start"
        )
        self.running = True

    async def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop (``immediate`` is the crash-like stop)."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    async def createdb(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE (optionally from a template database); returns its URL."""
        args = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        if template:
            args += ["-T", template]
        await self._run("createdb", *args, name)
        return self.url(name)

    def url(self, database: str) -> str:
        """The libpq URL the bot's DATABASE_URL takes."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def destroy(self) -> None:
        """Stop (if running) and delete the cluster."""
        if self.running:
            with contextlib.suppress(RuntimeError):
                await self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
