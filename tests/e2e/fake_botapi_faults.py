"""Failures on demand, Telegram-like flood limits and delivery statistics for the fake Bot API."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.e2e.fake_botapi_protocol import ApiError

DropMode = Literal[False, "before", "after"]


@dataclass
class Fault:
    """One rule of :meth:`FakeBotAPI.fail_next`: what to do to the next ``times`` matching calls."""

    method: str | None
    chat_id: int | None
    times: int
    error: int | None = None
    retry_after: int | None = None
    description: str | None = None
    delay: float = 0.0
    drop: DropMode = False

    def matches(self, method: str, chat_id: Any) -> bool:
        """Whether this rule applies to a call of ``method`` aimed at ``chat_id``."""
        if self.times <= 0:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def to_error(self) -> ApiError | None:
        """The error answer this rule injects, if any."""
        if self.error is None:
            return None
        retry_after = self.retry_after
        if self.error == 429 and retry_after is None:
            retry_after = 1
        return ApiError(self.error, self.description, retry_after)


class Faults:
    """Pending fault rules plus chats that have blocked the bot."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []
        self.blocked: dict[int, str] = {}

    def add(self, fault: Fault) -> Fault:
        """Queue a rule; earlier rules win when several match."""
        self.rules.append(fault)
        return fault

    def take(self, method: str, chat_id: Any) -> Fault | None:
        """The first rule matching this call, with one use spent."""
        for fault in self.rules:
            if fault.matches(method, chat_id):
                fault.times -= 1
                return fault
        return None

    def clear(self) -> None:
        """Forget every rule and block."""
        self.rules.clear()
        self.blocked.clear()


@dataclass(frozen=True)
class RateLimits:
    """Telegram's documented flood limits; ``scale`` multiplies every allowance."""

    per_second: float = 30
    per_chat_per_second: float = 1
    per_group_per_minute: float = 20
    # Telegram tolerates short bursts in one private chat (a reply plus a follow-up);
    # a strict 1/s would punish behaviour the real server accepts.
    chat_burst: int = 3
    scale: float = 1.0


class _Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``capacity`` saved up."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def wait_for(self, n: int, now: float) -> float:
        """Seconds until ``n`` tokens are available (0 when they already are)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= n else (n - self.tokens) / self.rate


class RateLimiter:
    """Applies :class:`RateLimits` to message sends and says how long to back off."""

    def __init__(self, limits: RateLimits, clock: Any = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._buckets: dict[Any, _Bucket] = {}

    def _bucket(self, key: Any, rate: float, capacity: float, now: float) -> _Bucket:
        if key not in self._buckets:
            self._buckets[key] = _Bucket(rate, max(capacity, 1.0), now)
        return self._buckets[key]

    def check(self, chat_id: int, is_group: bool, n: int = 1) -> int | None:
        """Consume ``n`` sends to ``chat_id``, or return retry_after seconds without consuming."""
        lim, now = self.limits, self._clock()
        s = lim.scale
        buckets = [self._bucket("all", lim.per_second * s, lim.per_second * s, now)]
        if is_group:
            per_min = lim.per_group_per_minute * s
            buckets.append(self._bucket(chat_id, per_min / 60, per_min, now))
        else:
            rate = lim.per_chat_per_second * s
            buckets.append(self._bucket(chat_id, rate, lim.chat_burst * s, now))
        wait = max(b.wait_for(n, now) for b in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= n
        return None


@dataclass
class Stats:
    """What reached Telegram: accepted messages per chat, 429s, duplicates, errors by code."""

    rate_limited: int = 0
    errors: Counter[int] = field(default_factory=Counter)
    accepted: Counter[int] = field(default_factory=Counter)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    _seen: set[tuple[int, str]] = field(default_factory=set, repr=False)

    def record_error(self, code: int) -> None:
        """Count one error answer."""
        self.errors[code] += 1
        if code == 429:
            self.rate_limited += 1

    def record_accepted(self, chat_id: int, text: str | None) -> None:
        """Count one delivered message; identical (chat, text) twice is a duplicate."""
        self.accepted[chat_id] += 1
        if not text:
            return
        key = (chat_id, text)
        if key in self._seen:
            self.duplicates.append(key)
        self._seen.add(key)
