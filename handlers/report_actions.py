"""Acting on a report: buttons ``rep:<verb>:<id>`` and the commands /ack, /resolve, /reject
and /escalate, with a short "type the note" step where a reason is needed; the detail view;
the resident's fixed / not fixed, withdraw, add information and category correction.

Every press reloads the report and asks the policy (forged or replayed buttons get a polite
refusal); the work itself is ``storage.report_flow.perform``.
"""

from __future__ import annotations

import logging
import re

from telegram import InputMediaPhoto, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.context import WulinContext
from handlers.report_common import (
    VERBS,
    category_name,
    parse_report_callback,
    render_detail,
    render_outcome,
    report_config,
)
from handlers.ui import (
    FLOW_TIMEOUT,
    edit_markup,
    edit_text,
    fits_id,
    keyboard,
    parse_callback,
    refuse_callback,
    reply,
)
from storage import lifecycle as lc
from storage import policy, report_flow, report_queries
from storage import reports as svc

log = logging.getLogger(__name__)

AWAIT_NOTE = 30
PENDING = "report_pending_action"
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
NOTE_MAX = 500


async def _run(
    update: Update,
    context: WulinContext,
    action: str,
    report_id: int,
    *,
    note: str | None = None,
    photo: str | None = None,
) -> None:
    async with context.db.begin() as session:
        result = await report_flow.perform(
            session=session,
            actor=context.actor,
            report_id=report_id,
            action=action,
            now=context.clock.now(),
            config=report_config(context),
            note=note,
            photo=photo,
        )
    if result.outcome in ("not_found", "forbidden"):
        log.info(
            "refused %s on report %s for %s: %s",
            action,
            report_id,
            context.actor.person_id if context.actor else None,
            result.outcome,
        )
    if result.outcome == "done":
        context.wake_outbox()
    await reply(update, render_outcome(context, action, result))


async def report_button(update: Update, context: WulinContext) -> int:
    """``rep:<verb>:<id>``: act at once, or ask for the note first."""
    query = update.callback_query
    parsed = parse_report_callback(query.data if query else None)
    if query is None or parsed is None:
        await refuse_callback(update, context)
        return ConversationHandler.END
    verb, report_id, arg = parsed
    if verb == "v":
        await query.answer()
        await show_detail(update, context, report_id)
        return ConversationHandler.END
    if verb == "wdy":
        await query.answer()
        await edit_markup(query, None)
        await _run(update, context, "withdraw", report_id)
        return ConversationHandler.END
    action = (
        "fixed" if (verb, arg) == ("fix", "y") else "not_fixed" if verb == "fix" else VERBS[verb]
    )
    async with context.db.begin() as session:
        check = await report_flow.precheck(
            session=session, actor=context.actor, report_id=report_id, action=action
        )
    if check.outcome != "ok":
        await query.answer()
        await reply(update, render_outcome(context, action, check))
        return ConversationHandler.END
    await query.answer()
    if action == "withdraw":
        markup = keyboard(
            [
                [
                    (context.t("common.yes"), f"rep:wdy:{report_id}"),
                    (context.t("common.no"), "rep:none"),
                ]
            ]
        )
        await reply(update, context.t("rep.confirm_withdraw", id=report_id), reply_markup=markup)
        return ConversationHandler.END
    if action in report_flow.NEEDS_NOTE:
        context.user_data[PENDING] = (action, report_id)
        await reply(update, context.t(f"rep.ask_note.{action}"))
        return AWAIT_NOTE
    if action == "fixed":
        await edit_markup(query, None)
    await _run(update, context, action, report_id)
    return ConversationHandler.END


async def receive_note(update: Update, context: WulinContext) -> int:
    """The note (or, for added information, a photo) of the pending action."""
    pending = context.user_data.pop(PENDING, None)
    message = update.effective_message
    if pending is None or message is None:
        return ConversationHandler.END
    action, report_id = pending
    photo = message.photo[-1].file_id if message.photo and action == "add_info" else None
    note = (message.text or message.caption or "").strip()[:NOTE_MAX] or None
    if note is None and photo is None:
        context.user_data[PENDING] = pending
        await reply(update, context.t("rep.note_empty"))
        return AWAIT_NOTE
    await _run(update, context, action, report_id, note=note, photo=photo)
    return ConversationHandler.END


async def cancel_note(update: Update, context: WulinContext) -> int:
    """/cancel while a note is expected."""
    context.user_data.pop(PENDING, None)
    await reply(update, context.t("common.cancelled"))
    return ConversationHandler.END


_ARGS = re.compile(r"#?(\d{1,10})(?:\s+(.+))?", re.S)


async def action_command(update: Update, context: WulinContext) -> None:
    """/ack N, /resolve N NOTE, /reject N REASON, /escalate N REASON."""
    message = update.effective_message
    command = (message.text or "").split()[0].lstrip("/").split("@")[0].lower() if message else ""
    action = {"ack": "ack", "resolve": "resolve", "reject": "reject", "escalate": "escalate"}[
        command
    ]
    raw = (message.text or "").partition(" ")[2].strip() if message else ""
    match = _ARGS.fullmatch(raw)
    needs_note = action != "ack"
    if match is None or (needs_note and not (match[2] or "").strip()):
        await reply(update, context.t(f"rep.usage.{command}"))
        return
    if not fits_id(match[1]):  # no report has that number: the same answer as for a foreign one
        await reply(update, context.t("rep.not_found", id=match[1]))
        return
    await _run(
        update, context, action, int(match[1]), note=(match[2] or "").strip()[:NOTE_MAX] or None
    )


