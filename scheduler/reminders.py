"""Daily check-in jobs: the morning reminder, the afternoon nudge and the evening summary.

Each send is queued in the outbox with the idempotency key ``person:kind:local-date``
(unique), so a restart mid-fan-out, a late start or a second bot process never sends twice;
the outbox sender then delivers within Telegram's limits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from locales import translate
from scheduler.calendar import is_working_day
from scheduler.planning import hhmm
from scheduler.workdays import default_schedule, working_days
from storage import checkins, outbox
from storage.models import Grid, Person

log = logging.getLogger(__name__)
KINDS = ("checkin", "nudge", "summary")
__all__ = ["KINDS", "catch_up", "checkin_job", "default_schedule", "run_kind", "working_days"]


def checkin_buttons(day: date) -> list[list[dict[str, Any]]]:
    """The three check-in answers, stamped with the day they are for."""
    stamp = day.strftime("%Y%m%d")
    return [
        [outbox.button(outbox.text("ci.btn.ok"), f"ci:ok:{stamp}")],
        [
            outbox.button(outbox.text("ci.btn.issue"), f"ci:issue:{stamp}"),
            outbox.button(outbox.text("ci.btn.leave"), f"ci:leave:{stamp}"),
        ],
    ]


@dataclass
class FanOut:
    """What one run queued (and skipped)."""

    kind: str
    day: date
    queued: int = 0
    skipped: int = 0


async def run_kind(
    context: Any,
    kind: str,
    time: str | None,
    *,
    now: datetime | None = None,
    day: date | None = None,
    communities: set[int] | None = None,
) -> FanOut:
    """Queue one kind of reminder for ``day`` (default: today) to every community whose time
    is ``time`` (None: all), or only to ``communities`` among them."""
    settings = context.settings
    tz = settings.tz
    now = now or context.clock.now()
    day = day or now.astimezone(tz).date()
    result = FanOut(kind, day)
    async with context.db.begin() as session:
        all_schedules = await checkins.schedules(
            session=session, default=default_schedule(settings)
        )
        chosen = {
            cid
            for cid, s in all_schedules.items()
            if (time is None or getattr(s, kind) == time)
            and (communities is None or cid in communities)
        }
        overrides = await checkins.overrides(session=session, start=day, end=day)

        def working(cid: int) -> bool:
            return all_schedules[cid].every_day or is_working_day(day, overrides.get(cid))

        if kind == "summary":
            result.queued = await _summaries(session, context, chosen, day, working, now)
            dues = []
        else:
            dues = await checkins.due_people(
                session=session, day=day, community_ids=chosen, is_working=working
            )
        done = await checkins.checkins_on(session=session, day=day)
        work = await checkins.open_work(session=session, group_ids={d.group_id for d in dues})
        rows, seen = [], set()
        for due in dues:
            if due.person_id in done or due.person_id in seen:
                result.skipped += 1
                continue
            seen.add(due.person_id)
            payload = _reminder_payload(kind, due, work.get(due.group_id), due.name, day, tz)
            rows.append(
                {
                    "chat_id": due.telegram_id,
                    "person_id": due.person_id,
                    "kind": f"ci_{kind}",
                    "payload": payload,
                    "dedup_key": f"{due.person_id}:ci_{kind}:{day.isoformat()}",
                }
            )
        if rows:
            result.queued = await outbox.enqueue_many(session=session, rows=rows, now=now)
            result.skipped += len(rows) - result.queued
    if result.queued:
        context.wake_outbox()
        metrics = getattr(context, "runtime", None) and context.runtime.extras.get("metrics")
        if metrics is not None:
            metrics.reminders.labels(kind=kind).inc(result.queued)
    log.info("check-in %s for %s: queued %s, skipped %s", kind, day, result.queued, result.skipped)
    return result


def _reminder_payload(
    kind: str,
    due: checkins.Due,
    work: checkins.OpenWork | None,
    name: str | None,
    day: date,
    tz: Any,
) -> dict[str, Any]:
    if kind == "nudge":
        return {"text": outbox.text("ci.nudge", name=name or ""), "buttons": checkin_buttons(day)}
    if work and work.count:
        oldest = work.oldest.astimezone(tz).strftime("%m-%d") if work.oldest else "-"
        work_text = {
            "t": "ci.work.some",
            "p": {"group": due.group, "count": work.count, "oldest": oldest},
        }
    else:
        work_text = {"t": "ci.work.none", "p": {"group": due.group}}
    stand_in = (
        {"t": "ci.stand_in", "p": {"group": due.group}} if due.stand_in else {"t": "common.empty"}
    )
    text = outbox.text(
        "ci.reminder",
        name=name or "",
        date=day.strftime("%m-%d"),
        work=work_text,
        stand_in=stand_in,
    )
    return {"text": text, "buttons": checkin_buttons(day)}


async def _summaries(
    session: Any, context: Any, communities: set[int], day: date, working: Any, now: datetime
) -> int:
    """The evening summary to each grid leader of these communities."""
    grids = (
        await session.execute(
            select(Grid.id, Grid.name, Grid.community_id, Person.id, Person.language)
            .join(Person, Person.id == Grid.leader_id)
            .where(Grid.community_id.in_(communities), Person.telegram_id.is_not(None))
        )
    ).all()
    queued = 0
    default_lang = context.settings.default_language
    for grid_id, grid_name, cid, leader_id, lang in grids:
        if not working(cid):
            continue
        lines = await checkins.squad_day(session=session, grid_id=grid_id, day=day, working=True)
        text = render_summary(lang or default_lang, grid_name, day, lines)
        queued += int(
            await outbox.enqueue_to_person(
                session=session,
                person_id=leader_id,
                kind="ci_summary",
                payload={"text": text},
                now=now,
                dedup_key=f"{leader_id}:ci_summary:{grid_id}:{day.isoformat()}",
            )
        )
    return queued


def render_summary(lang: str, grid: str, day: date, lines: list[checkins.SquadLine]) -> str:
    """The evening summary text in ``lang``."""

    def t(key: str, **params: Any) -> str:
        return translate(lang, key, **params)

    none = t("ci.summary.none")
    sep = "、" if lang == "zh" else ", "
    done = [ln for ln in lines if ln.status in ("ok", "issue")]
    away = [ln for ln in lines if ln.status in ("leave", "away")]
    missed = [ln for ln in lines if ln.status == "missed"]
    unreachable = [ln for ln in lines if ln.status == "unreachable"]
    done_text = (
        "\n".join(
            t(
                "ci.summary.line",
                name=ln.name or "?",
                groups=ln.groups,
                note=t("ci.summary.issue", note=ln.note) if ln.note else "",
            )
            for ln in done
        )
        or none
    )
    return t(
        "ci.summary",
        grid=grid,
        date=day.strftime("%m-%d"),
        ok=len(done),
        done=done_text,
        leave=len(away),
        away=sep.join(ln.name or "?" for ln in away) or none,
        missed=len(missed),
        missing=sep.join(ln.name or "?" for ln in missed) or none,
        unreachable=len(unreachable),
        unreachable_names=sep.join(
            f"{ln.name or '?'}{t('ci.unreachable.' + (ln.note or 'blocked'))}" for ln in unreachable
        )
        or none,
    )


async def checkin_job(context: Any) -> None:
    """Scheduled: one kind at one local time (``job.data = {"kind", "time"}``)."""
    data = context.job.data
    now = context.clock.now()
    day = intended_day(now, data["time"], context.settings.tz)
    await run_kind(context, data["kind"], data["time"], now=now, day=day)


def intended_day(now: datetime, time: str, tz: Any) -> date:
    """The local date a daily job at ``time`` ran for: it may run up to its misfire grace
    late, so a 23:55 job running at 00:03 is still yesterday's."""
    local = now.astimezone(tz)
    return local.date() - timedelta(days=1) if hhmm(local.time()) < time else local.date()


