"""The Monday digest: last week's reports, check-in rates and meetings to every grid leader
and, per community, to its admins; caught up at start when a stopped bot missed it."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from locales import translate
from scheduler.planning import at_local, week_bounds
from scheduler.workdays import community_days, default_schedule
from storage import digest, outbox, schedules
from storage.models import Community, CommunityAdmin, Grid, Person

log = logging.getLogger(__name__)
#: How late a missed Monday digest is still sent at start; later it is news nobody reads
#: (and a bot first started on a Saturday would greet every leader with last week's digest).
DIGEST_CATCH_UP = timedelta(hours=24)


async def digest_job(context: Any) -> int:
    """Monday: last week's digest to every grid leader, and to admins for the community."""
    settings, now = context.settings, context.clock.now()
    tz = settings.tz
    today = now.astimezone(tz).date()
    monday, sunday = week_bounds(today - timedelta(days=7))
    queued = 0
    async with context.db.begin() as session:
        # Each community's own days: its holidays and whether it checks in every day.
        days = await community_days(
            session=session, default=default_schedule(settings), start=monday, end=sunday
        )
        grids = (
            await session.execute(
                select(Grid.id, Grid.name, Grid.community_id, Person.id, Person.language)
                .join(Person, Person.id == Grid.leader_id)
                .where(Person.telegram_id.is_not(None))
            )
        ).all()
        targets = [(pid, lang, [gid], name, cid) for gid, name, cid, pid, lang in grids]
        admins = (
            await session.execute(
                select(CommunityAdmin.community_id, Community.name, Person.id, Person.language)
                .join(Person, Person.id == CommunityAdmin.person_id)
                .join(Community, Community.id == CommunityAdmin.community_id)
                .where(Person.telegram_id.is_not(None))
            )
        ).all()
        for cid, community_name, pid, lang in admins:
            grid_ids = await digest.community_grids(session=session, community_id=cid)
            targets.append((pid, lang, grid_ids, community_name, cid))
        keys = [f"{pid}:digest:{title}:{monday.isoformat()}" for pid, _, _, title, _ in targets]
        # Only those not queued yet: a restart's catch-up computes nothing twice.
        done = await schedules.queued_keys(session=session, keys=keys)
        for (pid, lang, grid_ids, title, cid), key in zip(targets, keys, strict=True):
            if key in done:
                continue
            numbers = await digest.grid_digest(
                session=session,
                grid_ids=grid_ids,
                title=title,
                monday=monday,
                tz=tz,
                working_days=days.get(cid, []),
            )
            queued += int(
                await outbox.enqueue_to_person(
                    session=session,
                    person_id=pid,
                    kind="digest",
                    now=now,
                    payload=digest_payload(numbers, lang or settings.default_language),
                    dedup_key=key,
                )
            )
    if queued:
        context.wake_outbox()
    return queued


def digest_payload(numbers: digest.Digest, lang: str) -> dict[str, Any]:
    """Text in ``lang`` plus the chart's data (rendered to PNG by the sender)."""

    def t(key: str, **params: Any) -> str:
        return translate(lang, key, **params)

    groups = "\n".join(
        t(
            "digest.group",
            group=g.group,
            opened=g.opened,
            resolved=g.resolved,
            escalated=g.escalated,
            overdue=g.overdue,
        )
        for g in numbers.groups
    ) or t("ci.summary.none")
    rates = "\n".join(
        t("digest.rate", name=n or "?", done=d, total=k) for n, d, k in numbers.checkin_rates
    ) or t("ci.summary.none")
    meetings_text = ("; " if lang == "en" else "；").join(
        t("digest.meeting.skipped", day=d.strftime("%m-%d"))
        if skipped
        else t("digest.meeting", day=d.strftime("%m-%d"), came=c, size=s)
        for d, c, s, skipped in numbers.meetings
    ) or t("digest.meetings.none")
    text = t(
        "digest.text",
        title=numbers.title,
        start=numbers.monday.strftime("%m-%d"),
        end=numbers.sunday.strftime("%m-%d"),
        groups=groups,
        rates=rates,
        meetings=meetings_text,
    )
    chart = {
        "title": t("digest.caption", title=numbers.title),
        "groups": [
            {
                "group": g.group,
                "opened": g.opened,
                "resolved": g.resolved,
                "escalated": g.escalated,
                "overdue": g.overdue,
            }
            for g in numbers.groups
        ],
        "rates": [[n, d, k] for n, d, k in numbers.checkin_rates],
        "labels": {
            k: t(f"digest.label.{k}")
            for k in ("opened", "resolved", "escalated", "overdue", "rate")
        },
    }
    return {"text": text, "chart": chart}


async def catch_up_digest(context: Any) -> int:
    """At start: this week's digest to those who did not get it, once its time has passed."""
    settings, now = context.settings, context.clock.now()
    monday, _ = week_bounds(now.astimezone(settings.tz).date())
    due = at_local(monday, settings.digest_time, settings.tz)
    if now < due:
        return 0  # the Monday job is still to come
    if now - due > DIGEST_CATCH_UP:
        log.info("catch-up: this week's digest was due %s, too long ago; not sent late", due)
        return 0
    queued = await digest_job(context)
    if queued:
        log.info("catch-up: %s digests of this week were missed; queued now", queued)
    return queued
