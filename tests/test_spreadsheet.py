"""Spreadsheet instances (docs/SPREADSHEET.md): the template, the round trip of every shipped
instance, Excel-typed cells, and bad cells reported by sheet, row and column with exit code 2."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from models import InstanceError, instance_from_data, load_document, load_instance
from models import instance as M
from models.spreadsheet import EXAMPLE, instance_data_from_xlsx, instance_to_xlsx, template_bytes
from scheduler.commands import main

INSTANCES = Path(__file__).resolve().parent.parent / "instances"
SHIPPED = [p for p in sorted(INSTANCES.glob("*.yaml"))
           if re.search(r"^format:\s*[\"']?schoolpost/1", p.read_text(encoding="utf-8"), re.MULTILINE)]


def _dump(data) -> dict:
    return instance_from_data(data).model_dump()


def _roundtrip(doc, tmp_path: Path, name: str = "rt.xlsx") -> dict:
    path = tmp_path / name
    path.write_bytes(instance_to_xlsx(instance_from_data(doc)))
    return instance_data_from_xlsx(path)


def _template(tmp_path: Path, edit=None, name: str = "t.xlsx") -> Path:
    """The template, optionally edited with openpyxl (as a user would in Excel)."""
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    if edit is not None:
        edit(wb)
    path = tmp_path / name
    wb.save(path)
    return path


# -- the template ---------------------------------------------------------------------------------


def test_template_loads_and_validates(tmp_path):
    """The template is the worked example: one school, three peak rows (a Friday-only dismissal), two
    posts with default and per-peak demand, a route, 12 people of several roles, availability and leave."""
    path = _template(tmp_path)
    inst = load_instance(path)
    assert inst.model_dump() == _dump(EXAMPLE)
    assert len(inst.schools) == 1 and len(inst.routes) == 1 and len(inst.persons) == 12
    school = inst.schools[0]
    assert [p.days for p in school.peaks] == [None, ["mon", "tue", "wed", "thu"], ["fri"]]
    assert len(school.posts) == 2 and all(len(p.demand) == 2 and "default" in p.demand for p in school.posts)
    assert len({p.role for p in inst.persons}) >= 5
    leave = [e for p in inst.persons for e in p.leave]
    assert any(isinstance(e, dt.date) for e in leave) and any(isinstance(e, M.LeaveWindow) for e in leave)
    assert any(p.availability for p in inst.persons)
    assert inst.policy.limits and inst.policy.weights
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    for sheet in ("units", "schools", "peaks", "posts", "routes", "persons", "availability", "leave", "policy"):
        assert sheet in names


def test_template_command_then_solve_check_info(tmp_path):
    """`template t.xlsx`, then solve, check and info read the workbook like a YAML instance."""
    runner = CliRunner()
    t = tmp_path / "t.xlsx"
    r = runner.invoke(main, ["template", str(t)])
    assert r.exit_code == 0, r.output
    assert t.is_file() and [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]  # no temporary left behind
    out = tmp_path / "out"
    r = runner.invoke(main, ["solve", str(t), "-o", str(out), "--time-limit", "5", "--workers", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    assert (out / "roster.csv").is_file()
    r = runner.invoke(main, ["check", str(t), str(out)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["info", str(t), "--json"])
    assert r.exit_code == 0, r.output
    sizes = json.loads(r.output)["sizes"]
    assert sizes["schools"] == 1 and sizes["posts"] == 2 and sizes["persons"] == 12


def test_template_command_refuses_overwrite_and_other_suffixes(tmp_path):
    runner = CliRunner()
    t = tmp_path / "t.xlsx"
    t.write_text("mine")
    r = runner.invoke(main, ["template", str(t)])
    assert r.exit_code == 2 and "--force" in r.output and t.read_text() == "mine"
    r = runner.invoke(main, ["template", str(t), "--force"])
    assert r.exit_code == 0, r.output
    load_instance(t)
    r = runner.invoke(main, ["template", str(tmp_path / "t.yaml")])
    assert r.exit_code == 2 and r.output.strip().count("\n") == 0 and ".xlsx" in r.output
    assert not (tmp_path / "t.yaml").exists()


def test_template_command_from_an_instance(tmp_path):
    """`template OUT.xlsx --from INSTANCE` writes an existing instance in the same layout."""
    src = INSTANCES / "small-school.yaml"
    out = tmp_path / "small.xlsx"
    r = CliRunner().invoke(main, ["template", str(out), "--from", str(src)])
    assert r.exit_code == 0, r.output
    assert load_instance(out).model_dump() == load_instance(src).model_dump()


# -- round trip -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_instances_round_trip(path, tmp_path):
    """Every shipped instance written as a workbook reads back as the same instance."""
    doc = load_document(path)
    assert SHIPPED and doc["format"] == "schoolpost/1"
    assert _dump(_roundtrip(doc, tmp_path)) == _dump(doc)


def _maximal() -> dict:
    """Every table field set, and the spellings that differ only by None/[]/{}."""
    near = {"lat": 37.38, "lon": 117.97}
    doc = {
        "format": "schoolpost/1",
        "name": 'max, "quoted"',
        "week_start": "2026-12-07",
        "days": ["mon", "tue", "wed"],
        "policy": {"professional_roles": [], "min_professional_share": 0.1 + 0.2, "leader_on_duty": False,
                   "limits": {"default": {"max_per_day": 2}, "volunteer": {}}, "weights": {"burden": 2.5},
                   "burden_roles": ["volunteer"], "travel_chain_gap": 45},
        "travel": {"speed_kmh": 27.5, "road_factor": 1.0, "matrix": {"s1": {"s2": 4, "s1": 0}, "s2": {}}},
        "units": [{"id": "u,1", "kind": "community", "name": "=SUM(A1)", "schools": []},
                  {"id": "u2", "schools": ["s1", "s2"]}],
        "schools": [
            {"id": "s1", "name": "S 1", "type": "nine_year", "district": "d1", "location": near, "students": 0,
             "address": "1 Road",
             "peaks": [{"name": "arrival", "start": "00:00", "end": "24:00", "days": []},
                       {"name": "noon", "start": "11:00", "end": "12:00", "days": ["wed", "mon"]}],
             "posts": [{"id": "s1/a", "kind": "pickup_area", "name": "A", "location": {"lat": 37.3812345678901, "lon": -1.5},
                        "demand": {"default": {"skills": {}}, "noon": {},
                                   "arrival": {"min": 1, "target": 2, "min_police": 1, "skills": {"x:y": 2, "a,b": 1}}}},
                       {"id": "s1/b"}]},
            {"id": "s2", "type": "kindergarten", "location": {"lat": -33.9, "lon": 18.4}},
        ],
        "routes": [
            {"id": "r1", "unit": "u2", "stops": ["s1", "s2", "s1"],
             "crew": {"min": 2, "max": 3, "min_police": 1, "skills": {"traffic": 1}},
             "runs": [{"name": "m", "start": "07:00", "end": "08:00", "days": []},
                      {"name": "a", "start": "16:00", "end": "17:00"}]},
            {"id": "r2", "name": "R2", "unit": "u2", "stops": ["s2"], "crew": {"skills": {}}},
        ],
        "persons": [
            {"id": "p1", "role": "police", "unit": "u2", "skills": [], "home": {"lat": 37.0, "lon": 117.0},
             "availability": [], "limits": {"max_minutes_per_week": 0}},
            {"id": "p2", "name": "P 2", "role": "volunteer", "unit": "s1", "skills": ["a, b", "-", 'c"d'],
             "availability": [{"days": [], "start": "07:00", "end": "08:00"}, {"start": "09:00", "end": "10:00"}],
             "leave": ["2026-12-08", {"date": "2026-12-09", "start": "07:00", "end": "07:30"}],
             "pins": [{"date": "2026-12-07", "peak": "noon", "post": "s1/a"},
                      {"date": "2026-12-09", "peak": "a", "route": "r1"}],
             "limits": {"max_per_day": 1, "max_per_week": 2, "max_minutes_per_week": 90}},
            {"id": "p3", "role": "teacher", "unit": "s1", "availability": None},
        ],
    }
    if "timezone" in M.Instance.model_fields:
        doc["timezone"] = "Asia/Shanghai"
    return doc


def test_every_field_and_empty_spelling_round_trips(tmp_path):
    doc = _maximal()
    back = _dump(_roundtrip(doc, tmp_path))
    assert back == _dump(doc)
    assert back["policy"]["min_professional_share"] == 0.1 + 0.2  # 17 digits survive (written as text)
    assert back["persons"][0]["availability"] == [] and back["persons"][2]["availability"] is None
    assert back["schools"][0]["peaks"][0]["days"] == [] and back["schools"][0]["peaks"][0]["end"] == "24:00"


def test_table_models_have_the_fields_the_layout_knows():
    """When this fails, a field was added to a table model: teach models/spreadsheet.py a column for
    it (instance_to_xlsx refuses to drop it meanwhile) and add it to _maximal() above."""
    known = {
        M.Unit: {"id", "kind", "name", "schools"},
        M.School: {"id", "name", "type", "district", "location", "students", "address", "peaks", "posts"},
        M.Location: {"lat", "lon"},
        M.Peak: {"name", "start", "end", "days"},
        M.Post: {"id", "kind", "name", "location", "demand"},
        M.Demand: {"min", "target", "min_police", "skills"},
        M.Route: {"id", "name", "unit", "stops", "crew", "runs"},
        M.Crew: {"min", "max", "min_police", "skills"},
        M.Run: {"name", "start", "end", "days"},
        M.Person: {"id", "name", "role", "unit", "skills", "home", "availability", "leave", "limits", "pins"},
        M.Pin: {"date", "peak", "post", "route"},
        M.Availability: {"days", "start", "end"},
        M.LeaveWindow: {"date", "start", "end"},
        M.Limits: {"max_per_day", "max_per_week", "max_minutes_per_week"},
    }
    for model, fields in known.items():
        assert set(model.model_fields) == fields, model.__name__


# -- cells as Excel types them --------------------------------------------------------------------


def test_excel_typed_cells_read_like_yaml(tmp_path):
    """Time and date cells, numbers as text, day ranges, header case, note and empty rows, absent
    sheets: the same instance as the YAML spelling."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Policy"
    for row in (["Key", "Value"], ["# a note row", "ignored"], ["format", "schoolpost/1"],
                ["week_start", dt.datetime(2026, 12, 7)], ["days", "Mon-Fri"], [], ["policy.leader_on_duty", "no"],
                ["policy.min_professional_share", "0.5"], ["policy.limits.default.max_per_week", "4"]):
        ws.append(row)
    ws = wb.create_sheet("schools")
    ws.append(["id", "type", "lat", "lon", "students"])
    ws.append(["1", "primary", "37.38", 117.97, "240"])
    ws = wb.create_sheet("peaks")
    ws.append(["school_id", "name", "start", "end", "days"])
    ws.append([1, "arrival", dt.time(7, 20), "7:50", None])
    ws.append([1, "dismissal", dt.time(15, 59, 59, 999000), dt.datetime(1900, 1, 1), "Friday"])
    ws = wb.create_sheet("posts")
    ws.append(["school_id", "post_id", "min", "skills"])
    ws.append([])
    ws.append([1, "gate", "2", "traffic"])
    ws = wb.create_sheet("persons")
    ws.append(["ID", "Role", "Unit", "Max Per Day"])
    ws.append([17, "police", 1, 2.0])
    ws = wb.create_sheet("leave")
    ws.append(["person_id", "date"])
    ws.append([17, "2026-12-08"])
    ws = wb.create_sheet("readme")
    ws.append(["anything at all"])
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    yaml_doc = {
        "format": "schoolpost/1", "week_start": "2026-12-07", "days": ["mon", "tue", "wed", "thu", "fri"],
        "policy": {"leader_on_duty": False, "min_professional_share": 0.5, "limits": {"default": {"max_per_week": 4}}},
        "schools": [{"id": "1", "type": "primary", "location": {"lat": 37.38, "lon": 117.97}, "students": 240,
                     "peaks": [{"name": "arrival", "start": "07:20", "end": "07:50"},
                               {"name": "dismissal", "start": "16:00", "end": "24:00", "days": ["fri"]}],
                     "posts": [{"id": "gate", "demand": {"default": {"min": 2, "skills": {"traffic": 1}}}}]}],
        "persons": [{"id": "17", "role": "police", "unit": "1", "limits": {"max_per_day": 2}, "leave": ["2026-12-08"]}],
    }
    assert load_instance(path).model_dump() == _dump(yaml_doc)


