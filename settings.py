"""The one typed Settings object of Wulin.

Built once in ``bot.main`` from the environment (and an optional ``.env`` file) and passed
down; nothing else reads the environment.  Every field is documented in the README's
settings table, and a bad value is refused at start with a message naming the variable.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./data/wulin.sqlite3"

#: Report categories: code → (zh label, en label).  The order is the order of the buttons.
DEFAULT_CATEGORIES: dict[str, tuple[str, str]] = {
    "sanitation": ("环境卫生", "Sanitation"),
    "repairs": ("设施维修", "Repairs"),
    "safety": ("安全隐患", "Safety hazard"),
    "dispute": ("邻里纠纷", "Neighbour dispute"),
    "property": ("物业服务", "Property management"),
    "other": ("其他", "Other"),
}


class Settings(BaseSettings):
    """Everything the bot can be configured with; see the README for each variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_default=True
    )

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str | None = Field(
        default=None, description="used for invite links when getMe cannot be asked"
    )

    # Storage and runtime
    database_url: str = DEFAULT_SQLITE_URL
    timezone: str = "Asia/Shanghai"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    default_language: Literal["zh", "en"] = "zh"

    # Webhook mode (``bot.py run --webhook``)
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_url: str | None = None
    webhook_path: str = "telegram"
    webhook_secret_token: SecretStr | None = None

    # Outbox sender
    outbox_batch_size: int = Field(default=50, ge=1, le=1000)
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)

    # Posters and charts need a font with Chinese glyphs.
    cjk_font_path: Path | None = None

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai"
            ) from exc
        return value

    @field_validator("telegram_api_base_url", "telegram_api_file_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must start with http:// or https:// followed by a host")
        return value

    @field_validator("webhook_secret_token")
    @classmethod
    def _secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - for the secret token.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _database_scheme(self) -> Settings:
        url = self.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # Accept the common libpq form and use the async driver we ship.
            self.database_url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        elif url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
            self.database_url = "sqlite+aiosqlite://" + url.split("://", 1)[1]
        elif not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
            raise ValueError("DATABASE_URL must be an sqlite:// or postgresql:// URL")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str | None:
        """The bot token in clear, or None when it is not set."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None


def parse_hhmm(value: str) -> time:
    """Parse ``HH:MM`` (24-hour) into a ``time``; raise ValueError with a readable message."""
    match = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", value or "")
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day like 09:00")
    return time(int(match[1]), int(match[2]))
