"""The organisation file: YAML (or the same content as CSV) → validated ``OrgFile``.

Pure parsing and validation, no database.  Every error names the file, the line (YAML) or
row (CSV) and the field, so an admin can fix a 6,000-group spreadsheet without guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_BUILDING_SPLIT = re.compile(r"[;；、,，|]")


class OrgFileError(Exception):
    """A bad organisation file: where (file, line/row, field) and what is wrong."""

    def __init__(self, file: str, where: str | None, field: str | None, message: str) -> None:
        self.file, self.where, self.field, self.message = file, where, field, message
        parts = [file] + [p for p in (where, f"field {field!r}" if field else None) if p]
        super().__init__(", ".join(parts) + ": " + message)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonSpec(_Strict):
    """A named person of the organisation (captain, grid leader, admin)."""

    name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        text = str(value).strip()
        digits = re.sub(r"\D", "", text)
        if not re.fullmatch(r"\+?[\d\s()-]+", text) or not 7 <= len(digits) <= 15:
            raise ValueError("a phone number has 7 to 15 digits, e.g. 13800001234 or 0554-1234567")
        return text


class GroupSpec(_Strict):
    """A neighbour group with its buildings and captain."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=128)
    buildings: list[str] = Field(min_length=1, max_length=30)
    captain: PersonSpec | None = None
    backup_captain: PersonSpec | None = None

    @field_validator("buildings", mode="before")
    @classmethod
    def _buildings(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in _BUILDING_SPLIT.split(value)]
        if isinstance(value, list):
            value = [str(v).strip() for v in value if str(v).strip()]
            if len(set(value)) != len(value):
                raise ValueError("a building is listed twice")
            if any(len(v) > 64 for v in value):
                raise ValueError("a building name is longer than 64 characters")
        return value


