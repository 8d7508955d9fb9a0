"""Wire protocol of the fake Bot API: error answers, call records, parameter decoding, registry.

Telegram answers every method with the same envelope and accepts parameters as JSON,
URL-encoded forms or multipart forms (PTB uses the latter two, JSON-encoding every
non-string value), so this module turns all three into one typed dict.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# Parameters Telegram types as strings: decoding them as JSON would turn a text like "42"
# or "[1]" into a number or list, which the real server never does.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "action",
        "language_code",
        "title",
        "description",
        "short_description",
        "phone_number",
        "first_name",
        "last_name",
        "emoji",
        "file_id",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "address",
        "vcard",
        "name",
        "photo",
        "document",
        "voice",
        "video",
        "audio",
        "sticker",
        "animation",
        "thumbnail",
        "media_group_id",
        "query",
        "switch_pm_text",
        "quote",
    }
)


class ApiError(Exception):
    """A Telegram error answer: HTTP status, description and optional retry_after."""

    def __init__(self, code: int, description: str | None = None, retry_after: int | None = None):
        template = description or DEFAULT_DESCRIPTIONS.get(code, f"Error {code}")
        self.code = code
        self.retry_after = retry_after
        self.description = template.format(retry_after=retry_after)
        super().__init__(f"{code} {self.description}")

    def envelope(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: ..." prefix."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class UploadedFile:
    """One multipart file part as the bot uploaded it."""

    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class Call:
    """One request the bot made, with what the fake answered."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    status: int | None = None
    result: Any = None
    error: str | None = None
    dropped: bool = False

    @property
    def chat_id(self) -> Any:
        """The target chat, if the method has one."""
        return self.params.get("chat_id")


@dataclass
class Ctx:
    """What a method implementation sees: the fake, the token and the decoded request."""

    api: Any
    token: str
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]

    @property
    def world(self) -> Any:
        """Shortcut to the shared state."""
        return self.api.world


Handler = Callable[[Ctx], Awaitable[Any]]
METHODS: dict[str, Handler] = {}
# Telegram matches method names case-insensitively.
CANONICAL: dict[str, str] = {}


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register a coroutine as the implementation of Bot API method ``name``."""

    def register(func: Handler) -> Handler:
        METHODS[name] = func
        CANONICAL[name.lower()] = name
        return func

    return register


def decode_value(name: str, raw: str) -> Any:
    """Turn one form field back into the value the bot meant."""
    if name == "chat_id" or name == "from_chat_id":
        return coerce_chat_id(raw)
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def coerce_chat_id(value: Any) -> Any:
    """Chat ids arrive as ints, numeric strings or "@username"."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


def require(params: dict[str, Any], name: str) -> Any:
    """A mandatory parameter, or Telegram's complaint about it."""
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(f"{name} is empty" if name != "chat_id" else "chat_id is empty")
    return value
