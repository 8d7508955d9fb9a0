"""The offline console: ``python bot.py demo``.

Runs the real Application and handlers against the in-process stand-in, on a fresh SQLite
file loaded with ``demo/org.yaml``, with a simulated clock.  Lines starting with ``:`` are
meta-commands (``:help`` lists them); anything else is sent as a message from the current
identity.  Works interactively and with piped stdin, so it is scriptable.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from demo.seed import CAST, Identity, seed_demo
from demo.stand_in import BotAPIStandIn, BotMessage
from demo.timeline import Timeline, parse_duration, parse_local_time
from demo.updates import UpdateFactory, User
from scheduler.clock import SimClock
from settings import Settings

DEFAULT_START = "2026-12-01 08:30"
HELP = """meta-commands:
  :who                 list identities        :as NAME        act as NAME
  :press N | :press TEXT  press button N (or the first containing TEXT)
                       of your last message with buttons
  :photo [CAPTION]     send a sample photo    :location LAT LON   send a location
  :contact             share your own phone number (staff binding asks for it)
  :codes               print the invite links (as `org invites` does)
  :clock               show the simulated time
  :advance 2h|30m|1d   move the clock forward, running every job that falls due, in order
  :at 2026-12-01 09:00 move the clock to that local time, the same way
  :quit                leave
anything else is sent as a message from the current identity"""


class Console:
    """One demo session: identities, the app, the stand-in, the clock and the output."""

    def __init__(
        self,
        *,
        app: Any,
        stand_in: BotAPIStandIn,
        clock: SimClock,
        settings: Settings,
        out: Callable[[str], None],
    ) -> None:
        self.app = app
        self.stand_in = stand_in
        self.clock = clock
        self.settings = settings
        self.out = out
        self.factory = UpdateFactory(app.bot, clock)
        self.timeline = Timeline(app, clock, after_each=self._after_job)
        self.identities: dict[str, Identity] = {i.key: i for i in CAST}
        self.names: dict[int, str] = {i.user.id: i.key for i in CAST}
        self.current = self.identities["resident"]
        self._pending: list[tuple[str, Any]] = []
        stand_in.listeners.append(lambda kind, payload: self._pending.append((kind, payload)))

    @property
    def runtime(self) -> Any:
        """The bot's runtime objects."""
        from handlers.context import RUNTIME_KEY

        return self.app.bot_data[RUNTIME_KEY]

    async def handle(self, line: str) -> bool:
        """Process one input line; False when the session should end."""
        line = line.rstrip("\n")
        if not line.strip():
            return True
        if line.startswith(":"):
            return await self._meta(line[1:].strip())
        await self._send(self.factory.text(self.current.user, line))
        return True

    async def _send(self, update: Any) -> None:
        await self.app.process_update(update)
        await self._settle()

    async def _settle(self) -> None:
        await self.runtime.sender.drain(self.app.bot)
        self.flush()

    async def _after_job(self) -> None:
        # Jobs that queued something wake the sender; the others need no drain.
        if self.runtime.sender.wakeup.is_set():
            self.runtime.sender.wakeup.clear()
            await self._settle()

    def flush(self) -> None:
        """Print what the bot did since the last flush."""
        for kind, payload in self._pending:
            if kind == "alert":
                self.out(f"[bot → {self.current.key}] (popup) {payload['text']}")
                continue
            message: BotMessage = payload
            name = self.names.get(message.chat_id, f"chat {message.chat_id}")
            tag = {"edit": "(edited) ", "markup": "(buttons changed) "}.get(kind, "")
            prefix = {"photo": "[photo] ", "document": "[document] ", "location": ""}.get(
                message.kind, ""
            )
            if kind == "markup" and not message.buttons:
                continue
            self.out(f"[bot → {name}] {tag}{prefix}{message.text}".rstrip())
            number = 0
            for row in message.buttons:
                cells = []
                for button in row:
                    number += 1
                    cells.append(f"[{number}] {button['text']}")
                self.out("    " + "  ".join(cells))
            if message.reply_keyboard:
                labels = ", ".join(b.get("text", "") for row in message.reply_keyboard for b in row)
                self.out(f"    (keyboard: {labels} — type :contact to share your phone)")
        self._pending.clear()

    async def _meta(self, command: str) -> bool:
        verb, _, rest = command.partition(" ")
        rest = rest.strip()
        if verb in ("quit", "q", "exit"):
            return False
        handler = getattr(self, f"_cmd_{verb}", None)
        if handler is None:
            self.out(f"(unknown meta-command :{verb}; :help lists them)")
            return True
        try:
            await handler(rest)
        except ValueError as exc:
            self.out(f"({exc})")
        return True

    async def _cmd_help(self, rest: str) -> None:
        self.out(HELP)

    async def _cmd_who(self, rest: str) -> None:
        for identity in CAST:
            mark = "*" if identity is self.current else " "
            self.out(f" {mark} {identity.key:<9} {identity.user.first_name}  — {identity.describe}")

    async def _cmd_as(self, rest: str) -> None:
        if rest not in self.identities:
            raise ValueError(f"no identity {rest!r}; :who lists them")
        self.current = self.identities[rest]
        self.out(f"(you are now {rest}: {self.current.user.first_name})")

    async def _cmd_press(self, rest: str) -> None:
        message = self._last_with_buttons(self.current.user.id)
        if message is None:
            raise ValueError("no message with buttons to press")
        buttons = [b for row in message.buttons for b in row]
        chosen = None
        if rest.isdigit() and 1 <= int(rest) <= len(buttons):
            chosen = buttons[int(rest) - 1]
        elif rest:
            chosen = next((b for b in buttons if rest in b["text"]), None)
        if chosen is None:
            raise ValueError(f"no button {rest!r}; there are {len(buttons)}")
        if "url" in chosen:
            self.out(f"(that button opens {chosen['url']})")
            return
        await self._send(
            self.factory.callback(self.current.user, message.raw, chosen["callback_data"])
        )

    def _last_with_buttons(self, chat_id: int) -> BotMessage | None:
        for message in reversed(self.stand_in.sent_to(chat_id)):
            if message.buttons:
                return message
        return None

    async def _cmd_photo(self, rest: str) -> None:
        await self._send(self.factory.photo(self.current.user, caption=rest or None))

    async def _cmd_location(self, rest: str) -> None:
        parts = rest.replace(",", " ").split()
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            raise ValueError("usage: :location LAT LON, e.g. :location 32.63 116.99") from None
        await self._send(self.factory.location(self.current.user, lat, lon))

    async def _cmd_contact(self, rest: str) -> None:
        await self._send(self.factory.contact(self.current.user, self.current.user.phone or ""))

    async def _cmd_codes(self, rest: str) -> None:
        from admin_cli import invite_link
        from storage.org import list_invites

        async with self.runtime.db.begin() as session:
            lines = await list_invites(session=session, now=self.clock.now())
        username = self.app.bot.username
        for line in lines:
            link = invite_link(username, line.code)
            if line.kind == "group":
                self.out(f"group    {line.group_name}: {link}   (send: /start {line.code})")
            else:
                self.out(f"personal {line.person} ({', '.join(line.roles)}): {link}")

    async def _cmd_clock(self, rest: str) -> None:
        local = self.clock.now().astimezone(self.settings.tz)
        self.out(f"(simulated time: {local:%Y-%m-%d %H:%M} {self.settings.timezone}, {local:%A})")

    async def _cmd_advance(self, rest: str) -> None:
        await self._run_until(self.clock.now() + parse_duration(rest))

    async def _cmd_at(self, rest: str) -> None:
        await self._run_until(parse_local_time(rest, self.settings.tz))

    async def _run_until(self, target: datetime) -> None:
        try:
            await self.timeline.run_until(target)
        except Exception as exc:  # a job bug: show it and keep the console usable
            logging.getLogger(__name__).exception("scheduled job failed")
            self.out(f"(a scheduled job failed: {exc!r})")
        self.flush()
        await self._cmd_clock("")


