"""Formatted text and keyboards as Telegram checks them: parse modes, entities, reply markup.

Telegram strips the markup, reports entities in UTF-16 offsets and refuses malformed input
("can't parse entities"); an unescaped ``<`` from user data is a classic production bug,
so the fake refuses it the same way instead of storing the raw string.
"""

from __future__ import annotations

import html
import re
from typing import Any

from tests.e2e.fake_botapi_protocol import ApiError, bad_request, utf16_len

HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
MDV2_MARKERS = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}
MDV2_TYPES = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
    "[": "text_link",
}


def _cant_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


class _Builder:
    """Accumulates plain text and entities with UTF-16 offsets."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode())


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: supported tags only, the four named entities, numeric refs."""
    out, stack, i = _Builder(src), [], 0
    while i < len(src):
        ch = src[i]
        if ch == "<":
            end = src.find(">", i)
            if end < 0:
                raise _cant_parse(
                    f"Can't find end of the tag starting at byte offset {out.byte_offset(i)}"
                )
            inner = src[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _cant_parse(f"Unexpected end tag at byte offset {out.byte_offset(i)}")
                tag, start, extra = stack.pop()
                if name and name != tag:
                    raise _cant_parse(
                        f"Unmatched end tag at byte offset {out.byte_offset(i)}, "
                        f'expected "</{tag}>", found "</{name}>"'
                    )
                if not (tag == "code" and stack and stack[-1][0] == "pre"):
                    out.entity(HTML_TAGS[tag], start, **extra)
            else:
                match = re.match(r"([A-Za-z][\w-]*)(.*)", inner, re.S)
                tag = match[1].lower() if match else ""
                pairs = re.findall(
                    r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""", match[2] if match else ""
                )
                attrs = {key: double or single for key, double, single in pairs}
                if tag not in HTML_TAGS or (tag == "span" and attrs.get("class") != "tg-spoiler"):
                    raise _cant_parse(
                        f'Unsupported start tag "{tag}" at byte offset {out.byte_offset(i)}'
                    )
                extra = {"url": html.unescape(attrs.get("href", ""))} if tag == "a" else {}
                stack.append((tag, out.pos, extra))
            i = end + 1
        elif ch == "&":
            match = re.match(r"&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);", src[i:])
            name = match[1] if match else ""
            if name.startswith("#"):
                out.add(chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:])))
            elif name in NAMED_ENTITIES:
                out.add(NAMED_ENTITIES[name])
            else:
                out.add(match[0] if match else "&")
            i += len(match[0]) if match else 1
        else:
            out.add(ch)
            i += 1
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out.parts), sorted(out.entities, key=lambda e: e["offset"])


def _mdv2_code(src: str, i: int, out: _Builder) -> int:
    """Consume `code` or ```pre``` starting at ``i``; inside only ` and \\ are escaped."""
    fence = "```" if src.startswith("```", i) else "`"
    j, start, language = i + len(fence), out.pos, None
    if fence == "```":
        line_end = src.find("\n", j)
        head = src[j:line_end] if line_end >= 0 else ""
        if head and re.fullmatch(r"[\w+-]+", head):
            language, j = head, line_end + 1
    while j < len(src):
        if src[j] == "\\" and j + 1 < len(src):
            out.add(src[j + 1])
            j += 2
        elif src.startswith(fence, j):
            extra = {"language": language} if language else {}
            out.entity("pre" if fence == "```" else "code", start, **extra)
            return j + len(fence)
        else:
            out.add(src[j])
            j += 1
    kind = "Pre" if fence == "```" else "Code"
    raise _cant_parse(f"Can't find end of {kind} entity at byte offset {out.byte_offset(i)}")


def _unescaped(src: str, char: str, start: int) -> int:
    """Index of the first ``char`` at or after ``start`` not preceded by a backslash, or -1."""
    j = start
    while j < len(src):
        if src[j] == "\\":
            j += 2
        elif src[j] == char:
            return j
        else:
            j += 1
    return -1


def parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's MarkdownV2: every reserved character outside markup must be escaped."""
    out, stack, i = _Builder(src), [], 0
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src) and 0 < ord(src[i + 1]) < 127:
            out.add(src[i + 1])
            i += 2
        elif ch == "`":
            i = _mdv2_code(src, i, out)
        elif ch in "*_~|" and (ch != "|" or src.startswith("||", i)):
            marker = src[i : i + 2] if src.startswith(("__", "||"), i) else ch
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                out.entity(MDV2_TYPES[marker], start)
            else:
                stack.append((marker, out.pos, i))
            i += len(marker)
        elif ch == "[":
            stack.append(("[", out.pos, i))
            i += 1
        elif ch == "]" and stack and stack[-1][0] == "[" and src.startswith("(", i + 1):
            close = _unescaped(src, ")", i + 2)
            if close < 0:
                raise _cant_parse(f"Can't find end of a url at byte offset {out.byte_offset(i)}")
            _, start, _ = stack.pop()
            out.entity("text_link", start, url=src[i + 2 : close].replace("\\", ""))
            i = close + 1
        elif ch == ">" and (i == 0 or src[i - 1] == "\n"):
            i += 1  # a blockquote line marker; the entity itself is not modelled
        elif ch in MDV2_RESERVED:
            raise _cant_parse(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.add(ch)
            i += 1
    if stack:
        marker, _, index = stack[-1]
        where = out.byte_offset(index)
        raise _cant_parse(f"Can't find end of {MDV2_MARKERS[marker]} entity at byte offset {where}")
    return "".join(out.parts), sorted(out.entities, key=lambda e: e["offset"])


def parse_markdown(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, [text](url); no reserved characters."""
    out, i = _Builder(src), 0
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < len(src):
        ch = src[i]
        if ch in kinds or ch == "[":
            close_ch = "]" if ch == "[" else ch
            close = src.find(close_ch, i + 1)
            if close < 0:
                raise _cant_parse(
                    f"Can't find end of the entity starting at byte offset {out.byte_offset(i)}"
                )
            start = out.pos
            out.add(src[i + 1 : close])
            if ch == "[":
                url_end = src.find(")", close)
                if src.startswith("(", close + 1) and url_end > 0:
                    out.entity("text_link", start, url=src[close + 2 : url_end])
                    close = url_end
            else:
                out.entity(kinds[ch], start)
            i = close + 1
        else:
            out.add(ch)
            i += 1
    return "".join(out.parts), out.entities


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace and clips entities to what is left."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def format_text(raw: Any, parse_mode: str | None, entities: list[dict[str, Any]] | None):
    """Plain text and entities as Telegram would store them for ``raw``."""
    text = "" if raw is None else str(raw)
    if entities:
        return _strip(text, list(entities))
    mode = (parse_mode or "").lower()
    if mode == "html":
        text, found = parse_html(text)
    elif mode == "markdownv2":
        text, found = parse_markdown_v2(text)
    elif mode == "markdown":
        text, found = parse_markdown(text)
    elif mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    else:
        found = []
    return _strip(text, found)


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup the way Telegram does; returns it (or None when absent)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise bad_request("BUTTON_TEXT_EMPTY")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            if len(button) == 1:
                raise bad_request("text buttons are unallowed in the inline keyboard")
    return markup
