"""The people in a test: user and group handles that write to the bot as Telegram clients would."""

from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

from tests.e2e.fake_botapi_media import make_photo, make_sticker, make_voice, sample_jpeg
from tests.e2e.fake_botapi_protocol import utf16_len
from tests.e2e.fake_botapi_world import BOT_USERNAME, World

COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}\b")


class InjectedUpdate(dict):
    """The update as delivered to the bot, plus whether privacy mode let it through."""

    delivered: bool = True

    @property
    def message(self) -> dict[str, Any] | None:
        """The (edited) message the update carries, if any."""
        return self.get("message") or self.get("edited_message")

    @property
    def message_id(self) -> int | None:
        """The id of the message this person just sent."""
        return self.message["message_id"] if self.message else None


def text_entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities, with UTF-16 offsets as the Telegram clients send."""
    found = [("bot_command", m) for m in COMMAND.finditer(text)]
    found += [("mention", m) for m in MENTION.finditer(text)]
    entities = [
        {"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for kind, m in found
    ]
    return sorted(entities, key=lambda e: e["offset"])


class ChatHandle:
    """A group chat the test declared; users write in it with ``user.send_in``."""

    def __init__(self, world: World, chat: dict[str, Any]) -> None:
        self.world = world
        self.chat = chat

    @property
    def id(self) -> int:
        """The chat id."""
        return self.chat["id"]

    @property
    def chat_id(self) -> int:
        """Same as ``id``, so users and groups can be passed interchangeably."""
        return self.chat["id"]

    def __repr__(self) -> str:
        return f"<group {self.chat['title']!r} {self.id}>"


class UserHandle:
    """A person: writes to the bot in private or in groups, presses buttons, edits messages."""

    def __init__(self, world: World, user: dict[str, Any]) -> None:
        self.world = world
        self.user = user

    @property
    def id(self) -> int:
        """The Telegram user id."""
        return self.user["id"]

    @property
    def chat_id(self) -> int:
        """The private chat with the bot has the user's id."""
        return self.user["id"]

    @property
    def name(self) -> str:
        """First name as Telegram shows it."""
        return self.user["first_name"]

    def __repr__(self) -> str:
        return f"<user {self.name!r} {self.id}>"

    def _message(self, chat: dict[str, Any], reply_to: Any, **content: Any) -> dict[str, Any]:
        world = self.world
        message: dict[str, Any] = {
            "message_id": world.next_message_id(chat["id"]),
            "from": copy.deepcopy(self.user),
            "chat": copy.deepcopy(chat),
            "date": world.now(),
        }
        if reply_to is not None:
            reply_id = reply_to["message_id"] if isinstance(reply_to, dict) else int(reply_to)
            target = world.message(chat["id"], reply_id)
            if target is None:
                raise ValueError(f"no message {reply_id} in chat {chat['id']} to reply to")
            nested = copy.deepcopy(target)
            nested.pop("reply_to_message", None)
            message["reply_to_message"] = nested
        message.update(content)
        return message

    async def _post(self, message: dict[str, Any], kind: str = "message") -> InjectedUpdate:
        world = self.world
        world.store(message, by_bot=False)
        chat = message["chat"]
        if chat["type"] == "private":
            world.started.add(chat["id"])
        elif world.privacy_mode and not self._privacy_allows(message):
            update = InjectedUpdate({kind: copy.deepcopy(message)})
            update.delivered = False
            return update
        update = InjectedUpdate(world.push_update({kind: copy.deepcopy(message)}))
        await asyncio.sleep(0)  # let a waiting getUpdates or webhook deliverer run
        return update

    @staticmethod
    def _privacy_allows(message: dict[str, Any]) -> bool:
        """With privacy mode on, groups only pass commands, replies to the bot and mentions."""
        if message.get("reply_to_message", {}).get("from", {}).get("is_bot"):
            return True
        text = message.get("text") or message.get("caption") or ""
        if text.startswith("/") or f"@{BOT_USERNAME}".lower() in text.lower():
            return True
        return not any(k in message for k in ("text", "photo", "sticker", "voice", "caption"))

    def _text_content(self, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        entities = text_entities(text)
        if entities:
            content["entities"] = entities
        return content

    async def send(self, text: str, reply_to: Any = None) -> InjectedUpdate:
        """Write ``text`` to the bot in private; a leading /command gets its entity."""
        chat = self.world.chats[self.chat_id]
        return await self._post(self._message(chat, reply_to, **self._text_content(text)))

    async def send_in(self, group: ChatHandle, text: str, reply_to: Any = None) -> InjectedUpdate:
        """Write ``text`` in a group (privacy mode may keep it from the bot)."""
        chat = self.world.chats[group.id]
        return await self._post(self._message(chat, reply_to, **self._text_content(text)))

    async def send_photo(
        self, caption: str | None = None, content: bytes | None = None, reply_to: Any = None
    ) -> InjectedUpdate:
        """Send a photo (two PhotoSize entries, downloadable via getFile)."""
        photo = make_photo(self.world, content if content is not None else sample_jpeg())
        extra: dict[str, Any] = {"caption": caption} if caption else {}
        chat = self.world.chats[self.chat_id]
        return await self._post(self._message(chat, reply_to, photo=photo, **extra))

    async def send_location(self, latitude: float, longitude: float) -> InjectedUpdate:
        """Share a location pin."""
        chat = self.world.chats[self.chat_id]
        location = {"latitude": latitude, "longitude": longitude}
        return await self._post(self._message(chat, None, location=location))

    async def send_contact(
        self, phone: str, user_id: int | None = None, first_name: str | None = None
    ) -> InjectedUpdate:
        """Share a contact; by default their own, so user_id matches the sender."""
        contact = {
            "phone_number": phone,
            "first_name": first_name or self.name,
            "user_id": self.id if user_id is None else user_id,
        }
        chat = self.world.chats[self.chat_id]
        return await self._post(self._message(chat, None, contact=contact))

    async def send_sticker(self, emoji: str = "👍") -> InjectedUpdate:
        """Send a sticker."""
        chat = self.world.chats[self.chat_id]
        return await self._post(self._message(chat, None, sticker=make_sticker(self.world, emoji)))

    async def send_voice(self, duration: int = 3) -> InjectedUpdate:
        """Send a voice note."""
        chat = self.world.chats[self.chat_id]
        return await self._post(self._message(chat, None, voice=make_voice(self.world, duration)))

    async def edit(
        self, message_id: int, text: str, chat: ChatHandle | None = None
    ) -> InjectedUpdate:
        """Edit one of their own text messages (an ``edited_message`` update)."""
        chat_id = chat.id if chat is not None else self.chat_id
        stored = self.world.message(chat_id, message_id)
        if stored is None or stored["from"]["id"] != self.id:
            raise ValueError(f"{self!r} has no message {message_id} in chat {chat_id}")
        stored.pop("entities", None)
        stored.update(self._text_content(text), edit_date=self.world.now())
        return await self._post(copy.deepcopy(stored), kind="edited_message")

    async def press(
        self, message: Any, button: str | int | None = None, *, data: str | None = None
    ) -> InjectedUpdate:
        """Press an inline button by text or flat index; ``data=`` forges the callback data."""
        chat_id, message_id = (
            (message["chat"]["id"], message["message_id"])
            if isinstance(message, dict)
            else (self.chat_id, int(message))
        )
        stored = self.world.message(chat_id, message_id)
        if stored is None:
            raise ValueError(f"message {message_id} in chat {chat_id} is gone")
        if data is None:
            data = self._button_data(stored, button)
        query = {
            "id": self.world.new_callback_id(),
            "from": copy.deepcopy(self.user),
            "message": copy.deepcopy(stored),
            "chat_instance": self.world.chat_instance(chat_id),
            "data": data,
        }
        self.world.callbacks[query["id"]] = query
        update = InjectedUpdate(self.world.push_update({"callback_query": query}))
        await asyncio.sleep(0)
        return update

    @staticmethod
    def _button_data(message: dict[str, Any], button: str | int | None) -> str:
        buttons = [
            b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row
        ]
        if isinstance(button, int):
            chosen = buttons[button] if -len(buttons) <= button < len(buttons) else None
        else:
            exact = [b for b in buttons if b["text"] == button]
            partial = [b for b in buttons if button is not None and button in b["text"]]
            chosen = (exact or partial or [None])[0]
        if chosen is None or "callback_data" not in chosen:
            texts = [b["text"] for b in buttons]
            raise ValueError(f"no callback button {button!r} on message; buttons: {texts}")
        return chosen["callback_data"]
