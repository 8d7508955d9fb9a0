"""Telegram adapters, one module per feature; each exports ``handlers() -> list``.

``all_handlers`` fixes the order: conversations first (they must see their own free text
before anything else), then plain commands, and the catch-alls last. The features sit in
group ``FEATURES``; two guards around them keep a person in one flow at a time:

- before: a state restored after a restart that is older than its flow's timeout is ended
  (PTB reloads states but not their timeouts, so such a state would take text forever);
  ``/cancel`` ends every open flow of the person (the first one answers it);
- after: a flow that was just entered and now waits for input ends the person's other
  flows, so a half-finished building change never takes the report's description.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, ConversationHandler, TypeHandler

#: The group of the feature handlers (the flow guards run in the groups around it).
FEATURES = 1
#: Set on the update's context by the first guard: the flow this update enters.
_ENTERING = "wulin_entering_flow"


def all_handlers() -> list[tuple[int, BaseHandler]]:  # type: ignore[type-arg]
    """(group, handler) pairs in registration order."""
    # Imported here: the feature modules import handlers.context, which imports this package.
    from handlers import (
        checkin,
        fallback,
        faq,
        faq_answers,
        meeting,
        profile,
        report_actions,
        report_admin,
        report_lists,
        report_new,
        start,
    )

    ordered = [
        *start.handlers(),
        *report_new.handlers(),
        *report_actions.handlers(),
        *checkin.handlers(),
        *meeting.handlers(),
        *faq_answers.handlers(),
        *profile.handlers(),
        *report_lists.handlers(),
        *report_admin.handlers(),
        *faq.handlers(),
        *fallback.handlers(),
    ]
    return [
        (FEATURES - 1, TypeHandler(Update, flows_before)),
        *((FEATURES, handler) for handler in ordered),
        (FEATURES + 1, TypeHandler(Update, flows_after)),
    ]


def _flow_keys() -> dict[str, tuple[str, ...]]:
    """What each conversation keeps in ``user_data`` (dropped when it is ended from outside)."""
    from handlers import faq_answers, report_actions, report_draft, start

    return {
        "join": (start.PENDING_CODE, start.PENDING_MOVE),
        "report": report_draft.FLOW_KEYS,
        "faq_answer": (faq_answers.PENDING,),
        "report_actions": (report_actions.PENDING,),
    }


def _conversations(application: Any) -> list[ConversationHandler]:  # type: ignore[type-arg]
    return [h for h in application.handlers.get(FEATURES, []) if isinstance(h, ConversationHandler)]


def _taker(application: Any, update: Update) -> tuple[Any, bool]:
    """The feature handler that will take ``update`` and whether it enters a conversation
    (an entry point matched); the same first-match rule PTB applies within a group."""
    for handler in application.handlers.get(FEATURES, []):
        check = handler.check_update(update)
        if check is None or check is False:
            continue
        if isinstance(handler, ConversationHandler):
            return handler, check[2] in handler.entry_points
        return handler, False
    return None, False


async def end_flow(context: Any, conversation: ConversationHandler, key: tuple) -> None:  # type: ignore[type-arg]
    """End one person's state in a conversation from outside it (PTB has no public way:
    this is what a timeout does) and drop the flow's data."""
    async with conversation._timeout_jobs_lock:
        job = conversation.timeout_jobs.pop(key, None)
    if job is not None:
        job.schedule_removal()
    conversation._update_state(ConversationHandler.END, key)
    for name in _flow_keys().get(conversation.name or "", ()):
        context.user_data.pop(name, None)


def _key(update: Update) -> tuple[int, int] | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != "private":
        return None
    return (chat.id, user.id)


async def flows_before(update: Update, context: Any) -> None:
    """Expire stale restored states; /cancel ends all flows; note which flow is entered."""
    key = _key(update)
    if key is None:
        return
    conversations = _conversations(context.application)
    restored = getattr(context.application.persistence, "restored", None)
    if restored:
        now = context.clock.now()
        for conversation in conversations:
            at = restored.pop((conversation.name, key), None)
            timeout = conversation.conversation_timeout
            if at is not None and timeout is not None and now - at > timeout:
                await end_flow(context, conversation, key)
    message = update.message
    is_command = bool(message and message.text and message.text.startswith("/"))
    if update.callback_query is None and not is_command:
        return  # entry points are commands and buttons: plain text enters no flow
    taker, entering = _taker(context.application, update)
    if not isinstance(taker, ConversationHandler):
        return
    if message is not None and (message.text or "").split("@")[0].split()[0] == "/cancel":
        for conversation in conversations:
            if conversation is not taker and key in conversation._conversations:
                await end_flow(context, conversation, key)
    elif entering:
        setattr(context, _ENTERING, taker)


async def flows_after(update: Update, context: Any) -> None:
    """A flow entered by this update that now waits for input ends the person's others."""
    entered = getattr(context, _ENTERING, None)
    key = _key(update)
    if entered is None or key is None or key not in entered._conversations:
        return
    for conversation in _conversations(context.application):
        if conversation is not entered and key in conversation._conversations:
            await end_flow(context, conversation, key)
