"""The report lifecycle: statuses, which transitions are legal, and escalation levels.

Pure: the rules live here once; services and handlers ask, never re-implement.
"""

from __future__ import annotations

NEW = "new"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
CLOSED = "closed"
REOPENED = "reopened"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

STATUSES = (NEW, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, CLOSED, REOPENED, REJECTED, WITHDRAWN)
#: Someone still has to act on these.
OPEN = frozenset({NEW, ACKNOWLEDGED, IN_PROGRESS, REOPENED})
#: Nothing more happens to these.
FINAL = frozenset({CLOSED, REJECTED, WITHDRAWN})
#: Waiting for the first reaction (the acknowledge deadline applies).
UNACKNOWLEDGED = frozenset({NEW, REOPENED})

CAPTAIN, GRID, COMMUNITY = 0, 1, 2
LEVELS = (CAPTAIN, GRID, COMMUNITY)

_TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({ACKNOWLEDGED, IN_PROGRESS, RESOLVED, REJECTED, WITHDRAWN}),
    ACKNOWLEDGED: frozenset({IN_PROGRESS, RESOLVED, REJECTED, WITHDRAWN}),
    IN_PROGRESS: frozenset({RESOLVED, REJECTED, WITHDRAWN}),
    RESOLVED: frozenset({CLOSED, REOPENED}),
    REOPENED: frozenset({ACKNOWLEDGED, IN_PROGRESS, RESOLVED, REJECTED, WITHDRAWN}),
    CLOSED: frozenset(),
    REJECTED: frozenset(),
    WITHDRAWN: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    """True when ``current → target`` is a legal step."""
    return target in _TRANSITIONS.get(current, frozenset())


def next_statuses(current: str) -> frozenset[str]:
    """The statuses reachable in one step from ``current``."""
    return _TRANSITIONS.get(current, frozenset())
