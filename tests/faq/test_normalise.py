"""Normalisation, language guess and segmentation of questions (faq.normalise, faq.segment)."""

from __future__ import annotations

import jieba
import pytest

from faq.normalise import MAX_CHARS, guess_lang, normalise
from faq.segment import en_tokens, fold_typos, specificity, tokenizer, zh_tokens
from faq.text import prepare


def words(text: str) -> set[str]:
    """Whole-word tokens of a Chinese question, as the matcher sees them."""
    return {t for t, f in prepare(text, "zh").tokens.items() if f == 1.0}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("鄰長是幹什麼的", "邻长是干什么"),  # traditional → simplified, particle dropped
        ("ＡＢＣ１２３？", "abc123"),  # full width → half width, lower case
        ("请问邻长是谁？", "邻长是谁"),  # polite opening removed
        ("我想问一下，网格员管什么呀", "网格员管什么"),
        ("麻烦问下 物业电话多少呢", "物业电话多少"),
        ("你好", ""),  # a greeting alone is nothing to match
        ("邻长👍😂是谁", "邻长 是谁"),  # emoji become separators
        ("邻长\x00\x1b是谁\u200b", "邻长 是谁"),  # control and format characters too
        ("  many   spaces\t\nhere ", "many spaces here"),
        ("Can you tell me what the bot does, please?", "what the bot does"),
        ("前台+后台", "前台+后台"),  # "+" carries meaning here
        ("社区减负20%", "社区减负20%"),
    ],
)
def test_normalise_cases(raw: str, expected: str) -> None:
    """normalise() folds width, script, case, punctuation, emoji and fillers."""
    assert normalise(raw) == expected


def test_particles_inside_words_survive() -> None:
    """Sentence-final particles go, but 了 in 了解 and 干嘛 stay."""
    assert normalise("我想了解一下邻长") == "我想了解一下邻长"
    assert normalise("邻长是干嘛的") == "邻长是干嘛"


def test_normalise_caps_length() -> None:
    """Only the first MAX_CHARS characters are normalised."""
    assert len(normalise("邻" * 4096)) == MAX_CHARS


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("邻长是谁", "zh"),
        ("界面能改成English吗", "zh"),
        ("who is my captain", "en"),
        ("Ça va", "en"),
        ("123 456", None),
        ("😂👍", None),
        ("", None),
    ],
)
def test_guess_lang(text: str, lang: str | None) -> None:
    """Any CJK ideograph means zh; otherwise Latin letters mean en; otherwise unknown."""
    assert guess_lang(text) == lang


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("我们楼的邻长是谁", "邻长"),
        ("网格员管什么", "网格员"),
        ("党群服务中心在哪", "党群服务中心"),
        ("社区两委怎么配", "两委"),
        ("邻里小组怎么分", "邻里小组"),
        ("邻长小队队长", "邻长小队"),
        ("四办两中心是什么", "四办两中心"),
        ("社区吹哨党员报到", "吹哨"),
        ("最多跑一趟吗", "最多跑一趟"),
    ],
)
def test_domain_terms_stay_whole(text: str, term: str) -> None:
    """The private tokenizer keeps domain terms as single words."""
    assert term in tokenizer().lcut(text, HMM=False)


def test_private_tokenizer_leaves_global_jieba_alone() -> None:
    """Our domain words are not added to jieba's global dictionary."""
    tokenizer()
    assert jieba.dt is not tokenizer()
    assert "四办两中心" not in jieba.dt.FREQ or jieba.dt.FREQ["四办两中心"] != 2_000_000


@pytest.mark.parametrize(
    ("typo", "right"),
    [
        ("领长是谁", "邻长是谁"),
        ("邻张是谁", "邻长是谁"),
        ("网格园管啥", "网格员管啥"),
        ("党郡服务中心", "党群服务中心"),
        ("志原者报名", "志愿者报名"),
    ],
)
def test_homophone_typos_are_folded(typo: str, right: str) -> None:
    """Common homophone errors are corrected before segmentation."""
    assert fold_typos(typo) == right


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("楼道路灯坏了", "楼道街灯坏了"),
        ("楼上漏水", "楼上渗水"),
        ("义工报名", "志愿者报名"),
        ("网格长管啥", "网格员管什么"),
        ("咋报名", "怎么报名"),
        ("有几个邻长", "有多少个邻长"),
        ("物业公司电话", "物业电话"),
        ("居委会电话", "社区电话"),
    ],
)
def test_synonyms_meet_on_the_same_tokens(a: str, b: str) -> None:
    """Synonymous wordings produce the same whole-word tokens."""
    assert words(a) == words(b)


def test_parts_of_long_terms_are_kept_at_a_lower_factor() -> None:
    """党群服务中心 also yields its parts, each counting less than a whole word."""
    tokens = dict(zh_tokens("党群服务中心"))
    assert tokens["党群服务中心"] == 1.0
    assert 0 < tokens["党群"] < 1.0


def test_specificity_orders_common_and_rare_words() -> None:
    """General words (去) weigh less than specific ones (社区, 补贴) and domain terms."""
    assert specificity("去") < specificity("社区") < specificity("补贴") <= specificity("邻长")


def test_english_tokens() -> None:
    """English: lower case, stop words dropped, plurals folded, US spelling folded."""
    assert dict(en_tokens("what are the neighbor groups")) == {
        "what": 1.0,
        "neighbour": 1.0,
        "group": 1.0,
    }
    assert dict(en_tokens("captains")) == dict(en_tokens("captain"))


def test_bot_commands_become_tokens() -> None:
    """ "/report" is one token, not the English word report."""
    assert "/report" in prepare("/report怎么用", "zh").tokens
    assert "/mycaptain" in prepare("what is /mycaptain", "en").tokens


def test_every_synonym_fires() -> None:
    """Each synonym key yields the same whole words as its canonical form (jieba keeps it)."""
    from faq.lexicon import ZH_SYNONYMS

    def whole(text: str) -> set[str]:
        """Whole-word tokens of normalised text."""
        return {t for t, f in zh_tokens(text) if f == 1.0}

    assert [k for k, v in ZH_SYNONYMS.items() if whole(k) != whole(v)] == []
