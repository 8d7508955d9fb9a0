"""Who may do what to a report: the whole matrix of roles × actions, on one report, written
out as a table; checked purely against ``policy`` and then cell by cell through the database
with ``report_flow.perform`` (refusals change nothing; a foreign report looks missing)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo.seed import seed_demo
from settings import Settings
from storage import policy
from storage import reports as svc
from storage.models import NeighbourGroup, OutboxMessage, Person, Report, ReportEvent
from storage.org import import_org
from storage.orgfile import OrgFile
from storage.people import Actor, load_actor
from storage.report_flow import ACTIONS as FLOW_ACTIONS
from storage.report_flow import ReportConfig, perform, precheck
from tests.conftest import T0

COLUMNS = ("view", "ack", "progress", "resolve", "reject", "escalate", "escalate_up",
           "send_back", "withdraw", "add_info", "confirm", "follow")  # fmt: skip
# The rules: a resident sees only their own and followed reports; the reporter may withdraw,
# add information and confirm; +1 is for neighbours of the same group who are neither the
# reporter nor already following; a captain (or backup) handles their group's reports and
# escalates to the grid leader, who handles the grid's, sends back or escalates up to the
# admins, who see the community's and resolve, reject or send back.  Nobody else sees a thing.
MATRIX_TEXT = """
role               view ack prog res rej esc up back wd add conf fol
reporter            x    .   .    .   .   .   .   .   x   x   x   .
follower            x    .   .    .   .   .   .   .   .   .   .   .
neighbour           .    .   .    .   .   .   .   .   .   .   .   x
other_resident      .    .   .    .   .   .   .   .   .   .   .   .
captain             x    x   x    x   x   x   .   .   .   .   .   .
backup              x    x   x    x   x   x   .   .   .   .   .   .
other_captain       .    .   .    .   .   .   .   .   .   .   .   .
grid_leader         x    x   x    x   x   .   x   x   .   .   .   .
other_grid_leader   .    .   .    .   .   .   .   .   .   .   .   .
admin               x    .   .    x   x   .   .   x   .   .   .   .
other_admin         .    .   .    .   .   .   .   .   .   .   .   .
stranger            .    .   .    .   .   .   .   .   .   .   .   .
"""
EXPECTED: dict[str, frozenset[str]] = {
    cells[0]: frozenset(c for c, mark in zip(COLUMNS, cells[1:], strict=True) if mark == "x")
    for cells in (line.split() for line in MATRIX_TEXT.strip().splitlines()[1:])
}
ROLES = tuple(EXPECTED)
#: report_flow action → the permission it needs (both answers of the reporter are "confirm").
NEEDS = {"ack": "ack", "progress": "progress", "resolve": "resolve", "reject": "reject",
         "withdraw": "withdraw", "fixed": "confirm", "not_fixed": "confirm",
         "escalate": "escalate", "escalate_up": "escalate_up", "send_back": "send_back",
         "add_info": "add_info", "follow": "follow"}  # fmt: skip

# --- pure: policy.allowed_actions --------------------------------------------------------

GROUP, OTHER_GROUP, GRID, OTHER_GRID, COMMUNITY, OTHER_COMMUNITY = 10, 11, 20, 21, 30, 31
REF = policy.ReportRef(id=7, group_id=GROUP, grid_id=GRID, community_id=COMMUNITY, reporter_id=1)


def _actor(person_id: int, group_id: int | None = None, **roles: tuple[int, ...]) -> Actor:
    return Actor(person_id, 100 + person_id, None, "zh", COMMUNITY, group_id, None, None, **roles)


PURE_ACTORS: dict[str, Actor | None] = {
    "reporter": _actor(1, GROUP),
    "follower": _actor(2, GROUP),
    "neighbour": _actor(3, GROUP),
    "other_resident": _actor(4, OTHER_GROUP),  # same grid and community, other group
    "captain": _actor(5, captain_of=(GROUP,)),
    "backup": _actor(6, backup_of=(GROUP,)),
    "other_captain": _actor(7, captain_of=(OTHER_GROUP,)),
    "grid_leader": _actor(8, leads_grids=(GRID,)),
    "other_grid_leader": _actor(9, leads_grids=(OTHER_GRID,)),
    "admin": _actor(10, admin_of=(COMMUNITY,)),
    "other_admin": _actor(11, admin_of=(OTHER_COMMUNITY,)),
    "stranger": None,
}


def test_matrix_covers_every_action_and_role() -> None:
    """The table has a column for every policy action and a row for each of the 12 roles."""
    assert set(COLUMNS) == set(policy.ACTIONS) and len(COLUMNS) == len(policy.ACTIONS)
    assert set(ROLES) == set(PURE_ACTORS) and len(ROLES) == 12
    assert set(NEEDS) == set(FLOW_ACTIONS)
    assert {needed for needed, _ in FLOW_ACTIONS.values()} <= set(COLUMNS)
    assert all(FLOW_ACTIONS[a][0] == NEEDS[a] for a in NEEDS)


@pytest.mark.parametrize("role", ROLES)
def test_allowed_actions_row(role: str) -> None:
    """``allowed_actions`` gives exactly the table's row for the role."""
    got = policy.allowed_actions(PURE_ACTORS[role], REF, is_follower=role == "follower")
    assert got == EXPECTED[role]


@pytest.mark.parametrize(("role", "action"), [(r, a) for r in ROLES for a in COLUMNS])
def test_can_cell(role: str, action: str) -> None:
    """``can`` answers each cell of the table."""
    allowed = policy.can(PURE_ACTORS[role], action, REF, is_follower=role == "follower")
    assert allowed is (action in EXPECTED[role])


# --- through the database: report_flow.perform, one fresh report per cell ---------------

