"""The organisation file as CSV: one row per neighbour group, the same content as the YAML.

Columns are ``CSV_COLUMNS``.  Buildings are separated by ``;`` (or 、 ，).  A community's
admins are given on any of its rows (``admin_name``/``admin_phone``, one per row).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from storage.orgfile import (
    CommunitySpec,
    GridSpec,
    GroupSpec,
    Located,
    OrgFile,
    OrgFileError,
    PersonSpec,
    StreetSpec,
)

CSV_COLUMNS = (
    "street_code", "street_name", "community_code", "community_name", "households",
    "latitude", "longitude",
    "grid_code", "grid_name", "leader_name", "leader_phone",
    "group_code", "group_name", "buildings", "captain_name", "captain_phone",
    "backup_name", "backup_phone", "admin_name", "admin_phone",
)  # fmt: skip


def read_csv(name: str, text: str) -> Located:
    """Parse CSV text into nested data plus the row each part came from."""
    rows = _records(name, text)
    first = next(rows, None)
    header = [h.strip() for h in first[1]] if first else []
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise OrgFileError(
            name, "row 1", unknown[0], f"unknown column; expected {', '.join(CSV_COLUMNS)}"
        )
    twice = [h for h in header if header.count(h) > 1]
    if twice:
        raise OrgFileError(name, "row 1", twice[0], "the column is there twice")
    for required in ("street_code", "community_code", "grid_code", "group_code"):
        if required not in header:
            raise OrgFileError(name, "row 1", required, "required column is missing")
    builder = _CsvBuilder(name)
    for number, cells in rows:
        if any(c.strip() for c in cells[len(header) :]):
            raise OrgFileError(name, f"row {number}", None, "more cells than columns")
        row = {h: c.strip() for h, c in zip(header, cells, strict=False)}
        if any(row.values()):
            builder.add(number, row)
    if not builder.streets:
        raise OrgFileError(name, None, None, "the file has no rows")
    data = _finalise_csv_tree({"version": 1, "streets": list(builder.streets.values())})
    return Located(data, builder.places)


def _records(name: str, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-blank record; every record must fit on one line.

    A cell may legally hold a line break inside quotes, but in an organisation file that is
    almost always a quote left open, which would swallow the rows after it; so it is refused.
    """
    reader = csv.reader(io.StringIO(text), strict=True)
    line = 0
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise OrgFileError(name, f"row {start}", None, _csv_problem(str(exc))) from None
        line = reader.line_num
        if line > start:
            raise OrgFileError(
                name,
                f"row {start}",
                None,
                'a cell runs over several lines: is a quote (") left open? '
                "Close it, or remove the line breaks inside the cell",
            )
        if cells:
            yield start, cells


def _csv_problem(error: str) -> str:
    if "field larger than field limit" in error:
        return f"a cell is longer than {csv.field_size_limit()} characters"
    if "unexpected end of data" in error:
        return 'a quote (") is opened but never closed'
    return f'not valid CSV ({error}); check the quotes (") in this row'


