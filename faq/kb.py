"""The FAQ knowledge base: entries, topics, and loading from YAML files.

Layout of a knowledge-base directory::

    city.yaml                 scope: city        (entries for every resident)
    communities/<code>.yaml   scope: community   community: <code>

Each file has ``entries``, a list of mappings with ``id``, ``topic``,
``question`` {zh, en}, ``phrasings`` {zh: [...], en: [...]}, ``answer`` {zh, en},
``tags`` and ``source``. :func:`load_kb` refuses a knowledge base that cannot be
served (missing fields, duplicate ids); the softer checks live in ``faq.check``.

``learned/*.yaml`` hold what was learned from residents' (labelled) questions:
``phrasings`` (entry id → {zh, en} lists), merged into those entries and marked as
learned, and ``out_of_scope`` ({zh, en} lists of questions no entry answers).
``out_of_scope.yaml`` (optional) holds curated ``out_of_scope`` examples in the same
form: questions near the domain that the knowledge base deliberately does not answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

LANGS = ("zh", "en")
# Out-of-scope examples written by hand, from what the article does not cover.
CURATED_OUT_OF_SCOPE = "out_of_scope.yaml"
# libyaml's safe loader when available: several times faster on big files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Browsing order of topics in the /faq menu, with their labels.
TOPIC_LABELS: dict[str, dict[str, str]] = {
    "wulin": {"zh": "吾邻与邻长", "en": "Neighbour captains"},
    "service": {"zh": "党群服务中心", "en": "Service centres"},
    "community": {"zh": "社区治理", "en": "Community governance"},
    "street": {"zh": "街道与部门", "en": "Streets and departments"},
    "members": {"zh": "党员与队伍", "en": "Party members and teams"},
    "workers": {"zh": "社区工作者", "en": "Community workers"},
    "figures": {"zh": "全市数据", "en": "City figures"},
    "bot": {"zh": "使用帮助", "en": "Using the bot"},
    "local": {"zh": "本社区", "en": "Our community"},
}


def topic_label(code: str, lang: str = "zh") -> str:
    """Human label of a topic code in ``lang`` (the code itself if unknown)."""
    return TOPIC_LABELS.get(code, {}).get(lang, code)


@dataclass(frozen=True)
class Entry:
    """One question with its answer in both languages."""

    id: str
    topic: str
    question: dict[str, str]
    phrasings: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    tags: tuple[str, ...]
    source: str
    community: str | None  # None = city-wide
    file: str
    # Those of ``phrasings`` that were learned from residents' questions
    # (``learned/*.yaml``) rather than written with the entry, by language.
    learned: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class KBProblem:
    """Something wrong in a knowledge-base file, located by file and entry."""

    file: str
    entry_id: str | None
    message: str
    fatal: bool = False  # True = the knowledge base cannot be served

    def __str__(self) -> str:
        """``<file>, entry '<id>': <message>``."""
        where = f"{self.file}, entry '{self.entry_id}'" if self.entry_id else self.file
        return f"{where}: {self.message}"


class KBError(Exception):
    """The knowledge base cannot be loaded; names the file and the entry."""

    def __init__(self, file: str, entry_id: str | None, message: str) -> None:
        """Keep the location apart, for callers that want to show it differently."""
        self.file, self.entry_id, self.message = file, entry_id, message
        super().__init__(str(KBProblem(file, entry_id, message)))


@dataclass(frozen=True)
class KnowledgeBase:
    """All entries, city-wide and per community, in file order."""

    entries: tuple[Entry, ...]
    by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)
    # Questions known to be out of scope of the city-wide entries, by language
    # (``out_of_scope.yaml`` and ``learned/*.yaml``): they raise the bar for answering
    # with a city-wide entry a question that resembles them (``faq.matcher``).
    out_of_scope: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Index the entries by id."""
        object.__setattr__(self, "by_id", {e.id: e for e in self.entries})

    @property
    def topics(self) -> tuple[str, ...]:
        """Topic codes present, in browsing order (unknown codes last)."""
        present = {e.topic for e in self.entries}
        known = [t for t in TOPIC_LABELS if t in present]
        return tuple(known + sorted(present - set(known)))

    @property
    def communities(self) -> tuple[str, ...]:
        """Codes of the communities that have local entries."""
        return tuple(sorted({e.community for e in self.entries if e.community}))

    def for_community(self, code: str | None) -> tuple[Entry, ...]:
        """City-wide entries plus the local entries of community ``code``."""
        return tuple(e for e in self.entries if e.community is None or e.community == code)


