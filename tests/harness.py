"""Transcript tests through the real Application (DESIGN testing layer 3).

``Harness`` wires the production ``build_application`` to the in-process Bot API stand-in
and a simulated clock, seeds the demo organisation, and records every exception the
handlers raise: a swallowed error fails the test at teardown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo.seed import CAST, seed_demo
from demo.stand_in import BotAPIStandIn, BotMessage
from demo.timeline import Timeline
from demo.updates import UpdateFactory, User
from handlers.context import RUNTIME_KEY, Runtime
from handlers.faq import refresh_faq
from render.fonts import find_cjk_font
from scheduler.clock import SimClock
from scheduler.jobs import register_jobs
from scheduler.sender import OutboxSender
from settings import Settings
from storage.engine import make_reader

PEOPLE: dict[str, User] = {i.key: i.user for i in CAST}


@dataclass
class Reply:
    """What the bot did in answer to one action."""

    messages: list[BotMessage] = field(default_factory=list)
    edits: list[BotMessage] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        """Texts of new messages and edits, in order."""
        return [m.text for m in self.messages + self.edits]

    def to(self, user: User) -> list[BotMessage]:
        """New messages to one user's private chat."""
        return [m for m in self.messages if m.chat_id == user.id]

    def only(self) -> BotMessage:
        """The single new message (fails if there were none or several)."""
        assert len(self.messages) == 1, f"expected exactly one message, got {self.texts}"
        return self.messages[0]


class Harness:
    """Acts as users against the real bot; see ``send``, ``press`` and friends."""

    def __init__(
        self,
        *,
        db: async_sessionmaker[AsyncSession],
        clock: SimClock,
        settings: Settings,
        stand_in: BotAPIStandIn | None = None,
    ) -> None:
        from bot import build_application

        self.db = db
        self.clock = clock
        self.settings = settings
        self.stand_in = stand_in or BotAPIStandIn(clock)
        sender = OutboxSender(
            db=db,
            clock=clock,
            default_language=settings.default_language,
            tz=settings.tz,
            font=find_cjk_font(settings.cjk_font_path),
        )
        self.runtime = Runtime(settings=settings, db=db, clock=clock, sender=sender)
        self.runtime.reader = make_reader(db.kw["bind"])
        self.app = build_application(
            self.runtime, request=self.stand_in, rate_limit=False, with_updater=False
        )
        self.errors: list[BaseException] = []
        self.app.add_error_handler(self._record_error)
        self.updates = UpdateFactory(self.app.bot, clock)
        self._events: list[tuple[str, Any]] = []
        self.stand_in.listeners.append(lambda kind, payload: self._events.append((kind, payload)))

    async def _record_error(self, update: object, context: Any) -> None:
        self.errors.append(context.error)

    async def start(self, *, seed: bool = True) -> None:
        """Seed the demo organisation and initialise the Application (getMe)."""
        if seed:
            async with self.db.begin() as session:
                await seed_demo(session=session, now=self.clock.now())
        await self.app.initialize()
        self.runtime.bot_username = self.app.bot.username
        self.app.bot_data[RUNTIME_KEY] = self.runtime
        await refresh_faq(self.runtime)
        await register_jobs(self.app)
        self.timeline = Timeline(self.app, self.clock, after_each=self._drain)

    async def _drain(self) -> None:
        # Jobs that queued something wake the sender; the others need no drain.
        if self.runtime.sender.wakeup.is_set():
            self.runtime.sender.wakeup.clear()
            await self.runtime.sender.drain(self.app.bot)

    async def advance(self, delta: timedelta) -> Reply:
        """Move the clock, running every job that falls due in order; what the bot sent."""
        self._events.clear()
        await self.timeline.run_until(self.clock.now() + delta)
        return self._collect()

    async def stop(self) -> None:
        """Shut the Application down."""
        await self.app.shutdown()

    async def process(self, update: Any, *, drain: bool = True) -> Reply:
        """Feed one update through the app; collect what the bot did (and the outbox)."""
        self._events.clear()
        await self.app.process_update(update)
        if drain:
            await self.runtime.sender.drain(self.app.bot)
        return self._collect()

    def _collect(self) -> Reply:
        reply = Reply()
        for kind, payload in self._events:
            if kind == "message":
                reply.messages.append(payload)
            elif kind in ("edit", "markup"):
                reply.edits.append(payload)
            elif kind == "alert":
                reply.alerts.append(payload["text"])
        self._events.clear()
        return reply

    async def send(self, user: User, text: str, **kwargs: Any) -> Reply:
        """The user sends a text (commands get their entity)."""
        return await self.process(self.updates.text(user, text, **kwargs))

    async def press(
        self, user: User, label: str | int, *, message: BotMessage | None = None
    ) -> Reply:
        """The user presses a button (by label substring or 1-based number) of a message."""
        message = message or self.last_with_buttons(user)
        assert message is not None, "no message with buttons"
        buttons = [b for row in message.buttons for b in row]
        if isinstance(label, int):
            button = buttons[label - 1]
        else:
            matches = [b for b in buttons if label in b["text"]]
            assert matches, f"no button {label!r} in {[b['text'] for b in buttons]}"
            button = matches[0]
        return await self.press_data(user, message, button["callback_data"])

    async def press_data(self, user: User, message: BotMessage, data: str) -> Reply:
        """Press with arbitrary callback data (forged or replayed buttons)."""
        return await self.process(self.updates.callback(user, message.raw, data))

    def last_with_buttons(self, user: User) -> BotMessage | None:
        """The newest bot message with inline buttons in the user's chat."""
        for message in reversed(self.stand_in.sent_to(user.id)):
            if message.buttons:
                return message
        return None

    def now(self) -> datetime:
        """The simulated time."""
        return self.clock.now()