class GridSpec(_Strict):
    """A grid with its leader and neighbour groups."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=128)
    leader: PersonSpec | None = None
    groups: list[GroupSpec] = Field(default_factory=list)


class CommunitySpec(_Strict):
    """A community with its admins and grids."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=128)
    households: int | None = Field(default=None, ge=0, le=1_000_000)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    admins: list[PersonSpec] = Field(default_factory=list)
    grids: list[GridSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_codes(self) -> CommunitySpec:
        _no_duplicates((g.code for g in self.grids), "grid code")
        _no_duplicates((n.code for g in self.grids for n in g.groups), "group code")
        _distinguishable_staff(self.staff())
        return self

    def staff(self) -> list[tuple[str, PersonSpec]]:
        """Every person the community names, with the role, e.g. ``("captain of n1", …)``."""
        named: list[tuple[str, PersonSpec | None]] = [("admin", p) for p in self.admins]
        for grid in self.grids:
            named.append((f"leader of grid {grid.code}", grid.leader))
            for g in grid.groups:
                named.append((f"captain of {g.code}", g.captain))
                named.append((f"backup captain of {g.code}", g.backup_captain))
        return [(role, p) for role, p in named if p is not None]


class StreetSpec(_Strict):
    """A street (sub-district) with its communities."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=128)
    communities: list[CommunitySpec] = Field(default_factory=list)


class OrgFile(_Strict):
    """The whole file."""

    version: Literal[1] = 1
    streets: list[StreetSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> OrgFile:
        _no_duplicates((s.code for s in self.streets), "street code")
        _no_duplicates((c.code for s in self.streets for c in s.communities), "community code")
        return self


def _distinguishable_staff(staff: list[tuple[str, PersonSpec]]) -> None:
    """Staff are told apart by phone, else by name: a name given without a phone may stand
    for one role only, or two namesakes would become one person holding both roles."""
    by_name: dict[str, list[tuple[str, PersonSpec]]] = {}
    for role, person in staff:
        by_name.setdefault(person.name, []).append((role, person))
    for name, roles in by_name.items():
        if len(roles) > 1 and any(p.phone is None for _, p in roles):
            listed = ", ".join(role for role, _ in roles)
            raise ValueError(
                f"{name} is named for several roles ({listed}) but not always with a phone, so "
                "it is unclear whether this is one person: give the phone every time (the same "
                "phone if it is one person, their own phones if they are namesakes)"
            )


def _no_duplicates(codes: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{what} {code!r} is used twice")
        seen.add(code)


@dataclass(frozen=True)
class Located:
    """Data plus a map from a data path to where it came from in the file."""

    data: Any
    places: dict[tuple[Any, ...], str]


def load_org_file(path: Path) -> OrgFile:
    """Read and validate ``path`` (.yaml/.yml or .csv); raise ``OrgFileError`` on any problem."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OrgFileError(name, None, None, f"cannot read the file ({exc.strerror})") from exc
    try:
        # Universal newlines, as read_text would: csv and the line numbers expect "\n".
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        unit = "row" if path.suffix.lower() == ".csv" else "line"
        raise OrgFileError(name, f"{unit} {line}", None, _not_utf8(path)) from None
    if path.suffix.lower() == ".csv":
        from storage.orgcsv import read_csv

        located = read_csv(name, text)
    else:
        located = _read_yaml(name, text)
    try:
        return OrgFile.model_validate(located.data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        where = _nearest_place(located.places, loc)
        field = next((str(p) for p in reversed(loc) if isinstance(p, str)), None)
        raise OrgFileError(name, where, field, error["msg"]) from None


def _not_utf8(path: Path) -> str:
    if path.suffix.lower() == ".csv":
        # Excel on Chinese Windows saves "CSV (逗号分隔)" as GBK.
        return (
            "the file is not UTF-8 text (probably GBK, as Excel saves it on Chinese Windows): "
            "in Excel use 另存为 / Save As → 'CSV UTF-8 (逗号分隔)(*.csv)'; in WPS choose "
            "UTF-8 encoding; then import again"
        )
    return "the file is not UTF-8 text: save it with UTF-8 encoding and import again"


def _nearest_place(places: dict[tuple[Any, ...], str], loc: tuple[Any, ...]) -> str | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in places:
            return places[loc[:end]]
    return None


class _Loader(yaml.SafeLoader):
    """The safe loader without anchors and aliases: an organisation file has no use for
    them, and a self-referencing alias (``a: &x [*x]``) would recurse without end."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name, with anchors &name) are not supported; write the value out",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def _read_yaml(name: str, text: str) -> Located:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise OrgFileError(name, None, None, "the file is empty")
        places: dict[tuple[Any, ...], str] = {}
        _index_nodes(node, (), places, numeric=False)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        raise OrgFileError(
            name, where, None, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise OrgFileError(name, "line 1", None, "expected a mapping with 'version' and 'streets'")
    return Located(data, places)


# Only these fields are numbers; every other plain scalar is read as the text written, so
# YAML 1.1 does not turn a landline 05541234567 into the octal 763705719 or building 010 into 8.
_NUMBER_FIELDS = frozenset({"version", "households", "latitude", "longitude"})
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


def _index_nodes(
    node: yaml.Node, path: tuple[Any, ...], places: dict[tuple[Any, ...], str], *, numeric: bool
) -> None:
    places[path] = f"line {node.start_mark.line + 1}"
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            _index_nodes(value, child, places, numeric=key.value in _NUMBER_FIELDS)
            places[child] = f"line {key.start_mark.line + 1}"
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_nodes(item, (*path, i), places, numeric=numeric)
    elif not numeric and node.style is None and node.tag in _NUMBER_TAGS:
        node.tag = "tag:yaml.org,2002:str"


def dump_yaml(org: OrgFile) -> str:
    """The organisation as YAML in the import format."""
    data = org.model_dump(exclude_none=True)
    header = "# Wulin organisation file (python bot.py org import FILE)\n"
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
