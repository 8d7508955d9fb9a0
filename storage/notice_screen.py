"""The last look before a notice with personal data leaves: is its recipient still the one?

A captain's or grid leader's notice carries the reporter's name and phone. It is queued when
the report changes and sent moments later — or hours later, when the bot was down or
Telegram kept answering 429. If an import or a handover took the recipient's role away in
the meantime, the notice must not reach them: it is withheld (marked failed, with the reason)
and queued instead for whoever handles the report now. A forwarded FAQ question (the
resident's name and home) is screened the same way against the asker's group.
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

#: Notices with a resident's name, phone or home, sent only to the people handling the
#: report (or, for a forwarded FAQ question, answering for the asker's group).
SCREENED = frozenset({"report_new", "report_handler", "faq_forward"})
WITHHELD = "withheld: the recipient no longer answers for this report or group"

Subject = tuple[str, int]  # ("report", id) or ("group", id)


def _subject(message: outbox.Claimed) -> Subject | None:
    if message.kind not in SCREENED or message.person_id is None:
        return None
    kind, key = ("group", "group_id") if message.kind == "faq_forward" else ("report", "report_id")
    value = message.payload.get(key)
    return (kind, value) if isinstance(value, int) else None


async def withhold_stale(
    *, session: AsyncSession, claimed: Sequence[outbox.Claimed], now: datetime, tz: ZoneInfo
) -> set[int]:
    """The ids of claimed notices whose recipient lost the role; each is marked failed and
    sent on to the people handling the report (or the group) now, in the caller's transaction.

    One statement for a batch of report notices in the usual case (a community admin's
    notices need one more): the report, its group's captain and backup, its grid's leader.
    """
    screened = {m.id: s for m in claimed if (s := _subject(m)) is not None}
    if not screened:
        return set()
    people = await _handlers(session, set(screened.values()))
    doubtful = [
        m
        for m in claimed
        if m.id in screened and m.person_id not in people.get(screened[m.id], (0, set()))[1]
    ]
    if not doubtful:
        return set()
    communities = {people[s][0] for s in screened.values() if s in people}
    admins = await session.execute(
        select(CommunityAdmin.community_id, CommunityAdmin.person_id).where(
            CommunityAdmin.community_id.in_(communities)
        )
    )
    admin_of: dict[int, set[int]] = {}
    for community_id, person_id in admins:
        admin_of.setdefault(community_id, set()).add(person_id)
    withheld = set()
    for message in doubtful:
        found = people.get(screened[message.id])
        if found is not None and message.person_id in admin_of.get(found[0], ()):
            continue
        withheld.add(message.id)
        await outbox.mark_failed(session=session, message_id=message.id, error=WITHHELD)
        if found is not None:
            await _send_on(session, message, now, tz)
    return withheld


async def _handlers(
    session: AsyncSession, subjects: set[Subject]
) -> dict[Subject, tuple[int, set[int | None]]]:
    """For each report or group: its community and its captain, backup and grid leader."""
    out: dict[Subject, tuple[int, set[int | None]]] = {}
    group = (NeighbourGroup.captain_id, NeighbourGroup.backup_captain_id, Grid.leader_id)
    report_ids = {i for kind, i in subjects if kind == "report"}
    if report_ids:
        rows = await session.execute(
            select(Report.id, Report.community_id, *group)
            .join(NeighbourGroup, NeighbourGroup.id == Report.group_id)
            .outerjoin(Grid, Grid.id == Report.grid_id)
            .where(Report.id.in_(report_ids))
        )
        for report_id, community_id, *ids in rows:
            out["report", report_id] = (community_id, set(ids))
    group_ids = {i for kind, i in subjects if kind == "group"}
    if group_ids:
        rows = await session.execute(
            select(NeighbourGroup.id, NeighbourGroup.community_id, *group)
            .outerjoin(Grid, Grid.id == NeighbourGroup.grid_id)
            .where(NeighbourGroup.id.in_(group_ids))
        )
        for group_id, community_id, *ids in rows:
            out["group", group_id] = (community_id, set(ids))
    return out


async def _send_on(
    session: AsyncSession, message: outbox.Claimed, now: datetime, tz: ZoneInfo
) -> None:
    """The withheld notice, to the people handling the report now (never back to its
    recipient, nor to anyone it already went to)."""
    tried = set(message.payload.get("rerouted", [])) | {message.person_id}
    payload = {**message.payload, "rerouted": sorted(tried)}
    if message.kind != "report_handler":  # the group's new work: its responsible person now
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