async def show_detail(update: Update, context: WulinContext, report_id: int) -> None:
    """The report with history; photos; the buttons this person may use now."""
    actor = context.actor
    async with context.db.begin() as session:
        report = await svc.get_report(session=session, report_id=report_id)
        follower = bool(report and actor) and await svc.is_follower(
            session=session, report_id=report_id, person_id=actor.person_id
        )
        allowed = (
            policy.allowed_actions(actor, svc.ref(report), is_follower=follower)
            if report
            else frozenset()
        )
        detail = (
            await report_queries.report_detail(
                session=session, report_id=report_id, now=context.clock.now()
            )
            if policy.VIEW in allowed
            else None
        )
    if detail is None or report is None:
        await reply(update, context.t("rep.not_found", id=report_id))
        return
    staff = bool(allowed & {policy.ACK, policy.RESOLVE, policy.SEND_BACK})
    if len(detail.photos) == 1:  # Telegram albums need 2–10 items
        await context.bot.send_photo(update.effective_chat.id, detail.photos[0])
    elif detail.photos:
        await context.bot.send_media_group(
            update.effective_chat.id, [InputMediaPhoto(p) for p in detail.photos[:10]]
        )
    await reply(
        update,
        render_detail(context, detail, staff=staff),
        reply_markup=_detail_buttons(context, report, allowed),
    )


def _detail_buttons(context: WulinContext, report: svc.Report, allowed: frozenset[str]):  # type: ignore[no-untyped-def]
    t, rid = context.t, report.id
    options = [
        (policy.ACK, report.status in lc.UNACKNOWLEDGED, "rep.btn.ack", "ack"),
        (
            policy.PROGRESS,
            report.status in (lc.NEW, lc.ACKNOWLEDGED, lc.REOPENED),
            "rep.btn.progress",
            "prog",
        ),
        (policy.RESOLVE, report.status in lc.OPEN, "rep.btn.resolve", "res"),
        (policy.REJECT, report.status in lc.OPEN, "rep.btn.reject", "rej"),
        (
            policy.ESCALATE,
            report.status in lc.OPEN and report.level == lc.CAPTAIN,
            "rep.btn.escalate",
            "esc",
        ),
        (
            policy.ESCALATE_UP,
            report.status in lc.OPEN and report.level < lc.COMMUNITY,
            "rep.btn.escalate_up",
            "up",
        ),
        (
            policy.SEND_BACK,
            report.status in lc.OPEN and report.level > lc.CAPTAIN,
            "rep.btn.send_back",
            "back",
        ),
        (policy.ADD_INFO, report.status not in lc.FINAL, "rep.btn.add_info", "add"),
        (policy.WITHDRAW, report.status in lc.OPEN, "rep.btn.withdraw", "wd"),
        (policy.FOLLOW, report.status in lc.OPEN, "rep.btn.follow", "dup"),
    ]
    buttons = [
        (t(label), f"rep:{verb}:{rid}")
        for action, ok, label, verb in options
        if ok and action in allowed
    ]
    if policy.CONFIRM in allowed and report.status == lc.RESOLVED:
        buttons += [
            (t("rep.btn.fixed"), f"rep:fix:{rid}:y"),
            (t("rep.btn.not_fixed"), f"rep:fix:{rid}:n"),
        ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return keyboard(rows) if rows else None


async def change_category_button(update: Update, context: WulinContext) -> None:
    """``rep:cat:<id>:<code>``: the reporter corrects a guessed category."""
    query, actor = update.callback_query, context.actor
    match = parse_callback(
        query.data if query else None, "rep", r"cat:(\d{1,10}):([a-z0-9_]{1,24})"
    )
    if (
        query is None
        or match is None
        or actor is None
        or match[2] not in context.settings.report_categories
    ):
        await refuse_callback(update, context)
        return
    config = report_config(context)
    async with context.db.begin() as session:
        report = await svc.get_report(session=session, report_id=int(match[1]), lock=True)
        allowed = report is not None and policy.can(actor, policy.ADD_INFO, svc.ref(report))
        changed = allowed and await svc.change_category(
            session=session,
            report=report,
            actor_id=actor.person_id,
            category=match[2],
            now=context.clock.now(),
            deadlines=config.deadlines(match[2]),
        )
    if not changed:
        await refuse_callback(update, context)
        return
    await query.answer()
    report_id = int(match[1])
    done = context.t("rep.done.category", id=report_id, category=category_name(context, match[2]))
    # The buttons sat under the "filed" message of a one-shot: keep what it said.
    await edit_text(query, f"{context.t('rep.filed', id=report_id)}\n\n{done}")


async def dismiss(update: Update, context: WulinContext) -> None:
    """``rep:none``: the "no" of a confirmation."""
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit_text(update.callback_query, context.t("common.cancelled"))


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Report action buttons and commands (private chats)."""
    conversation = ConversationHandler(
        entry_points=[CallbackQueryHandler(report_button, pattern=r"^rep:(?!cat:|none$)")],
        states={
            AWAIT_NOTE: [
                MessageHandler(
                    (filters.TEXT & ~filters.COMMAND | filters.PHOTO) & PRIVATE, receive_note
                ),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_note, filters=PRIVATE),
            CallbackQueryHandler(report_button, pattern=r"^rep:(?!cat:|none$)"),
        ],
        name="report_actions",
        allow_reentry=True,
        persistent=True,
        conversation_timeout=FLOW_TIMEOUT,
    )
    return [
        conversation,
        CallbackQueryHandler(change_category_button, pattern=r"^rep:cat:"),
        CallbackQueryHandler(dismiss, pattern=r"^rep:none$"),
        CommandHandler(["ack", "resolve", "reject", "escalate"], action_command, filters=PRIVATE),
    ]