# -- bad input ------------------------------------------------------------------------------------


def _set(sheet: str, row: int, col: int, value):
    def edit(wb):
        wb[sheet].cell(row=row, column=col).value = value
    return edit


def _append(sheet: str, values):
    def edit(wb):
        wb[sheet].append(values)
    return edit


_POLICY = openpyxl.load_workbook(io.BytesIO(template_bytes()))["policy"]
POLICY_ROW = {_POLICY.cell(row=r, column=1).value: r for r in range(3, _POLICY.max_row + 1)}

# Template rows: persons from row 3 (P01, P02, P03, A01, A02 in row 7...), peaks 3-5, posts 3-6, leave 3-4.
BAD_CELLS = [
    ("wrong role", _set("persons", 7, 3, "sergeant"), "persons", 7, "role", "must be"),
    ("bad time text", _set("peaks", 4, 3, "7h20"), "peaks", 4, "start", "HH:MM"),
    ("time as a number", _set("peaks", 4, 4, 17.5), "peaks", 4, "end", "HH:MM"),
    ("missing required column", lambda wb: wb["persons"].delete_cols(3), "persons", 1, "role", "required column"),
    ("unknown column", _set("persons", 1, 11, "colour"), "persons", 1, "colour", "unknown column"),
    ("unknown person in leave", _set("leave", 3, 1, "X99"), "leave", 3, "person_id", "no person with id 'X99'"),
    ("string in a number cell", _set("schools", 3, 7, "many"), "schools", 3, "students", "must be a number"),
    ("fraction in a count", _set("posts", 3, 8, 2.5), "posts", 3, "min", "integer"),
    ("latitude out of range", _set("schools", 3, 5, 95), "schools", 3, "lat", "less than or equal to 90"),
    ("target below min", _set("posts", 3, 9, 1), "posts", 3, "target", "below min"),
    ("demand for no peak", _set("posts", 4, 7, "noon"), "posts", 4, "demand", "no peak named 'noon'"),
    ("unknown unit", _set("persons", 5, 4, "nowhere"), "persons", 5, "unit", "no unit or school"),
    ("duplicate person", _append("persons", ["P01", "x", "police", "west-station"]), "persons", 15, "id",
     "duplicate person id"),
    ("bad day", _set("peaks", 4, 5, "mon, funday"), "peaks", 4, "days", "'funday' is not a day"),
    ("bad date", _set("leave", 3, 2, "2026-13-01"), "leave", 3, "date", "YYYY-MM-DD"),
    ("bad skill count", _set("posts", 3, 11, "traffic:x"), "posts", 3, "skills", "skill counts"),
    ("unknown policy key", _set("policy", 11, 1, "policy.share"), "policy", 11, "key", "unknown key"),
    ("policy value out of range", _set("policy", POLICY_ROW["policy.min_professional_share"], 2, 1.5),
     "policy", POLICY_ROW["policy.min_professional_share"], "value", "less than or equal to 1"),
    ("crew max below min", _set("routes", 3, 6, 1), "routes", 3, "crew_max", "max must be >= min"),
]


