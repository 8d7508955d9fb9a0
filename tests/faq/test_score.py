"""The evidence score (faq.score), its features (faq.index) and the input filter (faq.noise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faq import Matcher, load_kb
from faq.index import Features
from faq.noise import is_repetitive, looks_like_code
from faq.score import AGAINST, FULL, LONG, SAME, score
from faq.text import prepare

KB_DIR = Path(__file__).resolve().parents[2] / "faq" / "kb"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    """Matcher over the real knowledge base."""
    return Matcher(load_kb(KB_DIR))


def features(matcher: Matcher, question: str, entry_id: str) -> Features:
    """The features of one entry for a Chinese city-wide question."""
    index = matcher._indexes["zh"]
    found = index.features(prepare(question, "zh"), None, matcher.focus)
    position = next(i for i, e in enumerate(index.entries) if e.id == entry_id)
    return found[position]


def test_score_formula() -> None:
    """score = 100 · clip(max(evidence / FULL, words^SAME)) · (words + chars) / 2."""
    f = Features(words=0.5, chars=0.3, explained=4.0, against=1.0, unknown=2.0)
    evidence = (4.0 - AGAINST * (1.0 + 2.0)) / FULL
    assert score(f) == pytest.approx(100 * max(evidence, 0.5**SAME) * 0.4)
    # A story (content weight above LONG): what is not explained counts as a share of it.
    f = Features(words=0.5, chars=0.3, explained=6.0, against=4.0, unknown=6.0)
    evidence = (6.0 - AGAINST * (4.0 + 6.0) * LONG / 16.0) / FULL
    assert score(f) == pytest.approx(100 * max(evidence, 0.5**SAME) * 0.4)
    assert score(Features(0.2, 0.2, 0.0, 5.0, 5.0)) >= 0.0  # never negative
    assert score(Features(1.0, 1.0, 50.0, 0.0, 0.0)) == 100.0  # saturates


def test_word_unknown_to_the_kb_counts_against(matcher: Matcher) -> None:
    """Adding a word no entry uses (签证) moves weight from 'explained' to 'unknown'."""
    plain = features(matcher, "邻长是怎么选出来的", "captain_selection")
    extra = features(matcher, "邻长是怎么选出来的签证", "captain_selection")
    assert plain.unknown == 0.0 < extra.unknown
    assert score(extra) < score(plain)


def test_word_known_elsewhere_counts_against(matcher: Matcher) -> None:
    """补贴 is known to the knowledge base, but not to the volunteer entry: it counts against."""
    f = features(matcher, "当志愿者有补贴吗", "volunteer_join")
    assert f.against > 0.0
    assert matcher.match("当志愿者有补贴吗").outcome != "answer"


def test_number_unknown_to_the_kb_is_neutral(matcher: Matcher) -> None:
    """A figure the knowledge base does not know (5000) is not a sign of another subject."""
    f = features(matcher, "5000多个邻长", "captain_count")
    assert f.unknown == 0.0


def test_chinese_numbers_become_digits() -> None:
    """三千多 meets 3000 in the answers; names such as 四位一体 stay as they are."""
    assert "3000" in prepare("联席会解决了三千多件事", "zh").tokens
    assert "四位一体" in prepare("四位一体是什么", "zh").tokens


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM users;",
        "'; DROP TABLE reports;--",
        "<img src=x onerror=alert(1)>",
        "<div>邻长是谁</div>",
        "www.baidu.com",
        "https://t.me/joinchat/abc123",
        'print("hi");',
    ],
)
def test_code_markup_and_links_are_recognised(text: str, matcher: Matcher) -> None:
    """Code, SQL, markup and links are not questions, and are never answered."""
    assert looks_like_code(text)
    assert matcher.match(text).outcome == "none"


@pytest.mark.parametrize(
    "text",
    ["how do I select a captain from my building", "前台+后台", "社区减负20%", "/report怎么用"],
)
def test_ordinary_questions_are_not_code(text: str) -> None:
    """Words such as select/from, '+', '%' and bot commands are ordinary in questions."""
    assert not looks_like_code(text)


def test_repeated_characters_are_not_a_question(matcher: Matcher) -> None:
    """哈哈哈哈 or one character repeated is never answered; a real question is not repetitive."""
    assert is_repetitive("哈哈哈哈") and is_repetitive("邻" * 200)
    assert not is_repetitive("邻长是做什么的")
    assert matcher.match("邻" * 50).outcome == "none"
