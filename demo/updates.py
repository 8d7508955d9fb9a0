"""Building realistic Telegram updates (as Telegram's JSON) for the demo and the tests.

Updates carry what PTB and our handlers rely on: ``bot_command`` entities with UTF-16
lengths, ``chat_instance`` on callback queries, contact ``user_id``, increasing ids and dates
from the injected clock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update

from scheduler.clock import Clock


@dataclass(frozen=True)
class User:
    """A Telegram user the demo or a test acts as."""

    id: int
    first_name: str
    last_name: str | None = None
    language_code: str | None = "zh-hans"
    phone: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Telegram's User object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.language_code:
            data["language_code"] = self.language_code
        return data


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class UpdateFactory:
    """Makes ``Update`` objects with increasing ids and the clock's date."""

    def __init__(self, bot: Bot, clock: Clock) -> None:
        self.bot = bot
        self.clock = clock
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)

    def _base(self, user: User, chat: dict[str, Any] | None) -> dict[str, Any]:
        chat = chat or {"id": user.id, "type": "private", "first_name": user.first_name}
        counter = self._message_ids.setdefault(chat["id"], itertools.count(1))
        return {
            "message_id": next(counter),
            "date": int(self.clock.now().timestamp()),
            "chat": chat,
            "from": user.as_dict(),
        }

    def _update(self, **fields: Any) -> Update:
        data = {"update_id": next(self._update_ids), **fields}
        update = Update.de_json(data, self.bot)
        assert update is not None
        return update

    def text(
        self,
        user: User,
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> Update:
        """A text message; a leading ``/command`` gets its ``bot_command`` entity."""
        message = self._base(user, chat)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0] if text.split() else text
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        mention = "@" + (self.bot.username or "")
        if self.bot.username and mention in text:
            offset = utf16_len(text[: text.index(mention)])
            message.setdefault("entities", []).append(
                {"type": "mention", "offset": offset, "length": utf16_len(mention)}
            )
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return self._update(message=message)

    def photo(
        self, user: User, *, caption: str | None = None, file_id: str = "demo-photo-1"
    ) -> Update:
        """A photo message (two sizes, like Telegram sends)."""
        message = self._base(user, None)
        message["photo"] = [
            {
                "file_id": file_id + "-s",
                "file_unique_id": file_id + "-us",
                "width": 90,
                "height": 67,
                "file_size": 1200,
            },
            {
                "file_id": file_id,
                "file_unique_id": file_id + "-u",
                "width": 1280,
                "height": 960,
                "file_size": 120000,
            },
        ]
        if caption:
            message["caption"] = caption
        return self._update(message=message)

    def location(self, user: User, latitude: float, longitude: float) -> Update:
        """A location message."""
        message = self._base(user, None)
        message["location"] = {"latitude": latitude, "longitude": longitude}
        return self._update(message=message)

    def contact(self, user: User, phone: str, *, own: bool = True) -> Update:
        """A shared contact; ``own`` makes it the sender's own (Telegram sets ``user_id``)."""
        message = self._base(user, None)
        message["contact"] = {"phone_number": phone, "first_name": user.first_name}
        if own:
            message["contact"]["user_id"] = user.id
        return self._update(message=message)

    def sticker(self, user: User) -> Update:
        """A sticker."""
        message = self._base(user, None)
        message["sticker"] = {
            "file_id": "sticker1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self._update(message=message)

    def voice(self, user: User) -> Update:
        """A voice note."""
        message = self._base(user, None)
        message["voice"] = {"file_id": "voice1", "file_unique_id": "v1", "duration": 3}
        return self._update(message=message)

    def edited(self, user: User, message_id: int, text: str) -> Update:
        """An edit of the user's earlier message."""
        message = self._base(user, None)
        message["message_id"] = message_id
        message["text"] = text
        message["edit_date"] = int(self.clock.now().timestamp())
        return self._update(edited_message=message)

    def callback(self, user: User, message: dict[str, Any], data: str) -> Update:
        """A button press on a bot message (``message`` is Telegram's JSON of it)."""
        query = {
            "id": str(next(self._callback_ids)),
            "from": user.as_dict(),
            "message": message,
            "chat_instance": f"ci-{message['chat']['id']}",
            "data": data,
        }
        return self._update(callback_query=query)
