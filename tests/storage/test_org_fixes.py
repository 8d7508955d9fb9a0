"""Organisation import fixes: report copies follow a moved group, roles follow the file,
strict CSV, phones read as text, staff identity across re-imports, forgetting reports' places."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import reports as svc
from storage.forget import forget_person
from storage.models import Building, CommunityAdmin, Grid, NeighbourGroup, Person, Report
from storage.org import import_org
from storage.orgcsv import dump_csv
from storage.orgfile import OrgFile, OrgFileError, load_org_file
from tests.conftest import T0

Db = async_sessionmaker[AsyncSession]
DEADLINES = svc.Deadlines(ack_hours=2, resolve_hours=48, confirm_days=3)


def _org(
    grids: dict[str, list[dict[str, Any]]],
    admins: list[dict[str, Any]] | None = None,
    leaders: dict[str, dict[str, Any]] | None = None,
) -> OrgFile:
    """One street, one community ``c1``; ``grids`` maps a grid code to its groups."""
    community = {
        "code": "c1",
        "name": "社区",
        "admins": admins or [],
        "grids": [
            {"code": code, "name": f"网格{code}", "leader": (leaders or {}).get(code),
             "groups": groups}
            for code, groups in grids.items()
        ],
    }  # fmt: skip
    return OrgFile.model_validate(
        {"version": 1, "streets": [{"code": "s1", "name": "街道", "communities": [community]}]}
    )


def _group(code: str, buildings: list[str] | None = None, **people: Any) -> dict[str, Any]:
    return {"code": code, "name": f"小组{code}", "buildings": buildings or ["1栋"], **people}


async def _import(db: Db, org: OrgFile) -> Any:
    async with db.begin() as session:
        return await import_org(session=session, org=org, now=T0)


async def _file_report(db: Db, group_code: str, **draft: Any) -> int:
    """A resident of ``group_code`` files a report; returns its id."""
    async with db.begin() as session:
        group = await session.scalar(
            select(NeighbourGroup).where(NeighbourGroup.code == group_code)
        )
        resident = Person(
            telegram_id=900 + group.id,
            display_name="住户",
            phone="13911112222",
            created_at=T0,
            community_id=group.community_id,
            group_id=group.id,
        )
        session.add(resident)
        await session.flush()
        report = await svc.create_report(
            session=session,
            reporter_id=resident.id,
            group_id=group.id,
            draft=svc.Draft("repairs", "灯坏了", **draft),
            deadlines=DEADLINES,
            now=T0,
        )
        return report.id


async def test_moved_group_takes_its_reports_to_the_new_grid(db: Db) -> None:
    """A re-import that moves a group to another grid moves its reports' grid copy too."""
    await _import(db, _org({"g1": [_group("n1")], "g2": [_group("n2")]}))
    rid = await _file_report(db, "n1")
    await _import(db, _org({"g1": [], "g2": [_group("n2"), _group("n1")]}))
    async with db.begin() as session:
        report = await session.get(Report, rid)
        g2 = await session.scalar(select(Grid.id).where(Grid.code == "g2"))
        assert report.grid_id == g2


async def test_admin_missing_from_the_file_loses_the_role(db: Db) -> None:
    """Admins follow the file like captains and grid leaders: a dropped admin is no admin."""
    li = {"name": "李敏", "phone": "13800000001"}
    wang = {"name": "王强", "phone": "13800000009"}
    await _import(db, _org({"g1": [_group("n1")]}, admins=[li, wang]))
    summary = await _import(db, _org({"g1": [_group("n1")]}, admins=[li]))
    async with db.begin() as session:
        admins = set(
            await session.scalars(
                select(Person.display_name).join(
                    CommunityAdmin, CommunityAdmin.person_id == Person.id
                )
            )
        )
    assert admins == {"李敏"}
    assert summary.updated["admins removed"] == 1


async def test_file_without_admins_leaves_none_and_warns(db: Db) -> None:
    """A community listed without admins has none after the import, with a warning."""
    await _import(db, _org({"g1": []}, admins=[{"name": "李敏", "phone": "13800000001"}]))
    summary = await _import(db, _org({"g1": []}))
    async with db.begin() as session:
        assert await session.scalar(select(CommunityAdmin.person_id)) is None
    assert any("no admins" in w for w in summary.warnings)


CSV_HEAD = "street_code,street_name,community_code,community_name,grid_code,grid_name,"
CSV_HEAD += "group_code,group_name,buildings,captain_name,captain_phone\n"
CSV_ROW = "s1,街道,c1,社区,g1,网格,{code},一组,{buildings},张三,13800001111\n"


def _csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "org.csv"
    path.write_text(CSV_HEAD + "".join(rows), encoding="utf-8")
    return path


