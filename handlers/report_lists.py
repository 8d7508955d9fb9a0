"""Report lists: /myreports (resident), /reports (captain: open reports of the group,
oldest first, paginated) and /escalated (grid leader and admin: escalated and overdue,
paginated, with filters by status, category and group)."""

from __future__ import annotations

import math

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.context import WulinContext
from handlers.report_common import category_name, render_line
from handlers.ui import edit_markup, edit_text, keyboard, parse_callback, refuse_callback, reply
from storage import lifecycle as lc
from storage import report_queries as rq

PAGE = 5
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def myreports_command(update: Update, context: WulinContext) -> None:
    """/myreports: own and followed reports, newest first, each with a details button."""
    actor = context.actor
    if actor is None:
        await reply(update, context.t("rep.list.mine_empty"))
        return
    async with context.db.begin() as session:
        lines = await rq.my_reports(
            session=session, person_id=actor.person_id, limit=10, now=context.clock.now()
        )
    if not lines:
        await reply(update, context.t("rep.list.mine_empty"))
        return
    text = "\n\n".join(
        [
            context.t("rep.list.mine_title", count=len(lines)),
            *(render_line(context, ln) for ln in lines),
        ]
    )
    buttons = [(f"#{ln.id}", f"rep:v:{ln.id}") for ln in lines]
    await reply(
        update, text, reply_markup=keyboard([buttons[i : i + 5] for i in range(0, len(buttons), 5)])
    )


async def reports_command(update: Update, context: WulinContext) -> None:
    """/reports: the captain's open reports (page 1)."""
    await _group_page(update, context, 0, edit=False)


async def reports_page(update: Update, context: WulinContext) -> None:
    """Buttons ``rl:<offset>``."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "rl", r"(\d{1,7})")
    if query is None or match is None:
        await refuse_callback(update, context)
        return
    await query.answer()
    await _group_page(update, context, int(match[1]), edit=True)


async def _group_page(update: Update, context: WulinContext, offset: int, *, edit: bool) -> None:
    actor = context.actor
    groups = (actor.captain_of + actor.backup_of) if actor else ()
    if not groups:
        await reply(update, context.t("rep.list.not_staff"))
        return
    async with context.db.begin() as session:
        lines, total = await rq.group_open_reports(
            session=session, group_ids=groups, offset=offset, limit=PAGE, now=context.clock.now()
        )
    if total == 0:
        await reply(update, context.t("rep.list.group_empty"))
        return
    title = context.t(
        "rep.list.group_title", total=total, page=offset // PAGE + 1, pages=math.ceil(total / PAGE)
    )
    text = "\n\n".join([title, *(render_line(context, ln) for ln in lines)])
    markup = _page_markup(context, lines, offset, total, lambda o: f"rl:{o}")
    await _show(update, text, markup, edit=edit)


def _page_markup(
    context: WulinContext, lines: list[rq.ReportLine], offset: int, total: int, data
) -> InlineKeyboardMarkup:  # type: ignore[no-untyped-def]
    rows = [[(f"#{ln.id}", f"rep:v:{ln.id}") for ln in lines]]
    nav = []
    if offset > 0:
        nav.append((context.t("rep.btn.prev"), data(max(0, offset - PAGE))))
    if offset + PAGE < total:
        nav.append((context.t("rep.btn.next"), data(offset + PAGE)))
    if nav:
        rows.append(nav)
    return keyboard(rows)


async def _show(
    update: Update, text: str, markup: InlineKeyboardMarkup | None, *, edit: bool
) -> None:
    if edit and update.callback_query is not None:
        await edit_text(update.callback_query, text, reply_markup=markup)
    else:
        await reply(update, text, reply_markup=markup)


# --- /escalated with filters: "el:<offset>:<status>:<category>:<group>" (empty = any) ------
_EL = r"(\d{1,7}):([a-z_]{0,16}):([a-z0-9_]{0,24}):(\d{0,10})"


async def escalated_command(update: Update, context: WulinContext) -> None:
    """/escalated: escalated and overdue reports of the grid (admin: the community)."""
    await _escalated_page(update, context, 0, rq.Filters(), edit=False)


async def escalated_page(update: Update, context: WulinContext) -> None:
    """Buttons ``el:…`` (pages, filters) and ``ef:…`` (open a filter menu)."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "el", _EL)
    if query is None or match is None:
        await refuse_callback(update, context)
        return
    filters_ = rq.Filters(match[2] or None, match[3] or None, int(match[4]) if match[4] else None)
    if filters_.status and filters_.status not in lc.STATUSES:
        await refuse_callback(update, context)
        return
    await query.answer()
    await _escalated_page(update, context, int(match[1]), filters_, edit=True)


