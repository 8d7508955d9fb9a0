"""A text prepared for matching: its character string and its weighted tokens.

Both sides of a comparison go through :func:`prepare` — the resident's question
and every knowledge-base phrasing, tag and answer — so they meet in one form:
normalised, typos folded, segmented, synonyms applied, bot commands recognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from faq.lexicon import EN_STOP
from faq.normalise import MAX_CHARS, normalise
from faq.segment import en_tokens, fold_typos, zh_tokens

if TYPE_CHECKING:
    from faq.kb import Entry

# "/report", "/mycaptain": a bot command names one feature exactly.
COMMAND = re.compile(r"/([a-z][a-z_]{1,31})")
# Numbers written in Chinese with a unit (三千, 一百多, 两千六百, 7万): as digits they
# meet the figures of the answers. Runs without a unit (四位一体, 三权) are names.
_ZH_NUMBER = re.compile(
    r"[0-9零一二两三四五六七八九十百千万]*[十百千万][0-9零一二两三四五六七八九十百千]*"
)
# Clause punctuation (the question is cut where a resident would pause).
_CLAUSE = re.compile(r"[，。！？；,.!?;～~…]+|\s{2,}")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
_DIGITS = dict(zip("零一二两三四五六七八九", (0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_UNITS = {"十": 10, "百": 100, "千": 1000}


@dataclass(frozen=True)
class Text:
    """Matching form of a text: character string, token → factor (1 whole, <1 part), grams.

    ``grams`` are character bigrams of the Chinese string (trigrams inside each
    word for English): they meet where segmentation or a stem failed.
    """

    chars: str
    tokens: dict[str, float]
    grams: frozenset[str] = frozenset()
    # Chinese question of several clauses: the tokens of its last clause (empty otherwise).
    tail: frozenset[str] = frozenset()


def prepare(text: str, lang: str, *, limit: int | None = MAX_CHARS) -> Text:
    """Normalise ``text`` (its first ``limit`` characters) and extract its form in ``lang``."""
    text = text[:limit]
    # A command becomes one token ("/report") rather than the English word
    # "report", so that "/report怎么用" points at the entry that explains it.
    commands = {"/" + c: 1.0 for c in COMMAND.findall(text.lower())}
    norm = normalise(COMMAND.sub(" ", text), limit=None)
    if lang == "zh":
        folded = _ZH_NUMBER.sub(_number, fold_typos(norm))
        chars = folded.replace(" ", "")
        grams = frozenset(chars[i : i + 2] for i in range(len(chars) - 1)) or frozenset([chars])
        return Text(chars, dict(zh_tokens(folded)) | commands, grams - {""}, _tail(text))
    tokens = dict(en_tokens(norm))
    words = [w for w in norm.split() if w not in EN_STOP]
    grams = {w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))}
    return Text(" ".join(tokens), tokens | commands, frozenset(grams))


def _tail(text: str) -> frozenset[str]:
    """Tokens of the last clause of a Chinese question of several clauses, else empty."""
    clauses = [c for c in _CLAUSE.split(text) if _CJK_CHAR.search(c)]
    if len(clauses) < 2:
        return frozenset()
    last = _ZH_NUMBER.sub(_number, fold_typos(normalise(COMMAND.sub(" ", clauses[-1]))))
    return frozenset(t for t, _ in zh_tokens(last))


def _number(match: re.Match[str]) -> str:
    """The digits of a Chinese number (一百多 → 100多); anything unreadable is kept."""
    text = match.group(0)
    if len(text) < 2:
        return text  # 十 or 千 alone is a word, not a figure
    total = section = digit = 0
    pending = ""
    for ch in text:
        if ch.isdigit():
            pending += ch
            digit = int(pending)
        elif ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            section += (digit or 1) * _UNITS[ch]
            digit, pending = 0, ""
        else:  # 万
            total += (section + digit) * 10_000
            section = digit = 0
            pending = ""
    return str(total + section + digit)


def command_owners(entries: Iterable[Entry], lang: str) -> dict[str, Entry]:
    """Each bot command → the entry whose answer mentions it earliest (the one explaining it).

    "发送 /report …" opens the answer about reporting problems, while the
    answers about captains or the bot's features mention /report in passing.
    """
    first: dict[str, tuple[int, Entry]] = {}
    for entry in entries:
        for m in COMMAND.finditer(entry.answer[lang].lower()):
            cmd = "/" + m.group(1)
            if cmd not in first or m.start() < first[cmd][0]:
                first[cmd] = (m.start(), entry)
    return {cmd: entry for cmd, (_, entry) in first.items()}
