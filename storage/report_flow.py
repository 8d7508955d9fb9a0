"""One entry point for every action on a report: load and lock it, ask the policy, apply
the lifecycle, write the event and queue the notices — in the caller's transaction.

Handlers (buttons and commands alike) call ``perform`` with plain values and render the
``ActionResult``; nothing here knows about Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from storage import lifecycle as lc
from storage import policy
from storage import reports as svc
from storage.people import Actor
from storage.report_notices import Notices

#: action → (policy action, target status or None for level changes / notes)
ACTIONS: dict[str, tuple[str, str | None]] = {
    "ack": (policy.ACK, lc.ACKNOWLEDGED),
    "progress": (policy.PROGRESS, lc.IN_PROGRESS),
    "resolve": (policy.RESOLVE, lc.RESOLVED),
    "reject": (policy.REJECT, lc.REJECTED),
    "withdraw": (policy.WITHDRAW, lc.WITHDRAWN),
    "fixed": (policy.CONFIRM, lc.CLOSED),
    "not_fixed": (policy.CONFIRM, lc.REOPENED),
    "escalate": (policy.ESCALATE, None),
    "escalate_up": (policy.ESCALATE_UP, None),
    "send_back": (policy.SEND_BACK, None),
    "add_info": (policy.ADD_INFO, None),
    "follow": (policy.FOLLOW, None),
}
#: Actions that need a note from the actor.
NEEDS_NOTE = frozenset(
    {"resolve", "reject", "escalate", "escalate_up", "send_back", "not_fixed", "add_info"}
)


@dataclass(frozen=True)
class ReportConfig:
    """Report settings as plain values (built from ``Settings`` by the caller)."""

    categories: dict[str, tuple[str, str]]
    ack_hours: dict[str, float]
    resolve_hours: dict[str, float]
    confirm_days: float
    tz: ZoneInfo
    max_photos: int = 3
    duplicate_days: int = 14
    duplicate_score: float = 75.0
    max_description: int = 1000
    radius_km: float = 3.0
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> ReportConfig:
        """Build from the ``Settings`` object (duck-typed: storage does not import it)."""
        return cls(
            categories=settings.report_categories,
            ack_hours=settings.report_ack_hours,
            resolve_hours=settings.report_resolve_hours,
            confirm_days=settings.report_confirm_days,
            tz=settings.tz,
            max_photos=settings.report_max_photos,
            duplicate_days=settings.report_duplicate_days,
            duplicate_score=settings.report_duplicate_score,
            max_description=settings.report_max_description,
            radius_km=settings.community_radius_km,
        )

    def deadlines(self, category: str) -> svc.Deadlines:
        """The deadlines that apply to ``category``."""
        return svc.Deadlines(
            ack_hours=self.ack_hours.get(category, self.ack_hours["default"]),
            resolve_hours=self.resolve_hours.get(category, self.resolve_hours["default"]),
            confirm_days=self.confirm_days,
        )


@dataclass(frozen=True, slots=True)
class ActionResult:
    """``done``, ``already`` (idempotent repeat), ``illegal`` (not in this status),
    ``forbidden`` or ``not_found`` (the same answer: never reveal foreign reports)."""

    outcome: str
    report_id: int
    status: str | None = None
    level: int | None = None


async def perform(
    *,
    session: AsyncSession,
    actor: Actor | None,
    report_id: int,
    action: str,
    now: datetime,
    config: ReportConfig,
    note: str | None = None,
    photo: str | None = None,
) -> ActionResult:
    """Do ``action`` on report ``report_id`` as ``actor``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown report action {action!r}")
    report = await svc.get_report(session=session, report_id=report_id, lock=True)
    if report is None or actor is None:
        return ActionResult("not_found", report_id)
    follower = await svc.is_follower(
        session=session, report_id=report_id, person_id=actor.person_id
    )
    needed, target = ACTIONS[action]
    if action == "follow" and follower:
        return ActionResult("already", report_id, report.status, report.level)  # a second +1
    if not policy.can(actor, needed, svc.ref(report), is_follower=follower):
        if policy.can(actor, policy.VIEW, svc.ref(report), is_follower=follower):
            return ActionResult("forbidden", report_id, report.status, report.level)
        return ActionResult("not_found", report_id)
    notices = Notices(session=session, categories=config.categories, tz=config.tz, now=now)
    deadlines = config.deadlines(report.category)
    if target is not None:
        if action in ("fixed", "not_fixed") and report.status != lc.RESOLVED:
            outcome = "already" if report.status in (lc.CLOSED, lc.REOPENED) else "illegal"
            return ActionResult(outcome, report_id, report.status, report.level)
        change = await svc.change_status(
            session=session,
            report=report,
            actor_id=actor.person_id,
            to=target,
            note=note,
            now=now,
            deadlines=deadlines,
        )
        if change.outcome == "done":
            await _status_notices(notices, report, action, actor, note, config)
        return ActionResult(change.outcome, report_id, report.status, report.level)
    if action == "follow":
        if report.status not in lc.OPEN:
            return ActionResult("illegal", report_id, report.status, report.level)
        added = await svc.follow_report(
            session=session, report=report, person_id=actor.person_id, now=now
        )
        return ActionResult("done" if added else "already", report_id, report.status, report.level)
    if action == "add_info":
        if report.status in lc.FINAL:
            return ActionResult("illegal", report_id, report.status, report.level)
        if not await svc.add_info(
            session=session,
            report=report,
            actor_id=actor.person_id,
            note=note,
            photo=photo,
            now=now,
            max_photos=config.max_photos,
        ):
            return ActionResult("illegal", report_id, report.status, report.level)
        await notices.to_handler(report, "rep.notice.info", reason=note or "📷")
        return ActionResult("done", report_id, report.status, report.level)
    to_level = {"escalate": lc.GRID, "escalate_up": lc.COMMUNITY, "send_back": lc.CAPTAIN}[action]
    kind = "send_back" if action == "send_back" else "escalate"
    change = await svc.change_level(
        session=session,
        report=report,
        actor_id=actor.person_id,
        to_level=to_level,
        note=note,
        now=now,
        kind=kind,
        deadlines=deadlines,
    )
    if change.outcome == "done":
        await _level_notices(notices, report, action, note)
    return ActionResult(change.outcome, report_id, report.status, report.level)


