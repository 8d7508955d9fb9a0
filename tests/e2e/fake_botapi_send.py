"""Bot API methods that create messages: sendMessage, sendPhoto, sendDocument and friends."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from tests.e2e.fake_botapi_markup import check_reply_markup, format_text
from tests.e2e.fake_botapi_media import input_media
from tests.e2e.fake_botapi_protocol import Ctx, api_method, bad_request, require, utf16_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Methods subject to flood limits, with how many messages each call produces.
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendLocation"}
)
_media_group_ids = itertools.count(13_800_000_000_000_001)


def text_and_entities(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The message text after parsing, checked against Telegram's limits."""
    text, entities = format_text(
        params.get("text"), params.get("parse_mode"), params.get("entities")
    )
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, entities


def caption_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Caption and caption_entities for a media message, checked against the caption limit."""
    if params.get("caption") in (None, ""):
        return {}
    caption, entities = format_text(
        params["caption"], params.get("parse_mode"), params.get("caption_entities")
    )
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    fields: dict[str, Any] = {"caption": caption} if caption else {}
    if entities:
        fields["caption_entities"] = entities
    return fields


def reply_target(ctx: Ctx, chat: dict[str, Any]) -> dict[str, Any] | None:
    """The message being replied to (reply_parameters or legacy reply_to_message_id)."""
    params = ctx.params
    reply = params.get("reply_parameters") or {}
    message_id = reply.get("message_id") or params.get("reply_to_message_id")
    if not message_id:
        return None
    found = ctx.world.message(reply.get("chat_id", chat["id"]), int(message_id))
    if found is None:
        allow = reply.get("allow_sending_without_reply") or params.get(
            "allow_sending_without_reply"
        )
        if allow:
            return None
        raise bad_request("message to be replied not found")
    nested = copy.deepcopy(found)
    nested.pop("reply_to_message", None)
    return nested


def deliver(
    ctx: Ctx,
    chat: dict[str, Any],
    content: dict[str, Any],
    reply: dict[str, Any] | None,
    markup: dict[str, Any] | None,
) -> dict[str, Any]:
    """Store a validated bot message and count it; returns what Telegram answers."""
    world = ctx.world
    message: dict[str, Any] = {
        "message_id": world.next_message_id(chat["id"]),
        "from": world.bot_user(ctx.token),
        "chat": dict(chat),
        "date": world.now(),
    }
    if reply:
        message["reply_to_message"] = reply
    message.update(content)
    if markup and "inline_keyboard" in markup:
        message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    elif markup and "keyboard" in markup:
        world.reply_keyboards[chat["id"]] = markup
    elif markup and markup.get("remove_keyboard"):
        world.reply_keyboards[chat["id"]] = None
    ctx.api.stats.record_accepted(chat["id"], content.get("text") or content.get("caption"))
    return world.store(message, by_bot=True)


def _prepare(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """Chat, reply target and markup, validated before any message id is spent."""
    chat = ctx.world.chat_to_send(require(ctx.params, "chat_id"))
    markup = check_reply_markup(ctx.params.get("reply_markup"))
    return chat, reply_target(ctx, chat), markup


@api_method("sendMessage")
async def send_message(ctx: Ctx) -> dict[str, Any]:
    """Send a text message."""
    chat = ctx.world.chat_to_send(require(ctx.params, "chat_id"))
    text, entities = text_and_entities(ctx.params)
    _, reply, markup = _prepare(ctx)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    return deliver(ctx, chat, content, reply, markup)


@api_method("sendPhoto")
async def send_photo(ctx: Ctx) -> dict[str, Any]:
    """Send a photo (upload, file_id or URL) with an optional caption."""
    chat, reply, markup = _prepare(ctx)
    caption = caption_fields(ctx.params)
    photo = input_media(ctx.world, ctx.params.get("photo"), ctx.files, "photo", "photo")
    return deliver(ctx, chat, {"photo": photo, **caption}, reply, markup)


@api_method("sendDocument")
async def send_document(ctx: Ctx) -> dict[str, Any]:
    """Send a general file."""
    chat, reply, markup = _prepare(ctx)
    caption = caption_fields(ctx.params)
    document = input_media(ctx.world, ctx.params.get("document"), ctx.files, "document", "document")
    return deliver(ctx, chat, {"document": document, **caption}, reply, markup)


@api_method("sendMediaGroup")
async def send_media_group(ctx: Ctx) -> list[dict[str, Any]]:
    """Send 2-10 photos or documents as an album; answers one message per item."""
    chat, reply, _ = _prepare(ctx)
    media = ctx.params.get("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("wrong number of messages specified: must be between 2 and 10")
    kinds = {item.get("type") for item in media if isinstance(item, dict)}
    if "document" in kinds and len(kinds) > 1:
        raise bad_request("document can't be mixed with other media types")
    prepared = []
    for item in media:
        kind = item.get("type")
        if kind not in ("photo", "document"):
            raise bad_request(f"unsupported media type {kind!r} in the fake Bot API")
        obj = input_media(ctx.world, item.get("media"), ctx.files, kind, "media")
        prepared.append({kind: obj, **caption_fields(item)})
    group_id = str(next(_media_group_ids))
    return [
        deliver(ctx, chat, {"media_group_id": group_id, **content}, reply, None)
        for content in prepared
    ]


@api_method("sendLocation")
async def send_location(ctx: Ctx) -> dict[str, Any]:
    """Send a point on the map."""
    chat, reply, markup = _prepare(ctx)
    try:
        lat, lon = float(ctx.params["latitude"]), float(ctx.params["longitude"])
    except (KeyError, TypeError, ValueError):
        raise bad_request("wrong latitude or longitude specified") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request("wrong latitude or longitude specified")
    return deliver(ctx, chat, {"location": {"latitude": lat, "longitude": lon}}, reply, markup)


@api_method("sendChatAction")
async def send_chat_action(ctx: Ctx) -> bool:
    """Show "typing…" and the like; nothing is stored."""
    ctx.world.chat_to_send(require(ctx.params, "chat_id"))
    if ctx.params.get("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def messages_in(method: str, params: dict[str, Any]) -> int:
    """How many messages a send call would create, for the flood limiter."""
    if method == "sendMediaGroup" and isinstance(params.get("media"), list):
        return max(1, len(params["media"]))
    return 1
