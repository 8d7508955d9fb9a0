"""Accuracy of the FAQ matcher on the two labelled sets (dev and held-out).

Every item is asked as a city-wide question in a private chat
(``Matcher.match(q, lang=lang)``, no community, default thresholds).

Metrics, strictly:

* **top-1 correct** (in-scope items, ``id`` not null): the outcome is
  ``'answer'`` *and* the answered entry is the expected one. A ``'suggest'``
  that lists the expected entry is reported as **suggested** but is *not*
  correct; a ``'none'`` is not correct either.
* **wrong-confident** (in-scope): outcome ``'answer'`` with another entry —
  the worst failure, reported and kept very low.
* **rejected** (out-of-scope items, ``id`` null): the outcome is not
  ``'answer'`` (``'suggest'`` is allowed, ``'none'`` is best).

Requirement on *each* set: top-1 correct ≥ 95 % and rejected ≥ 95 %.
The held-out set was never looked at while tuning (see faq/THRESHOLDS.md).
"""

from __future__ import annotations

import pytest

from faq import Matcher, load_kb
from tests.faq.faq_metrics import DEV, HELDOUT, KB_DIR, Report, evaluate, load_items

SETS = {"dev": DEV, "heldout": HELDOUT}
REQUIRED = 0.95
MAX_WRONG_CONFIDENT = 0.03


@pytest.fixture(scope="module")
def reports(request: pytest.FixtureRequest) -> dict[str, Report]:
    """Evaluate both sets once and print a small report to the terminal."""
    matcher = Matcher(load_kb(KB_DIR))
    out = {name: evaluate(matcher, load_items(path), name) for name, path in SETS.items()}
    # Shown even without -s: the figures are the point of this module.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print()
        for report in out.values():
            print("FAQ accuracy — " + report.summary())
    return out


def explain(report: Report) -> str:
    """Failure message: the figures, and the failing items of the dev set only.

    Held-out questions are never listed, so that nobody tunes on them by accident.
    """
    return "\n".join([report.summary(), *(report.failures if report.name == "dev" else [])])


@pytest.mark.parametrize("name", list(SETS))
def test_top1_accuracy(reports: dict[str, Report], name: str) -> None:
    """At least 95 % of in-scope questions are answered with exactly the right entry."""
    top1 = reports[name].top1
    assert top1 >= REQUIRED, explain(reports[name])


@pytest.mark.parametrize("name", list(SETS))
def test_out_of_scope_rejection(reports: dict[str, Report], name: str) -> None:
    """At least 95 % of out-of-scope questions get no confident answer."""
    rejection = reports[name].rejection
    assert rejection >= REQUIRED, explain(reports[name])


@pytest.mark.parametrize("name", list(SETS))
def test_wrong_confident_answers_are_rare(reports: dict[str, Report], name: str) -> None:
    """At most 3 % of in-scope questions get a confident answer with the wrong entry."""
    wrong, allowed = reports[name].wrong_confident, MAX_WRONG_CONFIDENT * reports[name].in_scope
    assert wrong <= allowed, reports[name].summary()
