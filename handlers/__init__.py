"""Telegram adapters, one module per feature; each exports ``handlers() -> list``.

``all_handlers`` fixes the order: conversations first (they must see their own free text
before anything else), then plain commands, and the catch-alls last.
"""

from __future__ import annotations

from telegram.ext import BaseHandler


def all_handlers() -> list[tuple[int, BaseHandler]]:  # type: ignore[type-arg]
    """(group, handler) pairs in registration order."""
    from handlers import fallback, profile, start

    ordered = [*start.handlers(), *profile.handlers(), *fallback.handlers()]
    return [(0, handler) for handler in ordered]
