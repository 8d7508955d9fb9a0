"""Text normalisation for FAQ questions and phrasings, plus a language guess.

Both sides of every comparison (the resident's question and the knowledge-base
phrasings) go through :func:`normalise`, so whatever is folded here is folded
consistently: full/half width (NFKC), traditional → simplified Chinese, case,
punctuation, emoji, control characters, polite fillers and sentence particles.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import zhconv

# Only the first characters are normalised: a question longer than this is
# either pasted noise or a story, and scoring all of it would cost time for
# nothing (and let long noise look like it covers many phrasings).
MAX_CHARS = 200

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[a-zà-ɏ]", re.IGNORECASE)

# Polite openings and fillers that carry no meaning for matching; longest first
# so that "我想问一下" is removed before "问一下" could leave "我想" behind.
_ZH_FILLERS = sorted(
    [
        "请问一下", "请问", "我想问一下", "我想问下", "想问一下", "想问下", "问一下",
        "麻烦问一下", "麻烦问下", "麻烦你", "麻烦", "打扰一下", "打扰了", "你好", "您好",
        "哈喽", "谢谢你", "谢谢", "多谢", "在吗", "请告诉我", "告诉我",
    ],
    key=len,
    reverse=True,
)
_ZH_FILLER_RE = re.compile("|".join(map(re.escape, _ZH_FILLERS)))

# Sentence-final particles: removed only at the end of a clause, where they
# cannot be part of a word (了 in 了解, 的 in 目的 and 吧 in 酒吧 survive mid-clause).
_ZH_TAIL_RE = re.compile(r"(?<!干)[吗嘛呢啊呀吧哦哈啦了的]+(?=\s|$)")

_EN_FILLERS = (
    "can you tell me", "could you tell me", "can you please", "could you please",
    "i would like to know", "i'd like to know", "i want to know", "please", "pls",
    "hello", "hi there", "hey", "thanks", "thank you", "thx",
)
_EN_FILLER_RE = re.compile(r"\b(?:" + "|".join(map(re.escape, _EN_FILLERS)) + r")\b")

# Everything that is not a letter, digit or CJK ideograph (punctuation, symbols,
# emoji, controls, "_") becomes a space; "+" and "%" carry meaning in this
# domain ("前台+后台", "4+2", "20%") and stay.
_NOISE = re.compile(r"[^\w+%]|_")


@lru_cache(maxsize=1)
def _convertible() -> frozenset[str]:
    """First characters of zhconv's zh-cn conversion keys (text without any needs none)."""
    return frozenset(key[0] for key in zhconv.zhconv.getdict("zh-cn"))


def normalise(text: str, limit: int | None = MAX_CHARS) -> str:
    """Return the matching form of ``text`` (may be empty), cut to ``limit`` characters."""
    text = _NOISE.sub(" ", unicodedata.normalize("NFKC", text[:limit]))
    # zhconv is slow on long texts; most of ours are simplified already.
    if _CJK.search(text) and not _convertible().isdisjoint(text):
        text = zhconv.convert(text, "zh-cn")
    text = text.lower()
    text = _ZH_FILLER_RE.sub(" ", text)
    text = _EN_FILLER_RE.sub(" ", text)
    text = _ZH_TAIL_RE.sub(" ", text)
    return " ".join(text.split())


def guess_lang(text: str) -> str | None:
    """Guess 'zh' (any CJK ideograph), 'en' (Latin letters) or None (neither)."""
    text = unicodedata.normalize("NFKC", text)  # full-width Ａ is a Latin letter too
    if _CJK.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return None

