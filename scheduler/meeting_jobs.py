"""Weekly squad meeting reminders (the day before and one hour before, with RSVP buttons),
the RSVP list and agenda for the grid leader, and the Monday digest."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from locales import translate
from scheduler.calendar import is_working_day
from scheduler.planning import week_bounds
from scheduler.reminders import working_days
from storage import digest, meetings, outbox
from storage.models import Community, CommunityAdmin, Grid, Person

log = logging.getLogger(__name__)
BEFORE = {"24h": timedelta(days=1), "1h": timedelta(hours=1)}


async def meeting_reminder_job(context: Any) -> None:
    """Scheduled per grid and kind (``job.data = {"grid_id", "kind"}``)."""
    data = context.job.data
    await send_meeting_reminders(context, data["grid_id"], data["kind"])


async def send_meeting_reminders(context: Any, grid_id: int, kind: str) -> int:
    """Remind each captain of the squad and send the leader the RSVP list (and agenda)."""
    settings, now = context.settings, context.clock.now()
    tz = settings.tz
    moment = (now + BEFORE[kind]).astimezone(tz)
    day = moment.date()
    queued = 0
    async with context.db.begin() as session:
        meeting = await meetings.get_meeting(session=session, grid_id=grid_id)
        # The schedule may have changed since the job was made: only remind for the real one.
        if meeting is None or meeting.weekday != day.isoweekday():
            return 0
        occ = await meetings.occurrence(session=session, grid_id=grid_id, day=day)
        if occ is None or occ.skipped:
            return 0
        stamp = day.isoformat()
        buttons = [
            [
                outbox.button(outbox.text("mt.btn.yes"), f"mt:y:{occ.id}"),
                outbox.button(outbox.text("mt.btn.no"), f"mt:n:{occ.id}"),
            ]
        ]
        for person_id, _name in await meetings.squad(session=session, grid_id=grid_id):
            payload = {
                "text": outbox.text(f"mt.reminder.{kind}", time=occ.time, place=occ.place),
                "buttons": buttons,
            }
            queued += int(
                await outbox.enqueue_to_person(
                    session=session,
                    person_id=person_id,
                    kind=f"mt_{kind}",
                    payload=payload,
                    now=now,
                    dedup_key=f"{person_id}:mt_{kind}:{stamp}",
                )
            )
        leader_id = await meetings.leader_of(session=session, grid_id=grid_id)
        if leader_id is not None:
            leader = await session.get(Person, leader_id)
            lang = (leader.language if leader else None) or settings.default_language
            text = await leader_text(
                session,
                lang,
                occ,
                grid_id,
                with_agenda=kind == "1h",
                now=now,
                categories=settings.report_categories,
            )
            queued += int(
                await outbox.enqueue_to_person(
                    session=session,
                    person_id=leader_id,
                    kind=f"mt_leader_{kind}",
                    payload={"text": text},
                    now=now,
                    dedup_key=f"{leader_id}:mt_leader_{kind}:{grid_id}:{stamp}",
                )
            )
    if queued:
        context.wake_outbox()
    return queued


async def leader_text(
    session: Any,
    lang: str,
    occ: Any,
    grid_id: int,
    *,
    with_agenda: bool,
    now: Any,
    categories: dict[str, tuple[str, str]],
) -> str:
    """The RSVP list (and, an hour before, the agenda) in the leader's language."""

    def t(key: str, **params: Any) -> str:
        return translate(lang, key, **params)

    sep = "、" if lang == "zh" else ", "
    none = t("ci.summary.none")
    people = await meetings.attendees(session=session, occurrence_id=occ.id, grid_id=grid_id)
    by_answer = {
        a: sep.join(p.name or "?" for p in people if p.answer == a) or none for a in ("yes", "no")
    }
    unanswered = sep.join(p.name or "?" for p in people if p.answer is None) or none
    text = t(
        "mt.leader.rsvp",
        day=occ.day.strftime("%m-%d"),
        time=occ.time,
        yes=by_answer["yes"],
        no=by_answer["no"],
        none=unanswered,
    )
    if with_agenda:
        monday, _ = week_bounds(occ.day)
        days = [d for d in working_days(monday, occ.day - timedelta(days=1)) if d < occ.day]
        plan = await meetings.agenda(session=session, grid_id=grid_id, now=now, working_days=days)
        lang_index = 1 if lang == "en" else 0
        reports = "\n".join(
            t(
                "mt.agenda.report",
                id=i,
                category=categories.get(c, (c, c))[lang_index],
                description=d[:40],
                overdue=" ⏰" if o else "",
            )
            for i, c, d, o in plan.reports
        )
        missed = (
            t("mt.agenda.missed", names=sep.join(f"{n or '?'}×{k}" for n, k in plan.missed))
            if plan.missed
            else ""
        )
        body = "\n".join(p for p in (reports, missed) if p) or t("mt.agenda.empty")
        text += t("mt.leader.agenda", reports=body, missed="").rstrip()
    return text


