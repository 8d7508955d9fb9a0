"""The one error handler (registered last): log with the update, tell the user something
useful.  Expected Telegram failures are handled where they happen, not here."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers.context import WulinContext

log = logging.getLogger(__name__)

#: Failures of the database itself: the user should simply try again shortly.
TRANSIENT = (OperationalError, DBAPIError, PoolTimeout, ConnectionError, TimeoutError, OSError)


async def error_handler(update: object, context: WulinContext) -> None:
    """Log the failure and, in a private chat, apologise with a next step."""
    error = context.error
    log.error("error while handling update %r", update, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return  # never spam a group chat with our troubles
    key = "common.busy" if isinstance(error, TRANSIENT) else "common.error"
    try:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(context.t(key), show_alert=True)
                return
            except BadRequest:
                pass  # already answered by the handler ("query is too old"): write instead
        await context.bot.send_message(update.effective_chat.id, context.t(key))
    except Forbidden:
        log.info("user %s blocked the bot; could not report the error", update.effective_chat.id)
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)
