"""Answer a resident's question from the knowledge base: answer, suggest, or decline.

The decision rule, on the 0–100 scores of ``faq.score``:

* best score ≥ ``answer`` (``group_answer`` in a group chat) **and** best score
  minus the best score of a *different* entry ≥ ``margin`` **and**, when the best
  entry is city-wide, best score minus the score of the closest *out-of-scope
  example* ≥ ``answer`` (``group_answer``) → ``'answer'``. The examples are
  questions labelled out of scope (``kb/learned/out_of_scope.yaml``) and curated ones
  near the domain (``kb/out_of_scope.yaml``), each scored
  like an entry with that one phrasing: a question that looks like a known
  out-of-scope question needs that much more evidence for an entry;
* otherwise, in a private chat, best score ≥ ``suggest`` → ``'suggest'`` with up
  to three distinct entries;
* otherwise ``'none'`` (in a group chat a wrong answer disturbs everybody, so
  there is no suggesting there, only a stricter answer threshold).

Only city-wide entries and the asker's own community's entries are considered.
English questions are matched against English phrasings, Chinese against
Chinese. The same question always gives the same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faq.index import FOCUS, Features, LangIndex, Question
from faq.kb import LANGS, Entry, KnowledgeBase
from faq.noise import is_repetitive, looks_like_code
from faq.normalise import MAX_CHARS, guess_lang, normalise
from faq.score import AGAINST, score
from faq.text import prepare

Outcome = Literal["answer", "suggest", "none"]
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Thresholds:
    """Score thresholds (0–100) of the decision rule."""

    answer: float
    margin: float
    suggest: float
    group_answer: float

    def __post_init__(self) -> None:
        """Refuse values out of range or out of order."""
        for name in ("answer", "margin", "suggest", "group_answer"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(f"threshold {name} must be within 0–100")
        if not self.suggest <= self.answer <= self.group_answer:
            raise ValueError("thresholds must satisfy suggest ≤ answer ≤ group_answer")


# Chosen by the cross-validation of the learned setup, tests/faq/faq_cv_learned.py,
# on the out-of-fold scores of all eight labelled sets (faq/THRESHOLDS.md, last
# section); suggest = answer / 2; group_answer kept. faq.score.AGAINST and
# faq.index.FOCUS were chosen by tests/faq/faq_cv.py.
DEFAULT_THRESHOLDS = Thresholds(answer=6.5, margin=1.0, suggest=3.25, group_answer=15.0)


@dataclass(frozen=True)
class Suggestion:
    """An entry proposed to the asker, with its score."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class Assessment:
    """What the decision rule looks at for one question (``Matcher.assess``)."""

    lang: str
    ranked: list[Suggestion]  # every candidate entry, best first
    closeness: float  # 0–1, closeness of the best entry's closest phrasing
    negative: float  # 0–1, closeness of the closest out-of-scope example
    negative_score: float  # best score of an out-of-scope example scored like an entry
    negative_example: str | None  # that example (None when it scores 0)
    curated: float  # score of the best entry by its curated texts alone


@dataclass(frozen=True)
class MatchResult:
    """What to do with one question."""

    outcome: Outcome
    entry: Entry | None  # the answer, when outcome == 'answer'
    score: float  # best score (0 when nothing matched at all)
    suggestions: tuple[Suggestion, ...]  # best first; empty when outcome == 'none'
    lang: str  # language of the question as matched: 'zh' or 'en'


