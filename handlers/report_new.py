"""Filing a report: the guided /report form (category, description, photos, location,
summary, confirm), the one-shot ``/report TEXT``, and the "same as #N? +1" offer.

The draft lives in ``user_data`` until it is submitted; the report is committed before the
resident is told its number.
"""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from faq.similar import guess_category
from handlers.context import WulinContext
from handlers.report_common import category_name
from handlers.report_draft import (
    CATEGORY,
    CONFIRM,
    DESCRIPTION,
    DRAFT,
    DUPLICATE,
    LOCATION,
    PHOTOS,
    clear_draft,
    get_draft,
)
from handlers.report_submit import duplicate_button, open_similar, submit
from handlers.ui import (
    FLOW_TIMEOUT,
    edit_markup,
    edit_text,
    keyboard,
    parse_callback,
    refuse_callback,
    reply,
)
from storage import report_queries
from storage import reports as svc

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
#: Printable characters that show as blank (Hangul and braille fillers): dropped like the
#: zero-width ones, so a "description" of them alone is empty.
BLANKS = dict.fromkeys(map(ord, "\u115f\u1160\u3164\u2800\uffa0"))


def clean_text(text: str) -> str:
    """The text without control, format (zero-width) and blank filler characters, trimmed."""
    kept = "".join(ch for ch in text if ch.isprintable() or ch == "\n")
    return kept.translate(BLANKS).strip()


async def report_start(update: Update, context: WulinContext) -> int:
    """/report [TEXT]: start the form, or file TEXT at once with a guessed category."""
    actor = context.actor
    if actor is None or actor.group_id is None:
        await reply(update, context.t("rep.need_group"))
        return ConversationHandler.END
    text = clean_text(" ".join(context.args or []))
    if context.args and not text:
        await reply(update, context.t("rep.description_empty"))  # then the form opens
    category = guess_category(text, tuple(context.settings.report_categories)) if text else None
    candidates = None
    async with context.reader.begin() as session:
        info = await report_queries.filing_info(session=session, person_id=actor.person_id)
        if category is not None:
            # One read for the one-shot filing: the home and the "same as #N?" candidates.
            candidates = await open_similar(session, context, actor.group_id, category)
    draft = svc.Draft(
        building_id=info.home_building_id if info else None, unit=info.unit if info else None
    )
    context.user_data[DRAFT] = draft
    if text:
        draft.category = category
        mentioned = [(i, n) for i, n in (info.buildings if info else ()) if n in text]
        if mentioned and mentioned[0][0] != draft.building_id:
            # "3栋门口…" from a resident of 2栋: the problem is at 3栋, not at home.
            draft.building_id, draft.unit = mentioned[0][0], None
        draft.description = await _set_description(update, context, text)
        return await submit(update, context, guessed=True, candidates=candidates)
    await _ask_category(update, context)
    return CATEGORY


async def _ask_category(update: Update, context: WulinContext) -> None:
    buttons = [
        (category_name(context, code), f"rn:c:{code}")
        for code in context.settings.report_categories
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(context.t("rep.btn.cancel"), "rn:x")])
    await reply(update, context.t("rep.ask_category"), reply_markup=keyboard(rows))


