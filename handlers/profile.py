"""Profile commands: /help (by role), /me, /lang, /mycaptain, /leave and /forgetme."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.context import WulinContext
from handlers.roles import describe_roles
from handlers.ui import (
    building_keyboard,
    edit_text,
    issue_confirmation,
    keyboard,
    parse_callback,
    refuse_callback,
    reply,
    take_confirmation,
)
from locales import LANGUAGES
from storage import forget, people, profile

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def help_command(update: Update, context: WulinContext) -> None:
    """/help: what this person can do, by role."""
    actor = context.actor
    t = context.t
    parts = [t("help.header")]
    if actor is None or people.RESIDENT not in actor.roles:
        parts.append(t("help.guest"))
    else:
        parts.append(t("help.resident"))
    if actor is not None and actor.is_staff:
        sep = "、" if context.lang == "zh" else ", "
        async with context.db.begin() as session:
            groups = await profile.group_names(
                session=session, ids=actor.captain_of + actor.backup_of
            )
            grids = await profile.grid_names(session=session, ids=actor.leads_grids)
            communities = await profile.community_names(session=session, ids=actor.admin_of)
        if groups:
            parts.append(t("help.captain", groups=sep.join(groups)))
        if grids:
            parts.append(t("help.grid_leader", grids=sep.join(grids)))
        if communities:
            parts.append(t("help.admin", communities=sep.join(communities)))
    parts.append(t("help.footer"))
    await reply(update, "\n\n".join(parts))


async def me_command(update: Update, context: WulinContext) -> None:
    """/me: the profile, with buttons to change building and language."""
    actor = context.actor
    if actor is None:
        await reply(update, context.t("me.guest"))
        return
    async with context.db.begin() as session:
        view = await profile.get_profile(session=session, actor=actor)
    none = context.t("common.none")
    body = context.t(
        "me.body",
        name=view.name or none,
        group=view.group or none,
        building=view.building or none,
        unit=view.unit or none,
        language=context.t(f"lang.name.{context.lang}"),
        roles=describe_roles(context, actor.roles),
    )
    rows = [[(context.t("me.change_language"), "lang:menu")]]
    if actor.group_id is not None:
        rows.insert(0, [(context.t("me.change_building"), "me:building")])
    await reply(update, f"{context.t('me.title')}\n\n{body}", reply_markup=keyboard(rows))


async def change_building(update: Update, context: WulinContext) -> None:
    """Button on /me: show the building buttons of the resident's group again."""
    query = update.callback_query
    actor = context.actor
    if query is None or parse_callback(query.data, "me", "building") is None or actor is None:
        await refuse_callback(update, context)
        return
    if actor.group_id is None:
        await refuse_callback(update, context, "leave.not_member")
        return
    async with context.db.begin() as session:
        view = await profile.get_group_buildings(session=session, group_id=actor.group_id)
    await query.answer()
    if view is None:
        return
    await reply(
        update,
        context.t("start.choose_building", group=view.group),
        reply_markup=building_keyboard(view.buildings),
    )


async def lang_command(update: Update, context: WulinContext) -> None:
    """/lang [zh|en]: set the language, or offer both as buttons."""
    choice = (context.args[0].lower() if context.args else "").strip()
    if not choice:
        await reply(update, context.t("lang.choose"), reply_markup=_lang_keyboard(context))
        return
    if choice not in LANGUAGES:
        await reply(update, context.t("lang.usage"))
        return
    await _set_language(update, context, choice)
    await reply(update, context.t("lang.set"))


async def lang_button(update: Update, context: WulinContext) -> None:
    """Buttons ``lang:zh`` / ``lang:en`` / ``lang:menu``."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "lang", r"(zh|en|menu)")
    if query is None or match is None:
        await refuse_callback(update, context)
        return
    await query.answer()
    if match[1] == "menu":
        await reply(update, context.t("lang.choose"), reply_markup=_lang_keyboard(context))
        return
    await _set_language(update, context, match[1])
    await edit_text(query, context.t("lang.set"))


def _lang_keyboard(context: WulinContext):  # type: ignore[no-untyped-def]
    return keyboard([[(context.t(f"lang.name.{code}"), f"lang:{code}") for code in LANGUAGES]])


async def _set_language(update: Update, context: WulinContext, lang: str) -> None:
    user = update.effective_user
    assert user is not None
    async with context.db.begin() as session:
        await people.set_language(
            session=session, telegram_id=user.id, language=lang, now=context.clock.now()
        )
    context.set_language(lang)


async def mycaptain_command(update: Update, context: WulinContext) -> None:
    """/mycaptain: the captain (and backup) of the resident's group, by name only."""
    actor = context.actor
    if actor is None or actor.group_id is None:
        await reply(update, context.t("captain.not_member"))
        return
    async with context.db.begin() as session:
        view = await profile.get_captain_view(session=session, group_id=actor.group_id)
    if view is None or view.captain is None:
        await reply(update, context.t("captain.none"))
        return
    backup = context.t("captain.backup", name=view.backup) if view.backup else ""
    await reply(
        update, context.t("captain.body", group=view.group, captain=view.captain, backup=backup)
    )


