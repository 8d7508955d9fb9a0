"""Telegram adapters, one module per feature; each exports ``handlers() -> list``.

``all_handlers`` fixes the order: conversations first (they must see their own free text
before anything else), then plain commands, and the catch-alls last.
"""

from __future__ import annotations

from telegram.ext import BaseHandler


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
    return [(0, handler) for handler in ordered]