async def choose_category(update: Update, context: WulinContext) -> int:
    """Button ``rn:c:<code>``."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "rn", r"c:([a-z0-9_]{1,24})")
    draft = get_draft(context)
    if (
        query is None
        or match is None
        or draft is None
        or match[1] not in context.settings.report_categories
    ):
        await refuse_callback(update, context, "rep.flow_expired")
        return ConversationHandler.END
    await query.answer()
    draft.category = match[1]
    name = category_name(context, draft.category)
    if draft.description:
        await edit_markup(query, None)
        return await _show_summary(update, context)
    await edit_text(query, context.t("rep.ask_description", category=name))
    return DESCRIPTION


async def _set_description(update: Update, context: WulinContext, text: str) -> str:
    limit = context.settings.report_max_description
    cleaned = clean_text(text)
    if len(cleaned) > limit:
        await reply(update, context.t("rep.description_trimmed", limit=limit))
        cleaned = cleaned[:limit]
    return cleaned


async def receive_description(update: Update, context: WulinContext) -> int:
    """Text (or a photo with a caption) describing the problem."""
    message, draft = update.effective_message, get_draft(context)
    if message is None or draft is None:  # the draft was erased (/forgetme) mid-form
        await reply(update, context.t("rep.flow_expired"))
        return ConversationHandler.END
    text = message.text or message.caption or ""
    if message.photo:
        _add_photo(context, draft, message.photo[-1].file_id)
    if not clean_text(text):
        await reply(update, context.t("rep.description_empty"))
        return DESCRIPTION
    draft.description = await _set_description(update, context, text)
    if draft.category is not None and context.user_data.get("report_editing"):
        context.user_data.pop("report_editing", None)
        return await _show_summary(update, context)
    return await _ask_photos(update, context)


def _add_photo(context: WulinContext, draft: svc.Draft, file_id: str) -> bool:
    if len(draft.photos) >= context.settings.report_max_photos:
        return False
    draft.photos.append(file_id)
    return True


async def _ask_photos(update: Update, context: WulinContext) -> int:
    limit = context.settings.report_max_photos
    if limit == 0:
        return await _ask_location(update, context)
    markup = keyboard(
        [[(context.t("rep.btn.photos_done"), "rn:pd"), (context.t("rep.btn.skip_photos"), "rn:pd")]]
    )
    await reply(update, context.t("rep.ask_photos", max=limit), reply_markup=markup)
    return PHOTOS


async def receive_photo(update: Update, context: WulinContext) -> int:
    """A photo while collecting photos (at most the configured number)."""
    message, draft = update.effective_message, get_draft(context)
    if message is None or draft is None or not message.photo:
        await reply(update, context.t("rep.flow_expired"))
        return ConversationHandler.END
    limit = context.settings.report_max_photos
    if not _add_photo(context, draft, message.photo[-1].file_id):
        await reply(update, context.t("rep.too_many_photos", max=limit))
        return PHOTOS
    if message.caption and draft.description and message.caption not in draft.description:
        draft.description = (draft.description + "\n" + message.caption)[
            : context.settings.report_max_description
        ]
    await reply(update, context.t("rep.photo_added", count=len(draft.photos), max=limit))
    return PHOTOS


async def photos_done(update: Update, context: WulinContext) -> int:
    """Button ``rn:pd``: on to the location."""
    query = update.callback_query
    if query is None or get_draft(context) is None:
        await refuse_callback(update, context, "rep.flow_expired")
        return ConversationHandler.END
    await query.answer()
    await edit_markup(query, None)
    return await _ask_location(update, context)


async def _ask_location(update: Update, context: WulinContext) -> int:
    actor, draft = context.actor, get_draft(context)
    assert actor is not None and draft is not None
    async with context.reader.begin() as session:
        info = await report_queries.filing_info(session=session, person_id=actor.person_id)
    rows = []
    if info and info.home_building:
        home = " ".join(p for p in (info.home_building, info.unit) if p)
        rows.append([(context.t("rep.btn.use_home", home=home), "rn:lh")])
    rows.append(
        [
            (context.t("rep.btn.other_building"), "rn:lb"),
            (context.t("rep.btn.no_location"), "rn:ln"),
        ]
    )
    await reply(update, context.t("rep.ask_location"), reply_markup=keyboard(rows))
    return LOCATION


async def location_button(update: Update, context: WulinContext) -> int:
    """Buttons: home building, another building (then ``rn:b:<id>``), or no location."""
    query, draft, actor = update.callback_query, get_draft(context), context.actor
    match = parse_callback(query.data if query else None, "rn", r"lh|lb|ln|b:(\d{1,10})")
    if query is None or match is None or draft is None or actor is None:
        await refuse_callback(update, context, "rep.flow_expired")
        return ConversationHandler.END
    async with context.reader.begin() as session:
        info = await report_queries.filing_info(session=session, person_id=actor.person_id)
    await query.answer()
    choice = match[0]
    if choice == "lb" and info is not None:
        buttons = [(name, f"rn:b:{i}") for i, name in info.buildings]
        await edit_text(
            query,
            context.t("rep.choose_building"),
            reply_markup=keyboard([buttons[i : i + 3] for i in range(0, len(buttons), 3)]),
        )
        return LOCATION
    if choice == "lh" and info is not None:
        draft.building_id, draft.unit = info.home_building_id, info.unit
    elif choice == "ln":
        draft.building_id, draft.unit = None, None
    elif match[1] is not None and info is not None:
        building_id = int(match[1])
        if building_id not in {i for i, _ in info.buildings}:
            await refuse_callback(update, context)
            return LOCATION
        draft.building_id = building_id
        draft.unit = None if building_id != info.home_building_id else info.unit
    await edit_markup(query, None)
    return await _show_summary(update, context)


async def receive_location(update: Update, context: WulinContext) -> int:
    """A Telegram location; far from the community it is kept with a warning."""
    message, draft, actor = update.effective_message, get_draft(context), context.actor
    if message is None or message.location is None or draft is None or actor is None:
        await reply(update, context.t("rep.flow_expired"))
        return ConversationHandler.END
    draft.latitude, draft.longitude = message.location.latitude, message.location.longitude
    async with context.reader.begin() as session:
        info = await report_queries.filing_info(session=session, person_id=actor.person_id)
    if info and info.centre:
        km = _distance_km(info.centre, (draft.latitude, draft.longitude))
        if km > context.settings.community_radius_km:
            await reply(update, context.t("rep.far_location", km=f"{km:.1f}"))
    return await _show_summary(update, context)


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


async def _show_summary(update: Update, context: WulinContext) -> int:
    draft = get_draft(context)
    assert draft is not None and draft.category is not None
    where = await _where(context, draft)
    text = context.t(
        "rep.summary",
        category=category_name(context, draft.category),
        where=where,
        photos=len(draft.photos),
        description=draft.description or "",
    )
    t = context.t
    markup = keyboard(
        [
            [(t("rep.btn.submit"), "rn:ok")],
            [(t("rep.btn.edit_category"), "rn:ec"), (t("rep.btn.edit_description"), "rn:ed")],
            [(t("rep.btn.cancel"), "rn:x")],
        ]
    )
    await reply(update, text, reply_markup=markup)
    return CONFIRM


async def _where(context: WulinContext, draft: svc.Draft) -> str:
    parts: list[str] = []
    if draft.building_id is not None and context.actor is not None:
        async with context.reader.begin() as session:
            info = await report_queries.filing_info(
                session=session, person_id=context.actor.person_id
            )
        names = dict(info.buildings) if info else {}
        parts.append(names.get(draft.building_id, "?"))
        if draft.unit:
            parts.append(draft.unit)
    if draft.latitude is not None and draft.longitude is not None:
        parts.append(f"📍{draft.latitude:.5f},{draft.longitude:.5f}")
    return " ".join(parts) or context.t("common.none")


async def confirm_button(update: Update, context: WulinContext) -> int:
    """Summary buttons: submit, change category or description, cancel."""
    query, draft = update.callback_query, get_draft(context)
    match = parse_callback(query.data if query else None, "rn", r"ok|ec|ed")
    if query is None or match is None or draft is None:
        await refuse_callback(update, context, "rep.flow_expired")
        return ConversationHandler.END
    await query.answer()
    await edit_markup(query, None)
    if match[0] == "ec":
        await _ask_category(update, context)
        return CATEGORY
    if match[0] == "ed":
        context.user_data["report_editing"] = True
        await reply(
            update,
            context.t("rep.ask_description", category=category_name(context, draft.category or "")),
        )
        return DESCRIPTION
    return await submit(update, context, guessed=False)


async def report_cancel(update: Update, context: WulinContext) -> int:
    """/cancel or the cancel button: drop the draft."""
    clear_draft(context)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit_markup(update.callback_query, None)
    await reply(update, context.t("rep.cancelled"))
    return ConversationHandler.END


async def wrong_input(update: Update, context: WulinContext) -> None:
    """Stickers, voice, files… inside the form: say what is expected (state unchanged)."""
    await reply(update, context.t("rep.unsupported_in_flow"))


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The /report conversation (private chats)."""
    text = filters.TEXT & ~filters.COMMAND & PRIVATE
    # Checked after each state's own handlers: anything else gets "I need…", state unchanged.
    wrong = MessageHandler(PRIVATE & ~filters.COMMAND, wrong_input)
    cancel = CallbackQueryHandler(report_cancel, pattern=r"^rn:x$")
    conversation = ConversationHandler(
        entry_points=[CommandHandler("report", report_start, filters=PRIVATE)],
        states={
            CATEGORY: [CallbackQueryHandler(choose_category, pattern=r"^rn:c:"), cancel, wrong],
            DESCRIPTION: [
                MessageHandler((text | filters.PHOTO) & PRIVATE, receive_description),
                wrong,
            ],
            PHOTOS: [
                MessageHandler(filters.PHOTO & PRIVATE, receive_photo),
                CallbackQueryHandler(photos_done, pattern=r"^rn:pd$"),
                wrong,
            ],
            LOCATION: [
                MessageHandler(filters.LOCATION & PRIVATE, receive_location),
                CallbackQueryHandler(location_button, pattern=r"^rn:(lh|lb|ln|b:\d+)$"),
                wrong,
            ],
            CONFIRM: [
                CallbackQueryHandler(confirm_button, pattern=r"^rn:(ok|ec|ed)$"),
                cancel,
                wrong,
            ],
            DUPLICATE: [CallbackQueryHandler(duplicate_button, pattern=r"^rn:(f:\d+|n)$"), wrong],
        },
        fallbacks=[
            CommandHandler("cancel", report_cancel, filters=PRIVATE),
            cancel,
            CommandHandler("report", report_start, filters=PRIVATE),
        ],
        name="report",
        allow_reentry=True,
        persistent=True,
        conversation_timeout=FLOW_TIMEOUT,
    )
    return [conversation]
