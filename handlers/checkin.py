"""Daily check-in from the captain's side (reminder buttons, /checkin) and its settings:
/checkins (grid leader: rates), /holiday and /schedule (community admin)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.context import WulinContext
from handlers.ui import FLOW_TIMEOUT, edit_markup, keyboard, parse_callback, refuse_callback, reply
from scheduler.calendar import calendar_knows
from scheduler.jobs import register_jobs
from scheduler.planning import parse_day
from scheduler.reminders import catch_up, default_schedule
from scheduler.workdays import grid_days
from settings import parse_hhmm
from storage import checkins
from storage.profile import grid_names

AWAIT_CI_NOTE = 40
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
NOTE_MAX = 300


def _may_check_in(context: WulinContext) -> bool:
    actor = context.actor
    return actor is not None and bool(actor.captain_of or actor.backup_of or actor.leads_grids)


def _buttons(context: WulinContext, day: date):  # type: ignore[no-untyped-def]
    stamp = day.strftime("%Y%m%d")
    t = context.t
    return keyboard(
        [
            [(t("ci.btn.ok"), f"ci:ok:{stamp}")],
            [(t("ci.btn.issue"), f"ci:issue:{stamp}"), (t("ci.btn.leave"), f"ci:leave:{stamp}")],
        ]
    )


async def _record(update: Update, context: WulinContext, status: str, note: str | None) -> None:
    actor = context.actor
    assert actor is not None
    async with context.db.begin() as session:
        previous = await checkins.record_checkin(
            session=session,
            person_id=actor.person_id,
            day=context.today(),
            status=status,
            note=note,
            now=context.clock.now(),
        )
    text = context.t(f"ci.done.{status}", note=note or "")
    if previous is not None and previous != status:
        text += "\n" + context.t("ci.changed")
    await reply(update, text)


async def checkin_command(update: Update, context: WulinContext) -> int:
    """/checkin [NOTE]: check in now (with a note), or choose with buttons."""
    if not _may_check_in(context):
        await reply(update, context.t("ci.not_captain"))
        return ConversationHandler.END
    note = " ".join(context.args or []).strip()[:NOTE_MAX]
    if note:
        await _record(update, context, "ok", note)
        return ConversationHandler.END
    await reply(update, context.t("ci.choose"), reply_markup=_buttons(context, context.today()))
    return ConversationHandler.END


async def checkin_button(update: Update, context: WulinContext) -> int:
    """``ci:<ok|issue|leave>:<YYYYMMDD>``: only today's buttons count."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "ci", r"(ok|issue|leave):(\d{8})")
    if query is None or match is None or not _may_check_in(context):
        await refuse_callback(update, context, "ci.not_captain" if match else "common.expired")
        return ConversationHandler.END
    try:
        stamp = datetime.strptime(match[2], "%Y%m%d").date()
    except ValueError:  # forged: eight digits that are no date
        await refuse_callback(update, context)
        return ConversationHandler.END
    await query.answer()
    if stamp != context.today():
        await reply(update, context.t("ci.expired", date=stamp.strftime("%m-%d")))
        return ConversationHandler.END
    await edit_markup(query, None)
    if match[1] == "issue":
        await reply(update, context.t("ci.ask_note"))
        return AWAIT_CI_NOTE
    await _record(update, context, match[1], None)
    return ConversationHandler.END


async def checkin_note(update: Update, context: WulinContext) -> int:
    """The note of "有情况"."""
    text = (
        (update.effective_message.text or "").strip()[:NOTE_MAX] if update.effective_message else ""
    )
    if not text:
        await reply(update, context.t("rep.note_empty"))
        return AWAIT_CI_NOTE
    await _record(update, context, "issue", text)
    return ConversationHandler.END


async def cancel(update: Update, context: WulinContext) -> int:
    """/cancel while a check-in note is expected."""
    await reply(update, context.t("common.cancelled"))
    return ConversationHandler.END


async def checkins_command(update: Update, context: WulinContext) -> None:
    """/checkins [DAYS]: each captain's check-in rate over the last DAYS days (default 7)."""
    actor = context.actor
    if actor is None or not actor.leads_grids:
        await reply(update, context.t("ci.rates.not_leader"))
        return
    args = context.args or []
    # isdigit() alone lets "²" through, which int() refuses.
    if args and not (args[0].isascii() and args[0].isdigit() and 1 <= int(args[0]) <= 90):
        await reply(update, context.t("ci.rates.usage"))
        return
    days = int(args[0]) if args else 7
    today = context.today()
    async with context.db.begin() as session:
        # Each grid counts its own community's days (holidays, every day or not).
        by_grid = await grid_days(
            session=session,
            default=default_schedule(context.settings),
            grid_ids=actor.leads_grids,
            start=today - timedelta(days=days - 1),
            end=today,
        )
        names = await grid_names(session=session, ids=actor.leads_grids)
        parts = []
        for grid_id, name in zip(actor.leads_grids, names, strict=False):
            workdays = by_grid.get(grid_id, [])
            rows = await checkins.rates(session=session, grid_id=grid_id, days=workdays)
            lines = [
                context.t(
                    "ci.rates.line",
                    name=n or "?",
                    done=d,
                    total=k,
                    rate=round(100 * d / k) if k else 0,
                )
                for n, d, k in rows
            ]
            parts.append(
                "\n".join(
                    [
                        context.t("ci.rates.title", grid=name, days=days, workdays=len(workdays)),
                        *lines,
                    ]
                )
            )
    await reply(update, "\n\n".join(parts))


