"""Cross-validated accuracy of the FAQ matcher, and the choice of its thresholds.

*Historical procedure* (before the labelled sets were learned from; faq/THRESHOLDS.md).
The knowledge base is now the curated entries plus phrasings and out-of-scope examples
learned from all four labelled sets, and its thresholds are chosen by
``faq_cv_learned.py``; this script still runs (matching without the out-of-scope
examples) but no longer decides anything.

Run as a script (about a minute; prints figures, changes nothing)::

    python tests/faq/faq_cv.py [--seeds 10] [--kb clean|full]

Development data = ``labelled_dev.yaml`` + ``labelled_heldout.yaml`` (the latter
was looked at once, so it is tuning data now). ``labelled_heldout2.yaml`` is
never read here.

**Decontaminated knowledge base** (``--kb clean``, the default). Many phrasings
of the shipped knowledge base are (near) copies of labelled questions, so a
labelled question often finds itself in the knowledge base and looks easier
than a resident's new question would be. Every phrasing within ``fuzz.ratio``
85 of any labelled question is removed before matching; the labelled questions
are then as new to the matcher as unseen ones. ``--kb full`` uses the shipped
knowledge base as it is (optimistic).

**Procedure.** Stratified 5-fold cross-validation (in-scope and out-of-scope
items dealt separately), repeated with ``--seeds`` shuffles. In each training
part, *everything* tuned is chosen: the weight ``AGAINST`` (from ``AGAINSTS``)
and the thresholds ``answer`` and ``margin`` (grid), by maximising
``top-1 + rejection − 2 · wrong-confident`` after smoothing over neighbouring
grid cells (a plateau beats a spike). The test part is then measured with them.
Metric definitions are those of ``faq_metrics``. The final values are chosen by
the same rule on all development data.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

from faq import KnowledgeBase, Matcher, load_kb, normalise  # noqa: E402
from tests.faq.faq_metrics import DEV, HELDOUT, KB_DIR, load_items  # noqa: E402

AGAINSTS = (0.35, 0.5, 0.75)
FOCI = (0.0, 0.25, 0.5)
ANSWERS = np.arange(0.0, 60.01, 0.5)
MARGINS = np.arange(1.0, 20.01, 0.5)  # a near tie is never answered
NEAR_COPY = 85  # fuzz.ratio at or above which a phrasing counts as a copy of a question


def decontaminate(kb: KnowledgeBase, questions: list[str]) -> tuple[KnowledgeBase, int]:
    """The knowledge base without phrasings that (nearly) copy one of ``questions``."""
    norms = [normalise(q) for q in questions]
    entries, removed = [], 0
    for entry in kb.entries:
        kept = {}
        for lang, phrasings in entry.phrasings.items():
            kept[lang] = tuple(
                p for p in phrasings if all(fuzz.ratio(normalise(p), q) < NEAR_COPY for q in norms)
            )
            removed += len(phrasings) - len(kept[lang])
        entries.append(dataclasses.replace(entry, phrasings=kept))
    return KnowledgeBase(tuple(entries)), removed


@dataclasses.dataclass
class Outcomes:
    """Per item: best score, lead over the best different entry, best entry right?"""

    best: np.ndarray
    lead: np.ndarray
    right: np.ndarray


def outcomes(kb: KnowledgeBase, items: list[dict], weights: tuple[float, float]) -> Outcomes:
    """Score every item once (city-wide or its community, private chat)."""
    matcher = Matcher(kb, against=weights[0], focus=weights[1])
    best, lead, right = [], [], []
    for item in items:
        _, ranked = matcher.ranked(
            item["q"], lang=item.get("lang"), community=item.get("community")
        )
        top = ranked[0].score if ranked else 0.0
        best.append(top)
        lead.append(top - (ranked[1].score if len(ranked) > 1 else 0.0))
        right.append(bool(ranked) and ranked[0].entry.id == item["id"])
    return Outcomes(np.array(best), np.array(lead), np.array(right))


def grid(o: Outcomes, in_scope: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """top-1, rejection, wrong-confident rate on items ``idx`` for every (answer, margin)."""
    answered = (o.best[idx, None, None] >= ANSWERS[None, :, None]) & (
        o.lead[idx, None, None] >= MARGINS[None, None, :]
    )
    inside, right = in_scope[idx, None, None], o.right[idx, None, None]
    n_in, n_out = max(int(in_scope[idx].sum()), 1), max(int((~in_scope[idx]).sum()), 1)
    top1 = (answered & inside & right).sum(0) / n_in
    wrong = (answered & inside & ~right).sum(0) / n_in
    rejected = (~answered & ~inside).sum(0) / n_out
    return top1, rejected, wrong


def smooth(j: np.ndarray, r: int = 2) -> np.ndarray:
    """Mean of each cell's (2r+1)² neighbourhood, edges padded with the edge value."""
    padded = np.pad(j, r, mode="edge")
    out = np.zeros_like(j)
    for di in range(2 * r + 1):
        for dj in range(2 * r + 1):
            out += padded[di : di + j.shape[0], dj : dj + j.shape[1]]
    return out / (2 * r + 1) ** 2


