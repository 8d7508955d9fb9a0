"""Organisation import: idempotent, all-or-nothing, errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from demo.seed import ORG_FILE
from storage.models import Base, Building, InviteCode, NeighbourGroup, Person
from storage.org import export_org, import_org
from storage.orgcsv import dump_csv
from storage.orgfile import OrgFileError, dump_yaml, load_org_file
from tests.conftest import T0


async def _counts(db: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with db.begin() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def test_import_twice_leaves_the_same_rows(db: async_sessionmaker[AsyncSession]) -> None:
    """Importing demo/org.yaml twice creates nothing new and keeps the invite codes."""
    org = load_org_file(ORG_FILE)
    async with db.begin() as session:
        first = await import_org(session=session, org=org, now=T0)
    after_first = await _counts(db)
    async with db.begin() as session:
        codes = set(await session.scalars(select(InviteCode.code)))
        second = await import_org(session=session, org=org, now=T0)
    assert first.created["groups"] == 5 and first.created["people"] == 9
    assert sum(second.created.values()) == 0 and sum(second.updated.values()) == 0
    assert await _counts(db) == after_first
    async with db.begin() as session:
        assert set(await session.scalars(select(InviteCode.code))) == codes


async def test_reimport_updates_by_natural_keys(
    db: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """A renamed group and a changed captain phone update rows instead of duplicating."""
    async with db.begin() as session:
        await import_org(session=session, org=load_org_file(ORG_FILE), now=T0)
    text = ORG_FILE.read_text(encoding="utf-8").replace("和平里邻里小组", "和平里一组")
    text = text.replace(
        'name: 赵丽\n                  phone: "13800000006"',
        'name: 赵丽\n                  phone: "13800000066"',
    )
    changed = tmp_path / "org.yaml"
    changed.write_text(text, encoding="utf-8")
    async with db.begin() as session:
        summary = await import_org(session=session, org=load_org_file(changed), now=T0)
        names = set(await session.scalars(select(NeighbourGroup.name)))
        groups = await session.scalar(select(func.count()).select_from(NeighbourGroup))
    assert "和平里一组" in names and "和平里邻里小组" not in names and groups == 5
    assert summary.updated["groups"] >= 1
    # A new phone is a new natural key: a new person becomes captain of 花园里.
    assert summary.created["people"] == 1


async def test_removed_building_with_residents_is_kept_with_a_warning(
    db: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """Buildings dropped from the file are deleted only when nobody lives there."""
    async with db.begin() as session:
        await import_org(session=session, org=load_org_file(ORG_FILE), now=T0)
        building = await session.scalar(select(Building).where(Building.name == "4栋"))
        session.add(
            Person(
                telegram_id=5,
                display_name="住户",
                created_at=T0,
                group_id=building.group_id,
                building_id=building.id,
            )
        )
    changed = tmp_path / "org.yaml"
    changed.write_text(
        ORG_FILE.read_text(encoding="utf-8").replace("[1栋, 2栋, 3栋, 4栋]", "[1栋, 2栋]"),
        encoding="utf-8",
    )
    async with db.begin() as session:
        summary = await import_org(session=session, org=load_org_file(changed), now=T0)
        remaining = set(
            await session.scalars(
                select(Building.name).where(Building.group_id == building.group_id)
            )
        )
    assert remaining == {"1栋", "2栋", "4栋"}
    assert any("4栋" in w for w in summary.warnings)


BAD_YAML = """version: 1
streets:
  - code: s1
    name: 街道
    communities:
      - code: c1
        name: 社区
        grids:
          - code: g1
            name: 网格
            groups:
              - code: n1
                name: 小组
                buildings: [1栋]
                captain:
                  name: 王
                  phone: "not-a-phone"
"""


def test_bad_field_names_file_line_and_field(tmp_path: Path) -> None:
    """A bad phone fails with the file, the line of the field and the field's name."""
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_YAML, encoding="utf-8")
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == "line 17" and err.value.field == "phone"
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("text", "where", "field"),
    [
        ("version: 1\nstreets: []\n", "line 2", "streets"),
        ("version: 2\nstreets:\n  - {code: a, name: b}\n", "line 1", "version"),
        ("version: 1\nstreets:\n  - code: Bad Code\n    name: x\n", "line 3", "code"),
        ("version: 1\nstreets:\n  - code: a\n    name: x\n    colour: red\n", "line 5", "colour"),
        ("version: 1\nstreets: [\n", "line 3", None),
    ],
)
def test_yaml_errors_are_located(tmp_path: Path, text: str, where: str, field: str | None) -> None:
    """Empty lists, wrong versions, bad codes, unknown keys and broken YAML are located."""
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == where
    assert err.value.field == field


def test_duplicate_group_code_is_refused(tmp_path: Path) -> None:
    """Two groups with one code in a community are an error."""
    text = ORG_FILE.read_text(encoding="utf-8").replace("code: g1-chunshen", "code: g1-heping")
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OrgFileError, match="g1-heping"):
        load_org_file(path)


def test_csv_round_trip_equals_yaml(tmp_path: Path) -> None:
    """The CSV form of the demo organisation parses to the same organisation."""
    org = load_org_file(ORG_FILE)
    path = tmp_path / "org.csv"
    path.write_text(dump_csv(org), encoding="utf-8")
    assert load_org_file(path) == org


def test_csv_error_names_row_and_column(tmp_path: Path) -> None:
    """A bad cell in the CSV names its row and column."""
    csv_text = dump_csv(load_org_file(ORG_FILE)).splitlines()
    csv_text[3] = csv_text[3].replace("13800000006", "12")
    path = tmp_path / "org.csv"
    path.write_text("\n".join(csv_text) + "\n", encoding="utf-8")
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == "row 4" and err.value.field == "phone"


def test_csv_with_unknown_column(tmp_path: Path) -> None:
    """An unexpected header is reported on row 1."""
    path = tmp_path / "org.csv"
    path.write_text("street_code,community_code,grid_code,group_code,wat\n", encoding="utf-8")
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert (err.value.where, err.value.field) == ("row 1", "wat")


async def test_export_round_trips(db: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    """Export after import gives back the same organisation (YAML)."""
    org = load_org_file(ORG_FILE)
    async with db.begin() as session:
        await import_org(session=session, org=org, now=T0)
    async with db.begin() as session:
        exported = await export_org(session=session)
    path = tmp_path / "export.yaml"
    path.write_text(dump_yaml(exported), encoding="utf-8")
    assert load_org_file(path) == org
