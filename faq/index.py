"""Inverted index of phrasings, and the per-entry similarity score (0–100).

Each entry contributes *documents* in each language: its canonical question and
its phrasings. Postings are kept per scope (city-wide, or one community): a
question only looks up the city-wide postings and its own community's, so the
cost does not grow with the number of communities. The postings give each
entry the weight it shares with the question; only the ``MAX_CANDIDATES``
entries sharing the most are then compared phrasing by phrasing (pre-filter).

For one entry, with its best document (the one with the highest
``W_DICE·dice + W_CHARS·chars``):

* ``dice`` — weighted Dice overlap of tokens (token weight = rarity among
  city-wide entries × specificity in general Chinese); it carries the meaning;
* ``chars`` — rapidfuzz ``fuzz.ratio`` of the character strings; it forgives
  typos and segmentation accidents that tokens cannot see;
* ``coverage`` — the share of the question's weight that the entry explains:
  fully by the best document, at a discount by the rest of the entry (other
  phrasings and tags: ``VOCAB``, answer: ``ANSWER``). Unexplained content
  words mark a question about something else (补贴, 招聘, 收费 …);
* ``evidence`` — below 1 when the words matched in phrasings and tags are too
  few or too common to support any answer (你是谁 → 谁), unless the question
  is (nearly) one of the phrasings.

``score = 100 · evidence · coverage · S ** SIM_POWER`` with
``S = (W_DICE·dice + W_CHARS·chars) / (W_DICE + W_CHARS)``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from faq.kb import Entry
from faq.segment import PART_FACTOR, specificity
from faq.text import Text, command_owners, prepare

# Phrasing similarity S = (W_DICE·dice + W_CHARS·chars) / (W_DICE + W_CHARS).
W_DICE, W_CHARS = 0.5, 0.6
# Coverage decides how sure we are; phrasing similarity, tempered by SIM_POWER,
# mostly ranks entries that explain the same words (siblings).
SIM_POWER = 0.2
# Weight matched in phrasings and tags needed for full evidence (≈ one rare word).
EVIDENCE = 3.0
# How much a question word counts as explained when the entry has it in another
# phrasing or a tag (VOCAB), or only in its answer (ANSWER), rather than in the
# best document; credit when one side has a whole word and the other has it only
# as a part (联席会 / 党群联席会).
ANSWER, VOCAB, PART_MATCH = 0.5, 0.5, 0.7
# Weight of a word that no city-wide entry uses, relative to the rarest known
# word: a question about something we never mention is probably not ours.
UNSEEN = 2.0
# Entries compared phrasing by phrasing per question, the rest being pre-filtered
# out by the weight they share with it (bounds the cost on a big knowledge base).
MAX_CANDIDATES = 48


@dataclass
class _Scope:
    """Postings of one scope (city-wide, or one community) in one language."""

    # token → [(entry position, factor in the entry's phrasings and tags)]
    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)


class LangIndex:
    """All documents of one language, with postings per scope."""

    def __init__(self, entries: Iterable[Entry], lang: str) -> None:
        """Index the ``lang`` side of ``entries`` (city-wide and local alike)."""
        self.lang = lang
        self.entries = list(entries)
        self.doc_entry: list[int] = []
        self.doc_chars: list[str] = []
        self.doc_weight: list[float] = []  # total token weight of each document
        # per entry: token → [(document position, factor)], its own small index
        self.entry_postings: list[dict[str, list[tuple[int, float]]]] = []
        self.vocab: list[dict[str, float]] = []  # per entry: phrasings and tags
        self.answer_vocab: list[dict[str, float]] = []  # per entry: its answer
        for e_idx, entry in enumerate(self.entries):
            self._add_entry(entry, e_idx)
        position = {id(e): i for i, e in enumerate(self.entries)}
        for code in dict.fromkeys(e.community for e in self.entries):
            local = [e for e in self.entries if e.community == code]
            for cmd, owner in command_owners(local, lang).items():
                e_idx = position[id(owner)]
                self.vocab[e_idx][cmd] = 1.0
                self._add_doc(e_idx, Text(cmd, {cmd: 1.0}))
        # Rarity is counted over city-wide entries only, so that one community's
        # file never changes how answers are scored for another community.
        city = [i for i, e in enumerate(self.entries) if e.community is None]
        self.n_city = max(len(city), 1)
        self.df: dict[str, int] = defaultdict(int)
        for i in city:
            for tok in self.vocab[i].keys() | self.answer_vocab[i].keys():
                self.df[tok] += 1
        self._weights: dict[str, float] = {}
        self.scopes: dict[str | None, _Scope] = {}
        for e_idx, entry in enumerate(self.entries):
            scope = self.scopes.setdefault(entry.community, _Scope())
            for tok, factor in self.vocab[e_idx].items():
                scope.postings.setdefault(tok, []).append((e_idx, factor))
        for postings in self.entry_postings:
            for tok, docs in postings.items():
                for d, f in docs:
                    self.doc_weight[d] += self.weight(tok) * f

    def _add_entry(self, entry: Entry, e_idx: int) -> None:
        """Add the documents and the vocabulary of one entry."""
        vocab: dict[str, float] = {}
        for raw in (entry.question[self.lang], *entry.phrasings.get(self.lang, ())):
            text = prepare(raw, self.lang)
            if text.tokens:
                _widen(vocab, text.tokens, 1.0)
                self._add_doc(e_idx, text)
        if self.lang == "zh":  # tags are written in Chinese
            for tag in entry.tags:
                _widen(vocab, prepare(tag, self.lang).tokens, 1.0)
        self.vocab.append(vocab)
        # The answer says what the entry is about in more words than any
        # phrasing. Commands are left out: one mentioned in passing ("send
        # /mycaptain to tell your captain") does not make an answer its help.
        answer = prepare(entry.answer[self.lang], self.lang, limit=None).tokens
        self.answer_vocab.append({t: f for t, f in answer.items() if t[0] != "/"})

    def _add_doc(self, e_idx: int, text: Text) -> None:
        """Register one document of entry ``e_idx``."""
        while len(self.entry_postings) <= e_idx:
            self.entry_postings.append({})
        for tok, factor in text.tokens.items():
            self.entry_postings[e_idx].setdefault(tok, []).append((len(self.doc_entry), factor))
        self.doc_entry.append(e_idx)
        self.doc_chars.append(text.chars)
        self.doc_weight.append(0.0)  # summed once document frequencies are known

    def weight(self, tok: str) -> float:
        """Weight of a token: rarity among city-wide entries × general specificity."""
        w = self._weights.get(tok)
        if w is None:
            df = self.df.get(tok, 0)
            w = math.log(1 + (self.n_city - 0.5) / 1.5)  # as rare as can be: df = 1
            if df:
                w = math.log(1 + (self.n_city - df + 0.5) / (df + 0.5))
            else:
                w *= UNSEEN
            if self.lang == "zh" and tok[0] != "/":
                w *= specificity(tok)
            self._weights[tok] = w
        return w

    def scores(self, text: Text, community: str | None) -> dict[int, float]:
        """Score (0–100) of every entry sharing a token with ``text``, by entry position."""
        return {e: combine(*f) for e, f in self.features(text, community).items()}

    def features(self, text: Text, community: str | None) -> dict[int, tuple[float, ...]]:
        """(dice, chars, strong, covered, total) of each entry sharing a token with ``text``."""
        scopes = [self.scopes[s] for s in dict.fromkeys((None, community)) if s in self.scopes]
        if not text.tokens or not scopes:
            return {}
        weights = {t: self.weight(t) for t in text.tokens}
        total = sum(weights[t] * f for t, f in text.tokens.items()) or 1.0
        strong: dict[int, float] = defaultdict(float)
        for tok, factor in text.tokens.items():
            w = weights[tok]
            for scope in scopes:
                for e, f in scope.postings.get(tok, ()):
                    strong[e] += w * _credit(factor, f)
        # Only the entries that share the most weight with the question are
        # worth comparing phrasing by phrasing (ties: file order).
        ranked = sorted(strong, key=lambda e: (-strong[e], e))[:MAX_CANDIDATES]
        overlap: dict[int, float] = defaultdict(float)
        for e in ranked:
            postings = self.entry_postings[e]
            for tok, factor in text.tokens.items():
                for d, f in postings.get(tok, ()):
                    overlap[d] += weights[tok] * _credit(factor, f)
        docs = list(overlap)
        if not docs:
            return {}
        chars = process.cdist(
            [text.chars], [self.doc_chars[d] for d in docs], scorer=fuzz.ratio, workers=1
        )[0]
        best: dict[int, tuple[float, float, float, int]] = {}
        for k, d in enumerate(docs):
            dice = min(1.0, 2 * overlap[d] / (total + self.doc_weight[d]))
            ch = float(chars[k]) / 100
            sim = W_DICE * dice + W_CHARS * ch  # picks the entry's best document
            e = self.doc_entry[d]
            if e not in best or sim > best[e][0]:
                best[e] = (sim, dice, ch, d)
        out: dict[int, tuple[float, ...]] = {}
        for e, (_, dice, ch, d) in best.items():
            postings, vocab, answer = self.entry_postings[e], self.vocab[e], self.answer_vocab[e]
            covered = sum(
                weights[t]
                * max(
                    _credit(f, next((g for c, g in postings.get(t, ()) if c == d), 0.0)),
                    VOCAB * _credit(f, vocab.get(t, 0.0)),
                    ANSWER * _credit(f, answer.get(t, 0.0)),
                )
                for t, f in text.tokens.items()
            )
            out[e] = (dice, ch, strong[e], covered, total)
        return out


def combine(dice: float, chars: float, strong: float, covered: float, total: float) -> float:
    """Combine the features of one entry into a 0–100 score."""
    # A question that is (nearly) one of the entry's phrasings is evidence
    # enough, however common its words ("社区数量").
    evidence = min(1.0, max(strong / EVIDENCE, dice**2))
    similarity = (W_DICE * dice + W_CHARS * chars) / (W_DICE + W_CHARS)
    coverage = min(1.0, covered / total)  # a part met as a whole word may over-credit
    return 100 * evidence * coverage * similarity**SIM_POWER


def _credit(a: float, b: float) -> float:
    """Credit for a token met with factors ``a`` and ``b`` (whole word = 1, part < 1)."""
    low = min(a, b)
    if low < PART_FACTOR or a == b:
        return low
    return max(low, PART_MATCH)  # a whole word on one side, its part on the other


def _widen(vocab: dict[str, float], tokens: dict[str, float], factor: float) -> None:
    """Merge ``tokens`` into ``vocab`` at ``factor``, keeping the larger factor."""
    for tok, f in tokens.items():
        vocab[tok] = max(vocab.get(tok, 0.0), f * factor)
