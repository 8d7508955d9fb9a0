"""Cross-validated accuracy of the *learned* FAQ setup, and the choice of its thresholds.

Run as a script (a few minutes on two cores; prints figures, changes nothing)::

    python tests/faq/faq_cv_learned.py [--seeds 10] [--jobs 2] [--weights]

The knowledge base as shipped is the curated entries plus phrasings learned from the
in-scope questions of the eight labelled sets (``faq/kb/learned/labelled.yaml``) plus,
as negative examples, their out-of-scope questions (``faq/kb/learned/out_of_scope.yaml``).
Measured on those same questions it is in-sample. This script estimates how it does on
*new* questions:

* **Data**: ``labelled_dev``, ``labelled_heldout``, ``labelled_heldout2`` …
  ``labelled_heldout7`` (``faq_metrics.LEARNED``: all evaluated once and learned from
  since). Never a held-out set that has not been measured yet.
* **Folds**: stratified 5-fold (in-scope and out-of-scope items dealt separately),
  repeated over ``--seeds`` shuffles.
* **Test fold**: scored with a knowledge base from which every learned phrasing
  within ``fuzz.ratio`` ``NEAR`` of a test-fold question is removed (its own wording
  and near copies of it from other sets), and whose out-of-scope examples are the
  training folds' out-of-scope questions, minus those within ``NEAR`` of a test-fold
  question. The curated phrasings stay as shipped; the curated out-of-scope examples
  (``faq/kb/out_of_scope.yaml``) too, except those within ``NEAR`` of a test-fold
  question (they were written after these sets had been read).
* **Choice on the training folds only**: a training item scored with its own
  phrasing present would look perfect, so the training items are dealt into
  ``--inner`` groups, and each group is scored with a knowledge base from which the
  learned phrasings and out-of-scope examples within ``NEAR`` of the group's **or**
  the test fold's questions are removed. Thresholds (and, with ``--weights``, the
  weights ``AGAINST`` and ``FOCUS``; and the parameter of the rule) are chosen on
  these training scores by maximising ``top-1 + rejection − 2 · wrong-confident``,
  smoothed over neighbouring ``answer`` × ``margin`` cells, as in ``faq_cv.py``;
  then the test fold is measured with them.
* **Rules compared** (``RULES``; each parameter chosen in the training folds):
  ``plain`` (answer and margin, the rule before this step), ``curated`` (the best
  entry's curated texts alone must score enough), ``negatives`` (no out-of-scope
  example may be closer than the best entry's closest phrasing), ``raise`` (the score
  of the closest out-of-scope example, scored like an entry, raises the answer
  threshold of city-wide entries, times a factor) and ``shipped`` (``raise`` with
  factor 1, the rule of ``faq/matcher.py``). The rule and thresholds before this step
  are also measured as they were (fixed, no choice).

The final values are chosen by the same rule on the out-of-fold scores of all items
(each scored with the knowledge base lacking its own fold), all shuffles pooled.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import random
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

from faq import DEFAULT_THRESHOLDS, KnowledgeBase, Matcher, normalise  # noqa: E402
from faq.index import FOCUS  # noqa: E402
from faq.kb import LANGS, read_kb, read_learned, read_out_of_scope, with_learned  # noqa: E402
from faq.score import AGAINST  # noqa: E402
from tests.faq.faq_cv import smooth  # noqa: E402
from tests.faq.faq_metrics import KB_DIR, LEARNED, load_items, read_as  # noqa: E402

SETS = tuple(LEARNED.values())
K = 5
NEAR = 90  # fuzz.ratio at or above which a text counts as a copy of a question
ANSWERS = np.arange(0.0, 60.01, 0.5)
MARGINS = np.arange(1.0, 20.01, 0.5)  # a near tie is never answered
WEIGHTS = tuple((a, f) for a in (0.5, 0.75, 1.0) for f in (0.0, 0.25, 0.5))
# Columns of a scored item.
BEST, LEAD, RIGHT, LOCAL, CLOSE, NEG, CURATED, NEG_SCORE = range(8)
N_COLS = 8


@dataclasses.dataclass
class Data:
    """Items, the curated entries, the learned phrasings, and which texts copy which item."""

    items: list[dict]
    set_of: np.ndarray  # name of the labelled set of each item
    lang: np.ndarray  # language of each item (its label: 'zh' or 'en')
    in_scope: np.ndarray
    curated: list
    learned: list[tuple[str, str, str]]  # (entry id, lang, text)
    near_learned: np.ndarray  # items × learned phrasings: ratio ≥ NEAR
    near_items: np.ndarray  # items × items: ratio ≥ NEAR
    examples: list[tuple[str, str]]  # curated out-of-scope examples (lang, text)
    near_examples: np.ndarray  # items × curated examples: ratio ≥ NEAR


def load_data() -> Data:
    """Read the eight labelled sets and the knowledge base apart from its learned files."""
    named = [(p.stem.removeprefix("labelled_"), item) for p in SETS for item in load_items(p)]
    items = [item for _, item in named]
    curated, problems = read_kb(KB_DIR, learned=False)
    assert not [p for p in problems if p.fatal], problems
    table, _ = read_learned(KB_DIR, {e.id for e in curated})
    learned = [(eid, lang, t) for eid, by in table.items() for lang, ts in by.items() for t in ts]
    norms = [normalise(item["q"]) for item in items]
    near_learned = process.cdist(norms, [normalise(t) for _, _, t in learned], scorer=fuzz.ratio)
    near_items = process.cdist(norms, norms, scorer=fuzz.ratio)
    by_lang, problems = read_out_of_scope(KB_DIR, learned=False)
    assert not problems, problems
    examples = [(lang, text) for lang, texts in by_lang.items() for text in texts]
    near_examples = process.cdist(norms, [normalise(t) for _, t in examples], scorer=fuzz.ratio)
    return Data(
        items,
        np.array([name for name, _ in named]),
        np.array([item.get("lang", "zh") for item in items]),
        np.array([item["id"] is not None for item in items]),
        curated,
        learned,
        near_learned >= NEAR,
        near_items >= NEAR,
        examples,
        near_examples >= NEAR,
    )


def knowledge_base(data: Data, excluded: np.ndarray, negatives: bool = True) -> KnowledgeBase:
    """Curated entries + learned phrasings and out-of-scope examples not copying ``excluded``.

    The curated out-of-scope examples are kept too, except near copies of ``excluded``.
    """
    drop = data.near_learned[excluded].any(axis=0)
    table: dict[str, dict[str, list[str]]] = {}
    for (eid, lang, text), gone in zip(data.learned, drop, strict=True):
        if not gone:
            table.setdefault(eid, {}).setdefault(lang, []).append(text)
    out: dict[str, list[str]] = {}
    if negatives:
        # Curated examples first, as load_kb reads them, except near copies of excluded items.
        near = data.near_examples[excluded].any(axis=0)
        for (lang, text), gone in zip(data.examples, near, strict=True):
            if not gone:
                out.setdefault(lang, []).append(text)
        copies = data.near_items[excluded].any(axis=0)
        for i, item in enumerate(data.items):
            if item["id"] is None and not copies[i]:
                out.setdefault(read_as(item), []).append(item["q"])
    entries = with_learned(data.curated, table)
    return KnowledgeBase(tuple(entries), {k: tuple(v) for k, v in out.items()})


def score_items(matcher: Matcher, items: list[dict], idx: np.ndarray) -> np.ndarray:
    """One row of columns (BEST … CURATED) per item of ``idx``."""
    rows = np.zeros((len(idx), N_COLS))
    for r, i in enumerate(idx):
        item = items[i]
        a = matcher.assess(item["q"], lang=item.get("lang"), community=item.get("community"))
        if not a.ranked:
            continue
        top = a.ranked[0]
        rows[r] = (
            top.score,
            top.score - (a.ranked[1].score if len(a.ranked) > 1 else 0.0),
            top.entry.id == item["id"],
            top.entry.community is not None,
            a.closeness,
            a.negative,
            a.curated,
            a.negative_score,
        )
    return rows


def folds(in_scope: np.ndarray, seed: int, k: int = K) -> list[np.ndarray]:
    """Stratified folds: in-scope and out-of-scope items dealt separately."""
    inside = [i for i in range(len(in_scope)) if in_scope[i]]
    outside = [i for i in range(len(in_scope)) if not in_scope[i]]
    rng = random.Random(seed)
    rng.shuffle(inside)
    rng.shuffle(outside)
    return [np.array(sorted(inside[j::k] + outside[j::k])) for j in range(k)]


_DATA: Data | None = None


def _data() -> Data:
    global _DATA
    if _DATA is None:
        _DATA = load_data()
    return _DATA


def score_seed(seed: int, weights: tuple[tuple[float, float], ...], inner: int) -> dict:
    """Scores of one shuffle, per weight pair.

    ``test``: each item scored with the knowledge base lacking its own fold.
    ``train[w, j]``: each item outside test fold ``j`` scored with the knowledge base
    lacking test fold ``j`` and its own inner group (the training items of fold ``j``
    dealt into ``inner`` stratified groups).
    """
    data = _data()
    n = len(data.items)
    parts = folds(data.in_scope, seed)
    fold_of = np.zeros(n, dtype=int)
    for j, p in enumerate(parts):
        fold_of[p] = j
    test = np.zeros((len(weights), n, N_COLS))
    train = np.full((len(weights), K, n, N_COLS), np.nan)  # [w, test fold, item]
    for j in range(K):
        kb = knowledge_base(data, parts[j])
        for w, (against, focus) in enumerate(weights):
            matcher = Matcher(kb, against=against, focus=focus)
            test[w, parts[j]] = score_items(matcher, data.items, parts[j])
        rest = np.flatnonzero(fold_of != j)
        for group in folds(data.in_scope[rest], seed * 1000 + j, inner):
            group = rest[group]
            kb = knowledge_base(data, np.concatenate([parts[j], group]))
            for w, (against, focus) in enumerate(weights):
                matcher = Matcher(kb, against=against, focus=focus)
                train[w, j, group] = score_items(matcher, data.items, group)
    return {"seed": seed, "fold_of": fold_of, "test": test, "train": train}


# --- decision rules -------------------------------------------------------------------


def veto(rows: np.ndarray, rule: str, param: tuple) -> np.ndarray:
    """Items the rule declines whatever their score (True = not answered)."""
    out = np.zeros(len(rows), dtype=bool)
    if rule == "negatives":
        city = rows[:, LOCAL] == 0
        out |= city & (rows[:, NEG] >= rows[:, CLOSE] + param[0])
    if rule == "curated":
        out |= rows[:, CURATED] < param[0]
    return out


RULES: dict[str, tuple[tuple, ...]] = {
    # answer and margin only: the rule before this step
    "plain": ((0.0,),),
    # … and the best entry's curated texts alone must score at least param (0 = off)
    "curated": tuple((c,) for c in (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)),
    # … and no out-of-scope example may be closer (closeness + param) than the best
    # city-wide entry's closest phrasing (9 = off)
    "negatives": (*((float(x),) for x in np.round(np.arange(-0.3, 0.31, 0.05), 2)), (9.0,)),
    # the score minus param × the best out-of-scope example's score (city-wide entries)
    # must reach the answer threshold (0 = off)
    "raise": tuple((x,) for x in (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)),
    # the same with param = 1: the rule of faq/matcher.py
    "shipped": ((1.0,),),
}
BEFORE = ("plain", 6.5, 2.0)  # the rule and thresholds before this step


def effective(rows: np.ndarray, rule: str, param: tuple) -> np.ndarray:
    """The score compared with the answer threshold."""
    if rule in ("raise", "shipped"):  # the closest out-of-scope example raises the bar
        city = rows[:, LOCAL] == 0
        return rows[:, BEST] - param[0] * city * rows[:, NEG_SCORE]
    return rows[:, BEST]


def grid(
    rows: np.ndarray, in_scope: np.ndarray, declined: np.ndarray, best: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """top-1, rejection, wrong-confident rate for every (answer, margin)."""
    best = rows[:, BEST] if best is None else best
    answered = (
        (best[:, None, None] >= ANSWERS[None, :, None])
        & (rows[:, LEAD, None, None] >= MARGINS[None, None, :])
        & ~declined[:, None, None]
    )
    inside, right = in_scope[:, None, None], rows[:, RIGHT, None, None] == 1
    n_in, n_out = max(int(in_scope.sum()), 1), max(int((~in_scope).sum()), 1)
    top1 = (answered & inside & right).sum(0) / n_in
    wrong = (answered & inside & ~right).sum(0) / n_in
    rejected = (~answered & ~inside).sum(0) / n_out
    return top1, rejected, wrong


def choose(rows_by_w: np.ndarray, in_scope: np.ndarray, rule: str) -> tuple:
    """(weight index, rule parameter, answer, margin) maximising the smoothed objective."""
    best = None
    for w, rows in enumerate(rows_by_w):
        for param in RULES[rule]:
            top1, rejected, wrong = grid(
                rows, in_scope, veto(rows, rule, param), effective(rows, rule, param)
            )
            j = smooth(top1 + rejected - 2 * wrong)
            k = np.unravel_index(int(np.argmax(j)), j.shape)
            if best is None or j[k] > best[0] + 1e-12:
                best = (j[k], w, param, float(ANSWERS[k[0]]), float(MARGINS[k[1]]))
    return best[1:]


def answered(rows: np.ndarray, rule: str, pick: tuple) -> np.ndarray:
    """Which items are answered with ``pick`` = (weight index, parameter, answer, margin)."""
    _, param, answer, margin = pick
    return (
        (effective(rows, rule, param) >= answer)
        & (rows[:, LEAD] >= margin)
        & ~veto(rows, rule, param)
    )


def measure(rows: np.ndarray, in_scope: np.ndarray, rule: str, pick: tuple) -> np.ndarray:
    """(right answers, in-scope n, rejected, out-of-scope n, wrong answers) with ``pick``."""
    answered_ = answered(rows, rule, pick)
    right = rows[:, RIGHT] == 1
    return np.array(
        [
            (answered_ & in_scope & right).sum(),
            in_scope.sum(),
            (~answered_ & ~in_scope).sum(),
            (~in_scope).sum(),
            (answered_ & in_scope & ~right).sum(),
        ]
    )


def cross_validate(
    scored: list[dict], in_scope: np.ndarray, rule: str, fixed: tuple | None = None
) -> dict:
    """Pooled test-fold figures per seed, per-fold figures, and the values chosen.

    ``fixed`` = (weight index, parameter, answer, margin) measures given values
    instead of choosing them in the training folds.
    """
    per_seed, per_fold, picks = [], [], []
    answered_right = np.zeros((len(scored), len(in_scope), 2), dtype=bool)  # answered, right
    for n, s in enumerate(scored):
        totals = np.zeros(5)
        for j in range(K):
            test_idx = np.flatnonzero(s["fold_of"] == j)
            train_idx = np.flatnonzero(s["fold_of"] != j)
            pick = fixed or choose(s["train"][:, j, train_idx], in_scope[train_idx], rule)
            picks.append(pick)
            rows = s["test"][pick[0], test_idx]
            counts = measure(rows, in_scope[test_idx], rule, pick)
            answered_right[n, test_idx, 0] = answered(rows, rule, pick)
            answered_right[n, test_idx, 1] = rows[:, RIGHT] == 1
            totals += counts
            per_fold.append(counts)
        per_seed.append(totals)
    return {"per_seed": per_seed, "per_fold": per_fold, "picks": picks, "items": answered_right}


def rates(counts: np.ndarray) -> tuple[float, float, float]:
    """top-1, rejection, wrong-confident from summed counts."""
    return counts[0] / counts[1], counts[2] / counts[3], counts[4] / counts[1]


def spread(values: list[float]) -> str:
    """mean ± standard deviation [min, max], in percent."""
    return (
        f"{100 * statistics.mean(values):.1f} % ± {100 * statistics.pstdev(values):.1f} "
        f"[{100 * min(values):.1f}, {100 * max(values):.1f}]"
    )


def report(name: str, cv: dict, weights: tuple) -> None:
    """Print the figures of one rule."""
    top1, rejected, wrong = zip(*(rates(c) for c in cv["per_seed"]), strict=True)
    f_top1, f_rej, _ = zip(*(rates(c) for c in cv["per_fold"]), strict=True)
    seeds = len(cv["per_seed"])
    print(f"rule {name}: {K}-fold CV × {seeds} seeds (mean ± sd over seeds [min, max])")
    print(f"  top-1 correct    {spread(list(top1))}")
    print(f"  rejected (OOS)   {spread(list(rejected))}")
    print(f"  wrong-confident  {spread(list(wrong))}")
    print(f"  per test fold: top-1 {spread(list(f_top1))}, rejected {spread(list(f_rej))}")
    counts: dict[tuple, int] = {}
    for w, param, answer, margin in cv["picks"]:
        key = (weights[w], param, answer, margin)
        counts[key] = counts.get(key, 0) + 1
    data = _data()
    per_set = []
    for name in dict.fromkeys(data.set_of):
        m = data.set_of == name
        done, right = cv["items"][:, m, 0], cv["items"][:, m, 1]
        inside = data.in_scope[m]
        top1 = (done & right)[:, inside].mean()
        rej = (~done)[:, ~inside].mean()
        per_set.append(f"{name} {100 * top1:.1f} / {100 * rej:.1f}")
    print("  per set (top-1 / rejected): " + ", ".join(per_set))
    per_lang = []
    for lang in LANGS:
        m = data.lang == lang
        done, right = cv["items"][:, m, 0], cv["items"][:, m, 1]
        inside = data.in_scope[m]
        top1 = (done & right)[:, inside].mean()
        wrong = (done & ~right)[:, inside].mean()
        rej = (~done)[:, ~inside].mean()
        per_lang.append(
            f"{lang} {100 * top1:.1f} / {100 * rej:.1f} / {100 * wrong:.1f} "
            f"(n {int(inside.sum())} + {int((~inside).sum())})"
        )
    print("  per language (top-1 / rejected / wrong): " + ", ".join(per_lang))
    common = sorted(counts.items(), key=lambda kv: -kv[1])[:5]
    print(
        "  chosen in training parts ((against, focus), param, answer, margin): "
        + ", ".join(f"{p} ×{n}" for p, n in common)
    )


def final_choice(scored: list[dict], in_scope: np.ndarray, rule: str, weights: tuple) -> None:
    """The values chosen on the out-of-fold scores of all items (all seeds pooled)."""
    rows = np.concatenate([s["test"] for s in scored], axis=1)
    inside = np.concatenate([in_scope] * len(scored))
    pick = choose(rows, inside, rule)
    w, param, answer, margin = pick
    print(
        f"  chosen on all out-of-fold scores: (against, focus)={weights[w]}, param={param}, "
        f"answer={answer}, margin={margin}"
    )
    rows = rows[w]
    top1, rejected, wrong = rates(measure(rows, inside, rule, pick))
    print(f"    (in those scores: top-1 {top1:.1%}, rejected {rejected:.1%}, wrong {wrong:.1%})")
    if rule != "shipped":
        return
    n_seeds, n_in, n_out = len(scored), int(inside.sum()), int((~inside).sum())
    for level in (answer, 10.0, 15.0, 20.0, 30.0):  # group_answer candidates
        done = answered(rows, rule, (w, param, level, margin))
        print(
            f"    at {level:4.1f}: in-scope answered right "
            f"{(done & inside & (rows[:, RIGHT] == 1)).sum() / n_seeds:.0f}/{n_in // n_seeds}, "
            f"out-of-scope answered {(done & ~inside).sum() / n_seeds:.1f}/{n_out // n_seeds}"
        )
    done = answered(rows, rule, pick)
    for level in (answer / 4, answer / 2, answer):  # suggest candidates
        offered = (rows[:, BEST] >= level) & ~done
        print(
            f"    suggest {level:4.2f}: unanswered in-scope items offered suggestions "
            f"{(offered & inside).sum() / n_seeds:.1f}, out-of-scope "
            f"{(offered & ~inside).sum() / n_seeds:.1f} (per shuffle)"
        )


def main() -> None:
    """Score every shuffle (in parallel), then compare the rules."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--weights", action="store_true", help="choose AGAINST and FOCUS too")
    parser.add_argument("--inner", type=int, default=8, help="inner groups of the training part")
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--cache", type=Path, help="reuse (or save) the scores in this file")
    args = parser.parse_args()
    weights = WEIGHTS if args.weights else ((AGAINST, FOCUS),)
    data = _data()
    print(
        f"items: {int(data.in_scope.sum())} in scope, {int((~data.in_scope).sum())} out of "
        f"scope; learned phrasings: {len(data.learned)}"
    )
    if args.cache and args.cache.exists():
        scored = pickle.loads(args.cache.read_bytes())
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            jobs = [pool.submit(score_seed, s, weights, args.inner) for s in range(args.seeds)]
            scored = [job.result() for job in jobs]
        if args.cache:
            args.cache.write_bytes(pickle.dumps(scored))
    if (AGAINST, FOCUS) in weights:
        w = weights.index((AGAINST, FOCUS))
        rule, answer, margin = BEFORE
        cv = cross_validate(scored, data.in_scope, rule, (w, (0.0,), answer, margin))
        report(f"{rule}, fixed as before this step (answer {answer}, margin {margin})", cv, weights)
    for rule in args.rules.split(","):
        cv = cross_validate(scored, data.in_scope, rule)
        report(rule, cv, weights)
        final_choice(scored, data.in_scope, rule, weights)
    if (AGAINST, FOCUS) in weights:
        t = DEFAULT_THRESHOLDS
        fixed = (weights.index((AGAINST, FOCUS)), (1.0,), t.answer, t.margin)
        cv = cross_validate(scored, data.in_scope, "shipped", fixed)
        name = f"shipped, fixed at the defaults (answer {t.answer}, margin {t.margin})"
        report(name + " — chosen on these scores, not an estimate", cv, weights)


if __name__ == "__main__":
    main()
