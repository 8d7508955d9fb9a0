"""Shared pieces of the report handlers: the config from settings, callback parsing, and
rendering of lines, details and action outcomes in the reader's language."""

from __future__ import annotations

import re
from datetime import datetime

from telegram import InlineKeyboardMarkup

from handlers.context import WulinContext
from handlers.ui import fits_id, keyboard
from storage import lifecycle as lc
from storage.report_flow import ActionResult, ReportConfig
from storage.report_queries import EventLine, ReportDetail, ReportLine

#: Short callback verbs ↔ report_flow actions.  ``rep:<verb>:<id>[:arg]``, at most 64 bytes.
VERBS = {
    "ack": "ack", "prog": "progress", "res": "resolve", "rej": "reject", "esc": "escalate",
    "up": "escalate_up", "back": "send_back", "wd": "withdraw", "add": "add_info", "dup": "follow",
}  # fmt: skip
CALLBACK = re.compile(
    r"rep:(ack|prog|res|rej|esc|up|back|wd|add|dup|v|fix|wdy):(\d{1,10})(?::([yn]))?"
)


def parse_report_callback(data: str | None) -> tuple[str, int, str | None] | None:
    """``rep:ack:12`` → ("ack", 12, None); ``rep:fix:12:y`` → ("fix", 12, "y"); else None."""
    if not data or len(data) > 64:
        return None
    match = CALLBACK.fullmatch(data)
    if match is None or not fits_id(match[2]):
        return None
    return match[1], int(match[2]), match[3]


def report_config(context: WulinContext) -> ReportConfig:
    """Report settings as plain values for the services."""
    return ReportConfig.from_settings(context.settings)


def category_name(context: WulinContext, code: str) -> str:
    """A category's name in the reader's language."""
    zh, en = context.settings.report_categories.get(code, (code, code))
    return en if context.lang == "en" else zh


def local(context: WulinContext, moment: datetime | None) -> str:
    """A time as ``MM-DD HH:MM`` in the configured zone."""
    return moment.astimezone(context.settings.tz).strftime("%m-%d %H:%M") if moment else "-"


def excerpt(text: str, limit: int = 40) -> str:
    """The start of a description on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_line(context: WulinContext, line: ReportLine) -> str:
    """One report in a list."""
    t = context.t
    return t(
        "rep.list.line",
        id=line.id,
        status=t(f"status.{line.status}"),
        overdue=t("rep.list.overdue") if line.overdue and line.status in lc.OPEN else "",
        category=category_name(context, line.category),
        group=line.group,
        where=f" {line.building}" if line.building else "",
        created=local(context, line.created_at),
        excerpt=excerpt(line.description),
        supporters=t("rep.list.supporters", n=line.supporters) if line.supporters else "",
    )


def render_detail(context: WulinContext, detail: ReportDetail, *, staff: bool) -> str:
    """A report with its history, for someone allowed to view it.

    ``staff`` (the captains, grid leader and admins who handle it) see everything: the
    reporter's name and phone, the unit, the pin and who did what. The reporter sees their
    own unit and pin; a neighbour following the report (+1) sees neither, and in the history
    other residents are "the reporter" or "a neighbour", never named.
    """
    t, line = context.t, detail.line
    viewer = context.actor.person_id if context.actor else None
    home = staff or viewer == detail.reporter_id  # the unit and pin are the reporter's home
    where = " ".join(p for p in (line.building, detail.unit if home else None) if p) or "-"
    if home and detail.latitude is not None and detail.longitude is not None:
        where += f" 📍{detail.latitude:.5f},{detail.longitude:.5f}"
    text = t(
        "rep.detail",
        id=line.id,
        category=category_name(context, line.category),
        status=t(f"status.{line.status}"),
        level=t(f"level.{line.level}"),
        overdue=t("rep.list.overdue") if line.overdue and line.status in lc.OPEN else "",
        group=line.group,
        where=where,
        created=local(context, line.created_at),
        supporters=line.supporters,
        description=line.description,
    )
    if staff:
        reporter = " ".join(p for p in (detail.reporter_name, detail.reporter_phone) if p) or "-"
        text += t("rep.detail.reporter", reporter=reporter)
    lines = [
        _event(context, e, _actor(context, detail, e, viewer, staff)) for e in detail.events[-15:]
    ]
    return text + t("rep.detail.history", lines="\n".join(lines))


def _actor(
    context: WulinContext, detail: ReportDetail, event: EventLine, viewer: int | None, staff: bool
) -> str:
    """Who did it, as this viewer may know: residents are named only to staff and to
    themselves; the people handling the report are named to everyone who may view it."""
    if event.actor_id is None or event.actor is None:
        return context.t("rep.event.system")
    if staff or event.actor_id == viewer:
        return event.actor
    if event.actor_id == detail.reporter_id:
        return context.t("rep.event.the_reporter")
    if event.kind == "follow":
        return context.t("rep.event.a_neighbour")
    return event.actor


def _event(context: WulinContext, event: EventLine, actor: str) -> str:
    t = context.t
    if event.kind in ("status", "auto_close"):
        what = t("rep.event.status", status=t(f"status.{event.to_status}"))
    elif event.kind in ("escalate", "overdue", "send_back"):
        what = t(f"rep.event.{event.kind}", level=t(f"level.{event.to_level}"))
    else:
        what = (
            t(f"rep.event.{event.kind}")
            if event.kind in ("created", "follow", "info", "photo")
            else event.kind
        )
    shown = event.note
    if event.kind == "overdue" and event.note in ("ack", "resolve"):
        shown = t(f"rep.overdue.{event.note}")
    elif event.kind == "category" and event.note:
        shown = category_name(context, event.note)
    note = t("rep.note_line", note=excerpt(shown, 120)).replace("\n", " ") if shown else ""
    return t("rep.detail.event", at=local(context, event.at), actor=actor, what=what, note=note)


def render_outcome(context: WulinContext, action: str, result: ActionResult) -> str:
    """The reply to the person who acted."""
    t = context.t
    status = t(f"status.{result.status}") if result.status else ""
    if result.outcome == "done":
        key = {"follow": "rep.followed"}.get(action, f"rep.done.{action}")
        return t(key, id=result.report_id)
    if result.outcome == "already":
        if action == "follow":
            return t("rep.already_following", id=result.report_id)
        return t("rep.already", id=result.report_id, status=status)
    if result.outcome == "illegal":
        return t("rep.illegal", id=result.report_id, status=status)
    if result.outcome == "forbidden":
        return t("common.not_allowed")
    return t("rep.not_found", id=result.report_id)


def captain_markup(context: WulinContext, report_id: int) -> InlineKeyboardMarkup:
    """The captain's action buttons for one report."""
    t = context.t
    return keyboard(
        [
            [
                (t("rep.btn.ack"), f"rep:ack:{report_id}"),
                (t("rep.btn.progress"), f"rep:prog:{report_id}"),
            ],
            [
                (t("rep.btn.resolve"), f"rep:res:{report_id}"),
                (t("rep.btn.reject"), f"rep:rej:{report_id}"),
            ],
            [(t("rep.btn.escalate"), f"rep:esc:{report_id}")],
        ]
    )
