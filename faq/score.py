"""The score (0–100) of an entry for a question, from its ``faq.index.Features``.

Two questions decide it:

* **Is there enough evidence for this entry?** Each content word of the question
  that the entry explains speaks for it, each one it does not explain speaks
  against it (weights of ``faq.index``: rare words count most, a word unknown to
  the whole knowledge base as much as the rarest known one)::

      evidence = explained − AGAINST · (against + unknown) · min(1, LONG / content)

  (``content`` = explained + against + unknown: in a long question, a story, the
  words no entry explains count as a share of it rather than in full).

  Evidence saturates at ``FULL`` weight units (about three rare words): beyond
  that, more words do not make an answer more certain.
* **Is it this entry rather than a sibling?** Among entries with enough evidence,
  the one whose closest phrasing looks most like the question wins:
  ``closeness = (words + chars) / 2``.

``score = 100 · clip(max(evidence / FULL, sameness), 0, 1) · closeness``, where
``sameness = words ** SAME`` lets a question that *is* one of the phrasings
through however common its words are ("社区数量", "what can you do"). ``AGAINST`` is the only
weight chosen on labelled data, by cross-validation together with the thresholds
(see faq/THRESHOLDS.md); ``FULL`` only sets the scale.
"""

from __future__ import annotations

from faq.index import Features

AGAINST = 0.75
FULL = 10.0
# Content weight (about four telling words) beyond which a question is a story: the
# weight of the words an entry does not explain then counts as a share of the question
# (× LONG / total) instead of in full, so that many words around a report (墙皮掉了一大块,
# 厂子往河里排污水) do not outweigh the few that say what it is about. Chosen by the
# cross-validation of faq/THRESHOLDS.md (6–12 give the same figures).
LONG = 8.0
# Power on the token overlap with the closest phrasing: only (nearly) the same
# words count as evidence by themselves (0.9 → 0.43, 0.7 → 0.06).
SAME = 8


def score(f: Features, against: float = AGAINST) -> float:
    """Score of one entry for one question, 0–100."""
    penalty = f.against + f.unknown
    total = f.explained + penalty  # content weight of the question
    if total > LONG:  # a story: words no entry explains count as a share of it
        penalty *= LONG / total
    evidence = (f.explained - against * penalty) / FULL
    # A question that is (nearly) one of the phrasings is evidence enough, however
    # common its words ("社区数量", "what can you do").
    same = f.words**SAME
    return 100 * min(1.0, max(0.0, evidence, same)) * (f.words + f.chars) / 2
