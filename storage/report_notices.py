"""Who hears about a report change, and what they get — written to the outbox in the same
transaction as the change (DESIGN rule 4).  Texts are message ids rendered at send time in
each recipient's language; only the people who need them see names and phone numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.models import (
    Building,
    CommunityAdmin,
    Grid,
    NeighbourGroup,
    Person,
    Report,
    ReportPhoto,
)
from storage.outbox import button, text
from storage.report_queries import followers_of
from storage.routing import responsible_for

_DIGITS = re.compile(r"\d[\d\s-]{5,}\d")
#: Door numbers: any run of three or more digits ("301", "3-502", "1203") and a number
#: followed by 室 or 户; building and unit numbers ("13栋", "2单元") are not a household.
_DOOR = re.compile(r"\d{3,}|\d+\s*(?=[室户])")


def mask_personal(description: str, limit: int = 80, names: Sequence[str] = ()) -> str:
    """A short excerpt safe for a group chat: phone-like digit runs, door numbers and the
    given names (the reporter's) masked. Other names in free text cannot be recognised."""
    excerpt = _DOOR.sub("***", _DIGITS.sub("****", description.strip()))
    for name in names:
        if name and len(name.strip()) >= 2:
            excerpt = excerpt.replace(name.strip(), "**")
    return excerpt if len(excerpt) <= limit else excerpt[: limit - 1] + "…"


def category_label(categories: dict[str, tuple[str, str]], code: str) -> dict[str, str]:
    """A category name in both languages, picked at send time."""
    zh, en = categories.get(code, (code, code))
    return {"zh": zh, "en": en}


def captain_buttons(report_id: int) -> list[list[dict[str, Any]]]:
    """Actions a captain has on a report."""
    return [
        [
            button(text("rep.btn.ack"), f"rep:ack:{report_id}"),
            button(text("rep.btn.progress"), f"rep:prog:{report_id}"),
        ],
        [
            button(text("rep.btn.resolve"), f"rep:res:{report_id}"),
            button(text("rep.btn.reject"), f"rep:rej:{report_id}"),
        ],
        [button(text("rep.btn.escalate"), f"rep:esc:{report_id}")],
    ]


def leader_buttons(report_id: int) -> list[list[dict[str, Any]]]:
    """Actions a grid leader or admin has on an escalated report."""
    return [
        [
            button(text("rep.btn.view"), f"rep:v:{report_id}"),
            button(text("rep.btn.send_back"), f"rep:back:{report_id}"),
        ],
        [
            button(text("rep.btn.resolve"), f"rep:res:{report_id}"),
            button(text("rep.btn.escalate_up"), f"rep:up:{report_id}"),
        ],
    ]


class Notices:
    """Builds and queues the notices of one report change."""

    def __init__(
        self,
        *,
        session: AsyncSession,
        categories: dict[str, tuple[str, str]],
        tz: ZoneInfo,
        now: datetime,
    ) -> None:
        self.session = session
        self.categories = categories
        self.tz = tz
        self.now = now

    def _when(self, moment: datetime | None) -> str:
        return moment.astimezone(self.tz).strftime("%m-%d %H:%M") if moment else "-"

    def _today(self) -> date:
        return self.now.astimezone(self.tz).date()

    async def to_person(
        self, person_id: int, kind: str, payload: dict[str, Any], report: Report
    ) -> bool:
        payload = {**payload, "report_id": report.id, "group_id": report.group_id}
        return await outbox.enqueue_to_person(
            session=self.session, person_id=person_id, kind=kind, payload=payload, now=self.now
        )

    async def _details(self, report: Report, photos: Sequence[str] | None = None) -> dict[str, Any]:
        """What a captain's notice shows; ``photos``: the report's file ids, when known."""
        group = await self.session.get(NeighbourGroup, report.group_id)
        building = (
            await self.session.get(Building, report.building_id) if report.building_id else None
        )
        reporter = await self.session.get(Person, report.reporter_id)
        where = " ".join(p for p in (building.name if building else None, report.unit) if p) or "-"
        if report.latitude is not None and report.longitude is not None:
            where += f" 📍{report.latitude:.5f},{report.longitude:.5f}"
        contact = (reporter.display_name or "?") if reporter else "?"
        if reporter and reporter.phone:
            contact += f" {reporter.phone}"
        if photos is None:
            photos = list(
                await self.session.scalars(
                    select(ReportPhoto.file_id)
                    .where(ReportPhoto.report_id == report.id)
                    .order_by(ReportPhoto.id)
                )
            )
        return {
            "id": report.id,
            "category": category_label(self.categories, report.category),
            "group": group.name if group else "?",
            "where": where,
            "description": report.description,
            "reporter": contact,
            "supporters": report.supporters,
            "ack_due": self._when(report.ack_due_at),
            "photos": list(photos),
        }

    async def new_report(self, report: Report, photos: Sequence[str] | None = None) -> int:
        """To the person responsible today (with details, photos, buttons) and the group chat.

        ``photos``: the file ids just filed with the report (saves reading them back).
        """
        group = await self.session.get(NeighbourGroup, report.group_id)
        if group is not None:
            # The reporter and whoever may answer for the group, in one statement: the session
            # keeps them, so the details and the routing below find them without a query each.
            ids = {report.reporter_id, group.captain_id, group.backup_captain_id} - {None}
            await self.session.scalars(select(Person).where(Person.id.in_(ids)))
        details = await self._details(report, photos)
        photos = details.pop("photos")
        who = await responsible_for(
            session=self.session, group_id=report.group_id, today=self._today()
        )
        queued = 0
        for person_id in who.person_ids:
            payload = {
                "text": text("rep.notice.new", **details),
                "photos": photos[:10],
                "buttons": captain_buttons(report.id),
                "reroute": True,
            }
            queued += await self.to_person(person_id, "report_new", payload, report)
        group = await self.session.get(NeighbourGroup, report.group_id)
        if group is not None and group.chat_id is not None:
            building_row = (
                await self.session.get(Building, report.building_id) if report.building_id else None
            )
            building = building_row.name if building_row else "-"  # no unit: too close to a person
            reporter = await self.session.get(Person, report.reporter_id)  # loaded above
            names = [reporter.display_name] if reporter and reporter.display_name else []
            summary = text(
                "rep.notice.group_new",
                id=report.id,
                category=details["category"],
                where=building,
                excerpt=mask_personal(report.description, names=names),
            )
            await outbox.enqueue(
                session=self.session,
                chat_id=group.chat_id,
                kind="group_summary",
                payload={"text": summary},
                now=self.now,
            )
            queued += 1
        return queued

    async def to_reporter_and_followers(
        self,
        report: Report,
        key: str,
        *,
        exclude: int | None = None,
        follower_key: str | None = None,
        **params: Any,
    ) -> int:
        """A status update to the reporter and the +1 followers (not to the actor).

        ``follower_key`` gives followers a different text (the "is it fixed?" question is
        only for the reporter).
        """
        params = {
            "id": report.id,
            "category": category_label(self.categories, report.category),
            **params,
        }
        queued = 0
        for person_id in {
            report.reporter_id,
            *await followers_of(session=self.session, report_id=report.id),
        }:
            if person_id == exclude:
                continue
            own_key = key if person_id == report.reporter_id else (follower_key or key)
            payload: dict[str, Any] = {"text": text(own_key, **params)}
            if person_id == report.reporter_id and own_key == "rep.notice.resolved":
                payload["buttons"] = [
                    [
                        button(text("rep.btn.fixed"), f"rep:fix:{report.id}:y"),
                        button(text("rep.btn.not_fixed"), f"rep:fix:{report.id}:n"),
                    ]
                ]
            queued += await self.to_person(person_id, "report_status", payload, report)
        return queued

    async def to_handler(
        self, report: Report, key: str, *, exclude: int | None = None, **params: Any
    ) -> int:
        """To whoever handles the report at its level (captain/stand-in, grid leader, admins)."""
        details = await self._details(report)
        photos = details.pop("photos")
        details.update(params)
        ids = await self.handlers_at_level(report)
        buttons = captain_buttons(report.id) if report.level == 0 else leader_buttons(report.id)
        queued = 0
        for person_id in ids:
            if person_id == exclude:
                continue
            payload = {
                "text": text(key, **details),
                "buttons": buttons,
                "photos": photos[:10] if key != "rep.notice.info" else [],
            }
            queued += await self.to_person(person_id, "report_handler", payload, report)
        return queued

    async def handlers_at_level(self, report: Report, level: int | None = None) -> tuple[int, ...]:
        """The people who act on the report at ``level`` (default: its current level)."""
        level = report.level if level is None else level
        if level == 0:
            return (
                await responsible_for(
                    session=self.session, group_id=report.group_id, today=self._today()
                )
            ).person_ids
        if level == 1:
            grid = await self.session.get(Grid, report.grid_id)
            leader = (
                await self.session.get(Person, grid.leader_id) if grid and grid.leader_id else None
            )
            # A leader who cannot be reached (not bound, blocked the bot) is skipped: the
            # escalation goes to the community admins rather than into the void.
            if (
                leader is not None
                and leader.telegram_id is not None
                and leader.unreachable_since is None
            ):
                return (leader.id,)
        admins = await self.session.scalars(
            select(CommunityAdmin.person_id).where(
                CommunityAdmin.community_id == report.community_id
            )
        )
        return tuple(admins)

    async def group_chat(self, report: Report, key: str) -> None:
        """A one-line, name-free update in the group's linked chat (if any)."""
        group = await self.session.get(NeighbourGroup, report.group_id)
        if group is not None and group.chat_id is not None:
            payload = {
                "text": text(
                    key, id=report.id, category=category_label(self.categories, report.category)
                )
            }
            await outbox.enqueue(
                session=self.session,
                chat_id=group.chat_id,
                kind="group_summary",
                payload=payload,
                now=self.now,
            )


async def reroute(
    *, session: AsyncSession, kind: str, payload: dict[str, Any], now: datetime, tz: ZoneInfo
) -> int:
    """Send an undeliverable "new report" notice to the group's next responsible person.

    ``responsible_for`` skips people marked unreachable, so this walks captain → backup →
    grid leader → admins one step per failure; ``rerouted`` stops it from looping.
    """
    group_id = payload.get("group_id")
    if group_id is None:
        return 0
    tried = set(payload.get("rerouted", []))
    who = await responsible_for(
        session=session,
        group_id=group_id,
        today=now.astimezone(tz).date(),
        exclude=frozenset(tried),
    )
    queued = 0
    for person_id in who.person_ids:
        new_payload = {**payload, "rerouted": sorted(tried | set(who.person_ids))}
        queued += await outbox.enqueue_to_person(
            session=session, person_id=person_id, kind=kind, payload=new_payload, now=now
        )
    return queued
