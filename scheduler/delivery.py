"""Turning an outbox payload into Telegram messages: texts and buttons rendered in the
recipient's language at send time, photos, documents, locations and the digest chart.

Raises Telegram's errors for the sender (``scheduler/sender.py``) to classify. One of the
few modules allowed to import ``telegram``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto

from locales import translate
from render.charts import digest_png


def render_text(value: Any, lang: str) -> str:
    """A payload text: plain string, or ``{"key": id, "params": {...}}`` translated."""
    if isinstance(value, dict):
        return translate(lang, value["key"], **value.get("params", {})).rstrip()
    return str(value)


def render_markup(
    rows: list[list[dict[str, Any]]] | None, lang: str
) -> InlineKeyboardMarkup | None:
    """Inline keyboard from payload button rows."""
    if not rows:
        return None
    keyboard = []
    for row in rows:
        buttons = []
        for b in row:
            label = render_text(b["text"], lang)
            if "url" in b:
                buttons.append(InlineKeyboardButton(label, url=b["url"]))
            else:
                buttons.append(InlineKeyboardButton(label, callback_data=b["data"]))
        keyboard.append(buttons)
    return InlineKeyboardMarkup(keyboard)


async def deliver(
    bot: Bot, chat_id: int, payload: dict[str, Any], lang: str, font: Path | None = None
) -> None:
    """Send one payload; raises Telegram's errors for the caller to classify."""
    text = render_text(payload.get("text", ""), lang)
    if payload.get("chart"):
        chart = payload["chart"]
        png = digest_png(chart, labels=chart.get("labels", {}), font=font)
        await bot.send_photo(chat_id, png, caption=chart.get("title"))
    markup = render_markup(payload.get("buttons"), lang)
    photos: list[str] = payload.get("photos") or []
    if len(photos) == 1 and len(text) <= 1024 and not payload.get("location"):
        await bot.send_photo(chat_id, photos[0], caption=text or None, reply_markup=markup)
        return
    if len(photos) > 1:
        await bot.send_media_group(chat_id, [InputMediaPhoto(p) for p in photos[:10]])
    if payload.get("document"):
        doc = payload["document"]
        await bot.send_document(chat_id, doc["file_id"], caption=text or None, reply_markup=markup)
        return
    await bot.send_message(chat_id, text, reply_markup=markup, disable_web_page_preview=True)
    if payload.get("location"):
        latitude, longitude = payload["location"]
        await bot.send_location(chat_id, latitude=latitude, longitude=longitude)