async def leave_command(update: Update, context: WulinContext) -> None:
    """/leave: confirm, then leave the neighbour group."""
    actor = context.actor
    if actor is None or actor.group_id is None:
        await reply(update, context.t("leave.not_member"))
        return
    async with context.db.begin() as session:
        view = await profile.get_profile(session=session, actor=actor)
    token = issue_confirmation(context, "leave")
    markup = keyboard(
        [[(context.t("common.yes"), f"leave:yes:{token}"), (context.t("common.no"), "leave:no")]]
    )
    await reply(update, context.t("leave.confirm", group=view.group), reply_markup=markup)


async def leave_button(update: Update, context: WulinContext) -> None:
    """Buttons ``leave:yes`` / ``leave:no`` (a stale confirmation is refused)."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "leave", r"yes:([\w-]+)|no")
    actor = context.actor
    if query is None or match is None or actor is None:
        await refuse_callback(update, context)
        return
    if match[1] is None:
        await query.answer()
        await edit_text(query, context.t("common.cancelled"))
        return
    if not take_confirmation(context, "leave", match[1]):
        await refuse_callback(update, context)
        return
    await query.answer()
    async with context.db.begin() as session:
        view = await profile.get_profile(session=session, actor=actor)
        left = await people.leave_group(
            session=session, person_id=actor.person_id, now=context.clock.now()
        )
    text = context.t("leave.done", group=view.group) if left else context.t("leave.not_member")
    await edit_text(query, text)


async def forgetme_command(update: Update, context: WulinContext) -> None:
    """/forgetme: explain what will be erased and ask to confirm."""
    actor = context.actor
    if actor is None:
        await reply(update, context.t("forget.nothing"))
        return
    text = context.t("forget.confirm")
    if actor.is_staff:
        text = (
            context.t(
                "forget.confirm_staff",
                roles=describe_roles(context, actor.roles - {people.RESIDENT}),
            )
            + text
        )
    token = issue_confirmation(context, "forget")
    markup = keyboard(
        [[(context.t("common.yes"), f"forget:yes:{token}"), (context.t("common.no"), "forget:no")]]
    )
    await reply(update, text, reply_markup=markup)


async def forget_button(update: Update, context: WulinContext) -> None:
    """Buttons ``forget:yes`` / ``forget:no``: erase personal data on a fresh confirmation."""
    query = update.callback_query
    match = parse_callback(query.data if query else None, "forget", r"yes:([\w-]+)|no")
    actor = context.actor
    if query is None or match is None:
        await refuse_callback(update, context)
        return
    if match[1] is None:
        await query.answer()
        await edit_text(query, context.t("forget.kept"))
        return
    if not take_confirmation(context, "forget", match[1]):
        await refuse_callback(update, context)
        return
    await query.answer()
    if actor is None:
        await edit_text(query, context.t("forget.nothing"))
        return
    now = context.clock.now()
    async with context.db.begin() as session:
        outcome = await forget.forget_person(session=session, person_id=actor.person_id, now=now)
        queued = await forget.notify_replacements(session=session, outcome=outcome, now=now)
    context.user_data.clear()
    if queued:
        context.wake_outbox()
    await edit_text(query, context.t("forget.done"))


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Profile commands and their buttons (private chats)."""
    return [
        CommandHandler("help", help_command, filters=PRIVATE),
        CommandHandler("me", me_command, filters=PRIVATE),
        CommandHandler("lang", lang_command, filters=PRIVATE),
        CommandHandler("mycaptain", mycaptain_command, filters=PRIVATE),
        CommandHandler("leave", leave_command, filters=PRIVATE),
        CommandHandler("forgetme", forgetme_command, filters=PRIVATE),
        CallbackQueryHandler(change_building, pattern=r"^me:"),
        CallbackQueryHandler(lang_button, pattern=r"^lang:"),
        CallbackQueryHandler(leave_button, pattern=r"^leave:"),
        CallbackQueryHandler(forget_button, pattern=r"^forget:"),
    ]
