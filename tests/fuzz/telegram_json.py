"""Telegram's JSON for fuzz actions: users, chats, entities, media, member changes.

Pure functions of the action (the driver adds ids, dates and what depends on the bot's
state); shaped like what Telegram sends and what PTB's ``de_json`` requires.
"""

from __future__ import annotations

import re
from typing import Any

from demo.stand_in import BOT_USER
from tests.fuzz import actions as a
from tests.harness import PEOPLE

BOT_USERNAME = BOT_USER["username"]
#: The rights Telegram lists for an administrator (all required by PTB's parser).
ADMIN_RIGHTS = (
    "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
    "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
    "can_post_stories", "can_edit_stories", "can_delete_stories",
)  # fmt: skip
CHANNEL = {"id": -1009999999999, "type": "channel", "title": "吾邻公告"}


def user(person: a.Person) -> dict[str, Any]:
    """Telegram's User object of a sender."""
    if person.cast is not None:
        return PEOPLE[person.cast].as_dict()
    data: dict[str, Any] = {
        "id": person.user_id,
        "is_bot": person.is_bot,
        "first_name": person.first_name,
    }
    if person.last_name:
        data["last_name"] = person.last_name
    if person.language_code:
        data["language_code"] = person.language_code
    return data


def chat(person: a.Person, where: a.Chat) -> dict[str, Any]:
    """The chat of an action: the sender's private chat or a group."""
    if where.group is None:
        sender = user(person)
        return {"id": sender["id"], "type": "private", "first_name": sender["first_name"]}
    kind = "supergroup" if where.group < -(10**12) else "group"
    return {"id": where.group, "type": kind, "title": f"群 {where.group}"}


def utf16(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def entities(text: str, *, command: bool, mention: bool) -> list[dict[str, Any]]:
    """bot_command at the start and @mentions of the bot, in UTF-16 units."""
    found: list[dict[str, Any]] = []
    if command and text.startswith("/"):
        head = text.split(maxsplit=1)[0] if text.split() else text
        found.append({"type": "bot_command", "offset": 0, "length": utf16(head)})
    mention_text = "@" + BOT_USERNAME
    if mention and mention_text in text:
        offset = utf16(text[: text.index(mention_text)])
        found.append({"type": "mention", "offset": offset, "length": utf16(mention_text)})
    return found


def mutate(data: str, mutation: str, arg: str) -> str:
    """Callback data changed the way a forging client might."""
    if mutation == "truncate":
        return data[: len(data) // 2]
    if mutation == "append":
        return data + arg
    if mutation == "replace":
        head, _, _ = data.rpartition(":")
        return f"{head}:{arg}" if head else arg
    if mutation == "digits":
        return re.sub(r"\d+", lambda _: arg, data)
    if mutation == "upper":
        return data.upper()
    if mutation == "pad":
        return f" {data}\n"
    return data


def photo(file_id: str) -> list[dict[str, Any]]:
    """Two sizes of one photo, as Telegram sends them."""
    return [
        {"file_id": file_id + "-s", "file_unique_id": "us", "width": 90, "height": 67},
        {"file_id": file_id, "file_unique_id": "u", "width": 1280, "height": 960},
    ]


def member_change(action: a.MemberChange, date: int) -> dict[str, Any]:
    """``my_chat_member``: the bot's status in a group changed."""
    kind = "supergroup" if action.group < -(10**12) else "group"
    new: dict[str, Any] = {"user": BOT_USER, "status": action.status}
    if action.status == "kicked":
        new["until_date"] = 0
    elif action.status == "administrator":
        new.update(dict.fromkeys(ADMIN_RIGHTS, False), can_be_edited=False)
    return {
        "chat": {"id": action.group, "type": kind, "title": "群"},
        "from": user(action.who),
        "date": date,
        "old_chat_member": {"user": BOT_USER, "status": "left"},
        "new_chat_member": new,
    }


def channel_post(action: a.ChannelPost, message_id: int, date: int) -> dict[str, Any]:
    """A channel post or its edit (no user at all)."""
    post = {
        "message_id": message_id,
        "date": date,
        "chat": CHANNEL,
        "sender_chat": CHANNEL,
        "text": action.text,
    }
    if action.edited:
        post["edit_date"] = date
        return {"edited_channel_post": post}
    return {"channel_post": post}


def media(kind: str) -> dict[str, Any]:
    """The content of a non-text message of this kind."""
    file = {"file_id": f"{kind}-1", "file_unique_id": f"{kind}-u"}
    return {
        "sticker": {
            "sticker": {
                **file,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        "voice": {"voice": {**file, "duration": 3}},
        "document": {"document": {**file, "file_name": "问题.pdf"}},
        "dice": {"dice": {"emoji": "🎲", "value": 6}},
        "video_note": {"video_note": {**file, "length": 240, "duration": 3}},
        "poll": {
            "poll": {
                "id": "p1",
                "question": "周六活动？",
                "options": [
                    {"text": "去", "voter_count": 0, "persistent_id": "o1"},
                    {"text": "不去", "voter_count": 0, "persistent_id": "o2"},
                ],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            }
        },
    }[kind]
