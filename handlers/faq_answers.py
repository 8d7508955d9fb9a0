"""Questions the FAQ could not answer, from the other side: the captain answers a forwarded
question (the answer reaches the resident), an admin promotes good answers into the
community's FAQ (/faqanswers) and reads what residents asked in vain (/unanswered)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
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
from handlers.faq import refresh_faq
from handlers.ui import FLOW_TIMEOUT, keyboard, parse_callback, refuse_callback, reply
from storage import faq_store, outbox
from storage.models import FaqQuestion, NeighbourGroup
from storage.profile import community_names

#: Telegram's limit is 4,096 characters (counted in UTF-16 units); a page stays below it
#: with room for the template around the texts.
PAGE_UNITS = 3900
#: An answer as sent and stored (the store keeps at most 2,000 characters): with a question
#: shortened to QUESTION_UNITS, the resident's message always fits.
ANSWER_UNITS = 2000
QUESTION_UNITS = 1000
AWAIT_ANSWER = 50
PENDING = "faq_answering"
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, units: int) -> str:
    """``text`` shortened (with "…") to at most ``units`` UTF-16 code units."""
    if _units(text) <= units:
        return text
    out, used = [], 1
    for ch in text:
        used += _units(ch)
        if used > units:
            break
        out.append(ch)
    return "".join(out) + "…"


def pages(blocks: list[str], sep: str, units: int = PAGE_UNITS) -> list[list[int]]:
    """Indices of ``blocks`` grouped into messages of at most ``units`` each (every block is
    assumed to fit on its own)."""
    out: list[list[int]] = []
    used = units + 1
    for i, block in enumerate(blocks):
        size = _units(block) + _units(sep)
        if used + size > units:
            out.append([])
            used = 0
        out[-1].append(i)
        used += size
    return out


async def _answerable(
    context: WulinContext, session: AsyncSession, question_id: int
) -> FaqQuestion | None:
    """The question, when the actor may answer it: a captain (or backup) of the asker's
    group, the leader of that group's grid, or an admin of its community; else None."""
    actor = context.actor
    question = await session.get(FaqQuestion, question_id)
    if actor is None or question is None:
        return None
    if question.group_id in actor.captain_of or question.group_id in actor.backup_of:
        return question
    if question.community_id in actor.admin_of:
        return question
    group = await session.get(NeighbourGroup, question.group_id)
    return question if group is not None and group.grid_id in actor.leads_grids else None


async def answer_button(update: Update, context: WulinContext) -> int:
    """``fq:ans:<question>``: ask the captain for the answer text."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "fq", r"ans:(\d{1,10})")
    if query is None or match is None:
        await refuse_callback(update, context)
        return ConversationHandler.END
    async with context.db.begin() as session:
        question = await _answerable(context, session, int(match[1]))
    if question is None:
        await refuse_callback(update, context, "common.not_allowed")
        return ConversationHandler.END
    await query.answer()
    if question.answered_at is not None:
        await reply(update, context.t("faq.answer.already"))
        return ConversationHandler.END
    context.user_data[PENDING] = question.id
    await reply(update, context.t("faq.answer.ask"))
    return AWAIT_ANSWER


async def receive_answer(update: Update, context: WulinContext) -> int:
    """The captain's answer: stored once, sent to the resident, admins told."""
    question_id = context.user_data.pop(PENDING, None)
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    actor = context.actor
    if question_id is None or actor is None:
        return ConversationHandler.END
    if not text:
        context.user_data[PENDING] = question_id
        await reply(update, context.t("rep.note_empty"))
        return AWAIT_ANSWER
    answer = fit(text, ANSWER_UNITS)
    now = context.clock.now()
    async with context.db.begin() as session:
        if await _answerable(context, session, question_id) is None:
            await reply(update, context.t("common.not_allowed"))
            return ConversationHandler.END
        row = await faq_store.answer_question(
            session=session, question_id=question_id, answer=answer, by=actor.person_id, now=now
        )
        if row is not None:
            await outbox.enqueue_to_person(
                session=session,
                person_id=row.asker_id,
                kind="faq_answer",
                now=now,
                payload={
                    "text": outbox.text(
                        "faq.answer.to_resident",
                        question=fit(row.question, QUESTION_UNITS),
                        answer=answer,
                    )
                },
            )
            for admin_id in await faq_store.admins_of(
                session=session, community_id=row.community_id
            ):
                await outbox.enqueue_to_person(
                    session=session,
                    person_id=admin_id,
                    kind="faq_answered",
                    now=now,
                    payload={"text": outbox.text("faq.answer.to_admin")},
                    dedup_key=f"{admin_id}:faq_answered:{now.date().isoformat()}",
                )
    if row is None:
        await reply(update, context.t("faq.answer.already"))
        return ConversationHandler.END
    context.wake_outbox()
    sent = context.t("faq.answer.sent")
    if answer != text:
        sent += "\n" + context.t("faq.answer.trimmed", limit=ANSWER_UNITS)
    await reply(update, sent)
    return ConversationHandler.END


