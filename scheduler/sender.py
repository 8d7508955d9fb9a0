"""The outbox sender: drains queued messages through the bot (DESIGN rule 4).

Rate limits are PTB's ``AIORateLimiter`` (set on the Application); this module decides what
each Telegram answer means for the message: sent, retry later (429 ``RetryAfter``, network
errors, 5xx: for ``retry_for`` after it was queued, so an outage of hours loses nothing),
unreachable (403: blocked, chat gone) or failed (400: the message itself is bad).  Anything
else is a bug or an answer we do not know: logged with its traceback and retried a bounded
number of times.  While a batch is out, its leases are renewed, so a send slowed by the rate
limiter is not claimed and sent a second time by another sender.  It is one of the few
modules allowed to import ``telegram``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from scheduler.clock import Clock
from scheduler.delivery import deliver
from storage import outbox
from storage.notice_screen import withhold_stale
from storage.report_notices import reroute

log = logging.getLogger(__name__)
#: The database briefly unavailable (SQLite "database is locked" past the busy timeout, a
#: dropped PostgreSQL connection, an exhausted pool): nothing was claimed; try again soon.
DB_TROUBLE: tuple[type[Exception], ...] = (OperationalError, PoolTimeout)

#: How long transient failures (network, 5xx, 429) are retried after a message was queued.
RETRY_FOR = timedelta(hours=24)
#: The longest wait between two attempts (the backoff doubles from 2 s up to this).
MAX_BACKOFF = 300.0

_UNREACHABLE_400 = ("chat not found", "user not found", "peer_id_invalid", "user is deactivated")


class OutboxSender:
    """Claims due outbox rows and delivers them; one per process."""

    def __init__(
        self,
        *,
        db: async_sessionmaker[AsyncSession],
        clock: Clock,
        default_language: str,
        batch_size: int = 50,
        max_attempts: int = 8,
        retry_for: timedelta = RETRY_FOR,
        renew_every: float | None = None,
        tz: ZoneInfo | None = None,
        font: Path | None = None,
        metrics: Any = None,
        linger: float = 0.02,
    ) -> None:
        self.db = db
        self.clock = clock
        self.default_language = default_language
        self.batch_size = batch_size
        self.max_attempts = max_attempts  # for unexpected errors; transient ones: retry_for
        self.retry_for = retry_for
        # Seconds between lease renewals of a batch in flight (real time: the lease is only
        # read by other senders, which check it against the clock when they claim).
        self.renew_every = renew_every or outbox.LEASE.total_seconds() / 3
        self.tz = tz or ZoneInfo("UTC")
        self.font = font
        self.metrics = metrics  # duck-typed: .outcome(status, kind)
        # Seconds a woken loop waits before claiming, so that the notices of reports filed
        # in quick succession go out in one claim (two write transactions for the lot):
        # at 100 filings a second, the sender's transactions no longer take every other
        # turn of SQLite's write lock. A person waits 20 ms longer for a notice.
        self.linger = linger
        self.wakeup = asyncio.Event()  # set by handlers after queuing (Runtime.wake_outbox)
        self.backlog = asyncio.Event()  # set when a claim came back full
        self.stats: dict[str, int] = {"sent": 0, "retried": 0, "failed": 0, "unreachable": 0}

    async def drain_once(self, bot: Bot) -> int:
        """Claim one batch, send it concurrently, record every outcome in one transaction;
        returns how many messages were claimed (sent, or withheld and passed on)."""
        async with self.db.begin() as session:
            now = self.clock.now()
            batch = await outbox.claim_due(session=session, now=now, limit=self.batch_size)
            # A notice with a resident's name or phone whose recipient lost the role since it
            # was queued is withheld and queued for whoever has the role now.
            withheld = await withhold_stale(session=session, claimed=batch, now=now, tz=self.tz)
        claimed = len(batch)
        if withheld:
            log.info("outbox: %d notice(s) withheld from people no longer in charge", len(withheld))
            self.wakeup.set()  # their replacements are due now
            batch = [m for m in batch if m.id not in withheld]
        if batch:
            outcomes = await self._send_leased(bot, batch)
            await self._apply(outcomes)
        return claimed

    async def _send_leased(self, bot: Bot, batch: list[outbox.Claimed]) -> list[_Outcome]:
        """Send a batch concurrently, renewing its leases until every send has an outcome."""
        done = asyncio.Event()
        renewer = asyncio.create_task(self._keep_leases([m.id for m in batch], done))
        try:
            return list(await asyncio.gather(*(self._send_one(bot, m) for m in batch)))
        finally:
            done.set()
            await renewer  # ends at once (or after the renewal under way)

    async def _keep_leases(self, ids: list[int], done: asyncio.Event) -> None:
        """Renew the leases every ``renew_every`` s until ``done``: PTB's rate limiter can hold
        one send for minutes (429 retries, a group's 20 messages a minute)."""
        while True:
            try:
                async with asyncio.timeout(self.renew_every):
                    await done.wait()
                return
            except TimeoutError:
                pass
            try:
                async with self.db.begin() as session:
                    renewed = await outbox.renew_leases(
                        session=session, message_ids=ids, now=self.clock.now()
                    )
            except (*DB_TROUBLE, DBAPIError, OSError) as exc:  # keep sending; try again later
                log.warning("outbox sender: could not renew %d leases: %s", len(ids), exc)
                continue
            except Exception:  # a bug must not stop the sends under way
                log.exception("outbox sender: renewing %d leases failed", len(ids))
                continue
            if renewed < len(ids):
                log.warning(
                    "outbox sender: %d of %d leases had run out; another sender may send those "
                    "messages too",
                    len(ids) - renewed,
                    len(ids),
                )

    async def drain(self, bot: Bot, *, max_batches: int = 1000) -> int:
        """Send everything that is due now (tests and the demo call this)."""
        total = 0
        for _ in range(max_batches):
            claimed = await self.drain_once(bot)
            total += claimed
            if claimed == 0:
                break
        return total

    async def run_forever(self, bot: Bot, poll_seconds: float, workers: int = 2) -> None:
        """The background loop of a running bot: ``workers`` loops, each claiming its own batch.

        The first loop answers wake-ups (a handler queued something); the others join in only
        while there is a backlog (a claim came back full, as in a fan-out): two batches in
        flight keep the rate limiter busy while the other batch's outcomes are written, and a
        single notice costs one claim, not one per loop.
        """
        loops = [self._loop(bot, poll_seconds, self.wakeup)]
        loops += [self._loop(bot, poll_seconds, self.backlog) for _ in range(workers - 1)]
        await asyncio.gather(*loops)

    async def _loop(self, bot: Bot, poll_seconds: float, signal: asyncio.Event) -> None:
        while True:
            # Cleared *before* claiming: a message committed after the claim began sets the
            # signal again, so the wait below returns at once and nothing waits a whole poll.
            signal.clear()
            try:
                claimed = await self.drain_once(bot)
            except (*DB_TROUBLE, OSError, TelegramError) as exc:  # database or network: retry soon
                log.warning("outbox sender: %s; retrying in %ss", exc, poll_seconds)
                claimed = 0
            except Exception:  # a bug must not kill the only sender; log it loudly and go on
                log.exception("outbox sender crashed on a batch; continuing")
                claimed = 0
            if claimed >= self.batch_size:  # a full batch: more is probably due
                self.backlog.set()
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
            # arrives together with a wake-up (CPython gh-86296) and the sender outlives the bot.
            try:
                async with asyncio.timeout(poll_seconds):
                    await signal.wait()
            except TimeoutError:
                continue
            if self.linger > 0:
                await asyncio.sleep(self.linger)

    async def _send_one(self, bot: Bot, message: outbox.Claimed) -> _Outcome:
        """Deliver one message and classify Telegram's answer (nothing written yet)."""
        lang = message.language or self.default_language
        try:
            await deliver(bot, message.chat_id, message.payload, lang, self.font)
        except RetryAfter as exc:
            return _Outcome(
                message,
                "retry",
                f"429 retry after {exc.retry_after}",
                _seconds(exc.retry_after) + 1,
            )
        except Forbidden as exc:
            return _Outcome(message, "unreachable", f"403 {exc.message}")
        except ChatMigrated as exc:
            return _Outcome(message, "failed", f"chat migrated to {exc.new_chat_id}")
        except BadRequest as exc:
            if any(marker in exc.message.lower() for marker in _UNREACHABLE_400):
                return _Outcome(message, "unreachable", f"400 {exc.message}")
            return _Outcome(message, "failed", f"400 {exc.message}")
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            return _Outcome(message, "retry", f"network: {exc}", _backoff(message.attempts))
        except Exception as exc:  # a bug, or an answer we do not know: bounded retries, loudly
            log.exception("outbox %s to %s: unexpected error", message.id, message.chat_id)
            error = f"{type(exc).__name__}: {exc}"
            return _Outcome(message, "error", error, _backoff(message.attempts))
        return _Outcome(message, "sent")

    async def _apply(self, outcomes: list[_Outcome]) -> None:
        """Record a batch's outcomes: one transaction (one UPDATE for all the sent ones)."""
        now = self.clock.now()
        async with self.db.begin() as session:
            sent = [o.message.id for o in outcomes if o.status == "sent"]
            await outbox.mark_sent_many(session=session, message_ids=sent, now=now)
            for o in outcomes:
                if o.status in ("retry", "error"):
                    again = await outbox.mark_retry(
                        session=session,
                        message_id=o.message.id,
                        now=now,
                        delay=timedelta(seconds=o.delay),
                        error=o.error,
                        # Transient failures: only time bounds them; an unknown error that
                        # repeats is a bug, which max_attempts stops.
                        max_attempts=self.max_attempts if o.status == "error" else None,
                        retry_for=self.retry_for,
                    )
                    o.status = "retried" if again else "failed"
                    log.log(
                        logging.INFO if again else logging.WARNING,
                        "outbox %s to %s: %s (%s)",
                        o.message.id,
                        o.message.chat_id,
                        o.error,
                        "will retry" if again else "gave up",
                    )
                elif o.status == "unreachable":
                    await outbox.mark_unreachable(
                        session=session,
                        message_id=o.message.id,
                        person_id=o.message.person_id,
                        now=now,
                        error=o.error,
                    )
                    log.info(
                        "outbox %s: recipient %s unreachable (%s)",
                        o.message.id,
                        o.message.chat_id,
                        o.error,
                    )
                    if o.message.payload.get("reroute"):
                        # The captain blocked the bot: the group's new report goes to the stand-in.
                        await reroute(
                            session=session,
                            kind=o.message.kind,
                            payload=o.message.payload,
                            now=now,
                            tz=self.tz,
                        )
                elif o.status == "failed":
                    await outbox.mark_failed(
                        session=session, message_id=o.message.id, error=o.error
                    )
                    log.warning(
                        "outbox %s to %s failed for good: %s",
                        o.message.id,
                        o.message.chat_id,
                        o.error,
                    )
        for o in outcomes:
            self._record(o.status, o.message.kind)

    def _record(self, status: str, kind: str) -> None:
        self.stats[status] += 1
        if self.metrics is not None:
            self.metrics.outcome(status, kind)


@dataclass
class _Outcome:
    """What Telegram said about one message."""

    message: outbox.Claimed
    status: str  # sent | retry | error | unreachable | failed (retry/error: retried/failed)
    error: str = ""
    delay: float = 0.0


def _backoff(attempts: int) -> float:
    """Seconds before the next attempt: 2, 4, 8, … up to ``MAX_BACKOFF``."""
    return min(MAX_BACKOFF, 2.0 ** min(attempts + 1, 16))


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
