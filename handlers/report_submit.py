"""Filing the drafted report: the "same as #N? +1" offer, creating the report and queuing
its notices in one transaction, and the category correction offered after a one-shot."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ConversationHandler

from faq.similar import similarity
from handlers.context import WulinContext
from handlers.report_common import category_name, excerpt, render_outcome, report_config
from handlers.report_draft import DUPLICATE, clear_draft, get_draft
from handlers.ui import edit_markup, keyboard, parse_callback, refuse_callback, reply
from storage import report_flow, report_queries
from storage import reports as svc
from storage.report_notices import Notices


async def open_similar(
    session: AsyncSession, context: WulinContext, group_id: int, category: str
) -> list[report_queries.Similar]:
    """The open reports of the group and category a new report could duplicate."""
    return await report_queries.open_in_category(
        session=session,
        group_id=group_id,
        category=category,
        since=context.clock.now() - timedelta(days=report_config(context).duplicate_days),
    )


async def submit(
    update: Update,
    context: WulinContext,
    *,
    guessed: bool,
    candidates: list[report_queries.Similar] | None = None,
) -> int:
    """File the draft, unless it looks like an open report (then offer to +1 that one).

    ``candidates``: the duplicate candidates when the caller already read them.
    """
    draft, actor = get_draft(context), context.actor
    if draft is None:
        await reply(update, context.t("rep.flow_expired"))
        return ConversationHandler.END
    if actor is None or actor.group_id is None:  # left (or forgotten) during the form
        clear_draft(context)
        await reply(update, context.t("rep.not_in_group_now"))
        return ConversationHandler.END
    config = report_config(context)
    now = context.clock.now()
    if candidates is None:
        async with context.reader.begin() as session:
            if draft.building_id is not None:
                # Moved to another group during the form: the building is the old group's.
                info = await report_queries.filing_info(session=session, person_id=actor.person_id)
                if info is None or draft.building_id not in {i for i, _ in info.buildings}:
                    clear_draft(context)
                    await reply(update, context.t("rep.group_changed"))
                    return ConversationHandler.END
            candidates = await open_similar(session, context, actor.group_id, draft.category or "")
    best = _best_duplicate(draft, candidates, config.duplicate_score)
    if best is not None and not context.user_data.get("report_force_new"):
        markup = keyboard(
            [
                [(context.t("rep.btn.follow"), f"rn:f:{best.id}")],
                [(context.t("rep.btn.file_new"), "rn:n")],
            ]
        )
        await reply(
            update,
            context.t(
                "rep.similar",
                id=best.id,
                where=best.building or "-",
                excerpt=excerpt(best.description, 60),
                supporters=best.supporters,
            ),
            reply_markup=markup,
        )
        context.user_data["report_guessed"] = guessed
        return DUPLICATE
    async with context.db.begin() as session:
        report = await svc.create_report(
            session=session,
            reporter_id=actor.person_id,
            group_id=actor.group_id,
            draft=draft,
            deadlines=config.deadlines(draft.category or ""),
            now=now,
        )
        await Notices(
            session=session, categories=config.categories, tz=config.tz, now=now
        ).new_report(report, photos=draft.photos)
    clear_draft(context)
    context.wake_outbox()
    filed = context.t("rep.filed", id=report.id)
    if not guessed:
        await reply(update, filed)
        return ConversationHandler.END
    # One message for a one-shot: the number, the guessed category and the buttons to fix it
    # (one reply fewer against Telegram's 30 messages a second).
    buttons = [
        (category_name(context, c), f"rep:cat:{report.id}:{c}")
        for c in context.settings.report_categories
        if c != report.category
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    guess = context.t("rep.guessed", category=category_name(context, report.category))
    await reply(update, f"{filed}\n\n{guess}", reply_markup=keyboard(rows))
    return ConversationHandler.END


def _best_duplicate(draft: svc.Draft, candidates: list[report_queries.Similar], threshold: float):  # type: ignore[no-untyped-def]
    best, best_score = None, threshold
    for candidate in candidates:
        if (
            draft.building_id
            and candidate.building_id
            and draft.building_id != candidate.building_id
        ):
            continue  # the same words about another building are another problem
        score = similarity(draft.description or "", candidate.description)
        if score >= best_score:
            best, best_score = candidate, score
    return best


async def duplicate_button(update: Update, context: WulinContext) -> int:
    """``rn:f:<id>``: +1 the existing report; ``rn:n``: file a new one anyway."""
    query, actor = update.callback_query, context.actor
    match = parse_callback(query.data if query else None, "rn", r"f:(\d{1,10})|n")
    if query is None or match is None or get_draft(context) is None or actor is None:
        await refuse_callback(update, context, "rep.flow_expired")
        return ConversationHandler.END
    await query.answer()
    await edit_markup(query, None)
    if match[1] is None:
        context.user_data["report_force_new"] = True
        return await submit(update, context, guessed=bool(context.user_data.get("report_guessed")))
    async with context.db.begin() as session:
        result = await report_flow.perform(
            session=session,
            actor=actor,
            report_id=int(match[1]),
            action="follow",
            now=context.clock.now(),
            config=report_config(context),
        )
    clear_draft(context)
    await reply(update, render_outcome(context, "follow", result))
    return ConversationHandler.END
