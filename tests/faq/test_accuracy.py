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

* ``dev`` and ``heldout`` … ``heldout7`` were each measured once as the
  held-out set of their time, then learned from: their in-scope questions are phrasings
  of their entries (``faq/kb/learned/labelled.yaml``) and their out-of-scope questions
  are out-of-scope examples (``faq/kb/learned/out_of_scope.yaml``).  On them both figures
  are in-sample, only regression checks (every learned wording still finds its entry,
  every example still declines its question); the honest estimate is the
  cross-validation of ``faq_cv_learned.py``.
* ``heldout8`` is the held-out set now: written blind (by a helper who saw only the entry
  list, the article and DOMAIN.md) while the last matcher change was being made, opened
  only after it was decided, never tuned on, never learned from.  Its figures are
  printed; its failing items are never listed, so that nobody tunes on them by accident.
  Its file is read only by the tests below.
"""

from __future__ import annotations

import pytest

from faq import Matcher, load_kb
from tests.faq.faq_metrics import HELDOUT8, KB_DIR, LEARNED, Report, evaluate, load_items

REQUIRED = 0.95
MAX_WRONG_CONFIDENT = 0.03
LEARNED_FROM = LEARNED


def _show(request: pytest.FixtureRequest, reports: list[Report]) -> None:
    """Print the figures to the terminal, even when output is captured."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print()
        for report in reports:
            print("FAQ accuracy — " + report.summary())


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    """The matcher over the shipped knowledge base, with the default thresholds."""
    return Matcher(load_kb(KB_DIR))


@pytest.fixture(scope="module")
def learned(request: pytest.FixtureRequest, matcher: Matcher) -> dict[str, Report]:
    """Evaluate every set learned from, once."""
    out = {name: evaluate(matcher, load_items(path), name) for name, path in LEARNED_FROM.items()}
    _show(request, list(out.values()))
    return out


@pytest.fixture(scope="module")
def heldout(request: pytest.FixtureRequest, matcher: Matcher) -> Report:
    """Evaluate the held-out set, once, if it has been written."""
    if not HELDOUT8.exists():
        pytest.skip("labelled_heldout8.yaml not written yet")
    report = evaluate(matcher, load_items(HELDOUT8), "heldout8")
    _show(request, [report])
    return report


@pytest.mark.parametrize("name", list(LEARNED_FROM))
def test_learned_sets_still_answer(learned: dict[str, Report], name: str) -> None:
    """On the sets learned from: ≥ 95 % top-1 (regression check) and ≥ 95 % rejection."""
    report = learned[name]
    assert report.top1 >= REQUIRED, "\n".join([report.summary(), *report.failures])
    assert report.rejection >= REQUIRED, "\n".join([report.summary(), *report.failures])
    limit = MAX_WRONG_CONFIDENT * report.in_scope
    assert report.wrong_confident <= limit, "\n".join([report.summary(), *report.failures])


def test_heldout_top1(heldout: Report) -> None:
    """Held-out: at least 95 % of in-scope questions answered with exactly the right entry."""
    assert heldout.top1 >= REQUIRED, heldout.summary()


def test_heldout_rejection(heldout: Report) -> None:
    """Held-out: at least 95 % of out-of-scope questions get no confident answer."""
    assert heldout.rejection >= REQUIRED, heldout.summary()


def test_heldout_wrong_confident(heldout: Report) -> None:
    """Held-out: at most 3 % of in-scope questions get a confident wrong answer."""
    assert heldout.wrong_confident <= MAX_WRONG_CONFIDENT * heldout.in_scope, heldout.summary()
