"""The weekly squad meeting: /meeting (set, show, skip) for the grid leader and RSVP buttons
for captains; /minutes and attendance after it are in ``handlers/meeting_minutes.py``."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.context import WulinContext
from handlers.meeting_minutes import attendance_button, minutes_command
from handlers.ui import parse_callback, refuse_callback, reply
from scheduler.jobs import register_jobs
from scheduler.meeting_jobs import catch_up_meetings
from scheduler.planning import next_meeting, parse_day, parse_weekday
from settings import parse_hhmm
from storage import meetings, outbox
from storage.models import MeetingOccurrence

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
WEEKDAY_NAMES = {
    "zh": "周一 周二 周三 周四 周五 周六 周日".split(),
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
}


def _weekday(context: WulinContext, weekday: int) -> str:
    return WEEKDAY_NAMES["en" if context.lang == "en" else "zh"][weekday - 1]


async def meeting_command(update: Update, context: WulinContext) -> None:
    """/meeting | /meeting set WEEKDAY HH:MM PLACE | /meeting skip DATE."""
    actor = context.actor
    if actor is None or not actor.leads_grids:
        await reply(update, context.t("mt.not_leader"))
        return
    args = context.args or []
    if not args:
        await _show(update, context, actor.leads_grids[0])
    elif args[0] == "set":
        await _set(update, context, args[1:])
    elif args[0] == "skip" and len(args) == 2:
        await _skip(update, context, args[1])
    else:
        await reply(update, context.t("mt.usage"))


async def _show(update: Update, context: WulinContext, grid_id: int) -> None:
    async with context.db.begin() as session:
        meeting = await meetings.get_meeting(session=session, grid_id=grid_id)
        if meeting is None:
            await reply(update, context.t("mt.none"))
            return
        upcoming = next_meeting(
            meeting.weekday, meeting.time, context.settings.tz, context.clock.now()
        )
        occ = await meetings.occurrence(
            session=session, grid_id=grid_id, day=upcoming.date(), create=False
        )
    await reply(
        update,
        context.t(
            "mt.show",
            weekday=_weekday(context, meeting.weekday),
            time=meeting.time,
            place=meeting.place,
            next=upcoming.strftime("%Y-%m-%d %H:%M"),
            skipped=context.t("mt.show.skipped") if occ and occ.skipped else "",
        ),
    )


async def _set(update: Update, context: WulinContext, args: list[str]) -> None:
    if len(args) < 2:
        await reply(update, context.t("mt.usage"))
        return
    try:
        weekday = parse_weekday(args[0])
    except ValueError:
        await reply(update, context.t("mt.bad_weekday", value=args[0]))
        return
    try:
        at = parse_hhmm(args[1])
    except ValueError:
        await reply(update, context.t("mt.bad_time", value=args[1]))
        return
    place = " ".join(args[2:]).strip()[:200]
    if not place:
        await reply(update, context.t("mt.no_place"))
        return
    time_text = f"{at.hour:02d}:{at.minute:02d}"
    grid_ids = context.actor.leads_grids  # type: ignore[union-attr]
    now = context.clock.now()
    async with context.db.begin() as session:
        for grid_id in grid_ids:
            meeting = await meetings.set_meeting(
                session=session,
                grid_id=grid_id,
                weekday=weekday,
                time=time_text,
                place=place,
                now=now,
            )
            moved = await meetings.reschedule_upcoming(
                session=session, meeting=meeting, local_now=now.astimezone(context.settings.tz)
            )
            await _tell_squad(context, session, meeting, moved)
    await register_jobs(context.application)
    # A reminder whose time already passed under the new schedule goes out now, once.
    await catch_up_meetings(context, grid_ids=set(grid_ids))
    context.wake_outbox()
    await reply(
        update, context.t("mt.set", weekday=_weekday(context, weekday), time=time_text, place=place)
    )


async def _tell_squad(
    context: WulinContext, session: Any, meeting: Any, moved: list[meetings.Moved]
) -> None:
    """Captains reminded of a meeting that has now moved are told where and when it is."""
    now, tz = context.clock.now(), context.settings.tz
    new = next_meeting(meeting.weekday, meeting.time, tz, now).strftime("%m-%d %H:%M")
    for old in moved:
        text = outbox.text(
            "mt.change_notice",
            old=f"{old.day:%m-%d} {old.time}",
            old_place=old.place,
            new=new,
            place=meeting.place,
        )
        for person_id, _ in await meetings.squad(session=session, grid_id=meeting.grid_id):
            await outbox.enqueue_to_person(
                session=session,
                person_id=person_id,
                kind="mt_change",
                now=now,
                payload={"text": text},
                dedup_key=f"{person_id}:mt_change:{old.day.isoformat()}:{now.timestamp():.0f}",
            )


async def _skip(update: Update, context: WulinContext, text: str) -> None:
    actor = context.actor
    assert actor is not None
    try:
        day = parse_day(text)
    except ValueError:
        await reply(update, context.t("mt.usage"))
        return
    now = context.clock.now()
    async with context.db.begin() as session:
        meeting = await meetings.get_meeting(session=session, grid_id=actor.leads_grids[0])
        if meeting is None:
            await reply(update, context.t("mt.none"))
            return
        if day.isoweekday() != meeting.weekday or day < context.today():
            await reply(
                update,
                context.t("mt.skip_bad", day=day, weekday=_weekday(context, meeting.weekday)),
            )
            return
        for grid_id in actor.leads_grids:
            await meetings.skip(session=session, grid_id=grid_id, day=day)
            for person_id, _ in await meetings.squad(session=session, grid_id=grid_id):
                await outbox.enqueue_to_person(
                    session=session,
                    person_id=person_id,
                    kind="mt_skip",
                    now=now,
                    payload={"text": outbox.text("mt.skip_notice", day=str(day))},
                    dedup_key=f"{person_id}:mt_skip:{day.isoformat()}",
                )
    context.wake_outbox()
    await reply(update, context.t("mt.skipped", day=day))


async def rsvp_button(update: Update, context: WulinContext) -> None:
    """``mt:y:<occurrence>`` / ``mt:n:<occurrence>``: only for this squad's coming meetings."""
    query, actor = update.callback_query, context.actor
    match = parse_callback(query.data if query else None, "mt", r"([yn]):(\d{1,10})")
    if query is None or match is None or actor is None:
        await refuse_callback(update, context)
        return
    async with context.db.begin() as session:
        occ = await session.get(MeetingOccurrence, int(match[2]))
        squad = (
            {pid for pid, _ in await meetings.squad(session=session, grid_id=occ.grid_id)}
            if occ
            else set()
        )
        if occ is None:  # forged, or a meeting moved to another day since
            await refuse_callback(update, context)
            return
        if actor.person_id not in squad:
            await refuse_callback(update, context, "common.not_allowed")
            return
        await query.answer()
        day = occ.day.strftime("%m-%d")
        local_now = context.clock.now().astimezone(context.settings.tz)
        if occ.skipped:
            await reply(update, context.t("mt.rsvp.skipped", day=day))
            return
        if (occ.day, occ.time) < (local_now.date(), f"{local_now.hour:02d}:{local_now.minute:02d}"):
            await reply(update, context.t("mt.rsvp.past", day=day))
            return
        answer = "yes" if match[1] == "y" else "no"
        await meetings.rsvp(
            session=session,
            occurrence_id=occ.id,
            person_id=actor.person_id,
            answer=answer,
            now=context.clock.now(),
        )
    await reply(update, context.t(f"mt.rsvp.{answer}", day=day))


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Meeting commands and buttons."""
    return [
        CommandHandler("meeting", meeting_command, filters=PRIVATE),
        CommandHandler("minutes", minutes_command, filters=PRIVATE),
        CallbackQueryHandler(rsvp_button, pattern=r"^mt:[yn]:"),
        CallbackQueryHandler(attendance_button, pattern=r"^mt:a:"),
    ]
