"""Who may do what to a report (DESIGN rule 5): pure, asked by every button and command.

A resident sees only their own and followed reports; a captain only their group's; a grid
leader only their grid's; an admin only their community's.  The status rules (what is
legal *now*) are in ``lifecycle``; this module answers *who*.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.people import Actor

VIEW = "view"
ACK = "ack"
PROGRESS = "progress"
RESOLVE = "resolve"
REJECT = "reject"
ESCALATE = "escalate"  # captain → grid leader
ESCALATE_UP = "escalate_up"  # grid leader → community admin
SEND_BACK = "send_back"  # grid leader / admin → captain, with an instruction
WITHDRAW = "withdraw"
ADD_INFO = "add_info"
CONFIRM = "confirm"  # the reporter: fixed / not fixed
FOLLOW = "follow"  # +1 by a neighbour of the same group

ACTIONS = (VIEW, ACK, PROGRESS, RESOLVE, REJECT, ESCALATE, ESCALATE_UP, SEND_BACK, WITHDRAW,
           ADD_INFO, CONFIRM, FOLLOW)  # fmt: skip

_CAPTAIN = frozenset({VIEW, ACK, PROGRESS, RESOLVE, REJECT, ESCALATE})
_GRID = frozenset({VIEW, ACK, PROGRESS, RESOLVE, REJECT, ESCALATE_UP, SEND_BACK})
_ADMIN = frozenset({VIEW, RESOLVE, REJECT, SEND_BACK})
_REPORTER = frozenset({VIEW, WITHDRAW, ADD_INFO, CONFIRM})


@dataclass(frozen=True, slots=True)
class ReportRef:
    """The facts about a report that decide permissions."""

    id: int
    group_id: int
    grid_id: int
    community_id: int
    reporter_id: int


def allowed_actions(actor: Actor | None, report: ReportRef, *, is_follower: bool) -> frozenset[str]:
    """Every action ``actor`` may take on ``report`` (ignoring its current status)."""
    if actor is None:
        return frozenset()
    allowed: set[str] = set()
    if actor.person_id == report.reporter_id:
        allowed |= _REPORTER
    if is_follower:
        allowed.add(VIEW)
    if report.group_id in actor.captain_of or report.group_id in actor.backup_of:
        allowed |= _CAPTAIN
    if report.grid_id in actor.leads_grids:
        allowed |= _GRID
    if report.community_id in actor.admin_of:
        allowed |= _ADMIN
    if (
        actor.group_id == report.group_id
        and actor.person_id != report.reporter_id
        and not is_follower
    ):
        allowed.add(FOLLOW)
    return frozenset(allowed)


def can(actor: Actor | None, action: str, report: ReportRef, *, is_follower: bool = False) -> bool:
    """True when ``actor`` may take ``action`` on ``report``."""
    return action in allowed_actions(actor, report, is_follower=is_follower)
