"""The fake Telegram's memory: people, chats, messages, files and updates waiting for the bot."""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.e2e.fake_botapi_protocol import ApiError, bad_request, coerce_chat_id

BOT_USERNAME = "wulin_test_bot"
BOT_FIRST_NAME = "Wulin Test"
DEFAULT_BOT_ID = 7_000_000_001


class Signal:
    """A broadcast wake-up: each fire() releases everyone waiting on the previous event."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        """Capture before checking a condition, then wait on it, so no fire() is missed."""
        return self._event

    def fire(self) -> None:
        """Wake every current waiter."""
        self._event.set()
        self._event = asyncio.Event()


@dataclass
class StoredFile:
    """A file Telegram holds: ids, path for the file endpoint and the bytes."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes

    def as_file(self) -> dict[str, Any]:
        """The Bot API ``File`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


class World:
    """Everything shared between the HTTP side (the bot) and the test side (the people)."""

    def __init__(self, clock: Callable[[], float] = time.time, privacy_mode: bool = True) -> None:
        self.clock = clock
        self.privacy_mode = privacy_mode
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.started: set[int] = set()
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self.bot_sent: list[tuple[int, int]] = []
        self.reply_keyboards: dict[int, dict[str, Any] | None] = {}
        self.files: dict[str, StoredFile] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []
        self.callbacks: dict[str, dict[str, Any]] = {}
        self.answered: set[str] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] = {"url": ""}
        self.update_signal = Signal()
        self.activity = Signal()
        self._update_ids = itertools.count(500_000_001)
        self._user_ids = itertools.count(10_000_001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(4_382_000_000_000_000_001)
        self._message_ids: dict[int, itertools.count[int]] = {}

    def now(self) -> int:
        """Unix time as Telegram stamps messages."""
        return int(self.clock())

    @staticmethod
    def bot_id(token: str) -> int:
        """Telegram bot ids are the token's numeric prefix."""
        prefix = token.split(":", 1)[0]
        return int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID

    def bot_user(self, token: str) -> dict[str, Any]:
        """The ``from`` of the bot's own messages."""
        return {
            "id": self.bot_id(token),
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def add_user(
        self,
        name: str,
        user_id: int | None,
        language_code: str | None,
        username: str | None,
        last_name: str | None,
        started: bool,
    ) -> dict[str, Any]:
        """Declare a person and their private chat with the bot."""
        uid = user_id if user_id is not None else next(self._user_ids)
        user: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": name}
        chat: dict[str, Any] = {"id": uid, "type": "private", "first_name": name}
        for key, value in (("last_name", last_name), ("username", username)):
            if value:
                user[key] = chat[key] = value
        if language_code:
            user["language_code"] = language_code
        self.users[uid] = user
        self.chats[uid] = chat
        if started:
            self.started.add(uid)
        return user

    def add_group(self, title: str, chat_id: int | None, supergroup: bool) -> dict[str, Any]:
        """Declare a group chat the bot is a member of."""
        n = next(self._group_ids)
        if chat_id is None:
            chat_id = -(1_000_000_000_000 + 700_000 + n) if supergroup else -(900_000 + n)
        chat = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        self.chats[chat_id] = chat
        return chat

    def chat(self, chat_id: Any) -> dict[str, Any]:
        """A declared chat by id or @username, or Telegram's "chat not found"."""
        chat_id = coerce_chat_id(chat_id)
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self.chats.values():
                if chat.get("username", "").lower() == chat_id[1:].lower():
                    return chat
        elif isinstance(chat_id, int) and chat_id in self.chats:
            return self.chats[chat_id]
        raise bad_request("chat not found")

    def chat_to_send(self, chat_id: Any) -> dict[str, Any]:
        """A chat the bot may write to: private chats only after the person wrote first."""
        chat = self.chat(chat_id)
        if chat["type"] == "private" and chat["id"] not in self.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def next_message_id(self, chat_id: int) -> int:
        """Message ids count up per chat, shared by both sides as in a real chat."""
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def store(self, message: dict[str, Any], *, by_bot: bool) -> dict[str, Any]:
        """Keep a message; the bot's own are also queued for wait_for_message."""
        chat_id = message["chat"]["id"]
        self.messages.setdefault(chat_id, {})[message["message_id"]] = message
        if by_bot:
            self.bot_sent.append((chat_id, message["message_id"]))
        self.activity.fire()
        return copy.deepcopy(message)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current (edited) state of a message, or None once deleted or never sent."""
        return self.messages.get(chat_id, {}).get(message_id)

    def chat_instance(self, chat_id: int) -> str:
        """A stable opaque id per chat, like Telegram's chat_instance."""
        return str((chat_id * 2_654_435_761) % (2**62))

    def add_file(self, kind: str, content: bytes, suffix: str) -> StoredFile:
        """Register bytes under a fresh file_id and a path served by the file endpoint."""
        n = next(self._file_ids)
        prefix = {
            "photos": "AgACAgUAAxkB",
            "documents": "BQACAgUAAxkB",
            "voice": "AwACAgUAAxkB",
            "stickers": "CAACAgUAAxkB",
        }.get(kind, "BAACAgUAAxkB")
        stored = StoredFile(
            file_id=f"{prefix}{n:08d}AAFakeBotApi",
            file_unique_id=f"AQAD{n:06d}",
            file_path=f"{kind}/file_{n}.{suffix}",
            content=content,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        """The file served at ``path``."""
        return next((f for f in self.files.values() if f.file_path == path), None)

    def push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates or the webhook deliverer."""
        update = {"update_id": next(self._update_ids), **payload}
        self.updates.append(update)
        self.update_signal.fire()
        return copy.deepcopy(update)

    def confirm(self, offset: int) -> None:
        """Forget updates the bot confirmed: ids below a positive offset, all but -offset last."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def new_callback_id(self) -> str:
        """Callback query ids are long opaque numeric strings."""
        return str(next(self._callback_ids))
