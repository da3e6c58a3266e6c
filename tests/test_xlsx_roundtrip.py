"""The planner's round trip in Excel (issue 18 item 4): ``check`` and ``repair`` read the roster
workbook the project writes (roster.xlsx, perhaps edited in a spreadsheet program) as they read
roster.csv; its dates and times are real Excel dates and times; a workbook they cannot read is one
line naming sheet, row and column, exit code 2."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from models import InstanceError, load_instance
from models.roster_workbook import (
    DATE_NUMBER_FORMAT,
    ROSTER_SHEET,
    ROSTER_SHEET_COLUMNS,
    TIME_NUMBER_FORMAT,
    read_roster_workbook,
)
from scheduler.check import check_roster, check_rows, read_roster
from scheduler.commands import main
from scheduler.repair import changed_document

ROOT = Path(__file__).resolve().parents[1]
INSTANCE = ROOT / "instances" / "small-school.yaml"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """small-school solved with the default outputs (roster.xlsx among them), checked."""
    out = tmp_path_factory.mktemp("xlsx") / "out"
    r = run("solve", INSTANCE, "-o", out, "--time-limit", "5", "--workers", "1", "--quiet")
    assert r.exit_code == 0, r.output
    assert (out / "roster.xlsx").is_file()
    inst = load_instance(INSTANCE)
    report = check_roster(inst, out)
    assert report.ok, [str(v) for v in report.violations]
    return inst, out, read_roster(out), report


def _copy(out: Path, dest: Path, with_summary: bool = True) -> Path:
    """roster.xlsx (and summary.json) copied into ``dest``; the copy's path."""
    dest.mkdir()
    shutil.copy(out / "roster.xlsx", dest / "roster.xlsx")
    if with_summary:
        shutil.copy(out / "summary.json", dest / "summary.json")
    return dest / "roster.xlsx"


def _header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1]}


def _sheet_row(ws, row: dict) -> int:
    """The sheet row holding a roster row (by date, peak, post, route and person)."""
    col = _header(ws)
    for cells in ws.iter_rows(min_row=2):
        date = cells[col["date"] - 1].value
        if (date.date().isoformat() == row["date"] and cells[col["peak"] - 1].value == row["peak"]
                and (cells[col["post_id"] - 1].value or "") == row["post_id"]
                and (cells[col["route_id"] - 1].value or "") == row["route_id"]
                and cells[col["person_id"] - 1].value == row["person_id"]):
            return cells[0].row
    raise AssertionError(row)


# ------------------------------------------------------------------------------------------------
# the workbook as solve writes it
# ------------------------------------------------------------------------------------------------


def test_check_on_the_workbook_is_check_on_the_csv(solved):
    """The workbook's rows are roster.csv's, and check on roster.xlsx passes with the same objective
    (and the same figures) as on the folder."""
    _inst, out, rows, _report = solved
    assert read_roster(out / "roster.xlsx") == rows and len(rows) > 20
    on_csv = run("check", INSTANCE, out, "--json")
    on_xlsx = run("check", INSTANCE, out / "roster.xlsx", "--json")
    assert on_csv.exit_code == 0 and on_xlsx.exit_code == 0, on_xlsx.output
    a, b = json.loads(on_csv.output), json.loads(on_xlsx.output)
    assert b["ok"] and b["objective"] == a["objective"] and b["terms"] == a["terms"] and b["kpis"] == a["kpis"]
    assert b["objective_matches_summary"] is True
    text = run("check", INSTANCE, out / "roster.xlsx")
    assert text.exit_code == 0 and "objective matches summary.json" in text.output and "OK: no hard" in text.output


def test_a_folder_without_roster_csv_falls_back_to_the_workbook(solved, tmp_path):
    _inst, out, rows, _report = solved
    folder = _copy(out, tmp_path / "only-xlsx").parent
    assert read_roster(folder) == rows
    assert run("check", INSTANCE, folder).exit_code == 0


def test_dates_and_times_are_real_excel_dates_and_times(solved):
    """The Roster sheet's date, start and end (and the Gaps sheet's date) are date and time cells
    with a number format, not text; the header is the shared layout."""
    _inst, out, rows, _report = solved
    wb = openpyxl.load_workbook(out / "roster.xlsx")
    ws = wb[ROSTER_SHEET]
    assert tuple(c.value for c in ws[1]) == ROSTER_SHEET_COLUMNS
    col = _header(ws)
    data = list(ws.iter_rows(min_row=2))
    assert len(data) == len(rows)
    for cells, row in zip(data, rows, strict=True):
        date, start, end = (cells[col[c] - 1] for c in ("date", "start", "end"))
        assert date.is_date and isinstance(date.value, dt.datetime) and date.number_format == DATE_NUMBER_FORMAT
        assert date.value.date().isoformat() == row["date"]
        for cell, text in ((start, row["start"]), (end, row["end"])):
            assert cell.is_date and isinstance(cell.value, dt.time) and cell.number_format == TIME_NUMBER_FORMAT
            assert cell.value.strftime("%H:%M") == text
        assert all(isinstance(cells[col[c] - 1].value, str) for c in ("weekday", "peak", "person_id", "role"))
    gaps = list(wb["Gaps"].iter_rows(min_row=2))
    assert gaps, "small-school reports share gaps"
    assert all(row[0].is_date and isinstance(row[0].value, dt.datetime) and row[0].number_format == DATE_NUMBER_FORMAT
               for row in gaps)


