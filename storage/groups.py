"""Neighbour group settings a captain changes from Telegram: the linked group chat."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import NeighbourGroup


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    """``linked`` is False when the chat already belongs to another group (named)."""

    linked: bool
    group: str


async def link_chat(*, session: AsyncSession, group_id: int, chat_id: int) -> LinkOutcome:
    """Link a Telegram group chat to a neighbour group (one chat per group, one group per chat)."""
    other = await session.scalar(select(NeighbourGroup).where(NeighbourGroup.chat_id == chat_id))
    group = await session.get(NeighbourGroup, group_id)
    assert group is not None
    if other is not None and other.id != group_id:
        return LinkOutcome(False, other.name)
    group.chat_id = chat_id
    await session.flush()
    return LinkOutcome(True, group.name)