async def cancel(update: Update, context: WulinContext) -> int:
    """/cancel while an answer is expected."""
    context.user_data.pop(PENDING, None)
    await reply(update, context.t("common.cancelled"))
    return ConversationHandler.END


async def faqanswers_command(update: Update, context: WulinContext) -> None:
    """/faqanswers: answered questions an admin can add to the community's FAQ."""
    actor = context.actor
    if actor is None or not actor.admin_of:
        await reply(update, context.t("faq.promote.not_admin"))
        return
    async with context.db.begin() as session:
        rows = await faq_store.answered_for_promotion(session=session, community_ids=actor.admin_of)
    if not rows:
        await reply(update, context.t("faq.promote.none"))
        return
    # Shortened, and over several messages when long: each must fit Telegram's limit.
    lines = [
        context.t(
            "faq.promote.line",
            id=r.id,
            question=fit(r.question, 300),
            answer=fit(r.answer or "", 1500),
        )
        for r in rows
    ]
    blocks = [context.t("faq.promote.title"), *lines]
    for page in pages(blocks, "\n\n"):
        buttons = [
            [(context.t("faq.promote.btn", id=rows[i - 1].id), f"fq:pr:{rows[i - 1].id}")]
            for i in page
            if i > 0
        ]
        await reply(update, "\n\n".join(blocks[i] for i in page), reply_markup=keyboard(buttons))


async def promote_button(update: Update, context: WulinContext) -> None:
    """``fq:pr:<question>``: add the question and answer to the community's local FAQ."""
    query, actor = update.callback_query, context.actor
    match = parse_callback(query.data if query else None, "fq", r"pr:(\d{1,10})")
    if query is None or match is None or actor is None or not actor.admin_of:
        await refuse_callback(update, context)
        return
    async with context.db.begin() as session:
        question = await session.get(FaqQuestion, int(match[1]))
        if question is None or question.community_id not in actor.admin_of:
            await refuse_callback(update, context, "common.not_allowed")
            return
        (code,) = await faq_store.community_codes(session=session, ids=(question.community_id,))
        entry = await faq_store.promote(
            session=session, question_id=question.id, community_code=code, now=context.clock.now()
        )
    if entry is None:
        await refuse_callback(update, context, "faq.forward.expired")
        return
    await refresh_faq(context.runtime)
    await query.answer()
    await reply(update, context.t("faq.promote.done", id=question.id))


async def unanswered_command(update: Update, context: WulinContext) -> None:
    """/unanswered: what residents of the admin's community asked in vain, most asked first."""
    actor = context.actor
    if actor is None or not actor.admin_of:
        await reply(update, context.t("faq.promote.not_admin"))
        return
    async with context.db.begin() as session:
        names = await community_names(session=session, ids=actor.admin_of)
        codes = await faq_store.community_codes(session=session, ids=actor.admin_of)
        rows = await faq_store.unanswered(session=session, community_codes=codes, limit=30)
    if not rows:
        await reply(update, context.t("faq.unanswered.none"))
        return
    lines = [
        context.t("faq.unanswered.line", count=r.count, sample=fit(r.sample[:80], 160))
        for r in rows
    ]
    blocks = [fit(context.t("faq.unanswered.title") + " " + "、".join(names), 1000), *lines]
    for page in pages(blocks, "\n"):
        await reply(update, "\n".join(blocks[i] for i in page))


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The captain-answer conversation and the admin commands."""
    conversation = ConversationHandler(
        entry_points=[CallbackQueryHandler(answer_button, pattern=r"^fq:ans:")],
        states={
            AWAIT_ANSWER: [
                MessageHandler(filters.TEXT & ~filters.COMMAND & PRIVATE, receive_answer)
            ]
        },
        fallbacks=[
            CommandHandler("cancel", cancel, filters=PRIVATE),
            CallbackQueryHandler(answer_button, pattern=r"^fq:ans:"),
        ],
        name="faq_answer",
        allow_reentry=True,
        persistent=True,
        conversation_timeout=FLOW_TIMEOUT,
    )
    return [
        conversation,
        CommandHandler("faqanswers", faqanswers_command, filters=PRIVATE),
        CommandHandler("unanswered", unanswered_command, filters=PRIVATE),
        CallbackQueryHandler(promote_button, pattern=r"^fq:pr:"),
    ]
