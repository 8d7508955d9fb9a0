"""FAQ records: questions the bot could not answer (counted per community), answers
forwarded to and from captains, entries promoted by admins, and 👍/👎 feedback."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, String, Text, UTCDateTime


class FaqUnanswered(Base):
    """A question with no confident answer; the same normalised question is counted."""

    __tablename__ = "faq_unanswered"
    __table_args__ = (UniqueConstraint("community_code", "normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(String(64), default="")  # "" = no community
    normalised: Mapped[str] = mapped_column(String(200))
    sample: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FaqQuestion(Base):
    """A resident's question forwarded to their captain, and the captain's answer."""

    __tablename__ = "faq_questions"
    __table_args__ = (Index("ix_faq_questions_community_answered", "community_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("neighbour_groups.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promoted: Mapped[bool] = mapped_column(Boolean, default=False)


class FaqLocalEntry(Base):
    """An entry an admin promoted from a captain's answer into the community's local FAQ."""

    __tablename__ = "faq_local_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(String(64), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    source_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("faq_questions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FaqFeedback(Base):
    """A 👍/👎 on an answer (per person and entry; the latest vote counts)."""

    __tablename__ = "faq_feedback"
    __table_args__ = (UniqueConstraint("person_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
