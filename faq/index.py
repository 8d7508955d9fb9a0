"""Inverted index of an entry's texts, and the features that say how well it fits a question.

Each entry contributes *documents* in each language (its canonical question and
its phrasings) and a *vocabulary* (the tokens of those documents and of its
tags; its answer counts apart). Postings are kept per scope (city-wide, or one
community): a question only looks up the city-wide postings and its own
community's, so the cost does not grow with the number of communities, and one
community's file never changes the scores seen by another.

For every entry sharing a word with the question, :meth:`LangIndex.features`
gives three numbers in 0–1 (combined into the score by ``faq.score``):

* ``words`` — weighted Dice overlap of tokens with the entry's closest document
  (token weight = rarity among city-wide entries × specificity in general
  Chinese); it carries the meaning, after typo and synonym folding;
* ``chars`` — Dice overlap of character bigrams (English: trigrams) with the
  same document; it forgives segmentation accidents that tokens cannot see;
* ``coverage`` — the share of the question's *content* weight (question words
  such as 怎么/多少/how left out) that the entry explains: fully by its
  phrasings and tags, at a discount by its answer. A content word that no entry
  knows weighs ``UNSEEN`` times the rarest known word: a question about
  something the knowledge base never mentions (工资, 签证, joke) is not ours.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from faq.kb import Entry
from faq.lexicon import EN_INTENT, INTENT_WORDS
from faq.segment import PART_FACTOR, specificity
from faq.text import Text, command_owners, prepare

# How much a question word counts as explained when the entry mentions it only in
# its answer; credit when one side has a whole word and the other only a part.
ANSWER, PART_MATCH = 0.5, 0.7
# Weight of a content word that no city-wide entry uses, relative to the rarest
# known word: a question about something we never mention is probably not ours.
UNSEEN = 2.0
# Entries compared document by document per question, the rest being pre-filtered
# out by the weight they share with it (bounds the cost on a big knowledge base).
MAX_CANDIDATES = 40


@dataclass(frozen=True)
class Features:
    """How well one entry fits a question; each value within 0–1."""

    words: float  # token overlap with the entry's closest document
    chars: float  # character n-gram overlap with that document
    coverage: float  # share of the question's content weight the entry explains


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
        self.doc_entry: list[int] = []
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
            self.doc_weight[d] = sum(self.weight(t, known=True) * f for t, f in tokens.items())

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
        d = len(self.doc_entry)
        self.doc_entry.append(e_idx)
        self.doc_tokens.append(dict(text.tokens))
        self.doc_grams.append(len(text.grams))
        self.doc_weight.append(0.0)  # summed once document frequencies are known
        self.entry_docs[e_idx].append(d)
        scope = self.scopes.setdefault(self.entries[e_idx].community, _Scope())
        for gram in text.grams:
            scope.grams.setdefault(gram, []).append(d)

    def weight(self, tok: str, *, known: bool = False) -> float:
        """Weight of a token: rarity among city-wide entries × general specificity.

        ``known``: the token is used by an entry in scope even if by no city-wide
        one (a local word), so it is rare but not a sign of another subject.
        """
        df = self.df.get(tok, 0)
        if df == 0 and not known:
            key = tok
        elif df == 0:
            key = "\0" + tok
        else:
            key = tok
        w = self._weights.get(key)
        if w is None:
            w = math.log(1 + (self.n_city - df + 0.5) / (max(df, 1) + 0.5))
            if df == 0 and not known:
                w *= UNSEEN
            if self.lang == "zh" and tok[0] != "/":
                w *= specificity(tok)
            self._weights[key] = w
        return w

    def features(self, text: Text, community: str | None) -> dict[int, Features]:
        """Features of every entry sharing a token with ``text``, by entry position."""
        scopes = [self.scopes[s] for s in dict.fromkeys((None, community)) if s in self.scopes]
        if not text.tokens or not scopes:
            return {}
        known = {t for t in text.tokens if any(t in s.vocab for s in scopes)}
        weights = {t: self.weight(t, known=t in known) for t in text.tokens}
        total = sum(weights[t] * f for t, f in text.tokens.items()) or 1.0
        content = {t: f for t, f in text.tokens.items() if t not in self.intent}
        content_total = sum(weights[t] * f for t, f in content.items())
        strong: dict[int, float] = defaultdict(float)
        for tok, factor in text.tokens.items():
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
            best = (-1.0, 0.0, 0.0)
            for d in self.entry_docs[e]:
                tokens = self.doc_tokens[d]
                overlap = sum(
                    weights[t] * _credit(f, tokens[t]) for t, f in text.tokens.items() if t in tokens
                )
                words = min(1.0, 2 * overlap / (total + self.doc_weight[d]))
                chars = 2 * shared_grams.get(d, 0) / ((n_grams + self.doc_grams[d]) or 1)
                if words + chars > best[0]:
                    best = (words + chars, words, chars)
            if content_total > 0:
                vocab, answer = self.vocab[e], self.answer_vocab[e]
                covered = sum(
                    weights[t]
                    * max(_credit(f, vocab.get(t, 0.0)), ANSWER * _credit(f, answer.get(t, 0.0)))
                    for t, f in content.items()
                )
                coverage = min(1.0, covered / content_total)
            else:
                coverage = 0.0  # only question words: "你是谁", "what is it"
            out[e] = Features(best[1], best[2], coverage)
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