def display_path(path: Path) -> str:
    """Path as shown in messages: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def kb_files(directory: Path) -> Iterator[Path]:
    """The YAML files of a knowledge base: city.yaml, then communities/*.yaml sorted."""
    yield directory / "city.yaml"
    yield from sorted((directory / "communities").glob("*.y*ml"))


def _text(node: Any, key: str, lang: str) -> str | None:
    """``node[key][lang]`` as a stripped non-empty string, else None."""
    value = node.get(key) if isinstance(node, dict) else None
    value = value.get(lang) if isinstance(value, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _entry(raw: Any, file: str, community: str | None) -> tuple[Entry | None, list[KBProblem]]:
    """Build one Entry from its YAML mapping, or report why it cannot be built."""
    if not isinstance(raw, dict):
        return None, [KBProblem(file, None, "entry is not a mapping", fatal=True)]
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not entry_id.strip():
        return None, [KBProblem(file, None, "entry without an id", fatal=True)]
    missing: list[str] = []
    if not isinstance(raw.get("topic"), str) or not raw["topic"].strip():
        missing.append("topic")
    for key in ("question", "answer"):
        missing += [f"{key}.{lang}" for lang in LANGS if _text(raw, key, lang) is None]
    raw_phr = raw.get("phrasings") if isinstance(raw.get("phrasings"), dict) else {}
    phrasings: dict[str, tuple[str, ...]] = {}
    for lang in LANGS:
        items = raw_phr.get(lang) or []
        if not isinstance(items, list):
            items = []
        phrasings[lang] = tuple(str(p).strip() for p in items if str(p).strip())
    if not phrasings["zh"]:
        missing.append("phrasings.zh")
    if not isinstance(raw.get("source"), str) or not raw["source"].strip():
        missing.append("source")
    if missing:
        msg = f"missing {', '.join(missing)}"
        return None, [KBProblem(file, entry_id, msg, fatal=True)]
    tags = raw.get("tags") or []
    entry = Entry(
        id=entry_id.strip(),
        topic=raw["topic"].strip(),
        question={lang: _text(raw, "question", lang) or "" for lang in LANGS},
        phrasings=phrasings,
        answer={lang: _text(raw, "answer", lang) or "" for lang in LANGS},
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        source=raw["source"].strip(),
        community=community,
        file=file,
    )
    return entry, []


def _read_file(path: Path) -> tuple[list[Entry], list[KBProblem]]:
    """Entries of one YAML file plus every problem found while reading it."""
    file = display_path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader
    except UnicodeDecodeError as exc:
        msg = f"cannot read: not UTF-8 (save the file as UTF-8): {exc.reason} at byte {exc.start}"
        return [], [KBProblem(file, None, msg, fatal=True)]
    except (OSError, yaml.YAMLError) as exc:
        return [], [KBProblem(file, None, f"cannot read: {exc}", fatal=True)]
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        return [], [KBProblem(file, None, "no 'entries' list", fatal=True)]
    scope, community = data.get("scope"), data.get("community")
    if scope == "city":
        community = None
    elif scope != "community" or not isinstance(community, str) or not community:
        msg = "scope must be 'city', or 'community' with a 'community' code"
        return [], [KBProblem(file, None, msg, fatal=True)]
    entries: list[Entry] = []
    problems: list[KBProblem] = []
    for raw in data["entries"]:
        entry, found = _entry(raw, file, community)
        problems += found
        if entry is not None:
            entries.append(entry)
    return entries, problems


def read_kb(directory: Path, *, learned: bool = True) -> tuple[list[Entry], list[KBProblem]]:
    """All entries of a knowledge-base directory and the problems that block serving it.

    With ``learned=False`` the phrasings of ``learned/*.yaml`` are left out (the
    curated entries only, as cross-validation needs them).
    """
    entries: list[Entry] = []
    problems: list[KBProblem] = []
    seen: dict[str, Entry] = {}
    for path in kb_files(Path(directory)):
        found, file_problems = _read_file(path)
        problems += file_problems
        for entry in found:
            if entry.id in seen:
                first = seen[entry.id].file
                msg = f"duplicate id (first defined in {first})"
                problems.append(KBProblem(entry.file, entry.id, msg, fatal=True))
                continue
            seen[entry.id] = entry
            entries.append(entry)
    if not learned:
        return entries, problems
    table, learned_problems = read_learned(Path(directory), {e.id for e in entries})
    problems += learned_problems
    return with_learned(entries, table), problems


def read_learned(
    directory: Path, ids: set[str]
) -> tuple[dict[str, dict[str, list[str]]], list[KBProblem]]:
    """Extra phrasings by entry id from ``learned/*.yaml`` (real questions residents asked)."""
    merged: dict[str, dict[str, list[str]]] = {}
    problems: list[KBProblem] = []
    for path in sorted((directory / "learned").glob("*.y*ml")):
        file = display_path(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader
        except (OSError, yaml.YAMLError) as exc:
            problems.append(KBProblem(file, None, f"cannot read: {exc}", fatal=True))
            continue
        if isinstance(data, dict) and "phrasings" not in data and "out_of_scope" in data:
            continue  # only out-of-scope examples (read_out_of_scope)
        table = data.get("phrasings") if isinstance(data, dict) else None
        if not isinstance(table, dict):
            problems.append(KBProblem(file, None, "no 'phrasings' mapping", fatal=True))
            continue
        for entry_id, by_lang in table.items():
            if entry_id not in ids:
                msg = "phrasings for an unknown entry"
                problems.append(KBProblem(file, str(entry_id), msg, fatal=True))
                continue
            for lang in LANGS:
                items = by_lang.get(lang) if isinstance(by_lang, dict) else None
                for item in items if isinstance(items, list) else []:
                    if str(item).strip():
                        by_entry = merged.setdefault(entry_id, {})
                        by_entry.setdefault(lang, []).append(str(item).strip())
    return merged, problems


def read_out_of_scope(
    directory: Path, *, learned: bool = True
) -> tuple[dict[str, tuple[str, ...]], list[KBProblem]]:
    """Out-of-scope example questions by language: the curated ones (``out_of_scope.yaml``),
    then, unless ``learned=False``, those learned from labelled questions (``learned/*.yaml``).
    """
    found: dict[str, list[str]] = {}
    problems: list[KBProblem] = []
    paths = [p for p in (Path(directory) / CURATED_OUT_OF_SCOPE,) if p.exists()]
    if learned:
        paths += sorted((Path(directory) / "learned").glob("*.y*ml"))
    for path in paths:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader
        except (OSError, yaml.YAMLError):
            continue  # reported by read_learned
        table = data.get("out_of_scope") if isinstance(data, dict) else None
        if table is None:
            continue
        if not isinstance(table, dict):
            msg = "'out_of_scope' must map languages to lists of questions"
            problems.append(KBProblem(display_path(path), None, msg, fatal=True))
            continue
        for lang in LANGS:
            items = table.get(lang)
            for item in items if isinstance(items, list) else []:
                if str(item).strip():
                    found.setdefault(lang, []).append(str(item).strip())
    return {lang: tuple(dict.fromkeys(items)) for lang, items in found.items()}, problems


def with_learned(entries: list[Entry], table: dict[str, dict[str, list[str]]]) -> list[Entry]:
    """``entries`` with the learned phrasings of ``table`` (entry id → language → texts)."""
    return [_with_learned(e, table.get(e.id)) for e in entries]


def _with_learned(entry: Entry, extra: dict[str, list[str]] | None) -> Entry:
    """One entry with its learned phrasings appended (texts it already has are skipped)."""
    if not extra:
        return entry
    phrasings, learned = {}, {}
    for lang in LANGS:
        have = list(entry.phrasings.get(lang, ()))
        new = list(dict.fromkeys(p for p in extra.get(lang, []) if p not in have))
        phrasings[lang] = tuple(have + new)
        learned[lang] = tuple(new)
    return replace(entry, phrasings=phrasings, learned=learned)


def load_kb(directory: Path) -> KnowledgeBase:
    """Load a knowledge base, raising KBError on the first problem that blocks serving it."""
    entries, problems = read_kb(Path(directory))
    out_of_scope, more = read_out_of_scope(Path(directory))
    for problem in problems + more:
        if problem.fatal:
            raise KBError(problem.file, problem.entry_id, problem.message)
    return KnowledgeBase(tuple(entries), out_of_scope)