async def catch_up(context: Any, *, communities: set[int] | None = None) -> list[FanOut]:
    """At start (or after an admin changed times): send what was missed today, per community,
    if its window is still open; ``communities`` limits it to some.

    The morning reminder is sent until the nudge time, the nudge until the summary time,
    the summary until midnight; anything whose window closed is skipped (and logged).
    """
    settings = context.settings
    now = context.clock.now()
    local = hhmm(now.astimezone(settings.tz).time())
    async with context.db.begin() as session:
        all_schedules = await checkins.schedules(
            session=session, default=default_schedule(settings)
        )
    results = []
    for kind in KINDS:
        due: dict[str, set[int]] = {}  # start time -> communities whose window is open
        closed = 0
        for cid, schedule in all_schedules.items():
            if communities is not None and cid not in communities:
                continue
            if getattr(schedule, kind) > local:
                continue
            if local >= _window_end(kind, schedule):
                closed += 1
                continue
            due.setdefault(getattr(schedule, kind), set()).add(cid)
        if closed:
            log.info("catch-up: %s missed in %s communities whose window closed", kind, closed)
        for time in sorted(due):
            results.append(await run_kind(context, kind, time, now=now, communities=due[time]))
    return results


def _window_end(kind: str, schedule: checkins.Schedule) -> str:
    return {"checkin": schedule.nudge, "nudge": schedule.summary, "summary": "24:00"}[kind]
