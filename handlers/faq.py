"""Policy questions: free text in a private chat (and addressed messages in group chats)
goes to the FAQ matcher — answer with 👍/👎, "did you mean…" buttons, or an honest "I
cannot" with an offer to forward the question to the captain.  /faq browses by topic."""

from __future__ import annotations

from pathlib import Path

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from faq import DEFAULT_THRESHOLDS, Matcher, Thresholds, load_kb, normalise, topic_label
from faq.local import LocalRow, with_local_rows
from handlers.context import Runtime, WulinContext
from handlers.ui import edit_markup, edit_text, keyboard, parse_callback, refuse_callback, reply
from storage import faq_store
from storage.profile import get_group_buildings
from storage.routing import responsible_for

PRIVATE_TEXT = (
    filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
)
GROUP_TEXT = filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
LAST_QUESTION = "faq_last_question"
KB_DIR = Path(__file__).resolve().parents[1] / "faq" / "kb"


def thresholds_from(settings) -> Thresholds:  # type: ignore[no-untyped-def]
    """The configured thresholds, each defaulting to the measured one."""
    d = DEFAULT_THRESHOLDS
    return Thresholds(
        answer=settings.faq_answer_threshold
        if settings.faq_answer_threshold is not None
        else d.answer,
        margin=settings.faq_margin if settings.faq_margin is not None else d.margin,
        suggest=settings.faq_suggest_threshold
        if settings.faq_suggest_threshold is not None
        else d.suggest,
        group_answer=settings.faq_group_threshold
        if settings.faq_group_threshold is not None
        else d.group_answer,
    )


async def refresh_faq(runtime: Runtime) -> Matcher:
    """(Re)build the matcher: the YAML knowledge base plus entries promoted in the database."""
    kb = load_kb(runtime.settings.faq_kb_dir or KB_DIR)
    async with runtime.db.begin() as session:
        rows = await faq_store.local_entries(session=session)
    merged = with_local_rows(
        kb, [LocalRow(r.id, r.community_code, r.question, r.answer, r.lang) for r in rows]
    )
    runtime.faq = Matcher(merged, thresholds_from(runtime.settings))
    return runtime.faq


def _feedback_markup(context: WulinContext, entry_id: str, lang: str):  # type: ignore[no-untyped-def]
    from locales import translate

    return keyboard(
        [
            [
                (translate(lang, "faq.btn.yes"), f"fb:{entry_id}:y"),
                (translate(lang, "faq.btn.no"), f"fb:{entry_id}:n"),
            ]
        ]
    )


async def _answer(
    message: Message, context: WulinContext, entry, lang: str, *, feedback: bool = True
) -> None:  # type: ignore[no-untyped-def]
    text = entry.answer.get(lang) or entry.answer["zh"]
    markup = _feedback_markup(context, entry.id, lang) if feedback and len(entry.id) <= 58 else None
    await message.reply_text(text, reply_markup=markup, do_quote=False)


async def ask(update: Update, context: WulinContext) -> None:
    """Free text in a private chat: answer, suggest, or say honestly that we cannot."""
    message, actor = update.effective_message, context.actor
    if message is None or not message.text:
        return
    question = message.text
    result = context.faq.match(
        question, lang=context.lang, community=actor.community_code if actor else None
    )
    t = context.t
    if result.outcome == "answer":
        await _answer(message, context, result.entry, result.lang)
        return
    if result.outcome == "suggest":
        rows = [
            [(s.entry.question.get(result.lang) or s.entry.question["zh"], f"fq:s:{s.entry.id}")]
            for s in result.suggestions
            if len(s.entry.id) <= 58
        ]
        rows.append([(t("faq.btn.none_of_these"), "fq:fw")])
        context.user_data[LAST_QUESTION] = question[:500]
        await reply(update, t("faq.suggest"), reply_markup=keyboard(rows))
        return
    async with context.db.begin() as session:
        await faq_store.log_unanswered(
            session=session,
            community_code=actor.community_code if actor else None,
            normalised=normalise(question),
            sample=question,
            lang=result.lang,
            now=context.clock.now(),
        )
    if actor is not None and actor.group_id is not None:
        context.user_data[LAST_QUESTION] = question[:500]
        await reply(
            update,
            t("faq.none") + "\n" + t("faq.none.forward"),
            reply_markup=keyboard([[(t("faq.btn.forward"), "fq:fw")]]),
        )
    else:
        await reply(update, t("faq.none") + "\n" + t("faq.none.join"))


def _addressed(message: Message, context: WulinContext) -> str | None:
    """The question of a group message addressed to the bot (mention or reply), else None."""
    username = context.bot.username or ""
    text = message.text or ""
    mention = f"@{username}" if username else None
    if mention and mention.lower() in text.lower():
        start = text.lower().index(mention.lower())
        return (text[:start] + text[start + len(mention) :]).strip()
    replied = message.reply_to_message
    if (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == context.bot.id
    ):
        return text.strip()
    return None


async def ask_in_group(update: Update, context: WulinContext) -> None:
    """In a group chat: answer only when addressed, and only when confident (no names)."""
    message = update.effective_message
    if message is None:
        return
    question = _addressed(message, context)
    if question is None:
        return  # not for us: stay quiet
    result = context.faq.match(question, lang=context.lang, in_group=True)
    if result.outcome == "answer":
        await _answer(message, context, result.entry, result.lang, feedback=False)
    elif question:
        await message.reply_text(context.t("faq.group.private"), do_quote=True)


