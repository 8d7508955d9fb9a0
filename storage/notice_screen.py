"""The last look before a report notice leaves: does its recipient still handle the report?

A captain's or grid leader's notice carries the reporter's name and phone. It is queued when
the report changes and sent moments later — or hours later, when the bot was down or
Telegram kept answering 429. If an import or a handover took the recipient's role away in
the meantime, the notice must not reach them: it is withheld (marked failed, with the reason)
and queued instead for whoever handles the report now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.models import CommunityAdmin, Grid, NeighbourGroup, Report
from storage.report_notices import Notices, reroute

#: Notices with the reporter's contact, sent only to the people handling the report.
SCREENED = frozenset({"report_new", "report_handler"})
WITHHELD = "withheld: the recipient no longer handles this report"


async def withhold_stale(
    *, session: AsyncSession, claimed: Sequence[outbox.Claimed], now: datetime, tz: ZoneInfo
) -> set[int]:
    """The ids of claimed report notices whose recipient lost the role; each is marked failed
    and sent on to the people handling the report now, in the caller's transaction.

    One statement for the whole batch in the usual case (a community admin's notices need a
    second): the report, its group's captain and backup and its grid's leader.
    """
    screened = [
        m
        for m in claimed
        if m.kind in SCREENED
        and m.person_id is not None
        and isinstance(m.payload.get("report_id"), int)
    ]
    if not screened:
        return set()
    report_ids = {m.payload["report_id"] for m in screened}
    rows = await session.execute(
        select(
            Report.id,
            Report.community_id,
            NeighbourGroup.captain_id,
            NeighbourGroup.backup_captain_id,
            Grid.leader_id,
        )
        .join(NeighbourGroup, NeighbourGroup.id == Report.group_id)
        .outerjoin(Grid, Grid.id == Report.grid_id)
        .where(Report.id.in_(report_ids))
    )
    handlers: dict[int, set[int | None]] = {}
    community: dict[int, int] = {}
    for report_id, community_id, captain, backup, leader in rows:
        handlers[report_id] = {captain, backup, leader}
        community[report_id] = community_id
    doubtful = [m for m in screened if m.person_id not in handlers.get(m.payload["report_id"], ())]
    if not doubtful:
        return set()
    admins = await session.execute(
        select(CommunityAdmin.community_id, CommunityAdmin.person_id).where(
            CommunityAdmin.community_id.in_({community[r] for r in community})
        )
    )
    admin_of: dict[int, set[int]] = {}
    for community_id, person_id in admins:
        admin_of.setdefault(community_id, set()).add(person_id)
    withheld = set()
    for message in doubtful:
        report_id = message.payload["report_id"]
        if report_id in community and message.person_id in admin_of.get(community[report_id], ()):
            continue
        withheld.add(message.id)
        await outbox.mark_failed(session=session, message_id=message.id, error=WITHHELD)
        if report_id in community:
            await _send_on(session, message, now, tz)
    return withheld


async def _send_on(
    session: AsyncSession, message: outbox.Claimed, now: datetime, tz: ZoneInfo
) -> None:
    """The withheld notice, to the people handling the report now (never back to its
    recipient, nor to anyone it already went to)."""
    tried = set(message.payload.get("rerouted", [])) | {message.person_id}
    payload = {**message.payload, "rerouted": sorted(tried)}
    if message.kind == "report_new":
        await reroute(session=session, kind=message.kind, payload=payload, now=now, tz=tz)
        return
    report = await session.get(Report, message.payload["report_id"])
    if report is None:
        return
    notices = Notices(session=session, categories={}, tz=tz, now=now)
    for person_id in await notices.handlers_at_level(report):
        if person_id not in tried:
            await outbox.enqueue_to_person(
                session=session,
                person_id=person_id,
                kind=message.kind,
                payload={**payload, "rerouted": sorted(tried | {person_id})},
                now=now,
            )
