"""The ``faq`` subcommands of ``bot.py`` (ask, check, unanswered)."""

from __future__ import annotations

from typing import Any


def add_subcommands(sub: Any) -> None:
    """Register ``faq`` on the main parser (filled in by the FAQ feature)."""
