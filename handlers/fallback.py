"""What is left when no feature took an update: unknown commands, stickers and voice,
edited messages, stale buttons, and group chats (quiet unless addressed)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers.context import WulinContext
from handlers.ui import private_link_markup, refuse_callback, reply

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS


async def unknown_command(update: Update, context: WulinContext) -> None:
    """A command no feature knows."""
    await reply(update, context.t("common.unknown_command"))


async def nothing_to_cancel(update: Update, context: WulinContext) -> None:
    """/cancel outside any flow."""
    await reply(update, context.t("common.nothing_to_cancel"))


async def unsupported_media(update: Update, context: WulinContext) -> None:
    """Stickers, voice, video, files… outside a flow that wants them."""
    await reply(update, context.t("common.unsupported_media"))


async def edited_message(update: Update, context: WulinContext) -> None:
    """An edit of an earlier message: say that edits are not re-read (private chats only)."""
    if update.edited_message and update.edited_message.chat.type == "private":
        await update.edited_message.reply_text(context.t("common.edited_ignored"), do_quote=True)


async def group_command(update: Update, context: WulinContext) -> None:
    """A command sent to the bot in a group chat: personal flows live in the private chat."""
    await reply(update, context.t("common.private_only"), reply_markup=private_link_markup(context))


async def stale_button(update: Update, context: WulinContext) -> None:
    """A button no handler accepts now (old message, lost conversation, forged data)."""
    await refuse_callback(update, context)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Catch-alls; registered after every feature."""
    new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("cancel", nothing_to_cancel, filters=PRIVATE & new),
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited_message),
        MessageHandler(filters.COMMAND & PRIVATE & new, unknown_command),
        MessageHandler(filters.COMMAND & GROUPS & new, group_command),
        MessageHandler(PRIVATE & new & ~filters.StatusUpdate.ALL, unsupported_media),
        CallbackQueryHandler(stale_button),
    ]
