"""Conversation state kept across restarts: where each person is in a multi-step flow and
their draft (PTB persistence, see ``handlers/persistence.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, String, UTCDateTime


class BotState(Base):
    """One persisted piece: ``kind`` is ``conv:<name>`` or ``user``; ``key`` the chat/user."""

    __tablename__ = "bot_state"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
