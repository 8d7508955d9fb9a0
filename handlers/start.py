"""Joining: ``/start <group code>`` for residents (building, unit, welcome) and
``/start <personal code>`` for staff (verified by sharing their own phone number)."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.context import WulinContext
from handlers.roles import describe_roles
from handlers.ui import (
    FLOW_TIMEOUT,
    building_keyboard,
    edit_markup,
    edit_text,
    keyboard,
    parse_callback,
    refuse_callback,
    reply,
)
from storage import invites, joining, people
from storage.people import actor_of

CHOOSE_BUILDING, ENTER_UNIT, CONFIRM_MOVE, AWAIT_CONTACT = range(4)
PRIVATE = filters.ChatType.PRIVATE
PENDING_CODE = "pending_personal_code"
#: The group invite the person entered and was asked about moving to (the move button's
#: id must match it: a forged ``join:move:<id>`` would join a group without its code).
PENDING_MOVE = "pending_move_invite"


async def start(update: Update, context: WulinContext) -> int:
    """/start [code]: join a group, bind a staff account, or explain how to join."""
    payload = context.args[0] if context.args else ""
    if not payload:
        await reply(update, context.t("start.no_code"))
        return ConversationHandler.END
    async with context.db.begin() as session:
        invite = await invites.find_code(session=session, code=payload)
        kind = invite.kind if invite else None
    if invite is None:
        await reply(update, context.t("start.unknown_code"))
        return ConversationHandler.END
    if kind == invites.PERSONAL:
        return await _redeem(update, context, invite.code, verified_phone=None)
    return await _join(update, context, invite.id, move=False)


async def _join(update: Update, context: WulinContext, invite_id: int, *, move: bool) -> int:
    user = update.effective_user
    assert user is not None  # /start and buttons always have a sender
    async with context.db.begin() as session:
        view = await joining.join_with_invite(
            session=session,
            invite_id=invite_id,
            telegram_id=user.id,
            name=user.full_name,
            language=context.lang,
            now=context.clock.now(),
            move=move,
        )
    if view.status in ("revoked", "not_group"):
        await reply(update, context.t("start.revoked_group"))
        return ConversationHandler.END
    if view.status == "already":
        await reply(update, context.t("start.already_member", group=view.group))
        return ConversationHandler.END
    if view.status == "other":
        context.user_data[PENDING_MOVE] = view.invite_id
        markup = keyboard(
            [
                [(context.t("start.move_yes"), f"join:move:{view.invite_id}")],
                [(context.t("start.move_no"), "join:stay")],
            ]
        )
        text = context.t("start.confirm_move", old=view.old_group, new=view.group)
        await reply(update, text, reply_markup=markup)
        return CONFIRM_MOVE
    if not view.buildings:
        await reply(update, context.t("start.no_buildings", group=view.group))
        await _welcome(update, context)
        return ConversationHandler.END
    await reply(
        update,
        context.t("start.choose_building", group=view.group),
        reply_markup=building_keyboard(view.buildings),
    )
    return CHOOSE_BUILDING


async def confirm_move(update: Update, context: WulinContext) -> int:
    """Button: move to the new group (re-checking the invite) or stay."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "join", r"move:(\d+)|stay")
    if query is None or match is None:
        await refuse_callback(update, context)
        return ConversationHandler.END
    if match[1] is not None and context.user_data.get(PENDING_MOVE) != int(match[1]):
        await refuse_callback(update, context)
        return CONFIRM_MOVE
    context.user_data.pop(PENDING_MOVE, None)
    await query.answer()
    if match[1] is None:
        user = update.effective_user
        async with context.db.begin() as session:
            home = await joining.get_home(session=session, telegram_id=user.id) if user else None
        await edit_text(query, context.t("start.stayed", group=home.group if home else "?"))
        return ConversationHandler.END
    await edit_markup(query, None)
    return await _join(update, context, int(match[1]), move=True)