class _CsvBuilder:
    """Folds one-row-per-group CSV into the nested structure, remembering rows."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.streets: dict[str, dict[str, Any]] = {}
        self.places: dict[tuple[Any, ...], str] = {}

    def add(self, number: int, row: dict[str, str]) -> None:
        where = f"row {number}"
        s_code, c_code, g_code = (
            row.get("street_code", ""),
            row.get("community_code", ""),
            row.get("grid_code", ""),
        )
        street = self._child(
            self.streets,
            s_code,
            {"code": s_code, "name": row.get("street_name", ""), "communities": {}},
            where,
            "street_name",
        )
        s_idx = list(self.streets).index(s_code)
        community = self._child(
            street["communities"],
            c_code,
            {
                "code": c_code,
                "name": row.get("community_name", ""),
                "households": row.get("households") or None,
                "latitude": row.get("latitude") or None,
                "longitude": row.get("longitude") or None,
                "admins": [],
                "grids": {},
            },
            where,
            "community_name",
        )
        c_idx = list(street["communities"]).index(c_code)
        if row.get("admin_name"):
            admin = {"name": row["admin_name"], "phone": row.get("admin_phone") or None}
            if admin not in community["admins"]:
                community["admins"].append(admin)
                self.places[
                    ("streets", s_idx, "communities", c_idx, "admins", len(community["admins"]) - 1)
                ] = where
        leader = _person(row, "leader")
        c_place = ("streets", s_idx, "communities", c_idx)
        self.places.setdefault(("streets", s_idx), where)
        self.places.setdefault(c_place, where)
        if not (g_code or row.get("grid_name") or leader or _has_group(row)):
            return  # a community row without grids (its admin, or the community alone)
        grid = self._child(
            community["grids"],
            g_code,
            {"code": g_code, "name": row.get("grid_name", ""), "leader": leader, "groups": []},
            where,
            "grid_name",
        )
        g_idx = list(community["grids"]).index(g_code)
        base = (*c_place, "grids", g_idx)
        self.places.setdefault(base, where)
        if _has_group(row):
            group = {
                "code": row.get("group_code", ""),
                "name": row.get("group_name", ""),
                "buildings": row.get("buildings", ""),
                "captain": _person(row, "captain"),
                "backup_captain": _person(row, "backup"),
            }
            grid["groups"].append(group)
            self.places[(*base, "groups", len(grid["groups"]) - 1)] = where

    def _child(
        self, parent: dict[str, Any], code: str, fresh: dict[str, Any], where: str, name_field: str
    ) -> dict[str, Any]:
        if code not in parent:
            parent[code] = fresh
            return fresh
        existing = parent[code]
        # A later row may fill in what earlier rows left empty (a grid's leader, a
        # community's households), never contradict it.
        for key, value in fresh.items():
            if not value or existing[key] == value:
                continue
            if not existing[key]:
                existing[key] = value
                continue
            field = {"name": name_field, "leader": "leader_name"}.get(key, key)
            said = existing[key]["name"] if key == "leader" else existing[key]
            verb = "named" if key == "name" else f"given {key}"
            raise OrgFileError(
                self.name, where, field, f"{code!r} was {verb} {said!r} in an earlier row"
            )
        return existing


def _has_group(row: dict[str, str]) -> bool:
    return any(row.get(k) for k in ("group_code", "group_name", "buildings", "captain_name"))


def _person(row: dict[str, str], prefix: str) -> dict[str, Any] | None:
    name = row.get(f"{prefix}_name")
    phone = row.get(f"{prefix}_phone")
    if not name and not phone:
        return None
    return {"name": name or "", "phone": phone or None}


def _finalise_csv_tree(data: dict[str, Any]) -> dict[str, Any]:
    """Turn the builder's code-keyed dicts into lists (done before validation)."""
    for street in data["streets"]:
        street["communities"] = list(street["communities"].values())
        for community in street["communities"]:
            community["grids"] = list(community["grids"].values())
    return data


def dump_csv(org: OrgFile) -> str:
    """The organisation as CSV, one row per neighbour group (admins on the first rows)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for street in org.streets:
        for community in street.communities:
            admins = list(community.admins)
            for grid in community.grids:
                for group in grid.groups or [None]:
                    admin = admins.pop(0) if admins else None
                    writer.writerow(_csv_row(street, community, grid, group, admin))
            # More admins than groups: rows without a group (a community without grids gets
            # one row even without admins, so that it is not lost).
            rest: list[PersonSpec | None] = admins or ([] if community.grids else [None])
            for admin in rest:
                grid = community.grids[0] if community.grids else None
                writer.writerow(_csv_row(street, community, grid, None, admin))
    return out.getvalue()


def _csv_row(
    street: StreetSpec,
    community: CommunitySpec,
    grid: GridSpec | None,
    group: GroupSpec | None,
    admin: PersonSpec | None,
) -> dict[str, Any]:
    def person(p: PersonSpec | None) -> tuple[str, str]:
        return (p.name, p.phone or "") if p else ("", "")

    row: dict[str, Any] = {
        "street_code": street.code,
        "street_name": street.name,
        "community_code": community.code,
        "community_name": community.name,
        "households": community.households if community.households is not None else "",
        "latitude": community.latitude if community.latitude is not None else "",
        "longitude": community.longitude if community.longitude is not None else "",
        "grid_code": grid.code if grid else "",
        "grid_name": grid.name if grid else "",
    }
    row["leader_name"], row["leader_phone"] = person(grid.leader if grid else None)
    row["admin_name"], row["admin_phone"] = person(admin)
    if group is not None:
        row.update(
            group_code=group.code, group_name=group.name, buildings=";".join(group.buildings)
        )
        row["captain_name"], row["captain_phone"] = person(group.captain)
        row["backup_name"], row["backup_phone"] = person(group.backup_captain)
    return row