@pytest.mark.parametrize("edit, sheet, row, column, words", [c[1:] for c in BAD_CELLS], ids=[c[0] for c in BAD_CELLS])
def test_bad_cell_exits_2_naming_sheet_row_column(edit, sheet, row, column, words, tmp_path):
    path = _template(tmp_path, edit)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(path), "-o", str(out), "--time-limit", "5"])
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit) and "Traceback" not in r.output
    line = r.output.strip()
    assert line.count("\n") == 0
    assert f"sheet '{sheet}', row {row}, column '{column}'" in line and words in line, line
    assert not out.exists()


def test_whole_row_problem_names_sheet_and_row(tmp_path):
    path = _template(tmp_path, _set("peaks", 4, 4, "07:00"))
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert str(info.value) == "sheet 'peaks', row 4: end must be after start"


def test_missing_header_setting_names_the_policy_sheet(tmp_path):
    path = _template(tmp_path, lambda wb: wb["policy"].delete_rows(5))  # week_start
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert str(info.value) == "sheet 'policy', key 'week_start': required field is missing"


def test_unknown_sheet_is_named(tmp_path):
    def edit(wb):
        wb.create_sheet("Staff").append(["id", "role"])
    path = _template(tmp_path, edit)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(path), "-o", str(out)])
    assert r.exit_code == 2 and r.output.strip().count("\n") == 0
    assert "sheet 'Staff'" in r.output and "unknown sheet" in r.output and not out.exists()


