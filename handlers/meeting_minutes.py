"""After the weekly squad meeting: /minutes for the grid leader, then attendance buttons."""

from __future__ import annotations

from telegram import Update

from handlers.context import WulinContext
from handlers.ui import edit_markup, keyboard, parse_callback, refuse_callback, reply
from storage import meetings
from storage.models import MeetingOccurrence


async def minutes_command(update: Update, context: WulinContext) -> None:
    """/minutes TEXT: minutes of the latest meeting, then attendance buttons."""
    actor = context.actor
    if actor is None or not actor.leads_grids:
        await reply(update, context.t("mt.not_leader"))
        return
    text = " ".join(context.args or []).strip()
    if not text:
        await reply(update, context.t("mt.minutes.usage"))
        return
    async with context.db.begin() as session:
        occ = await meetings.latest_held(
            session=session, grid_id=actor.leads_grids[0], today=context.today()
        )
        if occ is None:
            await reply(update, context.t("mt.minutes.none"))
            return
        await meetings.record_minutes(
            session=session, occurrence_id=occ.id, text=text[:3000], now=context.clock.now()
        )
        people = await meetings.attendees(
            session=session, occurrence_id=occ.id, grid_id=occ.grid_id
        )
    await reply(
        update,
        context.t("mt.minutes.saved", day=occ.day),
        reply_markup=_attendance(context, occ.id, people),
    )


def _attendance(context: WulinContext, occurrence_id: int, people: list[meetings.Attendee]):  # type: ignore[no-untyped-def]
    rows = []
    for p in people:
        present = p.attended if p.attended is not None else p.answer == "yes"
        state = context.t("mt.attend.present" if present else "mt.attend.absent")
        rows.append(
            [
                (
                    context.t("mt.attend.toggled", name=p.name or "?", state=state),
                    f"mt:a:{occurrence_id}:{p.person_id}",
                )
            ]
        )
    return keyboard(rows)


async def attendance_button(update: Update, context: WulinContext) -> None:
    """``mt:a:<occurrence>:<person>``: the grid leader toggles who attended."""
    query, actor = update.callback_query, context.actor
    match = parse_callback(query.data if query else None, "mt", r"a:(\d{1,10}):(\d{1,10})")
    if query is None or match is None or actor is None:
        await refuse_callback(update, context)
        return
    async with context.db.begin() as session:
        occ = await session.get(MeetingOccurrence, int(match[1]))
        squad = (
            {pid for pid, _ in await meetings.squad(session=session, grid_id=occ.grid_id)}
            if occ
            else set()
        )
        if occ is None or occ.grid_id not in actor.leads_grids or int(match[2]) not in squad:
            await refuse_callback(update, context, "common.not_allowed")
            return
        people = await meetings.attendees(
            session=session, occurrence_id=occ.id, grid_id=occ.grid_id
        )
        person = next(p for p in people if p.person_id == int(match[2]))
        if person.attended is None and person.answer == "yes":
            await meetings.toggle_attendance(
                session=session,
                occurrence_id=occ.id,
                person_id=person.person_id,
                now=context.clock.now(),
            )  # implicit "present" made explicit
        await meetings.toggle_attendance(
            session=session,
            occurrence_id=occ.id,
            person_id=person.person_id,
            now=context.clock.now(),
        )
        people = await meetings.attendees(
            session=session, occurrence_id=occ.id, grid_id=occ.grid_id
        )
    await query.answer()
    await edit_markup(query, _attendance(context, occ.id, people))