# ------------------------------------------------------------------------------------------------
# a planner's edits in Excel
# ------------------------------------------------------------------------------------------------


def test_cells_as_a_spreadsheet_program_may_leave_them_read_as_the_csv(solved, tmp_path):
    """Dates as text, serial numbers or date-and-time cells, times as text, fractions of a day or
    date-and-time cells, trailing spaces, an empty row, columns moved: the same rows, the same
    objective as summary.json."""
    _inst, out, rows, _report = solved
    path = _copy(out, tmp_path / "edited")
    wb = openpyxl.load_workbook(path)
    ws = wb[ROSTER_SHEET]
    col = _header(ws)
    ws.cell(2, col["date"]).value = rows[0]["date"] + "  "
    ws.cell(3, col["date"]).value = (dt.date.fromisoformat(rows[1]["date"]) - dt.date(1899, 12, 30)).days
    ws.cell(3, col["date"]).number_format = "General"
    ws.cell(4, col["date"]).value = dt.datetime.fromisoformat(rows[2]["date"])
    h, m = map(int, rows[0]["start"].split(":"))
    ws.cell(2, col["start"]).value = f"{h}:{m:02d} "
    ws.cell(2, col["end"]).value = rows[0]["end"] + ":00"
    h3, m3 = map(int, rows[1]["start"].split(":"))
    ws.cell(3, col["start"]).value = (h3 * 60 + m3) / 1440  # a fraction of a day
    ws.cell(3, col["start"]).number_format = "General"
    h4, m4 = map(int, rows[2]["end"].split(":"))
    ws.cell(4, col["end"]).value = dt.datetime(2026, 12, 7, h4, m4)
    ws.cell(5, col["person_id"]).value = "  " + rows[3]["person_id"] + "  "
    ws.cell(5, col["person_name"]).value = rows[3]["person_name"] + "\t"
    ws.insert_rows(10)  # an empty row in the middle
    ws.move_range(f"A1:A{ws.max_row}", cols=ws.max_column + 1)  # the date column moved to the end
    wb.save(path)
    assert read_roster(path) == rows
    r = run("check", INSTANCE, path)
    assert r.exit_code == 0, r.output
    assert "objective matches summary.json" in r.output


