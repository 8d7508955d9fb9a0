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
more towards the end of the question (``FOCUS``), where Chinese puts what is asked, and
less before its last clause (``CONTEXT``), where a resident tells the story around it.
"""

from __future__ import annotations

import math
from array import array
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
# A Chinese question of several clauses asks in its last one (…墙皮掉了一大块，怎么报告;
# …不一样吧，大工委管啥): content words said only before it weigh 1 − CONTEXT times as
# much. Chosen by cross-validation (faq/THRESHOLDS.md; 0.2 and 0.3 give the same top-1).
CONTEXT = 0.2


_NO_DOCS: tuple[array, array] = (array("l"), array("d"))


@dataclass(frozen=True)
class Features:
    """What one entry has for and against a question."""

    words: float  # 0–1, token overlap with the entry's closest document
    chars: float  # 0–1, character n-gram overlap with that document
    explained: float  # content weight the entry explains
    against: float  # content weight known to the knowledge base, not to this entry
    unknown: float  # content weight unknown to the knowledge base


@dataclass(frozen=True)
class Question:
    """A question as weighed against one language index and one community."""

    scopes: list[_Scope]
    tokens: dict[str, float]  # after back-off to known parts
    weights: dict[str, float]  # token → weight
    total: float  # total token weight
    content: dict[str, float]  # content token → factor × position weight
    content_total: float
    unknown: float  # content weight unknown to the knowledge base
    unknown_tokens: dict[str, float]  # those words → factor × position weight
    overlap: dict[int, float]  # document → token weight shared with the question
    n_grams: int
    shared_grams: dict[int, int]  # document → grams shared with the question
    grams: frozenset[str]
    # (token, weight × share of its factor, factor) of each content token: entry_features'
    # constant part, computed once per question.
    terms: tuple[tuple[str, float, float], ...]


@dataclass
class _Scope:
    """Postings of one scope (city-wide, or one community) in one language."""

    tokens: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # → (entry, f)
    # token → documents having it, and its factor in each (parallel arrays: compact)
    docs: dict[str, tuple[array, array]] = field(default_factory=dict)
    grams: dict[str, list[int]] = field(default_factory=dict)  # → documents
    vocab: set[str] = field(default_factory=set)  # every token of the scope's entries


class LangIndex:
    """All documents of one language, with postings per scope."""

    def __init__(self, entries: Iterable[Entry], lang: str, negatives: Iterable[str] = ()) -> None:
        """Index the ``lang`` side of ``entries`` (city-wide and local alike).

        ``negatives`` are questions known to be out of scope (in ``lang``): kept
        apart, they only serve :meth:`nearest_negative`, never the weights.
        """
        self.lang = lang
        self.entries = list(entries)
        self.intent = INTENT_WORDS if lang == "zh" else EN_INTENT
        doc_tokens: list[dict[str, float]] = []  # only until the document weights are known
        self._doc_tokens = doc_tokens
        self.doc_grams: list[int] = []  # number of grams of each document
        self.doc_weight: list[float] = []  # total token weight of each document
        self.entry_docs: list[list[int]] = [[] for _ in self.entries]
        self.curated_docs: list[list[int]] = [[] for _ in self.entries]  # not learned
        self.vocab: list[dict[str, float]] = []  # per entry: documents and tags
        self.curated_vocab: list[dict[str, float]] = []  # the same without learned phrasings
        self.answer_vocab: list[dict[str, float]] = []  # per entry: its answer
        self.scopes: dict[str | None, _Scope] = {}
        for e_idx, entry in enumerate(self.entries):
            self._add_entry(entry, e_idx)
        position = {id(e): i for i, e in enumerate(self.entries)}
        for code in dict.fromkeys(e.community for e in self.entries):
            local = [e for e in self.entries if e.community == code]
            for cmd, owner in command_owners(local, lang).items():
                self.vocab[position[id(owner)]][cmd] = 1.0
                self.curated_vocab[position[id(owner)]][cmd] = 1.0
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
        for d, tokens in enumerate(doc_tokens):
            self.doc_weight[d] = sum(self.weight(t) * f for t, f in tokens.items())
        del self._doc_tokens
        # Out-of-scope examples: text, tokens, number of grams, total token weight.
        self.negatives: list[tuple[str, dict[str, float], int, float]] = []
        self.negative_grams: dict[str, list[int]] = {}
        city_vocab = self.scopes[None].vocab if None in self.scopes else set()
        for raw in dict.fromkeys(negatives):
            text = prepare(raw, lang)
            if not text.tokens:
                continue
            for gram in text.grams:
                self.negative_grams.setdefault(gram, []).append(len(self.negatives))
            # The same back-off to known parts as a question asked city-wide gets.
            tokens = _back_off(text.tokens, lambda t: t in city_vocab)
            weight = sum(self.weight(t) * f for t, f in tokens.items())
            self.negatives.append((raw, tokens, len(text.grams), weight))

    def _add_entry(self, entry: Entry, e_idx: int) -> None:
        """Add the documents and the vocabulary of one entry."""
        vocab: dict[str, float] = {}
        curated: dict[str, float] = {}
        learned = set(entry.learned.get(self.lang, ()))
        for raw in dict.fromkeys((entry.question[self.lang], *entry.phrasings.get(self.lang, ()))):
            text = prepare(raw, self.lang)
            if text.tokens:
                _widen(vocab, text.tokens)
                if raw not in learned:
                    _widen(curated, text.tokens)
                self._add_doc(e_idx, text, learned=raw in learned)
        if self.lang == "zh":  # tags are written in Chinese
            for tag in entry.tags:
                _widen(vocab, prepare(tag, self.lang).tokens)
                _widen(curated, prepare(tag, self.lang).tokens)
        self.vocab.append(vocab)
        self.curated_vocab.append(curated)
        # Commands are left out of the answer: one mentioned in passing ("send
        # /mycaptain to tell your captain") does not make an answer its help.
        answer = prepare(entry.answer[self.lang], self.lang, limit=None).tokens
        self.answer_vocab.append({t: f for t, f in answer.items() if t[0] != "/"})

    def _add_doc(self, e_idx: int, text: Text, *, learned: bool = False) -> None:
        """Register one document of entry ``e_idx``."""
        d = len(self._doc_tokens)
        self._doc_tokens.append(text.tokens)
        self.doc_grams.append(len(text.grams))
        self.doc_weight.append(0.0)  # summed once document frequencies are known
        self.entry_docs[e_idx].append(d)
        if not learned:
            self.curated_docs[e_idx].append(d)
        scope = self.scopes.setdefault(self.entries[e_idx].community, _Scope())
        for tok, f in text.tokens.items():
            ds, fs = scope.docs.setdefault(tok, (array("l"), array("d")))
            ds.append(d)
            fs.append(f)
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

    def question(self, text: Text, community: str | None, focus: float = FOCUS) -> Question | None:
        """What a question weighs: its tokens after back-off, content words, unknown weight."""
        scopes = [self.scopes[s] for s in dict.fromkeys((None, community)) if s in self.scopes]
        if not text.tokens or not scopes:
            return None
        tokens = _back_off(text.tokens, lambda t: any(t in s.vocab for s in scopes))
        weights = {t: self.weight(t) for t in tokens}
        total = sum(weights[t] * f for t, f in tokens.items())
        content: dict[str, float] = {}
        unknown_tokens: dict[str, float] = {}
        n = max(len(tokens) - 1, 1)
        for i, (tok, f) in enumerate(tokens.items()):
            if tok in self.intent:
                continue
            at = 1 + focus * (2 * i / n - 1) if self.lang == "zh" else 1.0
            if text.tail and not any(tok in t for t in text.tail):
                at *= 1 - CONTEXT  # said before the last clause: the story around it
            if any(tok in s.vocab for s in scopes):
                content[tok] = f * at
            elif not tok.isdigit() and not (self.lang == "zh" and tok.isascii()):
                # An English word in a Chinese question that ZH_LATIN cannot translate
                # is left out, like a number: we cannot read it, so it says nothing.
                unknown_tokens[tok] = f * at
        unknown = sum(weights[t] * f for t, f in unknown_tokens.items())
        content_total = sum(weights[t] * f for t, f in content.items())
        overlap: dict[int, float] = defaultdict(float)
        for tok, f in tokens.items():
            w = weights[tok]
            for scope in scopes:
                ds, fs = scope.docs.get(tok, _NO_DOCS)
                for d, fd in zip(ds, fs, strict=True):
                    overlap[d] += w * _credit(f, fd)
        shared_grams: dict[int, int] = defaultdict(int)
        for gram in text.grams:
            for scope in scopes:
                for d in scope.grams.get(gram, ()):
                    shared_grams[d] += 1
        return Question(
            scopes,
            tokens,
            weights,
            total,
            content,
            content_total,
            unknown,
            unknown_tokens,
            overlap,
            len(text.grams),
            shared_grams,
            text.grams,
            tuple((t, weights[t] * (f / tokens[t]), tokens[t]) for t, f in content.items()),
        )

    def features(
        self, text: Text, community: str | None, focus: float = FOCUS
    ) -> dict[int, Features]:
        """Features of every entry sharing a token with ``text``, by entry position."""
        q = self.question(text, community, focus)
        return {} if q is None else self.features_of(q)

    def features_of(self, q: Question) -> dict[int, Features]:
        """Features of every entry sharing a token with question ``q``, by entry position."""
        strong: dict[int, float] = defaultdict(float)
        for tok, factor in q.tokens.items():
            for scope in q.scopes:
                for e, f in scope.tokens.get(tok, ()):
                    strong[e] += q.weights[tok] * _credit(factor, f)
        # Only the entries that share the most weight with the question are
        # worth comparing document by document (ties: file order).
        ranked = sorted(strong, key=lambda e: (-strong[e], e))[:MAX_CANDIDATES]
        return {e: self.entry_features(q, e) for e in ranked}

    def negative_features(self, q: Question) -> list[tuple[str, Features]]:
        """Each out-of-scope example sharing characters with the question, with its features.

        An example is scored like an entry with that one phrasing and no answer,
        with the same weights, so that it can compete with the entries; the words
        it shares with the question count as explained even when no entry knows
        them (赔钱, 招工: that is what makes it out of scope).
        """
        shared: dict[int, int] = defaultdict(int)
        for gram in q.grams:
            for n in self.negative_grams.get(gram, ()):
                shared[n] += 1
        out = []
        for n, common in sorted(shared.items()):  # file order: ties resolved the same way
            text, doc, n_grams, weight = self.negatives[n]
            overlap = explained = new = 0.0
            for t, f in q.tokens.items():
                if t in doc:
                    credit = _credit(f, doc[t])
                    overlap += q.weights[t] * credit
                    if t in q.content:
                        explained += q.weights[t] * q.content[t] / f * min(f, credit)
                    elif t in q.unknown_tokens:
                        new += q.weights[t] * q.unknown_tokens[t] / f * min(f, credit)
            words = min(1.0, 2 * overlap / ((q.total + weight) or 1))
            chars = 2 * common / ((q.n_grams + n_grams) or 1)
            against = q.content_total - explained
            out.append((text, Features(words, chars, explained + new, against, q.unknown - new)))
        return out

    def entry_features(self, q: Question, e: int, *, curated: bool = False) -> Features:
        """Features of entry ``e`` for question ``q``; ``curated``: its own curated texts only.

        With ``curated=True`` the phrasings learned from residents' questions are
        ignored, both as closest document and as explained words.
        """
        overlap_of, grams_of = q.overlap.get, q.shared_grams.get
        total, n_grams = q.total, q.n_grams
        doc_weight, doc_grams = self.doc_weight, self.doc_grams
        words = chars = 0.0
        for d in self.curated_docs[e] if curated else self.entry_docs[e]:
            overlap, common = overlap_of(d, 0.0), grams_of(d, 0)
            if not overlap and not common:
                continue  # nothing in common: cannot be the closest document
            w = min(1.0, 2 * overlap / (total + doc_weight[d]))
            c = 2 * common / ((n_grams + doc_grams[d]) or 1)
            if w + c > words + chars:  # the closest document
                words, chars = w, c
        vocab = (self.curated_vocab[e] if curated else self.vocab[e]).get
        answer = self.answer_vocab[e].get
        # Each content word is explained as far as the entry's phrasings (or, less, its
        # answer) know it; a word it knows nowhere adds nothing (skipped: adding 0.0).
        parts = []
        for t, coef, a in q.terms:
            v, b = vocab(t), answer(t)
            if v is not None or b is not None:
                parts.append(
                    coef * min(a, max(_credit(a, v or 0.0), ANSWER * _credit(a, b or 0.0)))
                )
        explained = sum(parts, 0.0)
        return Features(words, chars, explained, q.content_total - explained, q.unknown)


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
