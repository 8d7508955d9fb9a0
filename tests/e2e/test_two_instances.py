"""Two bot processes on one PostgreSQL, in webhook mode behind deploy/webhook_splitter.py.

Both register the splitter's public URL (``WEBHOOK_URL``) with the same secret; the fake
Telegram delivers every update to the splitter, which routes each person to one instance.
Both run the scheduler (the morning fan-out at start, the report deadline timers) and the
outbox sender.  Every reminder and notification must reach its person exactly once; when
one instance is killed -9, the other carries on: it takes over the dead one's people at
once and delivers the outbox row the dead one was sending within a minute (when that row's
60 s lease runs out).  The killed instance is then restarted, as a supervisor would, and
the exactly-once checks continue with both while the lease runs out.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deploy.webhook_splitter import rendezvous_order
from tests.e2e import dbcheck
from tests.e2e.bot_process import BotProcess, free_port
from tests.e2e.community import Community, body, count_messages, texts, wait_until
from tests.e2e.conftest import Launch
from tests.e2e.fake_botapi import FakeBotAPI, UserHandle
from tests.e2e.pg_cluster import PgCluster
from tests.e2e.probes import wait_held
from tests.e2e.splitter_process import SplitterProcess
from tests.e2e.times import hhmm, local_now, midday_zone, monotonic

SECRET = "two-instances_secret"
CAPTAINS = {"g1-heping": "王芳", "g1-chunshen": "刘洋", "g1-huayuan": "赵丽", "g2-xinyuan": "周敏"}
BUILDING = {"g1-heping": "2栋", "g1-chunshen": "5栋", "g1-huayuan": "8栋", "g2-xinyuan": "13栋"}
LEADER = {"g1-heping": "张伟", "g1-chunshen": "张伟", "g1-huayuan": "张伟", "g2-xinyuan": "孙强"}
PROBLEMS = {
    "g1-heping": "楼道灯坏了，晚上很黑",
    "g1-chunshen": "门口垃圾堆了三天没人清理",
    "g1-huayuan": "单元门禁坏了，谁都能进",
    "g2-xinyuan": "楼顶漏水，墙面发霉",
}


def instance_of(user: UserHandle, backends: list[str]) -> str:
    """The backend the splitter prefers for this person."""
    return rendezvous_order(f"chat:{user.id}", backends)[0]


def residents_on(community: Community, backends: list[str], wanted: list[str]) -> list[UserHandle]:
    """New residents, the n-th preferring the backend ``wanted[n]`` (so both get people)."""
    chosen = []
    for target in wanted:
        while True:
            user = community.resident(f"居民{len(chosen) + 1}")
            if instance_of(user, backends) == target:
                chosen.append(user)
                break
    return chosen


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_instances_exactly_once_and_failover(
    api: FakeBotAPI,
    launch: Launch,
    pg: tuple[PgCluster, Any],
    pg_url: str,
    tmp_path: Path,
) -> None:
    """Each reminder and notice exactly once; kill -9 of one: the other carries on within 1 min."""
    _, invites = pg
    community = Community(api, invites)
    for name in Community.IDS:
        community.person(name)
    ports = {"A": free_port(), "B": free_port()}
    backends = [f"http://127.0.0.1:{ports[n]}/telegram" for n in ("A", "B")]
    splitter = SplitterProcess(api, cwd=tmp_path, port=free_port(), backends=backends)
    await splitter.start()
    try:
        await _scenario(api, launch, community, splitter, ports, backends, pg_url)
    finally:
        await splitter.kill(signal.SIGKILL)


async def _scenario(
    api: FakeBotAPI,
    launch: Launch,
    community: Community,
    splitter: SplitterProcess,
    ports: dict[str, int],
    backends: list[str],
    url: str,
) -> None:
    """The story of the test above, in numbered steps."""
    zone = midday_zone()
    now = local_now(zone)
    common = {
        "webhook": True,
        "webhook_url": splitter.url,
        "webhook_secret_token": SECRET,
        "timezone": zone,
        "checkin_every_day": "true",
        "checkin_time": hhmm(now - timedelta(minutes=1)),
        "nudge_time": hhmm(now + timedelta(minutes=30)),
        "summary_time": hhmm(now + timedelta(minutes=40)),
        "report_ack_hours": '{"default": 0.002}',
        "report_timer_seconds": 5,
        # Slow polling: a sender claims what its own process queued (woken at once), so the
        # row held below is A's; B picks up leftovers on its next poll.
        "outbox_poll_seconds": 5,
    }
    a, b = await asyncio.gather(
        launch(url, name="A", webhook_port=ports["A"], **common),
        launch(url, name="B", webhook_port=ports["B"], **common),
    )
    assert api.webhook_url == f"{splitter.url}/telegram"

    # 1. Both ran the morning fan-out's catch-up at start: one reminder per captain.
    captains = [community.person(n) for n in ("王芳", "刘洋", "赵丽", "周敏", "吴军")]
    for captain in captains:
        await api.wait_for_message(captain, "早上好", timeout=15)
    assert sum(queued_at_start(a) + queued_at_start(b)) == 5

    # 2. A is sending 周敏 a new report (the fake holds the call) when it is killed -9.
    victim = community.person("周敏")
    (on_a,) = residents_on(community, backends, [backends[0]])
    await community.join(on_a, group="g2-xinyuan", building="14栋", unit=None)
    api.fail_next("sendMessage", chat=victim, delay=30, drop=True)
    await on_a.send("/report 14栋电梯按钮坏了，老人上下楼很不方便")
    held_number = report_number(await api.wait_for_message(on_a, "已提交，报告编号 #"))
    await wait_held(api, "sendMessage", victim)
    await a.kill(signal.SIGKILL)
    killed = monotonic()
    api.clear_faults()

    # 3. B carries on at once for A's people (the splitter fails over)...
    await on_a.send("/myreports")
    mine = await api.wait_for_message(on_a, "我的报告", timeout=15)
    assert f"#{held_number}" in body(mine)
    # ...and A comes back (its supervisor restarts it); its catch-up queues nobody twice.
    await a.restart()
    assert queued_at_start(a)[-1] == 0

    # 4. Meanwhile: residents on both instances report, captains ack two, and the deadline
    #    timers of both instances escalate the other two (and the held one).
    groups = list(CAPTAINS)
    residents = residents_on(community, backends, [backends[i % 2] for i in range(4)])
    for resident, group in zip(residents, groups, strict=True):
        await community.join(resident, group=group, building=BUILDING[group], unit=None)
    for resident, group in zip(residents, groups, strict=True):
        await resident.send(f"/report {BUILDING[group]}{PROBLEMS[group]}")
    numbers: dict[str, int] = {}
    for resident, group in zip(residents, groups, strict=True):
        numbers[group] = report_number(await api.wait_for_message(resident, "已提交，报告编号 #"))
    for group in groups:
        captain = community.person(CAPTAINS[group])
        await wait_until(
            lambda c=captain, n=numbers[group]: count_messages(api, c, f"新报告 #{n}") >= 1,
            15,
            f"notice of #{numbers[group]}",
        )
    for group in groups[:2]:  # acknowledged in time: no escalation for these
        captain = community.person(CAPTAINS[group])
        notice = next(m for m in api.messages_to(captain) if f"新报告 #{numbers[group]}" in body(m))
        await captain.press(notice, "确认收到")
    late = {group: numbers[group] for group in groups[2:]}
    escalated = {**late, "held": held_number}
    leaders = {**{g: LEADER[g] for g in late}, "held": "孙强"}
    for key, number in escalated.items():
        leader = community.person(leaders[key])
        await wait_until(
            lambda p=leader, n=number: escalations(api, p, n) >= 1, 30, f"escalation of #{number}"
        )
    for resident, group in zip(residents, groups, strict=True):
        expect = "：已确认收到" if group not in late else "处理超时"
        await wait_until(
            lambda r=resident, e=expect: count_messages(api, r, e) >= 1,
            15,
            f"{expect} to {resident}",
        )
    assert splitter_health_both_used(await splitter.health())

    # 5. The notice A died sending is delivered once its lease (60 s) has run out.
    await api.wait_for_message(victim, f"新报告 #{held_number}", timeout=75)
    assert monotonic() - killed < 75, "carried on within a minute (plus the poll interval)"
    await asyncio.sleep(2)

    # Exactly once, everywhere.
    for captain in captains:
        assert count_messages(api, captain, "早上好") == 1, captain
    for group in groups:
        captain = community.person(CAPTAINS[group])
        assert count_messages(api, captain, f"新报告 #{numbers[group]}") == 1, group
    assert count_messages(api, victim, f"新报告 #{held_number}") == 1
    for key, number in escalated.items():
        assert escalations(api, community.person(leaders[key]), number) == 1, number
    for resident, group in zip(residents, groups, strict=True):
        assert count_messages(api, resident, "：已确认收到") == int(group not in late)
        assert count_messages(api, resident, "处理超时") == int(group in late)
    assert count_messages(api, on_a, "处理超时") == 1
    assert api.stats.duplicates == []
    assert api.webhook.failures == []
    rows = await dbcheck.outbox(url)
    assert {r["status"] for r in rows} == {"sent"}, [r for r in rows if r["status"] != "sent"]
    assert await dbcheck.consistency_problems(url) == []
    for bot in (a, b):
        assert bot.alive and not bot.tracebacks(), bot.tail()


def report_number(message: dict[str, Any]) -> int:
    """The number in "已提交，报告编号 #N。"."""
    return int(body(message).split("#")[1].split("。")[0])


def queued_at_start(bot: BotProcess) -> list[int]:
    """How many morning reminders each start of this process queued (its catch-up log)."""
    return [
        int(line.split("queued ")[1].split(",")[0])
        for line in bot.lines
        if "check-in checkin for" in line
    ]


def escalations(api: FakeBotAPI, leader: UserHandle, number: int) -> int:
    """How many "escalated to you" notices about report #number the grid leader got."""
    return sum(f"报告 #{number}（" in t and "上报给你" in t for t in texts(api, leader))


def splitter_health_both_used(health: dict[str, Any]) -> bool:
    """Both instances received updates through the splitter."""
    return all(backend["forwarded"] > 0 for backend in health["backends"])