def _el(offset: int, f: rq.Filters) -> str:
    return f"el:{offset}:{f.status or ''}:{f.category or ''}:{f.group_id or ''}"


async def _escalated_page(
    update: Update, context: WulinContext, offset: int, f: rq.Filters, *, edit: bool
) -> None:
    actor = context.actor
    if actor is None or not (actor.leads_grids or actor.admin_of):
        await reply(update, context.t("rep.list.not_staff"))
        return
    async with context.db.begin() as session:
        lines, total = await rq.escalated_reports(
            session=session,
            grid_ids=actor.leads_grids,
            community_ids=actor.admin_of,
            filters=f,
            offset=offset,
            limit=PAGE,
            now=context.clock.now(),
        )
        group_label = None
        if f.group_id:  # only a group in the person's scope has a name to show here
            in_scope = await rq.scope_groups(
                session=session, grid_ids=actor.leads_grids, community_ids=actor.admin_of
            )
            group_label = dict(in_scope).get(f.group_id, f"#{f.group_id}")
    active = [
        context.t(f"status.{f.status}") if f.status else None,
        category_name(context, f.category) if f.category else None,
        group_label,
    ]
    what = "、".join(a for a in active if a)
    filters_text = context.t("rep.filter.active", what=what) if what else ""
    if total == 0:
        markup = (
            keyboard([[(context.t("rep.btn.filter_clear"), _el(0, rq.Filters()))]])
            if what
            else None
        )
        await _show(
            update, context.t("rep.list.escalated_empty", filters=filters_text), markup, edit=edit
        )
        return
    title = context.t(
        "rep.list.escalated_title",
        total=total,
        page=offset // PAGE + 1,
        pages=math.ceil(total / PAGE),
        filters=filters_text,
    )
    text = "\n\n".join([title, *(render_line(context, ln) for ln in lines)])
    markup = _page_markup(context, lines, offset, total, lambda o: _el(o, f))
    extra = [
        (context.t("rep.filter.status"), "ef:s:" + _el(0, f)[3:]),
        (context.t("rep.filter.category"), "ef:c:" + _el(0, f)[3:]),
        (context.t("rep.filter.group"), "ef:g:" + _el(0, f)[3:]),
    ]
    if what:
        extra.append((context.t("rep.btn.filter_clear"), _el(0, rq.Filters())))
    markup = InlineKeyboardMarkup([*markup.inline_keyboard, keyboard([extra]).inline_keyboard[0]])
    await _show(update, text, markup, edit=edit)


async def filter_menu(update: Update, context: WulinContext) -> None:
    """``ef:s:…`` / ``ef:c:…``: offer the values of one filter, keeping the others."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "ef", r"([scg]):" + _EL)
    if query is None or match is None:
        await refuse_callback(update, context)
        return
    await query.answer()
    current = rq.Filters(match[3] or None, match[4] or None, int(match[5]) if match[5] else None)
    kind = match[1]
    if kind == "s":
        values = [
            (context.t(f"status.{st}"), rq.Filters(st, current.category, current.group_id))
            for st in sorted(lc.OPEN)
        ]
    elif kind == "c":
        values = [
            (category_name(context, c), rq.Filters(current.status, c, current.group_id))
            for c in context.settings.report_categories
        ]
    else:
        actor = context.actor
        async with context.db.begin() as session:
            groups = await rq.scope_groups(
                session=session,
                grid_ids=actor.leads_grids if actor else (),
                community_ids=actor.admin_of if actor else (),
            )
        values = [
            (name, rq.Filters(current.status, current.category, gid)) for gid, name in groups[:30]
        ]
    buttons = [(label, _el(0, value)) for label, value in values]
    any_value = rq.Filters(
        None if kind == "s" else current.status,
        None if kind == "c" else current.category,
        None if kind == "g" else current.group_id,
    )
    buttons.append((context.t("rep.btn.filter_any"), _el(0, any_value)))
    await edit_markup(query, keyboard([buttons[i : i + 2] for i in range(0, len(buttons), 2)]))


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """List commands and their paging/filter buttons."""
    return [
        CommandHandler("myreports", myreports_command, filters=PRIVATE),
        CommandHandler("reports", reports_command, filters=PRIVATE),
        CommandHandler("escalated", escalated_command, filters=PRIVATE),
        CallbackQueryHandler(reports_page, pattern=r"^rl:"),
        CallbackQueryHandler(escalated_page, pattern=r"^el:"),
        CallbackQueryHandler(filter_menu, pattern=r"^ef:"),
    ]
