"""The typed context every handler receives, and the runtime objects behind it.

``WulinContext`` gives handlers ``.db`` (the sessionmaker), ``.settings``, ``.clock``,
``.faq``, ``.actor`` (who is writing, loaded once per update) and ``.t`` (the translator in
the actor's language), so no handler reaches into ``bot_data`` or casts anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext, ExtBot

from locales import Translator, normalise_language
from scheduler.clock import Clock
from scheduler.sender import OutboxSender
from settings import Settings
from storage.people import Actor, load_actor

RUNTIME_KEY = "wulin"
log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Process-wide objects, built once by the composition root (``bot.py``)."""

    settings: Settings
    db: async_sessionmaker[AsyncSession]
    clock: Clock
    sender: OutboxSender
    faq: Any = None  # faq.Matcher once the knowledge base is loaded
    reader: async_sessionmaker[AsyncSession] | None = None  # read-only sessions; db if None
    bot_username: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class WulinContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with Wulin's runtime and the current actor."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.actor: Actor | None = None
        self.lang: str = self.runtime.settings.default_language

    @property
    def runtime(self) -> Runtime:
        """The process-wide runtime objects."""
        return self.application.bot_data[RUNTIME_KEY]

    @property
    def db(self) -> async_sessionmaker[AsyncSession]:
        """Open one transaction per update: ``async with context.db.begin() as session``."""
        return self.runtime.db

    @property
    def reader(self) -> async_sessionmaker[AsyncSession]:
        """For transactions that only read (``storage.engine.make_reader``)."""
        return self.runtime.reader or self.runtime.db

    @property
    def settings(self) -> Settings:
        """The settings built at start."""
        return self.runtime.settings

    @property
    def clock(self) -> Clock:
        """The injected clock; never call ``datetime.now()``."""
        return self.runtime.clock

    def today(self) -> date:
        """Today's date in the configured time zone."""
        return self.clock.now().astimezone(self.settings.tz).date()

    @property
    def faq(self) -> Any:
        """The FAQ matcher."""
        return self.runtime.faq

    @property
    def t(self) -> Translator:
        """Translator in the language of the person who wrote."""
        return Translator(self.lang)

    def wake_outbox(self) -> None:
        """Tell the sender new messages were committed (it also polls, so this is a hint)."""
        self.runtime.sender.wakeup.set()

    def set_language(self, lang: str) -> None:
        """Switch the language of the rest of this update's replies."""
        self.lang = lang


async def _say_busy(update: Update, context: WulinContext) -> None:
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("common.busy"), show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, context.t("common.busy"))
    except TelegramError as exc:
        log.info("could not tell user about the database outage: %s", exc)


async def preload_actor(update: object, context: WulinContext) -> None:
    """Group -1: load who is writing and pick the reply language, once per update."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    user = update.effective_user
    default = context.settings.default_language
    try:
        async with context.reader.begin() as session:
            context.actor = await load_actor(session=session, telegram_id=user.id)
    except (DBAPIError, OSError, TimeoutError) as exc:
        # The database is unreachable: one "try again shortly", and no handler runs on a
        # half-known actor (it would answer as if the person were a stranger).
        log.warning("database unavailable while loading user %s: %s", user.id, exc)
        context.lang = normalise_language(user.language_code, default)
        await _say_busy(update, context)
        raise ApplicationHandlerStop from None
    if context.actor is not None and context.actor.language:
        context.lang = context.actor.language
    else:
        context.lang = normalise_language(user.language_code, default)