@pytest.mark.parametrize("content, words", [
    (b"format: schoolpost/1\nweek_start: 2026-12-07\n", "not an .xlsx workbook"),
    (bytes(range(256)) * 16, "not an .xlsx workbook"),
    (b"PK\x03\x04 this is no zip archive", "not a readable .xlsx workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), ".xls"),
    (b"", "empty"),
], ids=["yaml-renamed", "random-bytes", "broken-zip", "old-xls", "empty"])
def test_not_a_workbook_is_one_line(content, words, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    out = tmp_path / "out"
    for args in (["solve", str(path), "-o", str(out)], ["info", str(path)], ["check", str(path), str(out)]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, r.output
        assert isinstance(r.exception, SystemExit) and r.output.strip().count("\n") == 0 and words in r.output
    assert not out.exists()


def test_a_zip_that_is_not_a_workbook(tmp_path):
    import zipfile

    path = tmp_path / "z.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert "not a readable .xlsx workbook" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("command", [["batch"], ["whatif", "SCENARIOS"], ["staffing", "--role", "police"],
                                     ["info"]])
def test_every_command_names_the_cell(command, tmp_path):
    """Commands that validate the document themselves (batch, whatif, staffing) name the cell too."""
    path = _template(tmp_path, _set("persons", 3, 3, "sheriff"))
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios: [{name: a, changes: [{op: policy, set: {leader_on_duty: false}}]}]\n")
    args = [command[0], str(path), *[str(scenarios) if a == "SCENARIOS" else a for a in command[1:]]]
    if command[0] in ("batch", "whatif"):
        args += ["-o", str(tmp_path / "out")]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert "sheet 'persons', row 3, column 'role'" in r.output and r.output.strip().count("\n") == 0
    assert not (tmp_path / "out").exists()


# -- every problem of a workbook in one run (issue 18 item 5) --------------------------------------


def _solve_bad(path: Path, tmp_path: Path):
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(path), "-o", str(out), "--time-limit", "5"])
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit) and "Traceback" not in r.output
    assert not out.exists()
    return r.output.rstrip("\n").split("\n")


