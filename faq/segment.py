"""Word segmentation of normalised text: jieba for Chinese, a tiny tokenizer for English.

Chinese has no spaces, so rapidfuzz's token scorers and our keyword index need
jieba first. We use a *private* ``jieba.Tokenizer`` (never jieba's global one,
which other code may configure), built once on first use with our domain terms;
then fold typos, synonyms and stop words so that a resident's wording and the
knowledge base's wording meet on the same tokens.

Tokens come as (token, factor) pairs: a whole word has factor 1, a dictionary
word *inside* a longer word (服务中心 in 党群服务中心) has ``PART_FACTOR``, so a
question naming part of a term still meets it, without a long compound word
outweighing the rest of the question.
"""

from __future__ import annotations

import logging
import math
import re
import sys
import threading
from functools import lru_cache

import jieba

from faq.lexicon import (
    DOMAIN_TERMS,
    EN_STOP,
    EN_SYNONYMS,
    INTENT_WORDS,
    SEGMENT_HINTS,
    TYPOS,
    ZH_LATIN,
    ZH_STOP,
    ZH_SYNONYMS,
)

PART_FACTOR = 0.35
INTENT_SPECIFICITY = 0.6

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_background: dict[str, int] = {}  # corpus frequency of words whose frequency we raised
_log_total = [0.0]  # log of jieba's corpus size, set with the tokenizer

# Longest typo first, so that "邻里小租" is folded before a shorter key could
# rewrite part of it.
_TYPO_RE = re.compile("|".join(re.escape(k) for k in sorted(TYPOS, key=len, reverse=True)))
_EN_WORD = re.compile(r"[a-z0-9]+")
_LATIN_RE = re.compile(
    r"(?<![a-z])(?:"
    + "|".join(re.escape(k) for k in sorted(ZH_LATIN, key=len, reverse=True))
    + r")(?![a-z])"
)
_DOMAIN = frozenset(DOMAIN_TERMS)


def tokenizer() -> jieba.Tokenizer:
    """Return the private jieba tokenizer, building it on first use (~0.5 s)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            # jieba logs "Building prefix dict..." on every load: noise in our logs.
            logging.getLogger("jieba").setLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            _log_total[0] = math.log(tk.total)
            for term in SEGMENT_HINTS:
                _background[term] = tk.FREQ.get(term, 0)
            for term in (*DOMAIN_TERMS, *SEGMENT_HINTS):
                # A high frequency makes the term win over the generic split.
                tk.add_word(term, freq=2_000_000)
            _tokenizer = tk
        return _tokenizer


def specificity(word: str) -> float:
    """How informative a word is in general Chinese, 0.1 (的, 在, 去) … 1 (补贴, 电梯).

    The knowledge base is too small for its own document frequencies to know
    that 去 or 知道 say nothing; jieba's corpus frequencies do. Domain terms and
    words jieba does not know count as fully specific.
    """
    tk = tokenizer()
    if word.isdigit():
        # "3栋2单元" is an address; "5580" or "272" is a fact from the article.
        return 0.3 if len(word) <= 2 else 0.8
    if word in INTENT_WORDS:
        return INTENT_SPECIFICITY
    if word in _DOMAIN or not _is_cjk(word[0]):
        return 1.0
    freq = _background.get(word, tk.FREQ.get(word, 0))
    rarity = _log_total[0] - math.log(freq + 1)
    return min(1.0, max(0.1, (rarity - 7.0) / 5.0))


def _is_cjk(ch: str) -> bool:
    """True for a CJK ideograph."""
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def fold_typos(text: str) -> str:
    """Replace common homophone typos in normalised Chinese text, and English words that
    stand for a Chinese term (``ZH_LATIN``) with that term."""
    if _LATIN_RE.search(text):
        text = _LATIN_RE.sub(lambda m: ZH_LATIN[m.group(0)], text)
    return _TYPO_RE.sub(lambda m: TYPOS[m.group(0)], text)


@lru_cache(maxsize=4096)
def _expand(word: str) -> tuple[tuple[str, float], ...]:
    """One jieba word as (token, factor) pairs: its canonical form(s) and their parts."""
    out: list[tuple[str, float]] = []
    for whole in ZH_SYNONYMS.get(word, word).split():
        if whole in ZH_STOP:
            continue
        out.append((whole, 1.0))
        if len(whole) > 2:
            # Search mode lists the dictionary words inside a long word.
            for piece in tokenizer().cut_for_search(whole, HMM=False):
                for part in ZH_SYNONYMS.get(piece, piece).split():
                    if part != whole and len(part) > 1 and part not in ZH_STOP:
                        out.append((part, PART_FACTOR))
    return tuple(out)


def _merge(pairs: list[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Keep the largest factor per token (a word met whole and as a part counts whole)."""
    merged: dict[str, float] = {}
    for tok, factor in pairs:
        if factor > merged.get(tok, 0.0):
            # Interned: the index holds the same few thousand words many times.
            merged[sys.intern(tok)] = factor
    return tuple(merged.items())


@lru_cache(maxsize=8192)
def zh_tokens(text: str) -> tuple[tuple[str, float], ...]:
    """(token, factor) pairs of normalised Chinese text (typos already folded)."""
    pairs: list[tuple[str, float]] = []
    for word in tokenizer().cut(text, HMM=False):
        word = word.strip()
        if word and word not in ZH_STOP:
            pairs.extend(_expand(word))
    return _merge(pairs)


def _stem(word: str) -> str:
    """Fold English plurals and -ing/-ed forms (naive, but the same on both sides)."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                break
            if suffix == "es" and not word.endswith(("ses", "xes", "ches", "shes")):
                continue
            word = word[: -len(suffix)] + repl
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


@lru_cache(maxsize=8192)
def en_tokens(text: str) -> tuple[tuple[str, float], ...]:
    """(token, 1.0) pairs of normalised English text (stop words dropped, stemmed)."""
    out: list[str] = []
    for word in _EN_WORD.findall(text):
        for w in EN_SYNONYMS.get(word, word).split():
            if w not in EN_STOP and len(w) > 1:  # "s" of "building's"
                out.append(_stem(w))
    return tuple((sys.intern(t), 1.0) for t in dict.fromkeys(out))
