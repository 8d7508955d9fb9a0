"""Bot API methods besides sending: getMe, edits, deletes, callback answers, commands, files."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from tests.e2e.fake_botapi_markup import check_reply_markup, format_text
from tests.e2e.fake_botapi_protocol import Ctx, api_method, bad_request, require, utf16_len
from tests.e2e.fake_botapi_send import MAX_CAPTION, text_and_entities
from tests.e2e.fake_botapi_world import BOT_FIRST_NAME, BOT_USERNAME

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@api_method("getMe")
async def get_me(ctx: Ctx) -> dict[str, Any]:
    """The bot's own user, with the capability flags PTB reads."""
    return {
        "id": ctx.world.bot_id(ctx.token),
        "is_bot": True,
        "first_name": BOT_FIRST_NAME,
        "username": BOT_USERNAME,
        "can_join_groups": True,
        "can_read_all_group_messages": not ctx.world.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _editable(ctx: Ctx) -> dict[str, Any] | None:
    """The stored bot message an edit targets; None for inline messages (not modelled)."""
    if ctx.params.get("inline_message_id"):
        return None
    chat = ctx.world.chat(require(ctx.params, "chat_id"))
    message = ctx.world.message(chat["id"], int(require(ctx.params, "message_id")))
    if message is None:
        raise bad_request("message to edit not found")
    if not message.get("from", {}).get("is_bot"):
        raise bad_request("message can't be edited")
    return message


def _apply_edit(
    ctx: Ctx, message: dict[str, Any], changes: dict[str, Any], drop: tuple[str, ...]
) -> dict[str, Any]:
    """Replace content and keyboard; an edit without reply_markup removes the keyboard."""
    markup = check_reply_markup(ctx.params.get("reply_markup"))
    edited = copy.deepcopy(message)
    for key in drop:
        edited.pop(key, None)
    edited.update(changes)
    edited.pop("reply_markup", None)
    if markup and "inline_keyboard" in markup:
        edited["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    comparable = ("text", "entities", "caption", "caption_entities", "reply_markup")
    if all(edited.get(k) == message.get(k) for k in comparable):
        raise bad_request(NOT_MODIFIED)
    edited["edit_date"] = ctx.world.now()
    message.clear()
    message.update(edited)
    ctx.world.activity.fire()
    return copy.deepcopy(message)


@api_method("editMessageText")
async def edit_message_text(ctx: Ctx) -> dict[str, Any] | bool:
    """Change the text (and keyboard) of a bot message."""
    message = _editable(ctx)
    text, entities = text_and_entities(ctx.params)
    if message is None:
        return True
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    changes: dict[str, Any] = {"text": text}
    if entities:
        changes["entities"] = entities
    return _apply_edit(ctx, message, changes, drop=("entities",))


@api_method("editMessageCaption")
async def edit_message_caption(ctx: Ctx) -> dict[str, Any] | bool:
    """Change the caption (and keyboard) of a bot media message."""
    message = _editable(ctx)
    caption, entities = format_text(
        ctx.params.get("caption"), ctx.params.get("parse_mode"), ctx.params.get("caption_entities")
    )
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    if message is None:
        return True
    if "text" in message:
        raise bad_request("there is no caption in the message to edit")
    changes: dict[str, Any] = {"caption": caption} if caption else {}
    if entities:
        changes["caption_entities"] = entities
    return _apply_edit(ctx, message, changes, drop=("caption", "caption_entities"))


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: Ctx) -> dict[str, Any] | bool:
    """Change or remove the inline keyboard of a bot message."""
    message = _editable(ctx)
    if message is None:
        return True
    return _apply_edit(ctx, message, {}, drop=())


@api_method("deleteMessage")
async def delete_message(ctx: Ctx) -> bool:
    """Delete a message: the bot's own anywhere, anyone's in a private chat."""
    chat = ctx.world.chat(require(ctx.params, "chat_id"))
    message_id = int(require(ctx.params, "message_id"))
    message = ctx.world.message(chat["id"], message_id)
    if message is None:
        raise bad_request("message to delete not found")
    if chat["type"] != "private" and not message.get("from", {}).get("is_bot"):
        raise bad_request("message can't be deleted for everyone")
    del ctx.world.messages[chat["id"]][message_id]
    ctx.world.activity.fire()
    return True


@api_method("answerCallbackQuery")
async def answer_callback_query(ctx: Ctx) -> bool:
    """Acknowledge a button press; each query may be answered once."""
    query_id = str(require(ctx.params, "callback_query_id"))
    world = ctx.world
    if query_id not in world.callbacks or query_id in world.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if len(str(ctx.params.get("text") or "")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    world.answered.add(query_id)
    ctx.api.answered_callbacks.append({"callback_query_id": query_id, **ctx.params})
    world.activity.fire()
    return True


def _commands_key(params: dict[str, Any]) -> str:
    """Commands are stored per (scope, language_code), as Telegram does."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


@api_method("setMyCommands")
async def set_my_commands(ctx: Ctx) -> bool:
    """Store the command menu for a scope and language."""
    commands = ctx.params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("commands must be a list of at most 100 BotCommand")
    for command in commands:
        if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request("command description is empty")
    ctx.world.commands[_commands_key(ctx.params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@api_method("deleteMyCommands")
async def delete_my_commands(ctx: Ctx) -> bool:
    """Forget the command menu for a scope and language."""
    ctx.world.commands.pop(_commands_key(ctx.params), None)
    return True


@api_method("getMyCommands")
async def get_my_commands(ctx: Ctx) -> list[dict[str, Any]]:
    """The command menu for a scope and language."""
    return copy.deepcopy(ctx.world.commands.get(_commands_key(ctx.params), []))


@api_method("getChat")
async def get_chat(ctx: Ctx) -> dict[str, Any]:
    """Full information about a declared chat (the fields ChatFullInfo requires)."""
    chat = ctx.world.chat(require(ctx.params, "chat_id"))
    gifts = {
        k: True
        for k in (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        )
    }
    return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


@api_method("getChatMember")
async def get_chat_member(ctx: Ctx) -> dict[str, Any]:
    """A member of a declared chat; every declared person counts as a plain member."""
    ctx.world.chat(require(ctx.params, "chat_id"))
    user = ctx.world.users.get(int(require(ctx.params, "user_id")))
    if user is None:
        raise bad_request("user not found")
    return {"status": "member", "user": user}


@api_method("getFile")
async def get_file(ctx: Ctx) -> dict[str, Any]:
    """Where to download a file from the file endpoint."""
    stored = ctx.world.files.get(str(require(ctx.params, "file_id")))
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.as_file()


@api_method("close")
async def close(ctx: Ctx) -> bool:
    """Telegram's "close the bot instance"; nothing to do here."""
    return True


@api_method("logOut")
async def log_out(ctx: Ctx) -> bool:
    """Telegram's "log out from the cloud Bot API"; nothing to do here."""
    return True
