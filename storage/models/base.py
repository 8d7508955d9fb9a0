"""Declarative base, naming convention, the UTC datetime column type and the text column
types (``String``/``Text`` that drop NUL characters)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy import String as _String
from sqlalchemy import Text as _Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names: Alembic's batch mode on SQLite needs them to alter tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns aware UTC datetimes.

    SQLite keeps no zone, so a naive value read back is UTC by construction; writing a naive
    value is a programming error (time comes from the injected clock, always aware).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use the injected clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _NoNul(TypeDecorator[str]):
    """Text without U+0000: PostgreSQL refuses it in text columns (SQLite would store it), and
    no person types it — a custom client or a forged webhook can send it.  Dropped on the way
    in, on both backends alike, for every column and every comparison."""

    impl: type[_String] = _String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if isinstance(value, str) and "\x00" in value:
            return value.replace("\x00", "")
        return value


class String(_NoNul):
    """``VARCHAR(n)`` without NUL characters."""

    impl = _String
    cache_ok = True


class Text(_NoNul):
    """``TEXT`` without NUL characters."""

    impl = _Text
    cache_ok = True


class Base(DeclarativeBase):
    """Base of every Wulin table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
