"""Message catalogs (zh_CN default, en) and the translator.

Catalogs are flat YAML files mapping a message id to a ``str.format`` template.  A test
checks both catalogs have the same ids and the same placeholders, so a missing translation
is a failing test, not a surprise in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any

import yaml

LANGUAGES: dict[str, str] = {"zh": "zh_CN", "en": "en"}
_DIR = Path(__file__).parent


@cache
def catalog(lang: str) -> Mapping[str, str]:
    """The message catalog of ``lang`` ('zh' or 'en')."""
    path = _DIR / f"{LANGUAGES[lang]}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of message ids to texts")
    return {str(k): str(v) for k, v in data.items()}


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template uses."""
    return {field for _, field, _, _ in Formatter().parse(template) if field}


def normalise_language(code: str | None, default: str = "zh") -> str:
    """Map a Telegram ``language_code`` (zh-hans, en-GB, …) onto a supported language."""
    if not code:
        return default
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else default


def translate(lang: str, key: str, /, **params: Any) -> str:
    """Render message ``key`` in ``lang``; a missing id falls back to zh, then to the id."""
    template = catalog(lang).get(key) or catalog("zh").get(key)
    if template is None:
        return key
    return template.format_map(_Params(params, lang)) if params else template


class _Params(dict[str, Any]):
    """Format parameters: ``{"t": id}`` values are translated, ``{"zh": …, "en": …}`` values
    pick the language, missing names stay visible."""

    def __init__(self, params: Mapping[str, Any], lang: str) -> None:
        super().__init__(params)
        self._lang = lang

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, dict) and "t" in value:
            return translate(self._lang, value["t"], **value.get("p", {}))
        if isinstance(value, dict) and "zh" in value:  # a name given in both languages
            return value.get(self._lang) or value["zh"]
        return value

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Translator:
    """A translator bound to one language: ``t("start.welcome", name=...)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "zh"

    def __call__(self, key: str, /, **params: Any) -> str:
        return translate(self.lang, key, **params)