async def choose_building(update: Update, context: WulinContext) -> int:
    """Button: the resident's building (must belong to their own group)."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "join", r"b:(\d+)")
    actor = context.actor
    if query is None or match is None or actor is None:
        await refuse_callback(update, context)
        return ConversationHandler.END
    async with context.db.begin() as session:
        building = await people.set_building(
            session=session, person_id=actor.person_id, building_id=int(match[1])
        )
    if building is None:
        await query.answer(context.t("start.bad_building"), show_alert=True)
        return CHOOSE_BUILDING
    await query.answer()
    await edit_text(
        query,
        context.t("start.ask_unit", building=building.name),
        reply_markup=keyboard([[(context.t("common.skip"), "join:skip")]]),
    )
    return ENTER_UNIT


async def enter_unit(update: Update, context: WulinContext) -> int:
    """Text: the unit (short, printable), or the skip button."""
    actor = context.actor
    if actor is None:
        return ConversationHandler.END
    query = update.callback_query
    if query is not None:
        if parse_callback(query.data, "join", "skip") is None:
            await refuse_callback(update, context)
            return ENTER_UNIT
        await query.answer()
        await edit_markup(query, None)
        unit = None
    else:
        text = update.effective_message.text if update.effective_message else ""
        unit = people.clean_unit(text or "")
        if unit is None:
            await reply(update, context.t("start.bad_unit"))
            return ENTER_UNIT
    async with context.db.begin() as session:
        await people.set_unit(session=session, person_id=actor.person_id, unit=unit)
    await _welcome(update, context)
    return ConversationHandler.END


async def _welcome(update: Update, context: WulinContext) -> None:
    user = update.effective_user
    assert user is not None
    async with context.db.begin() as session:
        home = await joining.get_home(session=session, telegram_id=user.id)
    if home is None:
        return
    where = " ".join(p for p in (home.building, home.unit) if p) or context.t("common.none")
    await reply(update, context.t("start.welcome", group=home.group, home=where))


async def _redeem(
    update: Update, context: WulinContext, code: str, *, verified_phone: str | None
) -> int:
    user = update.effective_user
    assert user is not None
    async with context.db.begin() as session:
        invite = await invites.find_code(session=session, code=code)
        if invite is None:
            await reply(update, context.t("start.unknown_code"), reply_markup=ReplyKeyboardRemove())
            return ConversationHandler.END
        outcome = await invites.redeem_personal_code(
            session=session,
            invite=invite,
            telegram_id=user.id,
            verified_phone=verified_phone,
            now=context.clock.now(),
        )
        roles_text = ""
        if outcome.person is not None:
            staff_actor = await actor_of(session=session, person=outcome.person)
            roles_text = describe_roles(context, staff_actor.roles)
            if outcome.status == "bound" and outcome.person.language is None:
                outcome.person.language = context.lang
    status = outcome.status
    name = outcome.person.display_name if outcome.person else ""
    if status == "need_phone":
        context.user_data[PENDING_CODE] = code
        button = KeyboardButton(context.t("start.share_phone"), request_contact=True)
        markup = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
        # Nothing about the code's owner before the phone matches (a found or photographed
        # code must not tell whose it is): the greeting uses the sender's own Telegram name.
        await reply(
            update,
            context.t("start.staff_confirm_phone", name=user.first_name),
            reply_markup=markup,
        )
        return AWAIT_CONTACT
    context.user_data.pop(PENDING_CODE, None)
    keys = {
        "bound": "start.staff_bound",
        "already": "start.already_bound",
        "phone_mismatch": "start.phone_mismatch",
        "used": "start.code_used",
        "revoked": "start.code_revoked",
        "taken": "start.code_taken",
    }
    await reply(
        update,
        context.t(keys[status], name=name, roles=roles_text),
        reply_markup=ReplyKeyboardRemove(),
    )
    return ConversationHandler.END


async def receive_contact(update: Update, context: WulinContext) -> int:
    """Contact: must be the sender's own (Telegram fills ``user_id``); then bind."""
    message = update.effective_message
    user = update.effective_user
    code = context.user_data.get(PENDING_CODE)
    if message is None or user is None or message.contact is None or code is None:
        return ConversationHandler.END
    if message.contact.user_id != user.id:
        await reply(update, context.t("start.contact_not_own"))
        return AWAIT_CONTACT
    return await _redeem(update, context, code, verified_phone=message.contact.phone_number)


async def awaiting_contact(update: Update, context: WulinContext) -> int:
    """Anything but a contact while binding: remind what is expected."""
    await reply(update, context.t("start.awaiting_contact"))
    return AWAIT_CONTACT


async def cancel(update: Update, context: WulinContext) -> int:
    """/cancel inside the joining flow."""
    context.user_data.pop(PENDING_CODE, None)
    context.user_data.pop(PENDING_MOVE, None)
    await reply(update, context.t("common.cancelled"), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The joining conversation (private chats only)."""
    text = filters.TEXT & ~filters.COMMAND & PRIVATE & filters.UpdateType.MESSAGE
    conversation = ConversationHandler(
        entry_points=[
            CommandHandler("start", start, filters=PRIVATE & filters.UpdateType.MESSAGE),
            CallbackQueryHandler(choose_building, pattern=r"^join:b:"),
        ],
        states={
            CHOOSE_BUILDING: [CallbackQueryHandler(choose_building, pattern=r"^join:b:")],
            ENTER_UNIT: [
                CallbackQueryHandler(choose_building, pattern=r"^join:b:"),
                CallbackQueryHandler(enter_unit, pattern=r"^join:skip$"),
                MessageHandler(text, enter_unit),
            ],
            CONFIRM_MOVE: [CallbackQueryHandler(confirm_move, pattern=r"^join:(move|stay)")],
            AWAIT_CONTACT: [
                MessageHandler(filters.CONTACT & PRIVATE, receive_contact),
                MessageHandler(text, awaiting_contact),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel, filters=PRIVATE),
            CommandHandler("start", start, filters=PRIVATE & filters.UpdateType.MESSAGE),
        ],
        name="join",
        allow_reentry=True,
        persistent=True,
        conversation_timeout=FLOW_TIMEOUT,
    )
    return [conversation]
