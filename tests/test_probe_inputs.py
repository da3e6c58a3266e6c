"""The second probe (issue 16), input side: workbook cells that read as blank (formulas with no
saved value, merged ranges, in the instance workbook and in roster.xlsx), a merged range over a
whole sheet in a workbook of a few KiB, names with white space around them in every reader, and
leave, demand or kept dates on which no duty falls."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from models import InstanceError, load_instance
from models.spreadsheet import template_bytes
from scheduler.commands import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_error_line(r, *words: str) -> str:
    """The output is one line ``error: ...`` holding ``words``, exit code 2, no traceback."""
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.output, r.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _template(edit=None) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    if edit is not None:
        edit(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _rezip(data: bytes, change) -> bytes:
    """The .xlsx with each member's bytes passed through ``change(name, content)``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, change(item.filename, src.read(item.filename)))
    return out.getvalue()


def _person_row(ws, pid: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == pid)


# ------------------------------------------------------------------------------------------------
# item 2: merged ranges, bounded
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["H300:Z20000", "H300:XFD1048576"])
def test_a_merged_range_over_a_whole_sheet_is_refused_by_sheet_and_range(tmp_path, ref):
    """A workbook of a few KiB can declare one merged range of 17 billion cells (``H300:XFD1048576``):
    laying it out cell by cell took minutes and gigabytes. Refused in one line naming the sheet,
    the range and the limit, before any cell is laid out."""
    def merge(wb):
        wb["persons"].merge_cells("H3:H4")

    def widen(name, content):
        return content.replace(b'ref="H3:H4"', f'ref="{ref}"'.encode()) if name.startswith("xl/worksheets/") else content

    path = tmp_path / "merged.xlsx"
    path.write_bytes(_rezip(_template(merge), widen))
    assert path.stat().st_size < 64 * 1024
    line = one_error_line(run("info", path), "sheet 'persons'", ref, "merged")
    from models.spreadsheet import MAX_MERGED_CELLS

    assert f"{MAX_MERGED_CELLS:,}" in line


@pytest.fixture(scope="module")
def small_solved(tmp_path_factory):
    """small-school solved with roster.xlsx, checked by the validator."""
    from scheduler.check import check_roster

    out = tmp_path_factory.mktemp("probe") / "out"
    r = run("solve", ROOT / "instances" / "small-school.yaml", "-o", out, "--time-limit", "5", "--workers", "1",
            "--quiet", "--outputs", "xlsx")
    assert r.exit_code == 0, r.output
    report = check_roster(load_instance(ROOT / "instances" / "small-school.yaml"), out)
    assert report.ok, [str(v) for v in report.violations]
    return out


def _roster_copy(out: Path, dest: Path, edit) -> Path:
    dest.mkdir()
    wb = openpyxl.load_workbook(out / "roster.xlsx")
    edit(wb["Roster"], {c.value: c.column for c in wb["Roster"][1]})
    wb.save(dest / "roster.xlsx")
    return dest / "roster.xlsx"


def test_roster_workbook_merged_dates_read_in_every_row_and_unsaved_formulas_are_refused(small_solved, tmp_path):
    """roster.xlsx as a planner edits it: a date merged over the rows of that date reads in each of
    them (check passes, the rows are roster.csv's); a person id turned into a formula with no value
    saved is refused by sheet, row and column, never read as an empty cell."""
    from scheduler.check import read_roster

    instance = ROOT / "instances" / "small-school.yaml"
    rows = read_roster(small_solved)

    def merge(ws, col):
        same = [r for r in range(2, ws.max_row + 1) if ws.cell(r, col["date"]).value == ws.cell(2, col["date"]).value]
        assert len(same) > 2 and same == list(range(2, 2 + len(same)))
        for r in same[1:]:
            ws.cell(r, col["date"]).value = None
        ws.merge_cells(start_row=2, start_column=col["date"], end_row=same[-1], end_column=col["date"])

    merged = _roster_copy(small_solved, tmp_path / "merged", merge)
    assert read_roster(merged) == rows
    r = run("check", instance, merged)
    assert r.exit_code == 0, r.output

    def formula(ws, col):
        ws.cell(5, col["person_id"]).value = '=CONCATENATE("LZ-","G1")'

    unsaved = _roster_copy(small_solved, tmp_path / "formula", formula)
    one_error_line(run("check", instance, unsaved), "sheet 'Roster', row 5, column 'person_id'",
                   "a formula with no value saved")
    with pytest.raises(InstanceError, match="formula with no value saved"):
        read_roster(unsaved)


# ------------------------------------------------------------------------------------------------
# item 5: dates and days with no effect
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def six_days(tmp_path) -> Path:
    """small-school over mon-sat, every peak and run on mon-fri only: no duty falls on Saturday."""
    import yaml

    data = yaml.safe_load((ROOT / "instances" / "small-school.yaml").read_text(encoding="utf-8"))
    data["days"] = ["mon", "tue", "wed", "thu", "fri", "sat"]
    for peak in data["schools"][0]["peaks"]:
        peak.setdefault("days", ["mon", "tue", "wed", "thu", "fri"])
    for route in data["routes"]:
        for run_ in route["runs"]:
            run_.setdefault("days", ["mon", "tue", "wed", "thu", "fri"])
    path = tmp_path / "six.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    load_instance(path)
    return path


