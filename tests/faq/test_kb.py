"""Loading and checking the knowledge base (faq.kb, faq.check)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from faq import KBError, check_kb, load_kb, topic_label
from faq.kb import read_out_of_scope

KB_DIR = Path(__file__).resolve().parents[2] / "faq" / "kb"


def entry_data(entry_id: str, zh: list[str], **over: object) -> dict:
    """A complete entry mapping as written in the YAML files."""
    data = {
        "id": entry_id,
        "topic": "wulin",
        "question": {"zh": zh[0], "en": f"question {entry_id}"},
        "phrasings": {"zh": zh[1:], "en": [f"about {entry_id}"]},
        "answer": {"zh": f"答案{entry_id}", "en": f"answer {entry_id}"},
        "tags": [],
        "source": "test",
    }
    data.update(over)
    return data


def write_kb(
    root: Path, city: list[dict], communities: dict[str, list[dict]] | None = None
) -> Path:
    """Write a knowledge-base directory with city.yaml and communities/<code>.yaml."""
    (root / "communities").mkdir(parents=True, exist_ok=True)
    doc = {"version": 1, "scope": "city", "entries": city}
    (root / "city.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    for code, entries in (communities or {}).items():
        doc = {"version": 1, "scope": "community", "community": code, "entries": entries}
        text = yaml.safe_dump(doc, allow_unicode=True)
        (root / "communities" / f"{code}.yaml").write_text(text, encoding="utf-8")
    return root


CAPTAIN = ["邻长是做什么的", "邻长干啥的", "邻长职责", "邻长平时负责什么", "我们楼的邻长管哪些事"]
GRID = [
    "网格员是做什么的",
    "网格员干啥的",
    "网格员管什么",
    "网格员负责哪些事",
    "网格员和邻长的关系",
]


def test_real_kb_loads() -> None:
    """The shipped knowledge base loads, with city-wide and community entries."""
    kb = load_kb(KB_DIR)
    assert len(kb.entries) > 50
    assert kb.by_id["captain_what"].community is None
    assert kb.by_id["xinxing_address"].community == "xinxing"
    assert kb.communities == ("xinxing",)


def test_real_kb_has_no_problems() -> None:
    """faq check reports nothing on the shipped knowledge base."""
    assert [str(p) for p in check_kb(KB_DIR)] == []


def test_topics_in_browsing_order_with_labels() -> None:
    """Topics come in the fixed browsing order and have zh/en labels."""
    kb = load_kb(KB_DIR)
    assert kb.topics[:2] == ("wulin", "service")
    assert kb.topics[-1] == "local"
    assert topic_label("wulin", "zh") == "吾邻与邻长"
    assert topic_label("local", "en") == "Our community"


def test_for_community_isolates_local_entries(tmp_path: Path) -> None:
    """for_community(A) has the city entries and A's, never B's."""
    kb = load_kb(
        write_kb(
            tmp_path,
            [entry_data("captain_what", CAPTAIN)],
            {"a": [entry_data("a_hours", GRID)], "b": [entry_data("b_hours", GRID)]},
        )
    )
    assert [e.id for e in kb.for_community("a")] == ["captain_what", "a_hours"]
    assert [e.id for e in kb.for_community(None)] == ["captain_what"]


def test_entries_are_frozen() -> None:
    """Entries cannot be modified after loading."""
    entry = load_kb(KB_DIR).by_id["captain_what"]
    with pytest.raises(AttributeError):
        entry.id = "other"  # type: ignore[misc]


def test_missing_field_names_file_and_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing answer.en is refused with the file and the entry id in the message."""
    monkeypatch.chdir(tmp_path)
    broken = entry_data("captain_what", CAPTAIN, answer={"zh": "答案"})
    write_kb(tmp_path / "kb", [broken])
    with pytest.raises(KBError) as err:
        load_kb(Path("kb"))
    assert str(err.value) == "kb/city.yaml, entry 'captain_what': missing answer.en"
    assert (err.value.file, err.value.entry_id) == ("kb/city.yaml", "captain_what")


def test_duplicate_id_across_files_is_refused(tmp_path: Path) -> None:
    """The same id in city.yaml and a community file makes the KB unusable."""
    write_kb(tmp_path, [entry_data("a_hours", CAPTAIN)], {"a": [entry_data("a_hours", GRID)]})
    with pytest.raises(KBError, match=r"a\.yaml, entry 'a_hours': duplicate id"):
        load_kb(tmp_path)


