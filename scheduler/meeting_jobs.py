"""Weekly squad meeting reminders (the day before and one hour before, with RSVP buttons),
the RSVP list and agenda for the grid leader, and their catch-up after a restart.

The Monday digest is in ``scheduler.digest_jobs``."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from locales import translate
from scheduler.planning import next_meeting, week_bounds
from scheduler.workdays import default_schedule, grid_days
from storage import meetings, outbox
from storage.models import Person

log = logging.getLogger(__name__)
BEFORE = {"24h": timedelta(days=1), "1h": timedelta(hours=1)}
GRACE = timedelta(seconds=600)  # the jobs' misfire grace time (scheduler.jobs)


async def meeting_reminder_job(context: Any) -> None:
    """Scheduled per grid and kind (``job.data = {"grid_id", "kind"}``)."""
    data = context.job.data
    grid_id, kind = data["grid_id"], data["kind"]
    settings, now = context.settings, context.clock.now()
    async with context.db.begin() as session:
        meeting = await meetings.get_meeting(session=session, grid_id=grid_id)
    if meeting is None:
        return
    # The meeting this run is for, even when it runs late (up to the grace, past midnight).
    moment = next_meeting(
        meeting.weekday, meeting.time, settings.tz, now + BEFORE[kind] - 2 * GRACE
    )
    if moment - BEFORE[kind] > now:
        return  # the schedule changed since the job was made
    await send_meeting_reminders(context, grid_id, kind, moment.astimezone(settings.tz).date())


async def catch_up_meetings(context: Any, *, grid_ids: set[int] | None = None) -> int:
    """At start (and after a schedule change): the reminder whose time passed while the
    meeting is still to come — the hour-before one if due, else the day-before one.

    The idempotency keys make a reminder already queued a no-op.
    """
    settings, now = context.settings, context.clock.now()
    async with context.db.begin() as session:
        wanted = [
            m
            for m in await meetings.all_meetings(session=session)
            if grid_ids is None or m.grid_id in grid_ids
        ]
    queued = 0
    for meeting in wanted:
        moment = next_meeting(meeting.weekday, meeting.time, settings.tz, now)
        kind = next((k for k in ("1h", "24h") if moment - BEFORE[k] <= now), None)
        if kind is not None:
            day = moment.astimezone(settings.tz).date()
            queued += await send_meeting_reminders(context, meeting.grid_id, kind, day, late=True)
    if queued:
        log.info("catch-up: queued %s missed meeting reminders", queued)
    return queued


async def send_meeting_reminders(
    context: Any, grid_id: int, kind: str, day: date, *, late: bool = False
) -> int:
    """Remind each captain of the squad and send the leader the RSVP list (and agenda).

    A late reminder (caught up) for a meeting later today says "today", not "tomorrow" or
    "in one hour".
    """
    settings, now = context.settings, context.clock.now()
    tz = settings.tz
    today = now.astimezone(tz).date()
    text_key = "mt.reminder.today" if late and day == today else f"mt.reminder.{kind}"
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
                "text": outbox.text(text_key, time=occ.time, place=occ.place),
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
                default=default_schedule(settings),
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
    default: Any,
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
        days = (
            await grid_days(
                session=session,
                default=default,
                grid_ids=[grid_id],
                start=monday,
                end=occ.day - timedelta(days=1),
            )
        ).get(grid_id, [])
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
