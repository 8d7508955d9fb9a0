"""An in-process Bot API stand-in: a ``BaseRequest`` that answers like Telegram without
any network, records every call, and can fail on demand.

The demo console and the handler tests both use it, so what the demo shows is exactly what
the tests assert on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from scheduler.clock import Clock

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "吾邻",
    "username": "wulin_demo_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class BotMessage:
    """A message the bot sent (its current state, after edits)."""

    chat_id: int
    message_id: int
    kind: str  # text | photo | document | media_group | location
    text: str
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    reply_keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    edited: bool = False

    def button_labels(self) -> list[str]:
        """Every inline button label, row by row."""
        return [b["text"] for row in self.buttons for b in row]


@dataclass
class Fault:
    """A planned failure for the next call(s) of a method (None = any sending method)."""

    method: str | None
    status: int
    description: str
    times: int = 1
    retry_after: int | None = None
    chat_id: int | None = None


SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendLocation"}


class BotAPIStandIn(BaseRequest):
    """Answers Bot API methods in memory; see ``calls``, ``messages`` and ``events``."""

    def __init__(self, clock: Clock, *, bot_user: dict[str, Any] | None = None) -> None:
        self.clock = clock
        self.bot_user = dict(bot_user or BOT_USER)
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], BotMessage] = {}
        self.events: list[
            tuple[str, Any]
        ] = []  # ("message", BotMessage) | ("edit", ...) | ("alert", ...)
        self.faults: list[Fault] = []
        self.blocked: set[int] = set()
        self.listeners: list[Callable[[str, Any], None]] = []
        self._next_id: dict[int, int] = {}
        self._file_counter = 0

    # -- BaseRequest -------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        """No network, no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Dispatch a Bot API call by name."""
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, bytes] = {}
        if request_data is not None and request_data.contains_files:
            for name, part in (request_data.multipart_data or {}).items():
                files[name] = part[1] if isinstance(part, tuple) else part
        self.calls.append(Call(api_method, params, files))
        fault = self._take_fault(api_method, params)
        if fault is not None:
            return self._error(fault.status, fault.description, fault.retry_after)
        handler = getattr(self, "_m_" + api_method, None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        try:
            result = handler(params)
        except _ApiError as exc:
            return self._error(exc.status, exc.description)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -- faults ------------------------------------------------------------------------
    def fail_next(
        self,
        method: str | None,
        status: int,
        description: str = "",
        *,
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (None: any send) answer an error."""
        text = description or {
            429: "Too Many Requests: retry after",
            403: "Forbidden: bot was blocked by the user",
            400: "Bad Request: something is wrong",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(status, "error")
        self.faults.append(Fault(method, status, text, times, retry_after, chat_id))

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        chat_id = _int(params.get("chat_id"))
        if method in SENDING and chat_id in self.blocked:
            return Fault(method, 403, "Forbidden: bot was blocked by the user")
        for fault in self.faults:
            matches_method = fault.method == method or (fault.method is None and method in SENDING)
            if matches_method and (fault.chat_id is None or fault.chat_id == chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> tuple[int, bytes]:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return status, json.dumps(body).encode()

    # -- recording ---------------------------------------------------------------------
    def _emit(self, kind: str, payload: Any) -> None:
        self.events.append((kind, payload))
        for listener in self.listeners:
            listener(kind, payload)

    def _store(
        self, chat_id: int, kind: str, text: str, params: dict[str, Any], extra: dict[str, Any]
    ) -> dict[str, Any]:
        message_id = self._next_id.get(chat_id, 100) + 1
        self._next_id[chat_id] = message_id
        markup = _markup(params.get("reply_markup"))
        raw: dict[str, Any] = {
            "message_id": message_id,
            "date": int(self.clock.now().timestamp()),
            "chat": _chat(chat_id),
            "from": self.bot_user,
            **extra,
        }
        if markup.get("inline_keyboard"):
            raw["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        message = BotMessage(
            chat_id,
            message_id,
            kind,
            text,
            buttons=markup.get("inline_keyboard", []),
            reply_keyboard=markup.get("keyboard", []),
            raw=raw,
        )
        self.messages[(chat_id, message_id)] = message
        self._emit("message", message)
        return raw

    def sent_to(self, chat_id: int) -> list[BotMessage]:
        """Messages the bot sent to ``chat_id``, oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    # -- methods -----------------------------------------------------------------------
    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        _check_buttons(params.get("reply_markup"))
        return self._store(_int(params["chat_id"]), "text", text, params, {"text": text})

    def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = str(params.get("caption") or "")
        photo = [
            {
                "file_id": _file_id(params.get("photo")),
                "file_unique_id": "u1",
                "width": 640,
                "height": 480,
            }
        ]
        extra = {"photo": photo, **({"caption": caption} if caption else {})}
        return self._store(_int(params["chat_id"]), "photo", caption, params, extra)

    def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        self._file_counter += 1
        doc = {
            "file_id": f"doc{self._file_counter}",
            "file_unique_id": f"d{self._file_counter}",
            "file_name": "export.csv",
        }
        caption = str(params.get("caption") or "")
        extra = {"document": doc, **({"caption": caption} if caption else {})}
        return self._store(
            _int(params["chat_id"]), "document", caption or "[document]", params, extra
        )

    def _m_sendMediaGroup(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat_id = _int(params["chat_id"])
        media = params.get("media") or []
        if not 2 <= len(media) <= 10:
            raise _ApiError(
                400, "Bad Request: Wrong number of messages specified: must be between 2 and 10"
            )
        out = []
        for item in media:
            photo = [
                {
                    "file_id": _file_id(item.get("media")),
                    "file_unique_id": "u",
                    "width": 640,
                    "height": 480,
                }
            ]
            out.append(
                self._store(
                    chat_id, "photo", str(item.get("caption") or "[photo]"), {}, {"photo": photo}
                )
            )
        return out

    def _m_sendLocation(self, params: dict[str, Any]) -> dict[str, Any]:
        loc = {"latitude": params["latitude"], "longitude": params["longitude"]}
        return self._store(
            _int(params["chat_id"]), "location", f"[location {loc}]", params, {"location": loc}
        )

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._existing(params)
        text = str(params.get("text", ""))
        markup = _markup(params.get("reply_markup"))
        if text == message.text and markup.get("inline_keyboard", []) == message.buttons:
            raise _ApiError(400, "Bad Request: message is not modified")
        message.text, message.buttons, message.edited = (
            text,
            markup.get("inline_keyboard", []),
            True,
        )
        message.raw["text"] = text
        message.raw.pop("reply_markup", None)
        if message.buttons:
            message.raw["reply_markup"] = {"inline_keyboard": message.buttons}
        self._emit("edit", message)
        return message.raw

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._existing(params)
        markup = _markup(params.get("reply_markup"))
        message.buttons, message.edited = markup.get("inline_keyboard", []), True
        message.raw.pop("reply_markup", None)
        if message.buttons:
            message.raw["reply_markup"] = {"inline_keyboard": message.buttons}
        self._emit("markup", message)
        return message.raw

    def _m_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._existing(params)
        message.text, message.edited = str(params.get("caption") or ""), True
        self._emit("edit", message)
        return message.raw

    def _existing(self, params: dict[str, Any]) -> BotMessage:
        key = (_int(params.get("chat_id")), _int(params.get("message_id")))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if params.get("text"):
            self._emit(
                "alert",
                {"callback_query_id": params.get("callback_query_id"), "text": params["text"]},
            )
        return True

    def _m_deleteMessage(self, params: dict[str, Any]) -> bool:
        self.messages.pop((_int(params.get("chat_id")), _int(params.get("message_id"))), None)
        return True

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id"))
        return {
            "file_id": file_id,
            "file_unique_id": "f" + file_id[-6:],
            "file_size": 1024,
            "file_path": f"photos/{file_id}.jpg",
        }

    def _m_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        return _chat(_int(params.get("chat_id")))

    def _m_getUpdates(self, params: dict[str, Any]) -> list[Any]:
        return []

    def _ok(self, params: dict[str, Any]) -> bool:
        return True

    _m_setMyCommands = _m_deleteMyCommands = _m_sendChatAction = _ok
    _m_deleteWebhook = _m_setWebhook = _m_close = _m_logOut = _ok

    def _m_getMyCommands(self, params: dict[str, Any]) -> list[Any]:
        return []


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": f"group {chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}


def _file_id(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "uploaded"


def _markup(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _check_buttons(value: Any) -> None:
    for row in _markup(value).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
