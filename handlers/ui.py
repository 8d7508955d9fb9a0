"""Small Telegram rendering pieces shared by the feature modules: keyboards, replies,
the private-chat guard and callback-data parsing."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from handlers.context import WulinContext

log = logging.getLogger(__name__)

#: A confirmation button older than this is refused (a replayed "delete my data" tap).
CONFIRM_TTL = timedelta(minutes=15)
#: A multi-step flow left alone this long ends (so later free text is a question again).
FLOW_TIMEOUT = timedelta(minutes=30)


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def building_keyboard(buildings: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    """Buttons ``join:b:<id>`` for a group's buildings, three to a row."""
    buttons = [(name, f"join:b:{building_id}") for building_id, name in buildings]
    return keyboard([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def parse_callback(data: str | None, prefix: str, pattern: str) -> re.Match[str] | None:
    """Match ``prefix:rest`` against ``pattern``; None for anything else (forged, truncated).

    Each feature calls this once with its own prefix and strict pattern, so a handler never
    sees callback data it did not produce.
    """
    if not data or len(data) > 64 or not data.startswith(prefix + ":"):
        return None
    match = re.fullmatch(pattern, data[len(prefix) + 1 :])
    if match is None or not all(fits_id(g) for g in match.groups() if g and g.isdecimal()):
        return None
    return match


#: Ids are 32-bit integer columns (PostgreSQL ``integer``): a bigger number names nothing.
MAX_ID = 2**31 - 1


def fits_id(digits: str) -> bool:
    """Whether a string of decimal digits is a number an id column can hold."""
    return digits.isdecimal() and int(digits) <= MAX_ID


def _not_modified(exc: BadRequest) -> bool:
    return "message is not modified" in exc.message.lower()


async def edit_text(query: CallbackQuery, text: str, **kwargs: object) -> None:
    """Edit the message the button was on; a repeat tap (it already says this) is fine."""
    try:
        await query.edit_message_text(text, **kwargs)  # type: ignore[arg-type]
    except BadRequest as exc:
        if not _not_modified(exc):
            raise


async def edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    """Replace (``None``: remove) the message's buttons; a repeat tap is fine."""
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        if not _not_modified(exc):
            raise


async def reply(update: Update, text: str, **kwargs: object) -> Message | None:
    """Answer in the chat the update came from."""
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_text(text, do_quote=False, **kwargs)  # type: ignore[arg-type]


async def refuse_callback(
    update: Update, context: WulinContext, key: str = "common.expired"
) -> None:
    """Politely refuse a button press (forged, replayed or expired) and log it."""
    query = update.callback_query
    if query is None:
        return
    log.info(
        "refused callback %r from user %s",
        query.data,
        query.from_user.id if query.from_user else None,
    )
    await query.answer(context.t(key), show_alert=True)


def issue_confirmation(context: WulinContext, action: str) -> str:
    """A one-time token for a destructive action's confirm button (``forget:yes:<token>``).

    Only the latest confirmation message of that action works, once, within ``CONFIRM_TTL``;
    forged, replayed or stale buttons (and any button from before a restart) are refused.
    """
    token = secrets.token_urlsafe(6)
    context.user_data.setdefault("confirm", {})[action] = (token, context.clock.now())
    return token


def take_confirmation(context: WulinContext, action: str, token: str) -> bool:
    """Consume the confirmation token of ``action``; True when it is the valid one."""
    issued = context.user_data.get("confirm", {}).get(action)
    if issued is None or not secrets.compare_digest(issued[0], token):
        return False
    del context.user_data["confirm"][action]
    return context.clock.now() - issued[1] <= CONFIRM_TTL


def private_link_markup(context: WulinContext) -> InlineKeyboardMarkup | None:
    """A button opening the private chat with the bot, when its username is known."""
    username = context.runtime.bot_username or context.bot.username
    if not username:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(context.t("common.open_private"), url=f"https://t.me/{username}")]]
    )
