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


@dataclass(frozen=True)
class Text:
    """Matching form of a text: character string, token → factor (1 whole, <1 part), grams.

    ``grams`` are character bigrams of the Chinese string (trigrams inside each
    word for English): they meet where segmentation or a stem failed.
    """

    chars: str
    tokens: dict[str, float]
    grams: frozenset[str] = frozenset()


def prepare(text: str, lang: str, *, limit: int | None = MAX_CHARS) -> Text:
    """Normalise ``text`` (its first ``limit`` characters) and extract its form in ``lang``."""
    text = text[:limit]
    # A command becomes one token ("/report") rather than the English word
    # "report", so that "/report怎么用" points at the entry that explains it.
    commands = {"/" + c: 1.0 for c in COMMAND.findall(text.lower())}
    norm = normalise(COMMAND.sub(" ", text), limit=None)
    if lang == "zh":
        chars = fold_typos(norm).replace(" ", "")
        grams = frozenset(chars[i : i + 2] for i in range(len(chars) - 1)) or frozenset([chars])
        return Text(chars, dict(zh_tokens(fold_typos(norm))) | commands, grams - {""})
    tokens = dict(en_tokens(norm))
    words = [w for w in norm.split() if w not in EN_STOP]
    grams = {w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))}
    return Text(" ".join(tokens), tokens | commands, frozenset(grams))


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