def test_three_bad_cells_on_two_sheets_are_all_reported(tmp_path):
    """A bad role (found by the model), a number and a required time that are not (found by the
    reader): one run names all three, each by sheet, row and column, the required time once."""
    def edit(wb):
        wb["persons"].cell(row=7, column=3).value = "sergeant"
        wb["persons"].cell(row=5, column=8).value = "two"
        wb["peaks"].cell(row=4, column=3).value = "7h20"
    path = _template(tmp_path, edit)
    lines = _solve_bad(path, tmp_path)
    assert lines[0] == f"error: {path}: 3 errors", lines
    assert lines[1:] == [
        "  sheet 'peaks', row 4, column 'start': must be a time 'HH:MM' between 00:00 and 24:00, got '7h20'",
        "  sheet 'persons', row 5, column 'max_per_day': must be a number, got 'two'",
        ("  sheet 'persons', row 7, column 'role': must be 'police', 'auxiliary_police', 'security_guard', "
         "'community_worker', 'school_leader', 'teacher' or 'volunteer'"),
    ], lines
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert len(info.value.errors) == 3 and "\n" not in str(info.value)
    assert str(info.value).startswith(f"{path}: 3 errors: sheet 'peaks', row 4, column 'start'")


def test_fifty_bad_cells_show_twenty_and_the_count_of_the_rest(tmp_path):
    def edit(wb):
        for row in range(3, 13):
            for col in range(6, 11):  # home_lat .. max_minutes_per_week
                wb["persons"].cell(row=row, column=col).value = "bad"
    path = _template(tmp_path, edit)
    lines = _solve_bad(path, tmp_path)
    assert lines[0] == f"error: {path}: 50 errors"
    assert len(lines) == 22 and lines[-1] == "  and 30 more", lines
    assert lines[1] == "  sheet 'persons', row 3, column 'home_lat': must be a number, got 'bad'"
    assert lines[20] == "  sheet 'persons', row 6, column 'max_minutes_per_week': must be a number, got 'bad'"


def test_one_bad_cell_is_one_line_as_before(tmp_path):
    path = _template(tmp_path, _set("peaks", 4, 3, "7h20"))
    assert _solve_bad(path, tmp_path) == [
        "error: sheet 'peaks', row 4, column 'start': must be a time 'HH:MM' between 00:00 and 24:00, got '7h20'"]


def test_layout_problems_of_several_sheets_together(tmp_path):
    """Unknown columns on two sheets are both named; rows are not read against a wrong layout."""
    def edit(wb):
        wb["persons"].cell(row=1, column=11).value = "colour"
        wb["units"].cell(row=1, column=5).value = "size"
        wb["persons"].cell(row=7, column=3).value = "sergeant"
    lines = _solve_bad(_template(tmp_path, edit), tmp_path)
    assert len(lines) == 3 and lines[0].endswith(": 2 errors"), lines
    assert lines[1].startswith("  sheet 'units', row 1, column 'size': unknown column")
    assert lines[2].startswith("  sheet 'persons', row 1, column 'colour': unknown column")