class Matcher:
    """Matches questions against one knowledge base (immutable after construction)."""

    def __init__(
        self,
        kb: KnowledgeBase,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        *,
        against: float = AGAINST,
        focus: float = FOCUS,
    ) -> None:
        """Build the Chinese and English indexes of ``kb`` (tens of ms for the real one).

        ``against`` (``faq.score``) and ``focus`` (``faq.index``) are the two
        weights chosen by cross-validation; only that procedure passes others.
        """
        self.kb = kb
        self.thresholds = thresholds
        self.against, self.focus = against, focus
        self._indexes = {
            lang: LangIndex(kb.entries, lang, kb.out_of_scope.get(lang, ())) for lang in LANGS
        }

    def ranked(
        self, question: str, *, lang: str | None = None, community: str | None = None
    ) -> tuple[str, list[Suggestion]]:
        """The language matched and every candidate entry, best first (ties in file order)."""
        matched_lang, ranked, _ = self._rank(question, lang, community)
        return matched_lang, ranked

    def assess(
        self, question: str, *, lang: str | None = None, community: str | None = None
    ) -> Assessment:
        """Everything the decision rule looks at (for cross-validation and ``faq check``)."""
        matched_lang, ranked, found = self._rank(question, lang, community)
        if not ranked or found is None:
            return Assessment(matched_lang, ranked, 0.0, 0.0, 0.0, None, 0.0)
        q, features, index, e = found
        f = features[e]
        curated = score(index.entry_features(q, e, curated=True), self.against)
        negatives = [(text, n, score(n, self.against)) for text, n in index.negative_features(q)]
        closest = max(negatives, key=lambda n: n[2], default=(None, None, 0.0))
        return Assessment(
            matched_lang,
            ranked,
            (f.words + f.chars) / 2,
            max(((n.words + n.chars) / 2 for _, n, _ in negatives), default=0.0),
            closest[2],
            closest[0] if closest[2] > 0 else None,
            curated,
        )

    def _out_of_scope(self, entry: Entry, q: Question, index: LangIndex) -> float:
        """Score of the closest out-of-scope example, which raises the bar for a city-wide entry.

        The examples are questions labelled out of scope for the city-wide entries;
        they say nothing about a community's own entries.
        """
        if entry.community is not None or not index.negatives:
            return 0.0
        scores = (score(f, self.against) for _, f in index.negative_features(q))
        return max(scores, default=0.0)

    def _rank(
        self, question: str, lang: str | None, community: str | None
    ) -> tuple[str, list[Suggestion], tuple[Question, dict[int, Features], LangIndex, int] | None]:
        """Language, ranked candidates, and the question's form and features behind them."""
        question = question[:MAX_CHARS]
        norm = normalise(question)
        script = guess_lang(norm)
        # The script of the question decides; ``lang`` (the asker's language)
        # only names the language of a reply to text with no letters at all.
        matched_lang = script or (lang if lang in self._indexes else "zh")
        chars = norm.replace(" ", "")
        if script is None or len(chars) <= 1 or is_repetitive(chars) or looks_like_code(question):
            # Digits, emoji, one character, 哈哈哈哈, code or a link are not a
            # question we can read; "272" alone must not get the community count.
            return matched_lang, [], None
        index = self._indexes[matched_lang]
        q = index.question(prepare(question, matched_lang), community, self.focus)
        if q is None:
            return matched_lang, [], None
        features = index.features_of(q)
        scores = {e: score(f, self.against) for e, f in features.items()}
        order = sorted(scores, key=lambda e: (-scores[e], e))
        ranked = [Suggestion(index.entries[e], round(scores[e], 2)) for e in order]
        return matched_lang, ranked, (q, features, index, order[0]) if order else None

    def match(
        self,
        question: str,
        *,
        lang: str | None = None,
        community: str | None = None,
        in_group: bool = False,
    ) -> MatchResult:
        """Decide how to respond to ``question`` from a resident of ``community``."""
        t = self.thresholds
        matched_lang, ranked, found = self._rank(question, lang, community)
        if not ranked or found is None:
            return MatchResult("none", None, 0.0, (), matched_lang)
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        needed = t.group_answer if in_group else t.answer
        if (
            best.score >= needed
            and best.score - runner_up >= t.margin
            and best.score - self._out_of_scope(best.entry, found[0], found[2]) >= needed
        ):
            return MatchResult("answer", best.entry, best.score, (best,), matched_lang)
        if not in_group and best.score >= t.suggest:
            shown = tuple(s for s in ranked[:MAX_SUGGESTIONS] if s.score >= t.suggest)
            return MatchResult("suggest", None, best.score, shown, matched_lang)
        return MatchResult("none", None, best.score, (), matched_lang)