@pytest.mark.parametrize(("operation", "field", "words"), [
    ("{leave: {ids: [LZ-G1], days: [sat]}}", "leave.days", "no duty falls on sat"),
    ("{leave: {ids: [LZ-G1], dates: ['2026-12-12']}}", "leave.dates", "no duty falls on 2026-12-12"),
    ("{remove_people: {ids: [LZ-G1], days: [sat]}}", "remove_people.days", "no duty falls on sat"),
    ("{scale_demand: {factor: 2, days: [sat]}}", "scale_demand.days", "no duty falls on sat"),
    ("{scale_demand: {factor: 2, dates: ['2026-12-12']}}", "scale_demand.dates", "no duty falls on 2026-12-12"),
    ("{leave: {ids: [LZ-G1], days: [sun]}}", "leave.days", "sun is not a school day"),
    ("{scale_demand: {factor: 2, days: [sun]}}", "scale_demand.days", "sun is not a school day"),
    ("{scale_demand: {factor: 2, dates: ['2030-01-01']}}", "scale_demand.dates", "2030-01-01 is not a school day"),
], ids=["leave-day", "leave-date", "remove-day", "scale-day", "scale-date", "leave-sun", "scale-sun", "scale-2030"])
def test_a_what_if_on_a_day_without_duties_is_refused(six_days, tmp_path, operation, field, words):
    """A leave, an absence or a demand change on a day of the week with no duty (Saturday in a
    week whose peaks and runs are mon-fri), or outside the week, would change nothing: refused
    naming the operation's field, before anything is solved, nothing written (a scaled Sunday
    was refused as 'no peak named arrival@sun', which names no field a planner wrote)."""
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(f"scenarios:\n  - name: v\n    operations:\n      - {operation}\n", encoding="utf-8")
    out = tmp_path / "out"
    line = one_error_line(run("whatif", six_days, scenarios, "-o", out, "--time-limit", "5"),
                          f"scenarios[0].operations[0].{field}: ", words, "nothing would change")
    assert "@" not in line
    assert not out.exists()


def test_a_what_if_on_a_day_with_duties_is_applied(six_days):
    """The same operations on a day with duties change the document (the check above is not a
    refusal of every day)."""
    import yaml

    from scheduler.scenarios import Scenario, apply_operations

    doc = yaml.safe_load(six_days.read_text(encoding="utf-8"))
    scenario = Scenario.model_validate({"name": "v", "operations": [
        {"leave": {"ids": ["LZ-G1"], "days": ["fri"]}}, {"scale_demand": {"factor": 2, "dates": ["2026-12-11"]}}]})
    variant = apply_operations(doc, scenario)
    person = next(p for p in variant["persons"] if p["id"] == "LZ-G1")
    assert "2026-12-11" in person["leave"]
    assert any(p["name"].endswith("@fri") for p in variant["schools"][0]["peaks"])


@pytest.mark.parametrize(("option", "words"), [
    (["--keep", "date:2026-12-12"], "--keep: no duty falls on date:2026-12-12"),
    (["--from", "2026-12-12"], "--from: no duty falls on 2026-12-12 or after"),
])
def test_repair_on_a_day_without_duties_is_refused(six_days, tmp_path, option, words):
    """repair keeping a date with no duty, or an absence from a date after the last duty, would
    change nothing: one line naming the option, exit 2, nothing written."""
    from scheduler.check import check_roster

    out = tmp_path / "published"
    r = run("solve", six_days, "-o", out, "--time-limit", "3", "--workers", "1", "--quiet", "--outputs", "none")
    assert r.exit_code == 0, r.output
    assert check_roster(load_instance(six_days), out).ok
    repaired = tmp_path / "repaired"
    one_error_line(run("repair", six_days, out, "--absent", "LZ-G1", *option, "-o", repaired, "--time-limit", "3",
                       "--outputs", "none"), words)
    assert not repaired.exists()


# ------------------------------------------------------------------------------------------------
# resources: what cannot fit is refused before the work, naming the option that raises the limit
# ------------------------------------------------------------------------------------------------