def test_csv_unclosed_quote_is_refused_naming_the_row(tmp_path: Path) -> None:
    """An unclosed quote does not swallow the next rows: the import is refused at its row."""
    path = _csv(
        tmp_path,
        CSV_ROW.format(code="n1", buildings='"1栋;2栋'),
        CSV_ROW.format(code="n2", buildings="3栋"),
    )
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == "row 2" and "quote" in err.value.message


def test_csv_unclosed_quote_at_the_end_is_refused(tmp_path: Path) -> None:
    """A quote left open in the last row is an error, not a silently completed cell."""
    path = _csv(tmp_path, CSV_ROW.format(code="n1", buildings='"1栋;2栋'))
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == "row 2" and "quote" in err.value.message


def test_csv_huge_cell_is_a_clear_error(tmp_path: Path) -> None:
    """A cell over the csv module's size limit gives an OrgFileError, not a traceback."""
    path = _csv(tmp_path, CSV_ROW.format(code="n1", buildings='"' + "栋" * 140_000 + '"'))
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == "row 2"


def test_csv_rows_are_numbered_by_line_with_blank_lines(tmp_path: Path) -> None:
    """Blank lines count: the error names the line an admin sees in an editor."""
    path = _csv(
        tmp_path, "\n", CSV_ROW.format(code="n1", buildings="1栋").replace("13800001111", "12")
    )
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == "row 3"


YAML_ONE_GROUP = """version: 1
streets:
  - code: s1
    name: 街道
    communities:
      - code: c1
        name: 社区
        households: 2380
        latitude: 32.6
        grids:
          - code: g1
            name: 网格
            groups:
              - code: n1
                name: 小组
                buildings: [010, 2栋]
                captain: {{name: 王, phone: {phone}}}
"""


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("05541234567", "05541234567"),
        ("13800001234", "13800001234"),
        ("0554-1234567", "0554-1234567"),
    ],
)
def test_yaml_phone_is_read_as_written(tmp_path: Path, written: str, read: str) -> None:
    """An unquoted landline with a leading 0 is not read as an octal number."""
    path = tmp_path / "org.yaml"
    path.write_text(YAML_ONE_GROUP.format(phone=written), encoding="utf-8")
    org = load_org_file(path)
    community = org.streets[0].communities[0]
    group = community.grids[0].groups[0]
    assert group.captain.phone == read
    assert group.buildings == ["010", "2栋"]
    assert (community.households, community.latitude) == (2380, 32.6)


async def _captain(db: Db, group_code: str) -> Person:
    async with db.begin() as session:
        group = await session.scalar(
            select(NeighbourGroup).where(NeighbourGroup.code == group_code)
        )
        return await session.get(Person, group.captain_id)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"name": "张伟"}, {"name": "张伟", "phone": "13800001111"}),
        ({"name": "张伟", "phone": "13800001111"}, {"name": "张伟"}),
    ],
)
async def test_staff_member_keeps_their_record_when_a_phone_is_added_or_removed(
    db: Db, before: dict[str, str], after: dict[str, str]
) -> None:
    """Adding (or removing) the phone of a bound captain keeps the same record and binding."""
    await _import(db, _org({"g1": [_group("n1", captain=before)]}))
    first = await _captain(db, "n1")
    async with db.begin() as session:
        (await session.get(Person, first.id)).telegram_id = 77
    summary = await _import(db, _org({"g1": [_group("n1", captain=after)]}))
    now = await _captain(db, "n1")
    assert (now.id, now.telegram_id, now.phone) == (first.id, 77, after.get("phone"))
    assert summary.created["people"] == 0
    assert any("张伟" in w for w in summary.warnings)


@pytest.mark.parametrize(
    "second",
    [{"name": "王芳"}, {"name": "王芳", "phone": "13800002222"}],
)
def test_same_name_without_phone_in_two_roles_is_refused(second: dict[str, str]) -> None:
    """Two 王芳 without a phone (or one with, one without) cannot be told apart: refused."""
    with pytest.raises(ValidationError, match=r"王芳.*captain of n1.*captain of n2"):
        _org({"g1": [_group("n1", captain={"name": "王芳"}), _group("n2", captain=second)]})


def test_same_name_with_phones_in_two_roles_is_fine() -> None:
    """One person with a phone may hold several roles; two phones are two people."""
    wang = {"name": "王芳", "phone": "13800002222"}
    _org(
        {"g1": [_group("n1", captain=wang), _group("n2", backup_captain=wang)]},
        leaders={"g1": wang},
    )


async def test_renamed_building_that_reports_point_to_is_kept(db: Db) -> None:
    """A building dropped from the file stays while a report points to it, with a warning."""
    await _import(db, _org({"g1": [_group("n1", ["1栋", "2栋"])]}))
    async with db.begin() as session:
        building = await session.scalar(select(Building).where(Building.name == "2栋"))
    rid = await _file_report(db, "n1", building_id=building.id)
    summary = await _import(db, _org({"g1": [_group("n1", ["1栋", "二栋"])]}))
    async with db.begin() as session:
        assert (await session.get(Report, rid)).building_id == building.id
    assert any("2栋" in w and "report" in w for w in summary.warnings)


