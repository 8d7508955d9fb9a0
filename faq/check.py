"""Validation of a knowledge base for ``python bot.py faq check``.

Reports everything :func:`faq.kb.load_kb` would refuse (missing fields,
duplicate ids, bad files) and the softer problems that make answers worse:

* fewer than ``MIN_ZH_PHRASINGS`` alternative Chinese phrasings;
* a topic code without a label;
* a community file whose ids do not start with ``<community>_``;
* phrasings that collide between entries: identical after normalisation, the same
  words after typo and synonym folding, or such that the real matcher, asked the
  phrasing as a question, answers it with another entry or cannot tell the two
  apart (margin below the threshold);
* a phrasing that the matcher would decline because one of the out-of-scope
  examples (``out_of_scope.yaml``, ``learned/*.yaml``) is nearly as close to it as its
  own entry.
"""

from __future__ import annotations

from pathlib import Path

from faq.kb import TOPIC_LABELS, Entry, KBProblem, KnowledgeBase, read_kb, read_out_of_scope
from faq.matcher import DEFAULT_THRESHOLDS, Matcher, Thresholds
from faq.text import prepare

MIN_ZH_PHRASINGS = 4


def check_kb(directory: Path, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[KBProblem]:
    """Every problem found in the knowledge base at ``directory``, fatal ones first."""
    entries, problems = read_kb(Path(directory))
    out_of_scope, more = read_out_of_scope(Path(directory))
    problems += more
    problems = [p for p in problems if p.fatal] + [p for p in problems if not p.fatal]
    for entry in entries:
        problems += _entry_problems(entry)
    kb = KnowledgeBase(tuple(entries), out_of_scope)
    problems += _identical_phrasings(kb)
    problems += _matcher_collisions(kb, thresholds)
    return problems


def _entry_problems(entry: Entry) -> list[KBProblem]:
    """Problems of one entry on its own."""
    found = []
    if len(entry.phrasings["zh"]) < MIN_ZH_PHRASINGS:
        msg = f"only {len(entry.phrasings['zh'])} zh phrasings (at least {MIN_ZH_PHRASINGS})"
        found.append(KBProblem(entry.file, entry.id, msg))
    if entry.topic not in TOPIC_LABELS:
        found.append(KBProblem(entry.file, entry.id, f"unknown topic '{entry.topic}'"))
    if entry.community and not entry.id.startswith(entry.community + "_"):
        msg = f"id must start with '{entry.community}_' in a community file"
        found.append(KBProblem(entry.file, entry.id, msg))
    return found


def _competes(a: Entry, b: Entry) -> bool:
    """True when a resident could be offered both entries (city-wide or same community)."""
    return a.community is None or b.community is None or a.community == b.community


def _texts(entry: Entry, lang: str) -> list[str]:
    """The canonical question and the phrasings of an entry in one language."""
    return [entry.question[lang], *entry.phrasings.get(lang, ())]


def _identical_phrasings(kb: KnowledgeBase) -> list[KBProblem]:
    """Phrasings of two competing entries that are the same text, or the same words.

    Same words means the same whole tokens after typo and synonym folding
    (邻长是干什么的 / 邻长干啥的): the matcher could then only tell the two
    entries apart by their characters.
    """
    found = []
    for lang in ("zh", "en"):
        seen: dict[object, list[Entry]] = {}
        for entry in kb.entries:
            for text in _texts(entry, lang):
                prepared = prepare(text, lang)
                words = frozenset(t for t, f in prepared.tokens.items() if f == 1.0)
                for key, what in ((prepared.chars, "identical to"), (words, "the same words as")):
                    if not key:
                        continue
                    clash = [
                        o for o in seen.get(key, []) if o.id != entry.id and _competes(o, entry)
                    ]
                    for other_id in dict.fromkeys(o.id for o in clash):
                        msg = f"phrasing {text!r} is {what} one of entry '{other_id}'"
                        found.append(KBProblem(entry.file, entry.id, msg))
                    seen.setdefault(key, []).append(entry)
                    if clash:
                        break  # identical text: no need to say "same words" too
    return found


def _matcher_collisions(kb: KnowledgeBase, thresholds: Thresholds) -> list[KBProblem]:
    """Phrasings that the matcher answers with another entry, cannot tell apart, or declines
    because an out-of-scope example is as close as the entry."""
    matcher = Matcher(kb, thresholds)
    found = []
    for entry in kb.entries:
        for lang in ("zh", "en"):
            for text in entry.phrasings.get(lang, ()):
                assessed = matcher.assess(text, lang=lang, community=entry.community)
                ranked = assessed.ranked
                if not ranked:
                    continue
                best = ranked[0]
                if best.entry.id != entry.id:
                    msg = f"phrasing {text!r} is matched to entry '{best.entry.id}' instead"
                    found.append(KBProblem(entry.file, entry.id, msg))
                elif len(ranked) > 1 and best.score - ranked[1].score < thresholds.margin:
                    other = ranked[1]
                    msg = (
                        f"phrasing {text!r} is too close to entry '{other.entry.id}' "
                        f"({best.score:.1f} vs {other.score:.1f})"
                    )
                    found.append(KBProblem(entry.file, entry.id, msg))
                elif best.score < thresholds.answer:
                    msg = (
                        f"phrasing {text!r} is not answered even word for word (score "
                        f"{best.score:.1f}, below the answer threshold {thresholds.answer:g})"
                    )
                    found.append(KBProblem(entry.file, entry.id, msg))
                elif (
                    entry.community is None
                    and best.score - assessed.negative_score < thresholds.answer
                ):
                    msg = (
                        f"phrasing {text!r} is declined: too close to the out-of-scope example "
                        f"{assessed.negative_example!r} ({best.score:.1f} vs "
                        f"{assessed.negative_score:.1f})"
                    )
                    found.append(KBProblem(entry.file, entry.id, msg))
    return found