def test_bad_scope_is_refused(tmp_path: Path) -> None:
    """A community file without its community code is refused, naming the file."""
    write_kb(tmp_path, [entry_data("captain_what", CAPTAIN)])
    doc = {"scope": "community", "entries": [entry_data("x_1", GRID)]}
    (tmp_path / "communities" / "x.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(KBError, match=r"x\.yaml: scope must be"):
        load_kb(tmp_path)


def test_check_finds_planted_duplicate_id(tmp_path: Path) -> None:
    """check_kb reports a duplicate id, naming the second file and the first."""
    write_kb(
        tmp_path, [entry_data("captain_what", CAPTAIN)], {"a": [entry_data("captain_what", GRID)]}
    )
    problems = [str(p) for p in check_kb(tmp_path)]
    assert any(
        "a.yaml, entry 'captain_what': duplicate id" in p and "city.yaml" in p for p in problems
    )


def test_check_finds_planted_identical_phrasing(tmp_path: Path) -> None:
    """The same phrasing (after normalisation) in two entries is reported."""
    grid = entry_data("grid_worker_role", [*GRID, "鄰長職責"])  # 邻长职责 in traditional
    write_kb(tmp_path, [entry_data("captain_what", CAPTAIN), grid])
    problems = [str(p) for p in check_kb(tmp_path)]
    assert any(
        "'grid_worker_role'" in p and "identical" in p and "captain_what" in p for p in problems
    )


def test_check_finds_phrasing_the_matcher_gives_to_another_entry(tmp_path: Path) -> None:
    """A phrasing with the same words as another entry's (after synonym folding) is reported."""
    grid = entry_data("grid_worker_role", [*GRID, "邻长是干什么的"])
    write_kb(tmp_path, [entry_data("captain_what", CAPTAIN), grid])
    problems = [str(p) for p in check_kb(tmp_path)]
    assert any(
        "'grid_worker_role'" in p and "邻长是干什么的" in p and "captain_what" in p
        for p in problems
    )


def test_check_reports_few_phrasings_and_bad_prefix(tmp_path: Path) -> None:
    """Fewer than 4 zh phrasings, and a local id without its community prefix."""
    write_kb(
        tmp_path, [entry_data("captain_what", CAPTAIN[:3])], {"a": [entry_data("hours", GRID)]}
    )
    problems = [str(p) for p in check_kb(tmp_path)]
    assert any("'captain_what': only 2 zh phrasings" in p for p in problems)
    assert any("'hours': id must start with 'a_'" in p for p in problems)


def test_check_does_not_compare_different_communities(tmp_path: Path) -> None:
    """Two communities may phrase their own local entries identically."""
    write_kb(
        tmp_path,
        [entry_data("captain_what", CAPTAIN)],
        {"a": [entry_data("a_hours", GRID)], "b": [entry_data("b_hours", GRID)]},
    )
    assert [str(p) for p in check_kb(tmp_path)] == []


def test_copy_of_real_kb_with_missing_field(tmp_path: Path) -> None:
    """Deleting answer.en from a real entry is caught by load_kb."""
    shutil.copytree(KB_DIR, tmp_path / "kb")
    city = tmp_path / "kb" / "city.yaml"
    data = yaml.safe_load(city.read_text(encoding="utf-8"))
    del data["entries"][0]["answer"]["en"]
    city.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KBError, match=rf"entry '{data['entries'][0]['id']}': missing answer\.en"):
        load_kb(tmp_path / "kb")


def write_learned(root: Path, name: str, doc: dict) -> None:
    """Write ``learned/<name>`` of a knowledge-base directory."""
    (root / "learned").mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(doc, allow_unicode=True)
    (root / "learned" / name).write_text(text, encoding="utf-8")


def test_learned_phrasings_and_out_of_scope_examples_load(tmp_path: Path) -> None:
    """Learned phrasings join their entry (marked as learned); examples join the KB."""
    write_kb(tmp_path, [entry_data("captain_what", CAPTAIN), entry_data("grid_worker_role", GRID)])
    write_learned(tmp_path, "labelled.yaml", {"phrasings": {"captain_what": {"zh": ["邻长管啥"]}}})
    write_learned(tmp_path, "out_of_scope.yaml", {"out_of_scope": {"zh": ["明天下雨吗"]}})
    kb = load_kb(tmp_path)
    captain = kb.by_id["captain_what"]
    assert captain.phrasings["zh"][-1] == "邻长管啥"
    assert captain.learned["zh"] == ("邻长管啥",)
    assert kb.by_id["grid_worker_role"].learned == {}
    assert kb.out_of_scope == {"zh": ("明天下雨吗",)}
    assert [str(p) for p in check_kb(tmp_path)] == []


def test_learned_phrasings_for_an_unknown_entry_are_refused(tmp_path: Path) -> None:
    """A learned phrasing must name an existing entry."""
    write_kb(tmp_path, [entry_data("captain_what", CAPTAIN)])
    write_learned(tmp_path, "labelled.yaml", {"phrasings": {"nobody": {"zh": ["谁"]}}})
    with pytest.raises(KBError, match="'nobody': phrasings for an unknown entry"):
        load_kb(tmp_path)


def test_check_finds_out_of_scope_example_that_is_a_phrasing(tmp_path: Path) -> None:
    """An out-of-scope example as close as an entry's own phrasing would decline it: reported."""
    write_kb(tmp_path, [entry_data("captain_what", CAPTAIN), entry_data("grid_worker_role", GRID)])
    write_learned(tmp_path, "out_of_scope.yaml", {"out_of_scope": {"zh": ["网格员管什么"]}})
    problems = [str(p) for p in check_kb(tmp_path)]
    assert any(
        "'grid_worker_role'" in p and "declined" in p and "'网格员管什么'" in p for p in problems
    )


def test_curated_out_of_scope_examples_load_before_learned_ones(tmp_path: Path) -> None:
    """``out_of_scope.yaml`` next to city.yaml holds curated examples; learned ones follow."""
    write_kb(tmp_path, [entry_data("captain_what", CAPTAIN), entry_data("grid_worker_role", GRID)])
    text = yaml.safe_dump({"version": 1, "out_of_scope": {"en": ["how do i join the party"]}})
    (tmp_path / "out_of_scope.yaml").write_text(text, encoding="utf-8")
    write_learned(tmp_path, "out_of_scope.yaml", {"out_of_scope": {"en": ["will it rain"]}})
    kb = load_kb(tmp_path)
    assert kb.out_of_scope == {"en": ("how do i join the party", "will it rain")}
    assert read_out_of_scope(tmp_path, learned=False)[0] == {"en": ("how do i join the party",)}
    assert [str(p) for p in check_kb(tmp_path)] == []