def test_numbers_and_numbers_stored_as_text_read_as_the_text_typed(tmp_path):
    """A numeric id typed in Excel (a number cell, a whole float, or text) reads as the same id."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = ROSTER_SHEET
    ws.append(list(ROSTER_SHEET_COLUMNS))
    base = {"date": dt.date(2026, 12, 7), "weekday": "mon", "peak": "arrival", "start": dt.time(7, 20),
            "end": dt.time(8), "school_id": "s1", "school": "S1", "post_id": "s1/gate", "route_id": None,
            "person_name": "Li", "role": "teacher"}
    for pid in (1001, 1001.0, "1001", " 1001 "):
        ws.append([{**base, "person_id": pid}[c] for c in ROSTER_SHEET_COLUMNS])
    wb.save(tmp_path / "roster.xlsx")
    got = read_roster_workbook(tmp_path / "roster.xlsx")
    want = {"date": "2026-12-07", "weekday": "mon", "peak": "arrival", "school_id": "s1", "post_id": "s1/gate",
            "route_id": "", "person_id": "1001", "person_name": "Li", "role": "teacher", "start": "07:20",
            "end": "08:00"}
    assert got == [want] * 4


def test_a_deleted_row_shows_as_a_gap(solved, tmp_path):
    """One person taken off a duty at its minimum: check on the edited workbook reports that duty
    one short, and its figures are those of the rows less that one."""
    inst, out, rows, report = solved
    at_min = [o for o in report.per_duty if o.min and o.assigned == o.min]
    assert at_min, "small-school has duties at their minimum"
    duty = at_min[0]
    gone = next(r for r in rows if (r["date"], r["peak"], r["post_id"], r["route_id"])
                == (duty.date, duty.peak, duty.post_id, duty.route_id))
    path = _copy(out, tmp_path / "deleted", with_summary=False)
    wb = openpyxl.load_workbook(path)
    wb[ROSTER_SHEET].delete_rows(_sheet_row(wb[ROSTER_SHEET], gone))
    wb.save(path)
    r = run("check", INSTANCE, path, "--json")
    assert r.exit_code == 0, r.output  # a gap breaks no hard rule
    data = json.loads(r.output)
    left = [x for x in rows if x is not gone]
    assert data["objective"] == check_rows(inst, left).objective > report.objective
    assert data["terms"]["shortfall"] == report.terms["shortfall"] + 1
    short = [g for g in data["gaps"] if (g["date"], g["peak"], g["post_id"], g["route_id"])
             == (duty.date, duty.peak, duty.post_id, duty.route_id)]
    assert short and short[0]["assigned"] == duty.assigned - 1 and short[0]["shortfall"] == 1


def test_an_unknown_person_id_is_a_violation(solved, tmp_path):
    _inst, out, rows, _report = solved
    path = _copy(out, tmp_path / "unknown")
    wb = openpyxl.load_workbook(path)
    ws = wb[ROSTER_SHEET]
    ws.cell(_sheet_row(ws, rows[5]), _header(ws)["person_id"]).value = "NOBODY"
    wb.save(path)
    r = run("check", INSTANCE, path)
    assert r.exit_code == 1
    assert "no person 'NOBODY'" in r.output and "FAIL: 1 hard violation(s) (roster 1)" in r.output


# ------------------------------------------------------------------------------------------------
# repair from the workbook
# ------------------------------------------------------------------------------------------------


def test_repair_from_the_workbook(solved, tmp_path):
    """repair takes roster.xlsx as the published roster: exit 0, the repaired roster keeps every
    hard rule of the changed instance, the absent guard is off duty from --from on."""
    _inst, out, rows, _report = solved
    repaired = tmp_path / "repaired"
    args = ["--absent", "LZ-G1", "--from", "2026-12-09", "--time-limit", "5", "--workers", "1"]
    r = run("repair", INSTANCE, out / "roster.xlsx", "-o", repaired, *args)
    assert r.exit_code == 0, r.output
    import yaml

    changed = changed_document(yaml.safe_load(INSTANCE.read_text(encoding="utf-8")), ["LZ-G1"], dt.date(2026, 12, 9), [])
    from models import instance_from_data

    check = check_roster(instance_from_data(changed), repaired)
    assert check.ok, [str(v) for v in check.violations]
    summary = json.loads((repaired / "summary.json").read_text())
    assert summary["repair"]["published_assignments"] == len(rows)
    assert summary["objective"] == pytest.approx(check.objective)
    after = read_roster(repaired)
    assert not [x for x in after if x["person_id"] == "LZ-G1" and x["date"] >= "2026-12-09"]
    assert [x for x in after if x["date"] < "2026-12-09"] == [x for x in rows if x["date"] < "2026-12-09"]
    # the same published rows as roster.csv: the same repair (when both runs ended by their budget)
    from_csv = tmp_path / "repaired-csv"
    assert run("repair", INSTANCE, out, "-o", from_csv, *args).exit_code == 0
    other = json.loads((from_csv / "summary.json").read_text())
    if summary.get("reproducible") and other.get("reproducible"):
        assert (from_csv / "roster.csv").read_bytes() == (repaired / "roster.csv").read_bytes()


# ------------------------------------------------------------------------------------------------
# a workbook that cannot be read
# ------------------------------------------------------------------------------------------------


def _rename_sheet(wb):
    wb[ROSTER_SHEET].title = "Rota"


def _drop_column(wb):
    ws = wb[ROSTER_SHEET]
    ws.cell(1, _header(ws)["person_id"]).value = "person"


def _bad_date(wb):
    ws = wb[ROSTER_SHEET]
    ws.cell(12, _header(ws)["date"]).value = "2026-13-40"


def _bad_time(wb):
    ws = wb[ROSTER_SHEET]
    ws.cell(12, _header(ws)["start"]).value = "half past seven"


@pytest.mark.parametrize(("edit", "where", "what"), [
    (_rename_sheet, "roster.xlsx: no sheet 'Roster'", "'Rota'"),
    (_drop_column, "sheet 'Roster', row 1, column 'person_id'", "missing from the header"),
    (_bad_date, "sheet 'Roster', row 12, column 'date'", "'2026-13-40' is not a date"),
    (_bad_time, "sheet 'Roster', row 12, column 'start'", "'half past seven' is not a time of day"),
], ids=["no-sheet", "no-column", "bad-date", "bad-time"])
@pytest.mark.parametrize("command", ["check", "repair"])
def test_a_broken_workbook_is_one_line_exit_2(solved, tmp_path, edit, where, what, command):
    _inst, out, _rows, _report = solved
    path = _copy(out, tmp_path / "broken")
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    if command == "check":
        r = run("check", INSTANCE, path)
    else:
        r = run("repair", INSTANCE, path, "--absent", "LZ-G1", "-o", tmp_path / "never", "--time-limit", "5")
        assert not (tmp_path / "never").exists() or not any((tmp_path / "never").iterdir())
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    assert lines[0].startswith("error: ") and where in lines[0] and what in lines[0], lines[0]
    with pytest.raises(InstanceError, match="Roster|sheet"):
        read_roster(path)


def test_not_a_workbook_is_one_line(tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_text("date,weekday\n", encoding="utf-8")
    with pytest.raises(InstanceError, match=r"roster\.xlsx: not an \.xlsx workbook"):
        read_roster(path)
