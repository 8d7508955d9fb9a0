"""Text similarity of short problem descriptions (duplicate reports) and a keyword guess of
a report's category.  Pure: reuses the FAQ normaliser and segmenter."""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz

from faq.normalise import normalise
from faq.segment import tokenizer

#: Keywords per default category, strongest signal first; custom categories have none.
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "safety": (
        "危险",
        "隐患",
        "着火",
        "起火",
        "火灾",
        "冒烟",
        "电线",
        "飞线",
        "私拉",
        "煤气",
        "燃气",
        "漏气",
        "消防",
        "通道堵",
        "坠落",
        "掉落",
        "高空",
        "裂缝",
        "充电",
        "电瓶车",
        "电动车",
        "hazard",
        "danger",
        "dangerous",
        "fire",
        "smoke",
        "gas",
        "unsafe",
        "wire",
    ),
    "repairs": (
        "坏",
        "不亮",
        "灯",
        "漏水",
        "渗水",
        "水管",
        "爆管",
        "维修",
        "修理",
        "电梯",
        "门禁",
        "下水道",
        "堵",
        "破损",
        "损坏",
        "松动",
        "路灯",
        "停水",
        "停电",
        "窗",
        "门",
        "broken",
        "leak",
        "leaking",
        "repair",
        "light",
        "lamp",
        "elevator",
        "lift",
        "door",
    ),
    "sanitation": (
        "垃圾",
        "卫生",
        "脏",
        "臭",
        "清扫",
        "清理",
        "堆放",
        "污水",
        "老鼠",
        "蟑螂",
        "粪便",
        "狗屎",
        "杂物",
        "垃圾桶",
        "litter",
        "trash",
        "garbage",
        "rubbish",
        "dirty",
        "smell",
    ),
    "dispute": (
        "吵",
        "噪音",
        "扰民",
        "纠纷",
        "吵架",
        "矛盾",
        "占用",
        "占道",
        "装修",
        "霸占",
        "狗叫",
        "noise",
        "noisy",
        "neighbour",
        "neighbor",
        "dispute",
        "quarrel",
    ),
    "property": (
        "物业",
        "物业费",
        "保安",
        "停车",
        "车位",
        "门卫",
        "绿化",
        "收费",
        "管家",
        "property",
        "management",
        "parking",
        "security",
        "fee",
    ),
}


_NUMERALS = str.maketrans("一二三四五六七八九", "123456789")
#: Ways of saying "broken" and other fillers folded before comparing two descriptions.
_FOLD = (
    ("坏掉", "坏"),
    ("坏了", "坏"),
    ("不亮", "坏"),
    ("损坏", "坏"),
    ("不能用", "坏"),
    ("的", ""),
)


def _prepare(text: str) -> str:
    folded = normalise(text, 300).translate(_NUMERALS)
    for old, new in _FOLD:
        folded = folded.replace(old, new)
    return folded


def similarity(a: str, b: str) -> float:
    """0–100: how likely two descriptions name the same problem.

    The better of the word-set overlap (jieba tokens, order-free) and the best partial
    character match, after folding numerals (三栋 = 3栋) and ways of saying "broken".
    """
    pa, ta = _words(a)
    pb, tb = _words(b)
    if not pa or not pb:
        return 0.0
    return float(max(fuzz.token_set_ratio(ta, tb), fuzz.partial_ratio(pa, pb)))


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, str]:
    """A description folded, and its jieba words joined by spaces (cached: a new report is
    compared with up to 50 open ones of its group, which are compared again and again)."""
    prepared = _prepare(text)
    return prepared, " ".join(tokenizer().lcut(prepared)) if prepared else ""


def guess_category(text: str, categories: tuple[str, ...], fallback: str = "other") -> str:
    """The category whose keywords the text mentions most; ``fallback`` when none does."""
    lowered = normalise(text, 500)
    best, best_hits = None, 0
    for code in categories:
        hits = sum(1 for word in CATEGORY_KEYWORDS.get(code, ()) if word in lowered)
        if hits > best_hits:
            best, best_hits = code, hits
    if best is not None:
        return best
    return fallback if fallback in categories else categories[-1]