async def holiday_command(update: Update, context: WulinContext) -> None:
    """/holiday add|remove DATE (admin), or /holiday to list."""
    actor = context.actor
    if actor is None or not actor.admin_of:
        await reply(update, context.t("holiday.not_admin"))
        return
    args = context.args or []
    today = context.today()
    if not args:
        async with context.db.begin() as session:
            rows = await checkins.list_overrides(
                session=session, community_id=actor.admin_of[0], since=today
            )
        year = today.year + 1
        beyond = (
            "" if calendar_knows(date(year, 12, 31)) else context.t("holiday.beyond", year=year)
        )
        if not rows:
            await reply(update, context.t("holiday.list.none", beyond=beyond))
            return
        lines = "\n".join(
            context.t("holiday.line", day=d, what=context.t("holiday.on" if w else "holiday.off"))
            for d, w in rows
        )
        await reply(update, context.t("holiday.list", lines=lines))
        return
    try:
        if len(args) != 2 or args[0] not in ("add", "remove"):
            raise ValueError("usage")
        day = parse_day(args[1])
    except ValueError:
        await reply(update, context.t("holiday.usage"))
        return
    working = args[0] == "remove"
    async with context.db.begin() as session:
        for community_id in actor.admin_of:
            await checkins.set_override(
                session=session,
                community_id=community_id,
                day=day,
                working=working,
                now=context.clock.now(),
            )
    if day == today:  # today became a working day: its reminders, if still in their window
        await catch_up(context, communities=set(actor.admin_of))
    await reply(update, context.t("holiday.removed" if working else "holiday.added", day=day))


async def schedule_command(update: Update, context: WulinContext) -> None:
    """/schedule [checkin|nudge|summary HH:MM | everyday on|off] (admin)."""
    actor = context.actor
    if actor is None or not actor.admin_of:
        await reply(update, context.t("holiday.not_admin"))
        return
    args = context.args or []
    community_id = actor.admin_of[0]
    async with context.db.begin() as session:
        current = (
            await checkins.schedules(session=session, default=default_schedule(context.settings))
        )[community_id]
    if args:
        try:
            current = _changed(current, args)
        except ValueError as exc:
            await reply(
                update, context.t("schedule.bad_order" if str(exc) == "order" else "schedule.usage")
            )
            return
        async with context.db.begin() as session:
            for cid in actor.admin_of:
                await checkins.set_schedule(
                    session=session, community_id=cid, schedule=current, now=context.clock.now()
                )
        await register_jobs(context.application)
        # A time moved to before now would wait until tomorrow: today's goes out now.
        await catch_up(context, communities=set(actor.admin_of))
    days = context.t("schedule.days.every" if current.every_day else "schedule.days.work")
    show = context.t(
        "schedule.show",
        checkin=current.checkin,
        nudge=current.nudge,
        summary=current.summary,
        days=days,
    )
    await reply(update, context.t("schedule.set", show=show) if args else show)


def _changed(current: checkins.Schedule, args: list[str]) -> checkins.Schedule:
    if len(args) != 2:
        raise ValueError("usage")
    what, value = args[0].lower(), args[1]
    if what == "everyday":
        if value.lower() not in ("on", "off"):
            raise ValueError("usage")
        return checkins.Schedule(
            current.checkin, current.nudge, current.summary, value.lower() == "on"
        )
    if what not in ("checkin", "nudge", "summary"):
        raise ValueError("usage")
    parsed = parse_hhmm(value)
    text = f"{parsed.hour:02d}:{parsed.minute:02d}"
    fields = {
        "checkin": current.checkin,
        "nudge": current.nudge,
        "summary": current.summary,
        what: text,
    }
    if not fields["checkin"] < fields["nudge"] < fields["summary"]:
        raise ValueError("order")
    return checkins.Schedule(
        fields["checkin"], fields["nudge"], fields["summary"], current.every_day
    )


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Check-in buttons and commands."""
    conversation = ConversationHandler(
        entry_points=[CallbackQueryHandler(checkin_button, pattern=r"^ci:")],
        states={
            AWAIT_CI_NOTE: [MessageHandler(filters.TEXT & ~filters.COMMAND & PRIVATE, checkin_note)]
        },
        fallbacks=[
            CommandHandler("cancel", cancel, filters=PRIVATE),
            CallbackQueryHandler(checkin_button, pattern=r"^ci:"),
        ],
        name="checkin",
        allow_reentry=True,
        persistent=True,
        conversation_timeout=FLOW_TIMEOUT,
    )
    return [
        conversation,
        CommandHandler("checkin", checkin_command, filters=PRIVATE),
        CommandHandler("checkins", checkins_command, filters=PRIVATE),
        CommandHandler("holiday", holiday_command, filters=PRIVATE),
        CommandHandler("schedule", schedule_command, filters=PRIVATE),
    ]
