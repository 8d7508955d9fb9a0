"""Inverted index of phrasings and the per-entry similarity score (0–100).

Each entry contributes *documents* in each language: its canonical question
and its phrasings. A question is compared only with the documents that share
at least one token with it (the inverted index is the pre-filter), and only
within the scopes it may see: the city-wide index plus one community's index,
so the cost does not grow with the number of communities.

The score of an entry combines, deliberately:

* ``overlap`` — weighted Dice of tokens between the question and the entry's
  best document (weights: rarity in the knowledge base × specificity in general
  Chinese, see ``segment.specificity``); it carries the meaning;
* ``chars`` — rapidfuzz ``fuzz.ratio`` of the character strings; it forgives
  typos and segmentation accidents that tokens cannot see;
* ``coverage`` — how much of the question's weight the entry's whole vocabulary
  (all phrasings and tags) explains; unexplained content words are the mark of
  a question about something else (补贴, 招聘, 收费 …);

and multiplies by ``evidence``, which is below 1 when the matched words are too
few or too common to support any answer (你是谁 → 谁).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from faq.kb import Entry
from faq.normalise import MAX_CHARS, normalise
from faq.segment import PART_FACTOR, en_tokens, fold_typos, specificity, zh_tokens

# Relative weights of the three similarity features (sum need not be 1).
W_OVERLAP, W_CHARS, W_COVERAGE = 0.5, 0.2, 0.3
# Matched weight needed for full evidence: roughly one rare content word.
EVIDENCE = 3.0
# Factor of answer words in an entry's vocabulary; credit when one side has a
# whole word and the other has it only as a part (联席会 / 党群联席会).
ANSWER = 0.5
PART_MATCH = 0.7
VOCAB = 0.6

_COMMAND = re.compile(r"/([a-z][a-z_]{1,31})")


@dataclass(frozen=True)
class Text:
    """A text prepared for matching: character string and token → factor."""

    chars: str
    tokens: dict[str, float]


def prepare(text: str, lang: str, *, long: bool = False) -> Text:
    """Normalise ``text`` and extract its matching form in ``lang``."""
    text = text if long else text[:MAX_CHARS]
    # A bot command ("/report") names its feature exactly; it becomes one token
    # instead of the English word "report".
    commands = {"/" + c: 1.0 for c in _COMMAND.findall(text.lower())}
    norm = normalise(_COMMAND.sub(" ", text), limit=None)
    if lang == "zh":
        folded = fold_typos(norm)
        return Text(folded.replace(" ", ""), dict(zh_tokens(folded)) | commands)
    toks = dict(en_tokens(norm))
    return Text(" ".join(toks), toks | commands)


def command_owners(entries: Iterable[Entry], lang: str) -> dict[str, Entry]:
    """Each bot command → the entry whose answer mentions it earliest (it explains it)."""
    first: dict[str, tuple[int, Entry]] = {}
    for entry in entries:
        for m in _COMMAND.finditer(entry.answer[lang].lower()):
            cmd = "/" + m.group(1)
            if cmd not in first or m.start() < first[cmd][0]:
                first[cmd] = (m.start(), entry)
    return {cmd: entry for cmd, (_, entry) in first.items()}


@dataclass
class _Scope:
    """Postings of one scope (city-wide, or one community) in one language."""

    docs: list[int]
    postings: dict[str, list[tuple[int, float]]]
    entry_postings: dict[str, list[tuple[int, float]]]


class LangIndex:
    """All documents of one language, with postings per scope."""

    def __init__(self, entries: Iterable[Entry], lang: str) -> None:
        self.lang = lang
        self.entries: list[Entry] = []
        self.doc_entry: list[int] = []
        self.doc_chars: list[str] = []
        self.doc_tokens: list[dict[str, float]] = []
        vocab: list[dict[str, float]] = []
        strong: list[dict[str, float]] = []
        for entry in entries:
            self.entries.append(entry)
            v, sv = self._add_entry(entry, len(self.entries) - 1)
            vocab.append(v)
            strong.append(sv)
        for scope_code in {e.community for e in self.entries}:
            scope_entries = [e for e in self.entries if e.community == scope_code]
            for cmd, owner in command_owners(scope_entries, lang).items():
                e_idx = self.entries.index(owner)
                vocab[e_idx][cmd] = strong[e_idx][cmd] = 1.0
                self._add_doc(e_idx, Text(cmd, {cmd: 1.0}))
        city = [i for i, e in enumerate(self.entries) if e.community is None]
        # Rarity is counted over city-wide entries only, so that a community's
        # file never changes how city-wide answers are scored for another one.
        self.n_city = max(len(city), 1)
        self.df: dict[str, int] = defaultdict(int)
        for i in city:
            for tok in vocab[i]:
                self.df[tok] += 1
        self.scopes: dict[str | None, _Scope] = {}
        for e_idx, entry in enumerate(self.entries):
            scope = self.scopes.setdefault(entry.community, _Scope([], {}, {}))
            for tok, factor in strong[e_idx].items():
                scope.entry_postings.setdefault(tok, []).append((e_idx, factor))
        for d, e_idx in enumerate(self.doc_entry):
            scope = self.scopes[self.entries[e_idx].community]
            scope.docs.append(d)
            for tok, factor in self.doc_tokens[d].items():
                scope.postings.setdefault(tok, []).append((d, factor))
        self.doc_weight = [self._mass(toks) for toks in self.doc_tokens]
        self.vocab = vocab

    def _add_entry(self, entry: Entry, e_idx: int) -> tuple[dict[str, float], dict[str, float]]:
        """Add the documents of one entry; return its vocabulary and its strong part."""
        vocab: dict[str, float] = {}
        texts = [entry.question[self.lang], *entry.phrasings.get(self.lang, ())]
        for raw in texts:
            text = prepare(raw, self.lang)
            if not text.tokens:
                continue
            _widen(vocab, text.tokens, 1.0)
            self._add_doc(e_idx, text)
        if self.lang == "zh":
            for tag in entry.tags:
                _widen(vocab, prepare(tag, self.lang).tokens, 1.0)
        strong = dict(vocab)
        # The answer says what the entry is about in more words than any
        # phrasing; it widens the vocabulary, at a discount.
        answer = prepare(entry.answer[self.lang], self.lang, long=True).tokens
        # Commands are left out: one mentioned in passing ("send /mycaptain to
        # tell your captain") would make every such answer look like its help.
        _widen(vocab, {t: f for t, f in answer.items() if t[0] != "/"}, ANSWER)
        return vocab, strong

    def _add_doc(self, e_idx: int, text: Text) -> None:
        """Register one document of entry ``e_idx``."""
        self.doc_entry.append(e_idx)
        self.doc_chars.append(text.chars)
        self.doc_tokens.append(text.tokens)

    def weight(self, tok: str) -> float:
        """Weight of a token: rarity among city-wide entries × general specificity."""
        # Unknown tokens weigh like the rarest known ones, not more: a question
        # full of words we never saw must not look like a strong non-match either.
        df = max(self.df.get(tok, 0), 1)
        idf = math.log(1 + (self.n_city - df + 0.5) / (df + 0.5))
        return idf * (specificity(tok) if self.lang == "zh" else 1.0)

    def _mass(self, tokens: dict[str, float]) -> float:
        """Total weight of a token mapping."""
        return sum(self.weight(t) * f for t, f in tokens.items())

    def features(self, text: Text, community: str | None) -> dict[int, tuple[float, ...]]:
        """(dice, chars, covered, total) of every entry that shares a token with ``text``."""
        scopes = [self.scopes[s] for s in dict.fromkeys((None, community)) if s in self.scopes]
        if not text.tokens or not scopes:
            return {}
        weights = {t: self.weight(t) for t in text.tokens}
        total = sum(weights[t] * f for t, f in text.tokens.items()) or 1.0
        overlap: dict[int, float] = defaultdict(float)
        strong: dict[int, float] = defaultdict(float)
        for tok, factor in text.tokens.items():
            w = weights[tok]
            for scope in scopes:
                for d, f in scope.postings.get(tok, ()):
                    overlap[d] += w * _credit(factor, f)
                for e, sf in scope.entry_postings.get(tok, ()):
                    strong[e] += w * _credit(factor, sf)
        docs = [d for d in overlap if overlap[d] > 0]
        if not docs:
            return {}
        chars = process.cdist(
            [text.chars], [self.doc_chars[d] for d in docs], scorer=fuzz.ratio, workers=1
        )[0]
        best: dict[int, tuple[float, float, int]] = {}
        for k, d in enumerate(docs):
            dice = 2 * overlap[d] / (total + self.doc_weight[d])
            ch = float(chars[k]) / 100
            e = self.doc_entry[d]
            cur = best.get(e)
            if cur is None or W_OVERLAP * dice + W_CHARS * ch > W_OVERLAP * cur[0] + W_CHARS * cur[1]:
                best[e] = (dice, ch, d)
        out = {}
        for e, (dice, ch, d) in best.items():
            # What the best phrasing explains counts fully; what only the rest of
            # the entry (other phrasings, tags, answer) explains counts less.
            doc, vocab = self.doc_tokens[d], self.vocab[e]
            covered = sum(
                weights[t] * max(_credit(f, doc.get(t, 0.0)), VOCAB * _credit(f, vocab.get(t, 0.0)))
                for t, f in text.tokens.items()
            )
            out[e] = (dice, ch, strong[e], covered, total)
        return out

    def score(self, text: Text, community: str | None) -> dict[int, float]:
        """Score (0–100) of every entry that shares a token with ``text``."""
        return {e: combine(*f) for e, f in self.features(text, community).items()}


def combine(dice: float, chars: float, strong: float, covered: float, total: float) -> float:
    """Combine the features of one entry into a 0–100 score."""
    evidence = min(1.0, strong / EVIDENCE)
    sim = (W_OVERLAP * dice + W_CHARS * chars + W_COVERAGE * covered / total)
    return 100 * evidence * sim / (W_OVERLAP + W_CHARS + W_COVERAGE)


def _credit(a: float, b: float) -> float:
    """Credit for a token met with factors ``a`` and ``b`` (whole = 1, part < 1)."""
    return min(a, b) if min(a, b) < PART_FACTOR or a == b else max(min(a, b), PART_MATCH)


def _widen(vocab: dict[str, float], tokens: dict[str, float], factor: float) -> None:
    """Merge ``tokens`` into ``vocab`` at ``factor``, keeping the larger factor."""
    for tok, f in tokens.items():
        vocab[tok] = max(vocab.get(tok, 0.0), f * factor)