async def test_forgetme_clears_the_unit_and_pin_of_own_reports(db: Db) -> None:
    """/forgetme clears unit and location of the person's reports; the description stays."""
    await _import(db, _org({"g1": [_group("n1")]}))
    rid = await _file_report(db, "n1", unit="3单元501", latitude=32.6, longitude=117.0)
    async with db.begin() as session:
        report = await session.get(Report, rid)
        await forget_person(session=session, person_id=report.reporter_id, now=T0)
    async with db.begin() as session:
        report = await session.get(Report, rid)
        assert (report.unit, report.latitude, report.longitude) == (None, None, None)
        assert report.description == "灯坏了"


def test_gbk_csv_says_how_to_save_as_utf8(tmp_path: Path) -> None:
    """A CSV saved by Excel on Chinese Windows (GBK) gets a message saying how to fix it."""
    path = tmp_path / "org.csv"
    path.write_bytes((CSV_HEAD + CSV_ROW.format(code="n1", buildings="1栋")).encode("gbk"))
    with pytest.raises(OrgFileError, match="CSV UTF-8"):
        load_org_file(path)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: &x [*x]\n", "line 1"),
        ("version: 1\nstreets:\n  - &s {code: s1, name: 街道}\n  - *s\n", "line 4"),
    ],
)
def test_yaml_aliases_are_refused(tmp_path: Path, text: str, line: str) -> None:
    """Anchors and aliases are refused with the line (a self-reference used to recurse)."""
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == line and "alias" in err.value.message


def test_csv_export_of_communities_without_grids_imports_back(tmp_path: Path) -> None:
    """A community with admins but no grids, or with nothing yet, survives CSV export."""
    org = OrgFile.model_validate(
        {
            "version": 1,
            "streets": [
                {
                    "code": "s1",
                    "name": "街道",
                    "communities": [
                        {"code": "c1", "name": "一社区", "admins": [{"name": "李敏"}]},
                        {"code": "c2", "name": "二社区"},
                    ],
                }
            ],
        }
    )
    path = tmp_path / "org.csv"
    path.write_text(dump_csv(org), encoding="utf-8")
    assert load_org_file(path) == org


async def test_a_landline_for_staff_is_imported_with_a_warning(db: Db) -> None:
    """Staff bind by sharing their Telegram account's number, which is never a landline:
    the import warns (once per person) and still imports; mobile numbers give no warning."""
    org = _org(
        {"g1": [_group("n1", captain={"name": "王芳", "phone": "0554-1234567"}),
                _group("n2", captain={"name": "王芳", "phone": "0554-1234567"}),
                _group("n3", captain={"name": "刘洋", "phone": "+86 138 0000 1234"})]},
        leaders={"g1": {"name": "张伟", "phone": "5123456"}},
    )  # fmt: skip
    summary = await _import(db, org)
    landline = [w for w in summary.warnings if "landline" in w]
    assert len(landline) == 2 and "王芳" in landline[0] + landline[1]
    assert "张伟" in landline[0] + landline[1] and not any("刘洋" in w for w in landline)
    assert "0554-1234567" in " ".join(landline)
    async with db.begin() as session:
        assert await session.scalar(select(Person.id).where(Person.display_name == "王芳"))


LATER_HEAD = "street_code,street_name,community_code,community_name,households,grid_code,"
LATER_HEAD += "grid_name,leader_name,leader_phone,group_code,group_name,buildings\n"


def _later_rows(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "org.csv"
    path.write_text(LATER_HEAD + "".join(rows), encoding="utf-8")
    return path


def test_csv_later_rows_may_fill_in_a_leader_and_households(tmp_path: Path) -> None:
    """A grid's leader or a community's households given on a later row of the grid (or
    community) is taken, not refused as 'another leader' nor silently ignored."""
    path = _later_rows(
        tmp_path,
        "s1,街道,c1,社区,,g1,网格,,,n1,一组,1栋\n",
        "s1,街道,c1,社区,2380,g1,网格,张伟,13800000002,n2,二组,2栋\n",
    )
    community = load_org_file(path).streets[0].communities[0]
    assert community.households == 2380
    assert community.grids[0].leader is not None and community.grids[0].leader.name == "张伟"


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ("s1,街道,c1,社区,,g1,网格,李四,13900000009,n2,二组,2栋\n", "leader_name"),
        ("s1,街道,c1,社区,999,g1,网格,,,n2,二组,2栋\n", "households"),
    ],
)
def test_csv_later_rows_may_not_contradict_earlier_ones(
    tmp_path: Path, second: str, field: str
) -> None:
    """Another leader, or other households, for the same grid or community is refused,
    naming the row and the field."""
    path = _later_rows(
        tmp_path, "s1,街道,c1,社区,2380,g1,网格,张伟,13800000002,n1,一组,1栋\n", second
    )
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert err.value.where == "row 3" and err.value.field == field
