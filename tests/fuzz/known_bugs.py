"""Failures the fuzzer found that are not fixed yet, each pinned by an ``xfail(strict=True)``
test in ``test_fuzz_updates.py`` that calls ``expect_only``; the properties tolerate exactly
these (matched on the exception and the product's frame that raised it) so they keep
hunting for new ones.  Empty today: the six bugs found so far are fixed (see the regression
tests at the end of ``test_fuzz_updates.py``).

When a bug is fixed its xfail test passes and fails as strict: remove the mark and the entry
here together.  ``WULIN_FUZZ_STRICT=1`` tolerates none.
"""

from __future__ import annotations

import os
import re

from hypothesis import event

from tests.fuzz.session import Outcome

STRICT = os.environ.get("WULIN_FUZZ_STRICT") == "1"

#: name → pattern on "Error(...) at file:line function" (see ``session._describe``).
KNOWN_BUGS: dict[str, re.Pattern[str]] = {}


def unexpected(outcome: Outcome) -> list[str]:
    """Failures that are not a known bug (all of them with ``WULIN_FUZZ_STRICT=1``)."""
    left = []
    for index, action, error in outcome.errors:
        known = (
            None if STRICT else next((k for k, p in KNOWN_BUGS.items() if p.search(error)), None)
        )
        if known:
            event(f"known bug hit: {known}")
        else:
            left.append(f"action #{index} {action!r} raised {error}")
    return left + [f"invariant broken: {rule}" for rule in outcome.broken]


class UnknownFailure(Exception):
    """A pinned flow failed in a way its known bug does not describe."""


def expect_only(outcome: Outcome, *names: str) -> None:
    """Raise ``UnknownFailure`` unless every failure of ``outcome`` is one of these bugs."""
    # The xfail tests call this before asserting success and are marked
    # xfail(raises=AssertionError): a failure of another kind is a real test failure.
    patterns = [KNOWN_BUGS[name] for name in names]
    other = [e for _, _, e in outcome.errors if not any(p.search(e) for p in patterns)]
    if other or outcome.broken:
        raise UnknownFailure("\n".join(other + outcome.broken))
