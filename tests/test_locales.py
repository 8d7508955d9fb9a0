"""Message catalogs: both languages complete, same placeholders, every used key exists."""

from __future__ import annotations

import re
from pathlib import Path

from locales import catalog, normalise_language, placeholders, translate

ROOT = Path(__file__).resolve().parents[1]


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    """zh and en define the same ids with the same {placeholders}."""
    zh, en = catalog("zh"), catalog("en")
    assert set(zh) == set(en)
    mismatched = [k for k in zh if placeholders(zh[k]) != placeholders(en[k])]
    assert mismatched == []


def test_every_key_used_in_code_exists() -> None:
    """Every literal message id passed to t(...)/text(...) in the code is in the catalog."""
    used: set[str] = set()
    for path in [
        *ROOT.glob("handlers/*.py"),
        *ROOT.glob("storage/*.py"),
        *ROOT.glob("scheduler/*.py"),
        ROOT / "bot.py",
    ]:
        source = path.read_text(encoding="utf-8")
        used |= set(
            re.findall(
                r"""(?:\bt|\.text|translate\([^,]+,)\(\s*["']([a-z_]+\.[a-z_.]*[a-z_])["']""",
                source,
            )
        )
        used |= set(re.findall(r"""context\.t\(\s*["']([a-z_]+\.[a-z_.]*[a-z_])["']""", source))
    assert used, "the scan found no keys; the pattern is broken"
    missing = sorted(k for k in used if k not in catalog("zh"))
    assert missing == []


def test_language_normalisation() -> None:
    """Telegram codes map onto zh/en, anything else to the default."""
    assert normalise_language("zh-hans") == "zh"
    assert normalise_language("en-GB") == "en"
    assert normalise_language("ru", "zh") == "zh"
    assert normalise_language(None, "en") == "en"


def test_translate_fills_params_and_nested_keys() -> None:
    """Parameters are filled; {"t": key} parameters are translated too; missing stay visible."""
    assert (
        translate("en", "start.already_member", group="A")
        == 'You are already a member of "A". Send /me to see or change your building and unit.'
    )
    assert "中文" in translate(
        "zh",
        "me.body",
        name="n",
        group="g",
        building="b",
        unit="u",
        language={"t": "lang.name.zh"},
        roles="r",
    )
    assert "{group}" in translate("en", "start.already_member")