async def digest_job(context: Any) -> int:
    """Monday: last week's digest to every grid leader, and to admins for the community."""
    settings, now = context.settings, context.clock.now()
    tz = settings.tz
    today = now.astimezone(tz).date()
    monday, sunday = week_bounds(today - timedelta(days=7))
    days = working_days(monday, sunday)
    queued = 0
    async with context.db.begin() as session:
        grids = (
            await session.execute(
                select(Grid.id, Grid.name, Grid.community_id, Person.id, Person.language)
                .join(Person, Person.id == Grid.leader_id)
                .where(Person.telegram_id.is_not(None))
            )
        ).all()
        targets = [(pid, lang, [gid], name) for gid, name, _cid, pid, lang in grids]
        admins = (
            await session.execute(
                select(CommunityAdmin.community_id, Community.name, Person.id, Person.language)
                .join(Person, Person.id == CommunityAdmin.person_id)
                .join(Community, Community.id == CommunityAdmin.community_id)
                .where(Person.telegram_id.is_not(None))
            )
        ).all()
        for cid, community_name, pid, lang in admins:
            grid_ids = await digest.community_grids(session=session, community_id=cid)
            targets.append((pid, lang, grid_ids, community_name))
        for pid, lang, grid_ids, title in targets:
            numbers = await digest.grid_digest(
                session=session,
                grid_ids=grid_ids,
                title=title,
                monday=monday,
                tz=tz,
                working_days=days,
            )
            queued += int(
                await outbox.enqueue_to_person(
                    session=session,
                    person_id=pid,
                    kind="digest",
                    now=now,
                    payload=digest_payload(numbers, lang or settings.default_language),
                    dedup_key=f"{pid}:digest:{title}:{monday.isoformat()}",
                )
            )
    if queued:
        context.wake_outbox()
    return queued


def digest_payload(numbers: digest.Digest, lang: str) -> dict[str, Any]:
    """Text in ``lang`` plus the chart's data (rendered to PNG by the sender)."""

    def t(key: str, **params: Any) -> str:
        return translate(lang, key, **params)

    groups = "\n".join(
        t(
            "digest.group",
            group=g.group,
            opened=g.opened,
            resolved=g.resolved,
            escalated=g.escalated,
            overdue=g.overdue,
        )
        for g in numbers.groups
    ) or t("ci.summary.none")
    rates = "\n".join(
        t("digest.rate", name=n or "?", done=d, total=k) for n, d, k in numbers.checkin_rates
    ) or t("ci.summary.none")
    meetings_text = ("; " if lang == "en" else "；").join(
        t("digest.meeting.skipped", day=d.strftime("%m-%d"))
        if skipped
        else t("digest.meeting", day=d.strftime("%m-%d"), came=c, size=s)
        for d, c, s, skipped in numbers.meetings
    ) or t("digest.meetings.none")
    text = t(
        "digest.text",
        title=numbers.title,
        start=numbers.monday.strftime("%m-%d"),
        end=numbers.sunday.strftime("%m-%d"),
        groups=groups,
        rates=rates,
        meetings=meetings_text,
    )
    chart = {
        "title": t("digest.caption", title=numbers.title),
        "groups": [
            {
                "group": g.group,
                "opened": g.opened,
                "resolved": g.resolved,
                "escalated": g.escalated,
                "overdue": g.overdue,
            }
            for g in numbers.groups
        ],
        "rates": [[n, d, k] for n, d, k in numbers.checkin_rates],
        "labels": {
            k: t(f"digest.label.{k}")
            for k in ("opened", "resolved", "escalated", "overdue", "rate")
        },
    }
    return {"text": text, "chart": chart}


def is_working(day: date) -> bool:
    """A plain working-day check (no overrides), for callers that have none."""
    return is_working_day(day)