async def precheck(
    *, session: AsyncSession, actor: Actor | None, report_id: int, action: str
) -> ActionResult:
    """Would ``perform`` accept this action now?  ``ok`` or the refusal, changing nothing.

    Asked before prompting for a note, so nobody types a reason only to be refused.
    """
    report = await svc.get_report(session=session, report_id=report_id)
    if report is None or actor is None:
        return ActionResult("not_found", report_id)
    follower = await svc.is_follower(
        session=session, report_id=report_id, person_id=actor.person_id
    )
    needed, target = ACTIONS[action]
    if action == "follow" and follower:
        return ActionResult("already", report_id, report.status, report.level)
    if not policy.can(actor, needed, svc.ref(report), is_follower=follower):
        visible = policy.can(actor, policy.VIEW, svc.ref(report), is_follower=follower)
        return ActionResult("forbidden" if visible else "not_found", report_id)
    result = ActionResult("ok", report_id, report.status, report.level)
    if action == "follow" and report.status not in lc.OPEN:
        return ActionResult("not_found", report_id)
    if target is not None:
        if action in ("fixed", "not_fixed"):
            if report.status == lc.RESOLVED:
                return result
            outcome = "already" if report.status in (lc.CLOSED, lc.REOPENED) else "illegal"
            return ActionResult(outcome, report_id, report.status, report.level)
        if report.status == target:
            return ActionResult("already", report_id, report.status, report.level)
        if not lc.can_transition(report.status, target):
            return ActionResult("illegal", report_id, report.status, report.level)
        return result
    if report.status in lc.FINAL or (action != "add_info" and report.status == lc.RESOLVED):
        return ActionResult("illegal", report_id, report.status, report.level)
    level = {"escalate": lc.GRID, "escalate_up": lc.COMMUNITY, "send_back": lc.CAPTAIN}.get(action)
    lowered = level is not None and action != "send_back" and report.level > level
    if level is not None and (report.level == level or lowered):
        return ActionResult("already", report_id, report.status, report.level)
    return result


def _note(note: str | None) -> dict[str, object]:
    return {"t": "rep.note_line", "p": {"note": note}} if note else {"t": "common.empty"}


async def _status_notices(
    notices: Notices,
    report: svc.Report,
    action: str,
    actor: Actor,
    note: str | None,
    config: ReportConfig,
) -> None:
    if action in ("withdraw", "fixed", "not_fixed"):
        key = {
            "withdraw": "rep.notice.withdrawn",
            "fixed": "rep.notice.status",
            "not_fixed": "rep.notice.reopened",
        }[action]
        await notices.to_handler(
            report,
            key,
            reason=note or "",
            status={"t": f"status.{report.status}"},
            note=_note(note),
        )
        await notices.to_reporter_and_followers(
            report,
            "rep.notice.status",
            exclude=actor.person_id,
            status={"t": f"status.{report.status}"},
            note=_note(note),
        )
        if action == "fixed":
            await notices.group_chat(report, "rep.notice.group_resolved")
        return
    if action == "resolve":
        await notices.to_reporter_and_followers(
            report,
            "rep.notice.resolved",
            exclude=actor.person_id,
            follower_key="rep.notice.status",
            note=_note(note),
            days=int(config.confirm_days),
            status={"t": f"status.{report.status}"},
        )
        return
    await notices.to_reporter_and_followers(
        report,
        "rep.notice.status",
        exclude=actor.person_id,
        status={"t": f"status.{report.status}"},
        note=_note(note),
    )


async def _level_notices(
    notices: Notices, report: svc.Report, action: str, note: str | None
) -> None:
    if action == "send_back":
        await notices.to_handler(report, "rep.notice.sent_back", reason=note or "")
        return
    await notices.to_handler(report, "rep.notice.escalated_to_you", reason=note or "")
    await notices.to_reporter_and_followers(
        report, "rep.notice.escalated_reporter", level={"t": f"level.{report.level}"}
    )
