"""Entries promoted by community admins (a captain's answer to a resident's question),
merged with the YAML knowledge base.  Pure: the caller reads the rows from the database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from faq.kb import Entry, KnowledgeBase


@dataclass(frozen=True, slots=True)
class LocalRow:
    """A promoted entry as stored: one question and its answer in one language."""

    id: int
    community: str
    question: str
    answer: str
    lang: str


def local_entry(row: LocalRow) -> Entry:
    """The FAQ entry of a promoted answer (answered in its own language either way)."""
    return Entry(
        id=f"local_{row.id}",
        topic="local",
        question={"zh": row.question, "en": row.question},
        phrasings={row.lang: (row.question,), ("en" if row.lang == "zh" else "zh"): ()},
        answer={"zh": row.answer, "en": row.answer},
        tags=(),
        source="captain's answer, promoted by a community admin",
        community=row.community,
        file="database",
    )


def with_local_rows(kb: KnowledgeBase, rows: Iterable[LocalRow]) -> KnowledgeBase:
    """The knowledge base plus promoted entries (ids never clash: ``local_<n>``)."""
    extra = [local_entry(r) for r in rows]
    return replace(kb, entries=tuple(kb.entries) + tuple(extra)) if extra else kb