async def suggestion_button(update: Update, context: WulinContext) -> None:
    """``fq:s:<entry>``: the resident picked one of the suggestions."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "fq", r"[se]:([\w-]{1,58})")
    entry = context.faq.kb.by_id.get(match[1]) if match else None
    actor = context.actor
    if (
        query is None
        or entry is None
        or (entry.community and entry.community != (actor.community_code if actor else None))
    ):
        await refuse_callback(update, context)
        return
    await query.answer()
    lang = "en" if context.lang == "en" else "zh"
    await _answer(query.message, context, entry, lang)  # type: ignore[arg-type]


async def feedback_button(update: Update, context: WulinContext) -> None:
    """``fb:<entry>:y|n``: record whether the answer helped."""
    query, actor = update.callback_query, context.actor
    match = parse_callback(query.data if query else None, "fb", r"([\w-]{1,58}):([yn])")
    if query is None or match is None or match[1] not in context.faq.kb.by_id:
        await refuse_callback(update, context)
        return
    if actor is not None:
        async with context.db.begin() as session:
            await faq_store.record_feedback(
                session=session,
                person_id=actor.person_id,
                entry_id=match[1],
                helpful=match[2] == "y",
                now=context.clock.now(),
            )
    await query.answer(context.t("faq.thanks" if match[2] == "y" else "faq.thanks_bad"))
    await edit_markup(query, None)


async def forward_button(update: Update, context: WulinContext) -> None:
    """``fq:fw``: pass the last unanswered question to the person answering for the group."""
    query, actor = update.callback_query, context.actor
    question = context.user_data.pop(LAST_QUESTION, None)
    if (
        query is None
        or actor is None
        or actor.group_id is None
        or actor.community_id is None
        or not question
    ):
        await refuse_callback(update, context, "faq.forward.expired")
        return
    await query.answer()
    await edit_markup(query, None)
    now = context.clock.now()
    today = now.astimezone(context.settings.tz).date()
    async with context.db.begin() as session:
        row = await faq_store.forward_question(
            session=session,
            asker_id=actor.person_id,
            group_id=actor.group_id,
            community_id=actor.community_id,
            question=question,
            lang=context.lang,
            now=now,
        )
        who = await responsible_for(session=session, group_id=actor.group_id, today=today)
        view = await get_group_buildings(session=session, group_id=actor.group_id)
        building = (
            dict(view.buildings).get(actor.building_id) if view and actor.building_id else None
        )
        where = " ".join(p for p in (building, actor.unit) if p) or "-"
        from storage import outbox

        for person_id in who.person_ids:
            await outbox.enqueue_to_person(
                session=session,
                person_id=person_id,
                kind="faq_forward",
                now=now,
                payload={
                    "text": outbox.text(
                        "faq.forward.to_captain",
                        group=view.group if view else "?",
                        where=where,
                        name=actor.name or "?",
                        question=question,
                    ),
                    "buttons": [[outbox.button(outbox.text("faq.btn.answer"), f"fq:ans:{row.id}")]],
                    # The sender checks the recipient still answers for the group (the
                    # resident's name and home are in the text): storage/notice_screen.py.
                    "group_id": actor.group_id,
                },
            )
    context.wake_outbox()
    role = {
        "captain": "role.captain",
        "backup": "role.backup_captain",
        "grid": "role.grid_leader",
    }.get(who.role, "role.admin")
    await reply(update, context.t("faq.forwarded", who=context.t(role)))


async def faq_command(update: Update, context: WulinContext) -> None:
    """/faq: the topics as buttons."""
    await reply(update, context.t("faq.browse.title"), reply_markup=_topics_markup(context))


def _topics_markup(context: WulinContext):  # type: ignore[no-untyped-def]
    actor = context.actor
    entries = context.faq.kb.for_community(actor.community_code if actor else None)
    topics = [t for t in context.faq.kb.topics if any(e.topic == t for e in entries)]
    lang = "en" if context.lang == "en" else "zh"
    buttons = [(topic_label(t, lang), f"fq:t:{t}") for t in topics]
    return keyboard([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def topic_button(update: Update, context: WulinContext) -> None:
    """``fq:t:<topic>``: the questions of a topic; ``fq:back``: the topics again."""
    query, actor = update.callback_query, context.actor
    match = parse_callback(query.data if query else None, "fq", r"t:([a-z_]{1,24})|back")
    if query is None or match is None:
        await refuse_callback(update, context)
        return
    await query.answer()
    lang = "en" if context.lang == "en" else "zh"
    if match[1] is None:
        await edit_text(query, context.t("faq.browse.title"), reply_markup=_topics_markup(context))
        return
    entries = [
        e
        for e in context.faq.kb.for_community(actor.community_code if actor else None)
        if e.topic == match[1] and len(e.id) <= 58
    ]
    rows = [[(e.question.get(lang) or e.question["zh"], f"fq:e:{e.id}")] for e in entries[:40]]
    rows.append([(context.t("faq.browse.back"), "fq:back")])
    await edit_text(
        query,
        context.t("faq.browse.topic", topic=topic_label(match[1], lang)),
        reply_markup=keyboard(rows),
    )


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """FAQ handlers; ``ask`` must come after every conversation that reads free text."""
    return [
        CommandHandler(
            "faq", faq_command, filters=filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        ),
        CallbackQueryHandler(suggestion_button, pattern=r"^fq:[se]:"),
        CallbackQueryHandler(topic_button, pattern=r"^fq:(t:|back$)"),
        CallbackQueryHandler(forward_button, pattern=r"^fq:fw$"),
        CallbackQueryHandler(feedback_button, pattern=r"^fb:"),
        MessageHandler(PRIVATE_TEXT, ask),
        MessageHandler(GROUP_TEXT, ask_in_group),
    ]