SECOND_COMMUNITY = """
streets:
  - {code: tianjia, name: 田家庵街道, communities: [{code: dongshan, name: 东山社区,
      admins: [{name: 钱进, phone: "13800000099"}],
      grids: [{code: g1, name: 第一网格, groups: [{code: d1, name: 东山一组, buildings: [1栋]}]}]}]}
"""
EXTRA_TG = {"follower": 2001, "neighbour": 2002, "other_resident": 2003}
STAFF_TG = {"13800000004": 2004, "13800000007": 2005, "13800000099": 2006}  # 陈刚, 孙强, 钱进
ROLE_TG = {"reporter": 1001, "captain": 1003, "other_captain": 1004, "grid_leader": 1005,
           "admin": 1006, "backup": 2004, "other_grid_leader": 2005, "other_admin": 2006,
           **EXTRA_TG}  # fmt: skip
CONFIG = ReportConfig.from_settings(Settings(_env_file=None))


async def _world(session: AsyncSession) -> dict[str, Actor | None]:
    """The demo plus the extra cast; the actor of every role."""
    await seed_demo(session=session, now=T0)
    await import_org(
        session=session, org=OrgFile.model_validate(yaml.safe_load(SECOND_COMMUNITY)), now=T0
    )
    for phone, tg in STAFF_TG.items():
        (await session.scalar(select(Person).where(Person.phone == phone))).telegram_id = tg
    for role, tg in EXTRA_TG.items():
        code = "g1-chunshen" if role == "other_resident" else "g1-heping"
        group = await session.scalar(select(NeighbourGroup).where(NeighbourGroup.code == code))
        person = Person(telegram_id=tg, display_name=role, created_at=T0, joined_at=T0)
        person.group_id, person.community_id = group.id, group.community_id
        session.add(person)
    await session.flush()
    actors = {r: await load_actor(session=session, telegram_id=tg) for r, tg in ROLE_TG.items()}
    return {**actors, "stranger": None}


async def _fresh_report(session: AsyncSession, actors: dict[str, Actor | None], action: str) -> int:
    """A new report of the resident, put in the state where ``action`` makes sense."""
    reporter, captain, follower = actors["reporter"], actors["captain"], actors["follower"]
    assert reporter and captain and follower and reporter.group_id
    draft = svc.Draft(category="repairs", description="楼道灯坏了")
    report = await svc.create_report(session=session, reporter_id=reporter.person_id,
                                     group_id=reporter.group_id, draft=draft,
                                     deadlines=CONFIG.deadlines("repairs"), now=T0)  # fmt: skip
    await svc.follow_report(session=session, report=report, person_id=follower.person_id, now=T0)
    if action in ("fixed", "not_fixed"):
        await svc.change_status(session=session, report=report, actor_id=captain.person_id,
                                to="resolved", note="修好了", now=T0,
                                deadlines=CONFIG.deadlines("repairs"))  # fmt: skip
    if action == "send_back":
        await svc.change_level(session=session, report=report, actor_id=captain.person_id,
                               to_level=1, note="请网格员", now=T0, kind="escalate")  # fmt: skip
    return report.id


async def _snapshot(session: AsyncSession, report_id: int) -> tuple[tuple[object, ...], int]:
    """Everything a refused action must leave alone, and the author of the newest event."""
    report = await session.get(Report, report_id, populate_existing=True)
    assert report is not None
    query = select(ReportEvent.actor_id).where(ReportEvent.report_id == report_id)
    events = list(await session.scalars(query.order_by(ReportEvent.id)))
    outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
    state = (report.version, report.status, report.level, report.supporters, len(events), outbox)
    return state, events[-1]


def _expected(role: str, action: str) -> str:
    if NEEDS[action] in EXPECTED[role]:
        return "done"
    return "forbidden" if "view" in EXPECTED[role] else "not_found"


@pytest.mark.parametrize("role", ROLES)
async def test_matrix_through_perform(db: async_sessionmaker[AsyncSession], role: str) -> None:
    """Per action: allowed → done with one new event by the actor; refused → forbidden
    (visible) or not_found (foreign, same answer as a missing id) and nothing written."""
    async with db.begin() as session:
        actors = await _world(session)
        reports = {a: await _fresh_report(session, actors, a) for a in FLOW_ACTIONS}
        ref = svc.ref(await session.get(Report, reports["ack"]))
    actor = actors[role]
    assert policy.allowed_actions(actor, ref, is_follower=role == "follower") == EXPECTED[role]
    for action, report_id in reports.items():
        expected = _expected(role, action)
        async with db.begin() as session:
            before, _ = await _snapshot(session, report_id)
            check = await precheck(session=session, actor=actor, report_id=report_id, action=action)
        async with db.begin() as session:
            kw = dict(session=session, actor=actor, action=action, now=T0, config=CONFIG)
            result = await perform(report_id=report_id, note="n", **kw)  # type: ignore[arg-type]
            missing = await perform(report_id=report_id + 10**6, note="n", **kw)  # type: ignore[arg-type]
        if (role, action) == ("follower", "follow"):
            expected = "already"  # a second +1: not a permission, but an idempotent repeat
            assert (result.outcome, check.outcome != "ok") == (expected, True)
        else:
            assert result.outcome == expected, action
            assert check.outcome == ("ok" if expected == "done" else expected), action
        async with db.begin() as session:
            after, last_actor = await _snapshot(session, report_id)
        if expected == "done":
            assert after[0] == before[0] + 1 and after[4] == before[4] + 1, action
            assert actor is not None and last_actor == actor.person_id, action
        else:
            assert after == before, action
        if expected == "not_found":
            assert replace(result, report_id=0) == replace(missing, report_id=0), action