async def build_console(
    settings: Settings,
    *,
    start: str | None,
    db_path: str | None,
    out: Callable[[str], None] = print,
) -> tuple[Console, Callable[[], Any]]:
    """Create the demo database, app and console; returns (console, async close)."""
    from bot import build_application, build_runtime
    from storage.migrate import upgrade_to_head

    tz = settings.tz
    clock = SimClock(parse_local_time(start or DEFAULT_START, tz))
    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="wulin-demo-")
        db_path = str(Path(tmp.name) / "demo.sqlite3")
    else:
        Path(db_path).unlink(missing_ok=True)  # noqa: ASYNC240 (once, before anything runs)
    settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{db_path}"})
    runtime, engine = build_runtime(settings, clock=clock)
    await upgrade_to_head(engine)
    async with runtime.db.begin() as session:
        await seed_demo(session=session, now=clock.now())
    stand_in = BotAPIStandIn(clock)
    app = build_application(runtime, request=stand_in, rate_limit=False, with_updater=False)
    await app.initialize()
    runtime.bot_username = app.bot.username
    from handlers.faq import refresh_faq

    await refresh_faq(runtime)
    from scheduler.jobs import register_jobs

    await register_jobs(app)
    console = Console(app=app, stand_in=stand_in, clock=clock, settings=settings, out=out)

    async def close() -> None:
        await app.shutdown()
        await engine.dispose()
        if tmp is not None:
            tmp.cleanup()

    return console, close


async def run_console(
    settings: Settings, *, start: str | None = None, db_path: str | None = None
) -> int:
    """The REPL: read lines until EOF or :quit."""
    logging.getLogger().setLevel(logging.WARNING)
    # The demo drives jobs itself (simulated clock); PTB's scheduler and flow timeouts are off.
    warnings.filterwarnings("ignore", message="Ignoring `conversation_timeout`")
    console, close = await build_console(settings, start=start, db_path=db_path)
    interactive = sys.stdin.isatty()
    print("吾邻 Wulin demo console — offline, nothing reaches Telegram. :help for meta-commands.")
    await console._cmd_who("")
    await console._cmd_clock("")
    loop = asyncio.get_running_loop()
    try:
        while True:
            if interactive:
                print(f"[{console.current.key}] > ", end="", flush=True)
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if not interactive and line.strip():
                print(f"[{console.current.key}] > {line.rstrip()}")
            if not await console.handle(line):
                break
    finally:
        await close()
    return 0


__all__ = ["Console", "User", "build_console", "datetime", "run_console"]
