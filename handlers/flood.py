"""Per-user flood control: someone sending a burst (50 messages in 10 s) is slowed politely,
without affecting anyone else.  A token bucket per Telegram user, in memory, on the injected
clock; it runs before everything else and stops the update when the bucket is empty."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.context import WulinContext
from locales import normalise_language

log = logging.getLogger(__name__)

BURST = 12  # updates a user may send at once
PER_SECOND = 1.0  # and then this many per second
WARN_EVERY = 30.0  # seconds between two "slow down" notes to the same user
MAX_TRACKED = 50_000  # users remembered; the oldest are forgotten beyond this


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    warned_at: datetime | None = None


class FloodGate:
    """Token buckets by user id."""

    def __init__(self, burst: int = BURST, per_second: float = PER_SECOND) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[int, _Bucket] = {}
        self.dropped = 0

    def allow(self, user_id: int, now: datetime) -> tuple[bool, bool]:
        """(let this update through?, tell the user to slow down now?)."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._buckets.pop(next(iter(self._buckets)))
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_second)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True, False
        self.dropped += 1
        warn = bucket.warned_at is None or (now - bucket.warned_at).total_seconds() >= WARN_EVERY
        if warn:
            bucket.warned_at = now
        return False, warn


async def flood_guard(update: object, context: WulinContext) -> None:
    """Group -2: drop updates beyond the user's allowance (with one polite note)."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    gate: FloodGate = context.runtime.extras.setdefault("flood", FloodGate())
    allowed, warn = gate.allow(update.effective_user.id, context.clock.now())
    if allowed:
        return
    log.info("flood control: dropped an update from user %s", update.effective_user.id)
    # The actor is not loaded yet (this runs first): answer in Telegram's language.
    context.set_language(
        normalise_language(update.effective_user.language_code, context.settings.default_language)
    )
    if update.callback_query is not None:
        await update.callback_query.answer(context.t("common.slow_down"))
    elif warn and update.effective_chat is not None and update.effective_chat.type == "private":
        await context.bot.send_message(update.effective_chat.id, context.t("common.slow_down"))
    raise ApplicationHandlerStop