def test_whatif_refuses_an_instance_or_variant_over_max_pairs_before_solving(tmp_path):
    """whatif took the pairs limit of solve without its option: a large instance was refused only
    inside each variant's solve (minutes after the start), naming --max-pairs, which whatif did not
    have. Now it is refused before anything is solved, by the same words, and --max-pairs raises it;
    a variant that grows past it is refused naming the scenario."""
    small = ROOT / "instances" / "small-school.yaml"
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios: [{name: more, operations: [{add_people: {role: security_guard, "
                         "unit: liuzhuang-ps, count: 40}}]}]\n", encoding="utf-8")
    out = tmp_path / "out"
    one_error_line(run("whatif", small, scenarios, "-o", out, "--max-pairs", "20"),
                   "persons: up to", "eligible (person, duty) pairs", "at most 20", "--max-pairs")
    one_error_line(run("whatif", small, scenarios, "-o", out, "--max-pairs", "300"),
                   "scenarios[0] (more): ", "at most 300", "--max-pairs")
    assert not out.exists()


# ------------------------------------------------------------------------------------------------
# item 3: white space around text, the same in every reader
# ------------------------------------------------------------------------------------------------

SPACES = ("\u3000", "\xa0", "\t", " ", "\u2003")


def test_white_space_around_text_is_dropped_by_every_reader(small_solved, tmp_path):
    """SPEC: text loses its leading and trailing white space (str.strip: tab, no-break space,
    ideographic space U+3000 and the other Unicode spaces) once, at load time, in every reader: the
    instance workbook gives the same instance as the trimmed document, and check reads roster.csv
    and roster.xlsx cells with such space around them as the trimmed values (the roster passes)."""
    from scheduler.check import check_roster, read_roster

    instance = ROOT / "instances" / "small-school.yaml"

    def spaced(wb):
        ws = wb["persons"]
        for k, r in enumerate(range(3, ws.max_row + 1)):
            for c in (1, 2, 3, 4):  # id, name, role, unit
                cell = ws.cell(r, c)
                if isinstance(cell.value, str):
                    cell.value = SPACES[k % len(SPACES)] + cell.value + SPACES[(k + 1) % len(SPACES)]

    plain, padded = tmp_path / "plain.xlsx", tmp_path / "padded.xlsx"
    plain.write_bytes(_template())
    padded.write_bytes(_template(spaced))
    assert openpyxl.load_workbook(padded)["persons"].cell(3, 1).value != openpyxl.load_workbook(plain)["persons"].cell(3, 1).value
    assert load_instance(padded) == load_instance(plain)

    rows = read_roster(small_solved)
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    text = (small_solved / "roster.csv").read_text(encoding="utf-8").splitlines()
    padded_rows = [text[0]] + [",".join(SPACES[k % len(SPACES)] + cell + SPACES[(k + 2) % len(SPACES)]
                                        for cell in line.split(",")) for k, line in enumerate(text[1:])]
    (csv_dir / "roster.csv").write_text("\n".join(padded_rows) + "\n", encoding="utf-8")
    assert read_roster(csv_dir) == rows
    assert check_roster(load_instance(instance), csv_dir).ok

    def pad(ws, col):
        for r in range(2, ws.max_row + 1):
            for name in ("person_id", "person_name", "role", "post_id", "peak"):
                cell = ws.cell(r, col[name])
                if isinstance(cell.value, str) and cell.value:
                    cell.value = SPACES[r % len(SPACES)] + cell.value + SPACES[(r + 3) % len(SPACES)]

    xlsx = _roster_copy(small_solved, tmp_path / "xlsx", pad)
    assert read_roster(xlsx) == rows
    r = run("check", instance, xlsx)
    assert r.exit_code == 0, r.output


def test_a_yaml_file_too_large_to_read_in_reasonable_time_is_refused_before_it_is_read(tmp_path):
    """YAML is read about twenty times slower than JSON, with six times the memory (a 6 MB file:
    11 s and 670 MB; a 50 MB one took minutes and gigabytes whatever --time-limit said). A YAML file
    over MAX_YAML_BYTES is refused by its size before it is read, naming the size, the limit and
    the way out (JSON, or a folder of district files for batch); the same document as JSON is read."""
    import json

    from models.loader import MAX_FILE_BYTES, MAX_YAML_BYTES

    assert MAX_YAML_BYTES < MAX_FILE_BYTES
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:  # sparse: no disk, and never read
        fh.write(b"format: schoolpost/1\n")
        fh.truncate(MAX_YAML_BYTES + 1)
    limit = f"{MAX_YAML_BYTES // 2**20} MiB"
    one_error_line(run("info", big), f"the limit for YAML is {limit}", "JSON", "batch")
    one_error_line(run("solve", big.rename(tmp_path / "big.yml"), "-o", tmp_path / "out"), "limit for YAML")
    small = tmp_path / "small.json"
    import yaml

    small.write_text(json.dumps(yaml.safe_load((ROOT / "instances" / "small-school.yaml").read_text())), "utf-8")
    assert load_instance(small) == load_instance(ROOT / "instances" / "small-school.yaml")


def test_staffing_and_repair_refuse_an_instance_over_max_pairs_before_any_work(tmp_path, small_solved):
    """staffing ran unit after unit for minutes on an instance far over the pairs limit, and repair
    had no check at all: both refuse it before anything is solved or read beyond the instance, in
    solve's words, and take --max-pairs as solve does."""
    small = ROOT / "instances" / "small-school.yaml"
    one_error_line(run("staffing", small, "--role", "police", "--max-pairs", "20"),
                   "persons: up to", "eligible (person, duty) pairs", "at most 20", "--max-pairs")
    out = tmp_path / "mended"
    one_error_line(run("repair", small, small_solved, "--absent", "nobody", "-o", out, "--max-pairs", "20"),
                   "persons: up to", "at most 20", "--max-pairs")
    assert not out.exists()
