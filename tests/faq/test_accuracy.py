"""Accuracy of the FAQ matcher on the labelled sets, with the default thresholds.

Every item is asked in a private chat (``Matcher.match(q, lang=lang,
community=community)``; city-wide when the item names no community).

Metrics, strictly (definitions in ``faq_metrics``):

* **top-1 correct** (in-scope items, ``id`` not null): the outcome is ``'answer'`` *and*
  the answered entry is the expected one.  A ``'suggest'`` listing the expected entry is
  reported as **suggested** but is *not* correct; a ``'none'`` is not correct either.
* **wrong-confident** (in-scope): outcome ``'answer'`` with another entry.
* **rejected** (out-of-scope items, ``id`` null): the outcome is not ``'answer'``.

Requirement: top-1 correct ≥ 95 %, rejected ≥ 95 %, wrong-confident ≤ 3 %.

History of the sets (faq/THRESHOLDS.md has the figures):

* ``dev`` and ``heldout`` were used to build and tune the matcher; ``heldout2`` was then
  measured once as the held-out set (86.7 % top-1, 96.1 % rejected).  Afterwards the
  in-scope questions of all three were added to the knowledge base as phrasings
  (``faq/kb/learned/labelled.yaml``), so on them the top-1 figure is only a regression
  check (every learned wording still finds its entry); their out-of-scope items were not
  added and still test rejection.
* ``heldout3`` is the held-out set now: written independently afterwards, never tuned on.
  Its failing items are never listed, so that nobody tunes on them by accident.
"""

from __future__ import annotations

import pytest

from faq import Matcher, load_kb
from tests.faq.faq_metrics import (
    DEV,
    HELDOUT,
    HELDOUT2,
    HELDOUT3,
    KB_DIR,
    Report,
    evaluate,
    load_items,
)

REQUIRED = 0.95
MAX_WRONG_CONFIDENT = 0.03
TRAINING = {"dev": DEV, "heldout": HELDOUT, "heldout2": HELDOUT2}
# The held-out figures as first measured, when below the requirement (strict xfail: the
# test turns red the day the requirement is met, so that this note is removed).
UNMET: dict[str, str] = {
    "top1": "held-out #3 measured once: top-1 94.3 % (181 of 192), below 95 %",
    "rejection": "held-out #3 measured once: rejected 93.8 % (60 of 64), below 95 %",
}


@pytest.fixture(scope="module")
def reports(request: pytest.FixtureRequest) -> dict[str, Report]:
    """Evaluate every set once and print the figures to the terminal."""
    matcher = Matcher(load_kb(KB_DIR))
    paths = {**TRAINING, "heldout3": HELDOUT3}
    out = {name: evaluate(matcher, load_items(path), name) for name, path in paths.items() if path.exists()}
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print()
        for report in out.values():
            print("FAQ accuracy — " + report.summary())
    return out


@pytest.mark.parametrize("name", list(TRAINING))
def test_learned_sets_still_answer(reports: dict[str, Report], name: str) -> None:
    """On the sets learned from: ≥ 95 % top-1 (regression check) and ≥ 95 % rejection."""
    report = reports[name]
    assert report.top1 >= REQUIRED, "\n".join([report.summary(), *report.failures])
    assert report.rejection >= REQUIRED, "\n".join([report.summary(), *report.failures])


def _heldout_case(metric: str) -> list:
    reason = UNMET.get(metric)
    return [pytest.param(metric, marks=[pytest.mark.xfail(strict=True, reason=reason)] if reason else [])]


@pytest.mark.parametrize("metric", _heldout_case("top1"))
def test_heldout_top1(reports: dict[str, Report], metric: str) -> None:
    """Held-out: at least 95 % of in-scope questions answered with exactly the right entry."""
    report = reports.get("heldout3")
    if report is None:
        pytest.skip("labelled_heldout3.yaml not written yet")
    assert report.top1 >= REQUIRED, report.summary()


@pytest.mark.parametrize("metric", _heldout_case("rejection"))
def test_heldout_rejection(reports: dict[str, Report], metric: str) -> None:
    """Held-out: at least 95 % of out-of-scope questions get no confident answer."""
    report = reports.get("heldout3")
    if report is None:
        pytest.skip("labelled_heldout3.yaml not written yet")
    assert report.rejection >= REQUIRED, report.summary()


@pytest.mark.parametrize("metric", _heldout_case("wrong"))
def test_heldout_wrong_confident(reports: dict[str, Report], metric: str) -> None:
    """Held-out: at most 3 % of in-scope questions get a confident wrong answer."""
    report = reports.get("heldout3")
    if report is None:
        pytest.skip("labelled_heldout3.yaml not written yet")
    assert report.wrong_confident <= MAX_WRONG_CONFIDENT * report.in_scope, report.summary()
