"""Input that is not a question in words: code, SQL, markup, links, repeated characters.

Such text is never answered (it may share a stray word with a phrasing:
"SELECT * FROM users;" once matched the captain *selection* entry), and it is
recognised by its shape, before any matching.
"""

from __future__ import annotations

import re

_MARKUP = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(\s[^<>]*)?/?\s*>|&[a-z]+;|&#\d+;", re.IGNORECASE)
_LINK = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|\b[\w-]+\.(com|cn|net|org|io|me|gov|edu|info)\b|@\w+\.\w",
    re.IGNORECASE,
)
# SQL by its syntax, not by single words: "how do I select a captain" stays a question.
_SQL = re.compile(
    r"\bselect\s+(\*|distinct\b)|\bselect\b[\w\s,.*]+\bfrom\s+\w+\s*(;|\bwhere\b|$)"
    r"|\binsert\s+into\b|\bdelete\s+from\b|\bdrop\s+(table|database)\b|\bunion\s+select\b"
    r"|\bupdate\s+\w+\s+set\b|;\s*--|'\s*or\s+'?1'?\s*=\s*'?1",
    re.IGNORECASE,
)
_SQL_UPPER = re.compile(r"\b(SELECT|FROM|WHERE|DROP|TABLE|INSERT|INTO|DELETE|UPDATE|UNION)\b")
# Programming punctuation; "+" and "%" are ordinary here ("前台+后台", "20%").
_CODE_CHARS = re.compile(r"[{}\[\]<>=;$\\|`^~]")
_CODE_SHAPE = re.compile(r"\w+\([^()]*\)\s*[;{]|=>|==|!=|&&|\|\||::|\bfunction\b|\bdef\s+\w+\(")


def looks_like_code(text: str) -> bool:
    """True when ``text`` is code, SQL, markup or a link rather than a question."""
    if _MARKUP.search(text) or _LINK.search(text) or _SQL.search(text):
        return True
    if len(_SQL_UPPER.findall(text)) >= 2 or _CODE_SHAPE.search(text):
        return True
    visible = [ch for ch in text if not ch.isspace()]
    symbols = len(_CODE_CHARS.findall(text))
    return symbols >= 3 and symbols >= 0.15 * len(visible)


def is_repetitive(chars: str) -> bool:
    """True for one or two characters repeated (哈哈哈哈, 邻邻邻邻…), not a question."""
    distinct = len(set(chars))
    return (len(chars) >= 4 and distinct <= 2) or (len(chars) >= 12 and distinct < len(chars) / 5)
