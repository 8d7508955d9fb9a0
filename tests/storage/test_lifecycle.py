"""The report lifecycle: every (from, to) pair is legal or illegal exactly as the domain says,
the final statuses have no exits, and every open report can still end."""

from __future__ import annotations

from itertools import product

import pytest

from storage import lifecycle as lc

NE, AK, IP, RS, CL, RO, RJ, WD = (
    "new",
    "acknowledged",
    "in_progress",
    "resolved",
    "closed",
    "reopened",
    "rejected",
    "withdrawn",
)

#: The legal steps, written out from the domain: a captain acknowledges, works on, resolves
#: or rejects; the reporter withdraws an unfinished report and confirms (closed) or
#: disputes (reopened) a resolution; nothing ever comes back from closed/rejected/withdrawn.
LEGAL: dict[str, set[str]] = {
    NE: {AK, IP, RS, RJ, WD},
    AK: {IP, RS, RJ, WD},
    IP: {RS, RJ, WD},
    RS: {CL, RO},
    RO: {AK, IP, RS, RJ, WD},
    CL: set(),
    RJ: set(),
    WD: set(),
}
ALL_PAIRS = list(product(LEGAL, LEGAL))


def test_status_constants_are_the_domain_statuses() -> None:
    """The module names exactly the eight statuses of the expected table, once each."""
    assert sorted(lc.STATUSES) == sorted(LEGAL)
    assert len(set(lc.STATUSES)) == len(lc.STATUSES)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_transition_pair(current: str, target: str) -> None:
    """``can_transition`` allows a step exactly when the expected table lists it."""
    assert lc.can_transition(current, target) is (target in LEGAL[current])


@pytest.mark.parametrize("current", list(LEGAL))
def test_next_statuses_match_the_table(current: str) -> None:
    """``next_statuses`` lists exactly the expected one-step targets."""
    assert set(lc.next_statuses(current)) == LEGAL[current]


def test_final_statuses() -> None:
    """Closed, rejected and withdrawn are FINAL, and they are the only statuses without exits."""
    assert lc.FINAL == {CL, RJ, WD}
    assert {s for s in lc.STATUSES if not lc.next_statuses(s)} == set(lc.FINAL)


@pytest.mark.parametrize("final", [CL, RJ, WD])
def test_final_statuses_have_no_exits(final: str) -> None:
    """No status at all (itself included) is reachable from a FINAL status."""
    assert not any(lc.can_transition(final, target) for target in lc.STATUSES)


def test_open_and_unacknowledged_sets() -> None:
    """OPEN is what someone must still act on; UNACKNOWLEDGED is new or reopened."""
    assert lc.OPEN == {NE, AK, IP, RO}
    assert lc.UNACKNOWLEDGED == {NE, RO}
    assert lc.OPEN.isdisjoint(lc.FINAL) and RS not in lc.OPEN


def test_no_status_steps_to_itself() -> None:
    """AK repeated action is never a transition (services answer ``already`` instead)."""
    assert not any(lc.can_transition(s, s) for s in lc.STATUSES)


def test_unknown_status_has_no_transitions() -> None:
    """An unknown status (e.g. a corrupted row) allows nothing and raises nothing."""
    assert lc.next_statuses("archived") == frozenset()
    assert not lc.can_transition("archived", NE)
    assert not lc.can_transition(NE, "archived")


def _reachable(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in lc.next_statuses(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_status_is_reachable_from_new() -> None:
    """Following legal steps from ``new`` reaches every status."""
    assert _reachable(NE) == set(lc.STATUSES)


@pytest.mark.parametrize("status", [NE, AK, IP, RS, RO])
def test_every_non_final_status_can_still_end(status: str) -> None:
    """From any non-final status some FINAL status is reachable (no report is stuck)."""
    assert _reachable(status) & lc.FINAL


def test_levels() -> None:
    """Escalation levels go captain (0) → grid (1) → community (2)."""
    assert (lc.CAPTAIN, lc.GRID, lc.COMMUNITY) == (0, 1, 2) and lc.LEVELS == (0, 1, 2)
