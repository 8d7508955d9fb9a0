"""The one typed Settings object of Wulin.

Built once in ``bot.main`` from the environment (and an optional ``.env`` file) and passed
down; nothing else reads the environment.  Every field is documented in the README's
settings table, and a bad value is refused at start with a message naming the variable.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
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
    # Below PTB's HTTP connection pool (256): a bigger batch would time out in the pool.
    outbox_batch_size: int = Field(default=50, ge=1, le=200)
    # Attempts after an unexpected error (a bug, an answer we do not know); network errors,
    # Telegram 5xx and 429 are retried for outbox_retry_hours after queuing instead.
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_retry_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # This process's share of Telegram's rate limits (1/N with N bot processes).
    rate_limit_share: float = Field(default=1.0, gt=0, le=1)
    # HTTP connections to the Bot API. PTB's default, 256, costs CPU at fan-out rates (httpcore
    # scans every connection for every request: 85 % of the allowed rate instead of 98 % in
    # benchmarks/fanout_bench.py); 32 still carry 100 requests/s at 300 ms round trips.
    # Requests beyond it wait for a free connection up to telegram_pool_timeout seconds.
    telegram_connection_pool: int = Field(default=32, ge=1, le=1024)
    telegram_pool_timeout: float = Field(default=30.0, gt=0, le=600)
    # Updates handled at once (different people; one person's always in order). 1: one at a
    # time, PTB's default. Each holds at most one database connection while it runs.
    concurrent_updates: int = Field(default=8, ge=1, le=64)

    # FAQ (thresholds: see faq/THRESHOLDS.md for how the defaults were measured)
    faq_kb_dir: Path | None = None  # default: the knowledge base shipped in faq/kb
    faq_answer_threshold: float | None = Field(default=None, ge=0, le=100)
    faq_margin: float | None = Field(default=None, ge=0, le=100)
    faq_suggest_threshold: float | None = Field(default=None, ge=0, le=100)
    faq_group_threshold: float | None = Field(default=None, ge=0, le=100)

    # Reports (JSON in the environment for the dict settings)
    report_categories: dict[str, tuple[str, str]] = Field(
        default_factory=lambda: dict(DEFAULT_CATEGORIES)
    )
    report_ack_hours: dict[str, float] = Field(
        default_factory=lambda: {"default": 24.0, "safety": 2.0}
    )
    report_resolve_hours: dict[str, float] = Field(default_factory=lambda: {"default": 168.0})
    report_confirm_days: float = Field(default=3.0, gt=0, le=60)
    # How often the report timers run: a divisor of 60 seconds, or a multiple of 60.
    report_timer_seconds: int = Field(default=300, ge=1, le=3600)
    report_duplicate_days: int = Field(default=14, ge=0, le=365)
    report_duplicate_score: float = Field(default=75.0, ge=0, le=100)
    report_max_photos: int = Field(default=3, ge=0, le=10)
    report_max_description: int = Field(default=1000, ge=50, le=3500)
    community_radius_km: float = Field(default=3.0, gt=0, le=100)

    # Daily check-ins (defaults for communities without their own schedule), weekly digest
    checkin_time: str = "09:00"
    nudge_time: str = "17:00"
    summary_time: str = "20:00"
    checkin_every_day: bool = False
    digest_time: str = "08:00"  # on Mondays

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

    @field_validator("checkin_time", "nudge_time", "summary_time", "digest_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parsed = parse_hhmm(value)
        return f"{parsed.hour:02d}:{parsed.minute:02d}"

    @model_validator(mode="after")
    def _checkin_order(self) -> Settings:
        if not self.checkin_time < self.nudge_time < self.summary_time:
            raise ValueError("CHECKIN_TIME < NUDGE_TIME < SUMMARY_TIME is required")
        return self

    @field_validator("report_timer_seconds")
    @classmethod
    def _timer_period(cls, value: int) -> int:
        if (value < 60 and 60 % value) or (value >= 60 and value % 60):
            raise ValueError("use a divisor of 60 (e.g. 10, 30) or a multiple of 60 (e.g. 300)")
        return value

    @field_validator("report_ack_hours", "report_resolve_hours")
    @classmethod
    def _deadline_table(cls, value: dict[str, float]) -> dict[str, float]:
        if "default" not in value:
            raise ValueError('needs a "default" entry, e.g. {"default": 24, "safety": 2}')
        if any(hours <= 0 for hours in value.values()):
            raise ValueError("deadlines must be positive numbers of hours")
        return value

    @field_validator("report_categories")
    @classmethod
    def _categories(cls, value: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        if not value:
            raise ValueError("at least one category is needed")
        for code in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,23}", code):
                raise ValueError(f"category code {code!r}: lower-case letters, digits and _")
        return value

    def ack_hours(self, category: str) -> float:
        """Hours a captain has to acknowledge a report of ``category``."""
        return self.report_ack_hours.get(category, self.report_ack_hours["default"])

    def resolve_hours(self, category: str) -> float:
        """Hours to resolve a report of ``category``."""
        return self.report_resolve_hours.get(category, self.report_resolve_hours["default"])

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def outbox_retry_for(self) -> timedelta:
        """How long transient delivery failures are retried after a message was queued."""
        return timedelta(hours=self.outbox_retry_hours)

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