def choose(by_against: dict[float, Outcomes], in_scope: np.ndarray, idx: np.ndarray):
    """((against, focus), answer, margin) maximising the smoothed objective on items ``idx``."""
    best = None
    for against, o in by_against.items():
        top1, rejected, wrong = grid(o, in_scope, idx)
        j = smooth(top1 + rejected - 2 * wrong)
        k = np.unravel_index(int(np.argmax(j)), j.shape)
        if best is None or j[k] > best[0] + 1e-12:
            best = (j[k], against, float(ANSWERS[k[0]]), float(MARGINS[k[1]]))
    return best[1:]


def folds(in_scope: np.ndarray, seed: int, k: int = 5) -> list[np.ndarray]:
    """Stratified folds: in-scope and out-of-scope items dealt separately."""
    inside = [i for i in range(len(in_scope)) if in_scope[i]]
    outside = [i for i in range(len(in_scope)) if not in_scope[i]]
    rng = random.Random(seed)
    rng.shuffle(inside)
    rng.shuffle(outside)
    return [np.array(inside[j::k] + outside[j::k]) for j in range(k)]


def cross_validate(by_against: dict[float, Outcomes], in_scope: np.ndarray, seeds: int) -> dict:
    """Pooled test-fold figures per seed, and the values chosen in each training part."""
    per_seed, fold_top1, fold_rej, picks = [], [], [], []
    for seed in range(seeds):
        totals = np.zeros(5)
        for test in (parts := folds(in_scope, seed)):
            train = np.concatenate([p for p in parts if p is not test])
            against, answer, margin = choose(by_against, in_scope, train)
            picks.append((against, answer, margin))
            o = by_against[against]
            a, m = int(np.argmin(abs(ANSWERS - answer))), int(np.argmin(abs(MARGINS - margin)))
            top1, rejected, wrong = (x[a, m] for x in grid(o, in_scope, test))
            n_in = int(in_scope[test].sum())
            n_out = len(test) - n_in
            totals += (top1 * n_in, n_in, rejected * n_out, n_out, wrong * n_in)
            fold_top1.append(top1)
            fold_rej.append(rejected)
        per_seed.append((totals[0] / totals[1], totals[2] / totals[3], totals[4] / totals[1]))
    return {"per_seed": per_seed, "fold_top1": fold_top1, "fold_rej": fold_rej, "picks": picks}


def spread(values: list[float]) -> str:
    """mean ± standard deviation [min, max], in percent."""
    return (
        f"{100 * statistics.mean(values):.1f} % ± {100 * statistics.pstdev(values):.1f} "
        f"[{100 * min(values):.1f}, {100 * max(values):.1f}]"
    )


def main() -> None:
    """Print the cross-validated figures and the values chosen on all development data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--kb", choices=("clean", "full"), default="clean")
    args = parser.parse_args()
    items = load_items(DEV) + load_items(HELDOUT)
    in_scope = np.array([item["id"] is not None for item in items])
    kb = load_kb(KB_DIR)
    if args.kb == "clean":
        kb, removed = decontaminate(kb, [item["q"] for item in items])
        print(f"knowledge base: {removed} phrasings removed as near copies of labelled questions")
    print(f"items: {int(in_scope.sum())} in scope, {int((~in_scope).sum())} out of scope")
    by_against = {(a, f): outcomes(kb, items, (a, f)) for a in AGAINSTS for f in FOCI}
    cv = cross_validate(by_against, in_scope, args.seeds)
    top1, rejected, wrong = zip(*cv["per_seed"], strict=True)
    print(f"5-fold CV × {args.seeds} seeds (mean ± sd over seeds [min, max]):")
    print(f"  top-1 correct    {spread(list(top1))}")
    print(f"  rejected (OOS)   {spread(list(rejected))}")
    print(f"  wrong-confident  {spread(list(wrong))}")
    print(f"  per test fold: top-1 {spread(cv['fold_top1'])}, rejected {spread(cv['fold_rej'])}")
    counts: dict[tuple, int] = {}
    for pick in cv["picks"]:
        counts[pick] = counts.get(pick, 0) + 1
    common = sorted(counts.items(), key=lambda kv: -kv[1])[:5]
    print(
        "  chosen in training parts ((against, focus), answer, margin): "
        + ", ".join(f"{p} ×{n}" for p, n in common)
    )
    everything = np.arange(len(items))
    against, answer, margin = choose(by_against, in_scope, everything)
    o = by_against[against]
    print(f"chosen on all development data: (against, focus)={against}, ", end="")
    print(f"answer={answer}, margin={margin}")
    leads = o.lead >= margin
    print(f"  highest out-of-scope score with that lead: {o.best[~in_scope & leads].max():.1f}")
    for level in (answer, 10.0, 15.0, 20.0, 30.0):
        answered = leads & (o.best >= level)
        print(
            f"  at {level:4.1f}: in-scope answered right {(answered & in_scope & o.right).sum()}"
            f"/{int(in_scope.sum())}, out-of-scope answered {(answered & ~in_scope).sum()}"
        )
    for level in (answer / 4, answer / 2, answer):
        offered = (o.best >= level) & ~((o.best >= answer) & leads)
        inside, outside = (offered & in_scope).sum(), (offered & ~in_scope).sum()
        print(
            f"  suggest {level:4.2f}: unanswered in-scope items offered suggestions {inside}, "
            f"out-of-scope items offered suggestions {outside}"
        )


if __name__ == "__main__":
    main()
