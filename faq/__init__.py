"""FAQ answer engine of Wulin (吾邻): knowledge base, normalisation, matching.

Pure Python (no Telegram, no database). Typical use::

    kb = load_kb(Path("faq/kb"))
    matcher = Matcher(kb)
    result = matcher.match("邻长是干啥的", community="xinxing")
    if result.outcome == "answer":
        reply(result.entry.answer[result.lang])
"""

from faq.check import check_kb
from faq.kb import (
    TOPIC_LABELS,
    Entry,
    KBError,
    KBProblem,
    KnowledgeBase,
    load_kb,
    topic_label,
)
from faq.matcher import (
    DEFAULT_THRESHOLDS,
    Matcher,
    MatchResult,
    Suggestion,
    Thresholds,
)
from faq.normalise import guess_lang, normalise

__all__ = [
    "DEFAULT_THRESHOLDS",
    "TOPIC_LABELS",
    "Entry",
    "KBError",
    "KBProblem",
    "KnowledgeBase",
    "MatchResult",
    "Matcher",
    "Suggestion",
    "Thresholds",
    "check_kb",
    "guess_lang",
    "load_kb",
    "normalise",
    "topic_label",
]
