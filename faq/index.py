"""Inverted index of the entries' texts, and the evidence each entry has for a question.

Each entry contributes *documents* in each language (its canonical question and
its phrasings) and a *vocabulary* (the tokens of those documents and of its
tags; its answer counts apart). Postings are kept per scope (city-wide, or one
community): a question only looks up the city-wide postings and its own
community's, so the cost does not grow with the number of communities, and one
community's file never changes the scores seen by another.

A token weighs its rarity among city-wide entries × its specificity in general
Chinese (知道 and 去 say little). :meth:`LangIndex.features` describes, for
every entry sharing a token with the question (see ``faq.score`` for how the
numbers become a score):

* ``words`` — weighted Dice overlap of tokens with the entry's closest
  document, after typo and synonym folding;
* ``chars`` — Dice overlap of character bigrams (English: trigrams) with the
  same document: it forgives segmentation accidents that tokens cannot see;
* ``explained`` — the weight of the question's *content* words (question words
  such as 怎么/多少/how left out) that the entry explains: fully when its
  phrasings or tags have them, at ``ANSWER`` when only its answer does;
* ``against`` — the weight of content words that the knowledge base knows but
  this entry does not explain (补贴 asked of the volunteer entry);
* ``unknown`` — the weight of content words that no entry in scope uses at
  all (工资, 签证, joke); numbers the knowledge base does not know are left
  out (5000多个邻长 restates a figure rather than asking about something else).

Before counting, a word unknown to the knowledge base is replaced by its known
parts (紧急情况 → 紧急, 情况; 群里 → 群), and in Chinese the content words weigh
more towards the end of the question (``FOCUS``), where Chinese puts what is asked.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from faq.kb import Entry
from faq.lexicon import EN_INTENT, INTENT_WORDS
from faq.segment import PART_FACTOR, specificity
from faq.text import Text, command_owners, prepare

# How much a question word counts as explained when the entry mentions it only in
# its answer; credit when one side has a whole word and the other only a part.
ANSWER, PART_MATCH = 0.5, 0.7
# Entries compared document by document per question, the rest being pre-filtered
# out by the weight they share with it (bounds the cost on a big knowledge base).
MAX_CANDIDATES = 40
# Place words glued to a noun by jieba (群里, 楼上, 小区内): 群里 asks about the 群.
LOCATIVE = "里上中内"
# A Chinese question names what it asks about last (当邻长有 *工资* 吗, 元宵节 *灯会* 在哪):
# content words weigh from 1 − FOCUS at the start to 1 + FOCUS at the end.
# Chosen by cross-validation with the thresholds (faq/THRESHOLDS.md).
FOCUS = 0.25


@dataclass(frozen=True)
class Features:
    """What one entry has for and against a question."""

    words: float  # 0–1, token overlap with the entry's closest document
    chars: float  # 0–1, character n-gram overlap with that document
    explained: float  # content weight the entry explains
    against: float  # content weight known to the knowledge base, not to this entry
    unknown: float  # content weight unknown to the knowledge base


@dataclass
class _Scope:
    """Postings of one scope (city-wide, or one community) in one language."""

    tokens: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # → (entry, f)
    grams: dict[str, list[int]] = field(default_factory=dict)  # → documents
    vocab: set[str] = field(default_factory=set)  # every token of the scope's entries


class LangIndex:
    """All documents of one language, with postings per scope."""

    def __init__(self, entries: Iterable[Entry], lang: str) -> None:
        """Index the ``lang`` side of ``entries`` (city-wide and local alike)."""
        self.lang = lang
        self.entries = list(entries)
        self.intent = INTENT_WORDS if lang == "zh" else EN_INTENT
        self.doc_tokens: list[dict[str, float]] = []
        self.doc_grams: list[int] = []  # number of grams of each document
        self.doc_weight: list[float] = []  # total token weight of each document
        self.entry_docs: list[list[int]] = [[] for _ in self.entries]
        self.vocab: list[dict[str, float]] = []  # per entry: documents and tags
        self.answer_vocab: list[dict[str, float]] = []  # per entry: its answer
        self.scopes: dict[str | None, _Scope] = {}
        for e_idx, entry in enumerate(self.entries):
            self._add_entry(entry, e_idx)
        position = {id(e): i for i, e in enumerate(self.entries)}
        for code in dict.fromkeys(e.community for e in self.entries):
            local = [e for e in self.entries if e.community == code]
            for cmd, owner in command_owners(local, lang).items():
                self.vocab[position[id(owner)]][cmd] = 1.0
                self._add_doc(position[id(owner)], Text(cmd, {cmd: 1.0}, frozenset([cmd])))
        # Rarity is counted over city-wide entries only, so that one community's
        # file never changes how answers are scored for another community.
        city = [i for i, e in enumerate(self.entries) if e.community is None]
        self.n_city = max(len(city), 1)
        self.df: dict[str, int] = defaultdict(int)
        for i in city:
            for tok in self.vocab[i].keys() | self.answer_vocab[i].keys():
                self.df[tok] += 1
        self._weights: dict[str, float] = {}
        for e_idx, entry in enumerate(self.entries):
            scope = self.scopes.setdefault(entry.community, _Scope())
            scope.vocab.update(self.vocab[e_idx], self.answer_vocab[e_idx])
            for tok, factor in self.vocab[e_idx].items():
                scope.tokens.setdefault(tok, []).append((e_idx, factor))
        for d, tokens in enumerate(self.doc_tokens):
            self.doc_weight[d] = sum(self.weight(t) * f for t, f in tokens.items())

    def _add_entry(self, entry: Entry, e_idx: int) -> None:
        """Add the documents and the vocabulary of one entry."""
        vocab: dict[str, float] = {}
        for raw in dict.fromkeys((entry.question[self.lang], *entry.phrasings.get(self.lang, ()))):
            text = prepare(raw, self.lang)
            if text.tokens:
                _widen(vocab, text.tokens)
                self._add_doc(e_idx, text)
        if self.lang == "zh":  # tags are written in Chinese
            for tag in entry.tags:
                _widen(vocab, prepare(tag, self.lang).tokens)
        self.vocab.append(vocab)
        # Commands are left out of the answer: one mentioned in passing ("send
        # /mycaptain to tell your captain") does not make an answer its help.
        answer = prepare(entry.answer[self.lang], self.lang, limit=None).tokens
        self.answer_vocab.append({t: f for t, f in answer.items() if t[0] != "/"})

    def _add_doc(self, e_idx: int, text: Text) -> None:
        """Register one document of entry ``e_idx``."""
        d = len(self.doc_tokens)
        self.doc_tokens.append(dict(text.tokens))
        self.doc_grams.append(len(text.grams))
        self.doc_weight.append(0.0)  # summed once document frequencies are known
        self.entry_docs[e_idx].append(d)
        scope = self.scopes.setdefault(self.entries[e_idx].community, _Scope())
        for gram in text.grams:
            scope.grams.setdefault(gram, []).append(d)

    def weight(self, tok: str) -> float:
        """Weight of a token: rarity among city-wide entries × general specificity.

        A token no city-wide entry uses weighs as much as the rarest one.
        """
        w = self._weights.get(tok)
        if w is None:
            df = max(self.df.get(tok, 0), 1)
            w = math.log(1 + (self.n_city - df + 0.5) / (df + 0.5))
            if self.lang == "zh" and tok[0] != "/":
                w *= specificity(tok)
            self._weights[tok] = w
        return w

    def features(
        self, text: Text, community: str | None, focus: float = FOCUS
    ) -> dict[int, Features]:
        """Features of every entry sharing a token with ``text``, by entry position."""
        scopes = [self.scopes[s] for s in dict.fromkeys((None, community)) if s in self.scopes]
        if not text.tokens or not scopes:
            return {}
        tokens = _back_off(text.tokens, lambda t: any(t in s.vocab for s in scopes))
        weights = {t: self.weight(t) for t in tokens}
        total = sum(weights[t] * f for t, f in tokens.items())
        content: dict[str, float] = {}
        unknown = 0.0
        n = max(len(tokens) - 1, 1)
        for i, (tok, f) in enumerate(tokens.items()):
            if tok in self.intent:
                continue
            at = 1 + focus * (2 * i / n - 1) if self.lang == "zh" else 1.0
            if any(tok in s.vocab for s in scopes):
                content[tok] = f * at
            elif not tok.isdigit():
                unknown += weights[tok] * f * at
        content_total = sum(weights[t] * f for t, f in content.items())
        strong: dict[int, float] = defaultdict(float)
        for tok, factor in tokens.items():
            for scope in scopes:
                for e, f in scope.tokens.get(tok, ()):
                    strong[e] += weights[tok] * _credit(factor, f)
        # Only the entries that share the most weight with the question are
        # worth comparing document by document (ties: file order).
        ranked = sorted(strong, key=lambda e: (-strong[e], e))[:MAX_CANDIDATES]
        shared_grams: dict[int, int] = defaultdict(int)
        for gram in text.grams:
            for scope in scopes:
                for d in scope.grams.get(gram, ()):
                    shared_grams[d] += 1
        n_grams = len(text.grams)
        out: dict[int, Features] = {}
        for e in ranked:
            words = chars = 0.0
            for d in self.entry_docs[e]:
                doc = self.doc_tokens[d]
                overlap = sum(
                    weights[t] * _credit(f, doc[t]) for t, f in tokens.items() if t in doc
                )
                w = min(1.0, 2 * overlap / (total + self.doc_weight[d]))
                c = 2 * shared_grams.get(d, 0) / ((n_grams + self.doc_grams[d]) or 1)
                if w + c > words + chars:  # the closest document
                    words, chars = w, c
            vocab, answer = self.vocab[e], self.answer_vocab[e]
            explained = sum(
                weights[t]
                * (f / tokens[t])
                * min(
                    tokens[t],
                    max(
                        _credit(tokens[t], vocab.get(t, 0.0)),
                        ANSWER * _credit(tokens[t], answer.get(t, 0.0)),
                    ),
                )
                for t, f in content.items()
            )
            out[e] = Features(words, chars, explained, content_total - explained, unknown)
        return out


def _back_off(tokens: dict[str, float], known: Callable[[str], bool]) -> dict[str, float]:
    """Replace words unknown to the knowledge base by their known parts, whole.

    jieba knows 紧急情况 and 群里 as words, the knowledge base says 紧急 and 群:
    the resident asked about those, not about something new.
    """
    out = dict(tokens)
    for tok, f in tokens.items():
        if f < 1.0 or known(tok) or len(tok) < 2:
            continue
        parts = [p for p in tokens if p != tok and p in tok and len(p) > 1 and known(p)]
        if not parts and tok[-1] in LOCATIVE and known(tok[:-1]):
            parts = [tok[:-1]]
        if parts:
            del out[tok]
            out.update((p, 1.0) for p in parts)
    return out


def _credit(a: float, b: float) -> float:
    """Credit for a token met with factors ``a`` and ``b`` (whole word = 1, part < 1)."""
    low = min(a, b)
    if low < PART_FACTOR or a == b:
        return low
    return max(low, PART_MATCH)  # a whole word on one side, its part on the other


def _widen(vocab: dict[str, float], tokens: dict[str, float]) -> None:
    """Merge ``tokens`` into ``vocab``, keeping the larger factor."""
    for tok, f in tokens.items():
        vocab[tok] = max(vocab.get(tok, 0.0), f)
