"""Matching features of one text: its character string and its weighted tokens.

A text (a knowledge-base phrasing or a resident's question) becomes a
:class:`Features`: the normalised character string (for rapidfuzz's character
scorers) and a mapping token → role factor, where a whole word counts 1 and a
*part* of a longer word (服务中心 inside 党群服务中心) counts ``PART_FACTOR``.
Parts let "服务中心" meet "党群服务中心" without letting a long compound word
outweigh the rest of the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from faq.lexicon import EN_STOP, ZH_STOP, ZH_SYNONYMS
from faq.normalise import normalise
from faq.segment import en_tokens, fold_typos, tokenizer

PART_FACTOR = 0.35


@dataclass(frozen=True)
class Features:
    """What the matcher compares: character string and token → factor."""

    text: str
    tokens: dict[str, float]


@lru_cache(maxsize=2048)
def _expand(word: str) -> tuple[tuple[str, float], ...]:
    """A word (after synonyms) as (token, factor) pairs: itself and its parts."""
    canon = ZH_SYNONYMS.get(word, word)
    out: list[tuple[str, float]] = []
    for whole in tokenizer().cut(canon, HMM=False):
        whole = whole.strip()
        if not whole or whole in ZH_STOP:
            continue
        out.append((whole, 1.0))
        if len(whole) > 2:
            # Search mode lists the dictionary words inside a long word.
            for part in tokenizer().cut_for_search(whole, HMM=False):
                if part != whole and len(part) > 1 and part not in ZH_STOP:
                    out.append((ZH_SYNONYMS.get(part, part), PART_FACTOR))
    return tuple(out)


def _merge(pairs: list[tuple[str, float]]) -> dict[str, float]:
    """Keep the largest factor per token (a word met whole and as a part counts whole)."""
    merged: dict[str, float] = {}
    for tok, factor in pairs:
        if factor > merged.get(tok, 0.0):
            merged[tok] = factor
    return merged


@lru_cache(maxsize=8192)
def zh_features(normalised: str) -> Features:
    """Features of normalised Chinese text."""
    folded = fold_typos(normalised)
    pairs: list[tuple[str, float]] = []
    for word in tokenizer().cut(folded, HMM=False):
        word = word.strip()
        if word and word not in ZH_STOP:
            pairs.extend(_expand(word))
    return Features(folded.replace(" ", ""), _merge(pairs))


@lru_cache(maxsize=8192)
def en_features(normalised: str) -> Features:
    """Features of normalised English text."""
    toks = [t for t in en_tokens(normalised) if t not in EN_STOP]
    return Features(" ".join(toks), dict.fromkeys(toks, 1.0))


def features(text: str, lang: str) -> Features:
    """Normalise ``text`` and extract its features in ``lang`` ('zh' or 'en')."""
    norm = normalise(text)
    return zh_features(norm) if lang == "zh" else en_features(norm)
