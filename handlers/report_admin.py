"""Captain and leader tools around reports: /away (hand the group to a stand-in),
/linkgroup (link the group's Telegram chat), /export (CSV) and /stats."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers.context import WulinContext
from handlers.report_common import category_name
from handlers.ui import reply
from storage import groups as group_svc
from storage import routing
from storage.report_stats import export_csv, report_stats

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE


#: Dates outside these years are typing errors (and 0001-01-01 or 9999-12-31 overflow
#: when turned into the day's bounds in the time zone).
YEARS = range(2000, 2101)


def parse_date(text: str) -> date | None:
    """``2026-12-05`` (also 2026/12/05, 2026.12.05) → date, else None (also outside YEARS)."""
    for sep in ("-", "/", "."):
        try:
            day = datetime.strptime(text.strip(), f"%Y{sep}%m{sep}%d").date()
        except ValueError:
            continue
        return day if day.year in YEARS else None
    return None


async def away_command(update: Update, context: WulinContext) -> None:
    """/away FROM TO | /away off | /away."""
    actor = context.actor
    if actor is None or not (actor.captain_of or actor.backup_of):
        await reply(update, context.t("rep.away.not_captain"))
        return
    today = context.clock.now().astimezone(context.settings.tz).date()
    args = context.args or []
    async with context.db.begin() as session:
        if not args:
            current = await routing.current_away(
                session=session, person_id=actor.person_id, today=today
            )
            text = (
                context.t("rep.away.show", start=current[0], end=current[1])
                if current
                else context.t("rep.away.none")
            )
        elif args[0].lower() in ("off", "cancel", "取消"):
            await routing.clear_away(session=session, person_id=actor.person_id, today=today)
            text = context.t("rep.away.cleared")
        else:
            start, end = (
                (parse_date(args[0]), parse_date(args[1])) if len(args) == 2 else (None, None)
            )
            if start is None or end is None:
                await reply(update, context.t("rep.usage.away"))
                return
            if end < start or end < today:
                await reply(update, context.t("rep.away.bad_dates"))
                return
            await routing.set_away(
                session=session,
                group_ids=actor.captain_of or actor.backup_of,  # away is the person's
                person_id=actor.person_id,
                starts=max(start, today),
                ends=end,
                now=context.clock.now(),
            )
            if actor.captain_of:
                # Who will really stand in on the first day (the backup may be away or unbound).
                first = [
                    await routing.responsible_for(
                        session=session, group_id=g, today=max(start, today)
                    )
                    for g in actor.captain_of
                ]
                backup = all(r.role == "backup" for r in first)
                who = context.t("rep.away.stand_in.backup" if backup else "rep.away.stand_in.grid")
                text = context.t("rep.away.set", start=max(start, today), end=end, who=who)
            else:  # only a backup: the captain stays in charge; no stand-in work comes to them
                text = context.t("rep.away.set_backup", start=max(start, today), end=end)
    await reply(update, text)


async def linkgroup_command(update: Update, context: WulinContext) -> None:
    """/linkgroup inside a group chat, sent by the captain: post summaries there."""
    chat, actor = update.effective_chat, context.actor
    if chat is None:
        return
    if chat.type == "private":
        await reply(update, context.t("rep.link.private"))
        return
    if actor is None or not actor.captain_of:
        await reply(update, context.t("rep.link.not_captain"))
        return
    async with context.db.begin() as session:
        outcome = await group_svc.link_chat(
            session=session, group_id=actor.captain_of[0], chat_id=chat.id
        )
    key = "rep.link.done" if outcome.linked else "rep.link.taken"
    await reply(update, context.t(key, group=outcome.group))


async def export_command(update: Update, context: WulinContext) -> None:
    """/export [FROM TO]: a CSV of the grid's (admin: community's) reports, default 30 days."""
    actor = context.actor
    if actor is None or not (actor.leads_grids or actor.admin_of):
        await reply(update, context.t("rep.list.not_staff"))
        return
    tz = context.settings.tz
    today = context.clock.now().astimezone(tz).date()
    args = context.args or []
    if args:
        start_d, end_d = (
            (parse_date(args[0]), parse_date(args[1])) if len(args) == 2 else (None, None)
        )
        if start_d is None or end_d is None or end_d < start_d:
            await reply(update, context.t("rep.export.usage"))
            return
    else:
        start_d, end_d = today - timedelta(days=30), today
    start = datetime.combine(start_d, time(), tz)
    end = datetime.combine(end_d + timedelta(days=1), time(), tz)
    async with context.db.begin() as session:
        text, count = await export_csv(
            session=session,
            grid_ids=actor.leads_grids,
            community_ids=actor.admin_of,
            start=start,
            end=end,
            tz=tz,
        )
    scope = "community" if actor.admin_of else "grid"
    caption = context.t("rep.export.caption", scope=scope, start=start_d, end=end_d, count=count)
    document = io.BytesIO(text.encode("utf-8"))
    await update.effective_message.reply_document(
        document, filename=f"reports-{start_d}-{end_d}.csv", caption=caption, do_quote=False
    )


async def stats_command(update: Update, context: WulinContext) -> None:
    """/stats: counts by status and category, per-group medians (last 90 days)."""
    actor = context.actor
    if actor is None or not (actor.leads_grids or actor.admin_of or actor.captain_of):
        await reply(update, context.t("rep.list.not_staff"))
        return
    since = context.clock.now() - timedelta(days=90)
    async with context.db.begin() as session:
        stats = await report_stats(
            session=session, grid_ids=actor.leads_grids, community_ids=actor.admin_of, since=since
        )
    t = context.t
    if not stats.groups:
        await reply(update, t("rep.stats.none"))
        return
    sep = "、" if context.lang == "zh" else ", "
    statuses = sep.join(f"{t(f'status.{s}')} {n}" for s, n in sorted(stats.by_status.items()))
    categories = sep.join(
        f"{category_name(context, c)} {n}" for c, n in sorted(stats.by_category.items())
    )

    def hours(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}h"

    lines = [
        t("rep.stats.title", scope=t("level.2") if actor.admin_of else t("level.1")),
        t("rep.stats.status", lines=statuses),
        t("rep.stats.category", lines=categories),
        "",
    ]
    lines += [
        t(
            "rep.stats.group",
            group=g.group,
            total=g.total,
            open=g.open,
            ack=hours(g.median_ack_hours),
            resolve=hours(g.median_resolve_hours),
        )
        for g in stats.groups
    ]
    await reply(update, "\n".join(lines))


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Report admin commands."""
    return [
        CommandHandler("away", away_command, filters=PRIVATE),
        CommandHandler("linkgroup", linkgroup_command, filters=GROUPS | PRIVATE),
        CommandHandler("export", export_command, filters=PRIVATE),
        CommandHandler("stats", stats_command, filters=PRIVATE),
    ]
