"""``roster.xlsx``: the roster as a workbook a planner filters, prints and forwards.

Sheets, in order:

- **Summary**: the instance, the week, the solver's status, objective, bound and gap, the
  validator's KPIs and each soft rule's value and cost.
- **Roster**: every assignment (roster.csv's columns plus the school's name; the layout is
  :mod:`models.roster_workbook`'s, whose reader ``check`` and ``repair`` use) as an Excel table with
  filters, header frozen; dates and times are real Excel dates and times.
- **Gaps**: gaps.csv as a table, with the reasons; dates are real Excel dates.
- **Week**: each person's week, one row per person with duties, one column per date (what, where,
  when), duties and minutes in total; a table with filters.
- one sheet per **school** (named by its id): posts as rows, date x peak as columns, the names of
  the people on duty in the cells; a cell short of ``min`` is red, one short of ``target`` amber.
  Route duties are on a **Routes** sheet in the same layout.
- one sheet per **unit** of ``units`` (named ``unit <id>``): its people's week, as on Week.

Made from the instance, the roster rows, the validator's report, the gaps and summary.json; the
file's bytes depend on nothing else (fixed document dates and zip times), so the same roster gives
the same file.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from models import Instance
from models.instance import format_hhmm, parse_hhmm
from models.roster_workbook import (
    DATE_COLUMNS,
    DATE_NUMBER_FORMAT,
    ROSTER_SHEET,
    ROSTER_SHEET_COLUMNS,
    TIME_COLUMNS,
    TIME_NUMBER_FORMAT,
)
from scheduler.human.labels import runs_on
from scheduler.human.labels import week as school_week

RED = PatternFill("solid", fgColor="F4B6B6")
AMBER = PatternFill("solid", fgColor="FCE4B6")
HEAD = PatternFill("solid", fgColor="DCE6F1")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(base: str, used: set[str]) -> str:
    """An Excel sheet name (at most 31 characters, none of ``[]:*?/\\``), unique in ``used``."""
    name = _BAD_SHEET_CHARS.sub("_", base).strip("'") or "sheet"
    name = name[:31]
    candidate, n = name, 2
    while candidate.lower() in used:
        suffix = f"~{n}"
        candidate = name[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate


def _table(ws: Worksheet, name: str, header: list[str], rows: list[list], widths: dict[int, int] | None = None) -> None:
    """Write a header and rows, and make them an Excel table with filters (when there are rows)."""
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = BOLD
    top = ws.max_row
    for row in rows:
        ws.append(row)
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    if rows:
        ref = f"A{top}:{get_column_letter(len(header))}{top + len(rows)}"
        table = Table(displayName=name, ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(table)
    for i, title in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = (widths or {}).get(i, max(10, min(40, len(title) + 4)))


def _day_label(date: dt.date) -> str:
    return date.strftime("%a %d %b")


def _names(cell_rows: list[dict]) -> str:
    return "\n".join(f"{r['person_name'] or r['person_id']} ({r['role'].replace('_', ' ')})"
                     for r in sorted(cell_rows, key=lambda r: (r["role"], r["person_name"], r["person_id"])))


def _summary(ws: Worksheet, inst: Instance, summary: dict, report, gaps) -> None:
    ws.title = "Summary"
    ws["A1"] = f"Roster {inst.name}"
    ws["A1"].font = TITLE
    dates = [date for _, date in school_week(inst)]
    lines: list[tuple[str, object]] = [
        ("week", f"{dates[0].isoformat()} to {dates[-1].isoformat()}"),
        ("schools", len(inst.schools)),
        ("persons", len(inst.persons)),
        ("status", summary.get("status")),
        ("valid (validator)", "yes" if report.ok else f"NO: {len(report.violations)} violations"),
        ("objective", summary.get("objective")),
        ("best bound", summary.get("best_bound")),
        ("gap", summary.get("gap")),
        ("assignments", summary.get("assignments")),
        ("gaps (rows of the Gaps sheet)", len(gaps)),
    ]
    row = 3
    for key, value in lines:
        ws.cell(row=row, column=1, value=key).font = BOLD
        cell = ws.cell(row=row, column=2, value=value)
        if key == "gap" and isinstance(value, (int, float)):
            cell.number_format = "0.00%"
        row += 1
    row += 1
    ws.cell(row=row, column=1, value="KPI").font = BOLD
    row += 1
    kpis = report.kpis
    for key, value in kpis.items():
        if isinstance(value, dict):
            continue
        ws.cell(row=row, column=1, value=key)
        cell = ws.cell(row=row, column=2, value=value)
        if isinstance(value, float) and key != "continuity_mean_distinct_posts":
            cell.number_format = "0.0%"
        row += 1
    row += 1
    for col, title in enumerate(["role", "duties", "max", "min", "mean", "spread"], start=1):
        ws.cell(row=row, column=col, value=title).font = BOLD
    row += 1
    for role, load in sorted(kpis.get("load_by_role", {}).items()):
        values = [role, kpis.get("duties_by_role", {}).get(role, 0), load["max"], load["min"], round(load["mean"], 2),
                  load["spread"]]
        for col, value in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=value)
        row += 1
    row += 1
    for col, title in enumerate(["soft rule", "value", "weight", "cost"], start=1):
        ws.cell(row=row, column=col, value=title).font = BOLD
    row += 1
    for rule, value in report.terms.items():
        weight = report.weights.get(rule, 0)
        for col, v in enumerate([rule, value, weight, value * weight], start=1):
            ws.cell(row=row, column=col, value=v)
        row += 1
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 26


def _grid_sheet(ws: Worksheet, title: str, subtitle: str, places: list[tuple[str, str]],
                columns: list[tuple[dt.date, str, str]], cells: dict, outcomes: dict) -> None:
    """Places (rows) x (date, peak) columns; names in cells; short cells coloured."""
    ws["A1"] = title
    ws["A1"].font = TITLE
    ws["A2"] = subtitle
    ws.cell(row=4, column=1, value="post").font = BOLD
    for j, (date, peak, window) in enumerate(columns, start=2):
        cell = ws.cell(row=4, column=j, value=f"{_day_label(date)}\n{peak} {window}")
        cell.font = BOLD
        cell.fill = HEAD
        cell.alignment = WRAP
        ws.column_dimensions[get_column_letter(j)].width = 26
    ws.column_dimensions["A"].width = 28
    for i, (place_id, label) in enumerate(places, start=5):
        ws.cell(row=i, column=1, value=label).font = BOLD
        ws.cell(row=i, column=1).alignment = WRAP
        tallest = 1
        for j, (date, peak, _w) in enumerate(columns, start=2):
            key = (place_id, date.isoformat(), peak)
            outcome = outcomes.get(key)
            got = cells.get(key, [])
            text = _names(got)
            cell = ws.cell(row=i, column=j)
            if outcome is None:
                cell.value = text or None
                cell.alignment = WRAP
                continue
            if outcome.assigned < outcome.min:
                cell.fill = RED
                text += f"\nSHORT: {outcome.assigned} of min {outcome.min}"
            elif outcome.police < outcome.min_police:
                cell.fill = RED
                text += f"\nSHORT of police: {outcome.police} of {outcome.min_police}"
            elif outcome.assigned < outcome.target:
                cell.fill = AMBER
                text += f"\n{outcome.assigned} of target {outcome.target}"
            cell.value = text.strip() or None
            cell.alignment = WRAP
            tallest = max(tallest, text.count("\n") + 1)
        ws.row_dimensions[i].height = 15 * min(tallest, 20)
    ws.freeze_panes = "B5"
    ws.print_title_rows = "4:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _person_week(rows: list[dict], dates: list[dt.date], places: dict[str, str]) -> dict[str, list]:
    """Per person: one text per date (their duties that day, in time order), duties, minutes."""
    by_person: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_person[r["person_id"]][r["date"]].append(r)
    out = {}
    for pid, days in by_person.items():
        texts, duties, minutes = [], 0, 0
        for date in dates:
            day_rows = sorted(days.get(date.isoformat(), []), key=lambda r: (r["start"], r["end"]))
            parts = []
            for r in day_rows:
                where = places.get(r["post_id"] or "route:" + r["route_id"], r["post_id"] or r["route_id"])
                parts.append(f"{r['start']}-{r['end']} {r['peak']}: {where}")
                h1, m1 = map(int, r["start"].split(":"))
                h2, m2 = map(int, r["end"].split(":"))
                minutes += (h2 * 60 + m2) - (h1 * 60 + m1)
            duties += len(day_rows)
            texts.append("\n".join(parts) or None)
        out[pid] = [texts, duties, minutes]
    return out


def _week_rows(persons, week: dict[str, list], days: int) -> list[list]:
    rows = []
    for person in persons:
        texts, duties, minutes = week.get(person.id, ([None] * days, 0, 0))
        rows.append([person.id, person.name or "", person.role, person.unit, duties, minutes, *texts])
    return rows


def roster_workbook(inst: Instance, rows: list[dict], report, gaps: list, summary: dict) -> bytes:
    """The workbook's bytes (see the module docstring)."""
    wb = Workbook()
    used = {"summary", "roster", "gaps", "week", "routes"}
    _summary(wb.active, inst, summary, report, gaps)
    dates = [date for _, date in school_week(inst)]
    school_name = {s.id: s.name or s.id for s in inst.schools}
    post_name: dict[str, str] = {}
    for s in inst.schools:
        for p in s.posts:
            post_name[p.id] = f"{p.name or p.id} ({school_name[s.id]})"
    for r in inst.routes:
        post_name["route:" + r.id] = f"route {r.name or r.id}"

    ws = wb.create_sheet(ROSTER_SHEET)
    _table(ws, ROSTER_SHEET, list(ROSTER_SHEET_COLUMNS), [
        [{**r, "school": school_name.get(r["school_id"], "")}[c] for c in ROSTER_SHEET_COLUMNS] for r in rows],
        widths={ROSTER_SHEET_COLUMNS.index(c) + 1: 12 for c in DATE_COLUMNS})
    _dates_and_times(ws, ROSTER_SHEET_COLUMNS)

    ws = wb.create_sheet("Gaps")
    gap_dicts = [g.model_dump() if hasattr(g, "model_dump") else dict(g) for g in gaps]
    gap_header = ["date", "peak", "school_id", "post_id", "route_id", "rule", "needed", "got", "reason"]
    _table(ws, "Gaps", gap_header, [[g[c] for c in gap_header] for g in gap_dicts], widths={1: 12, 9: 100})
    _dates_and_times(ws, gap_header)

    week = _person_week(rows, dates, post_name)
    week_header = ["person_id", "name", "role", "unit", "duties", "minutes", *(_day_label(d) for d in dates)]
    widths = {7 + i: 34 for i in range(len(dates))}
    ws = wb.create_sheet("Week")
    _table(ws, "Week", week_header, _week_rows(inst.persons, week, len(dates)), widths)
    for row in ws.iter_rows(min_row=2, min_col=7):
        for cell in row:
            cell.alignment = WRAP

    # per school and per route: place x (date, peak) grids
    cells: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for entry in rows:
        cells[(entry["post_id"] or "route:" + entry["route_id"], entry["date"], entry["peak"])].append(entry)
    outcomes = {(o.post_id or "route:" + o.route_id, o.date, o.peak): o for o in report.per_duty}
    for school in inst.schools:
        columns = []
        for day, date in school_week(inst):
            peaks = sorted((p for p in school.peaks if runs_on(p.days, day)), key=lambda p: p.start)
            columns += [(date, p.name, f"{format_hhmm(p.start)}-{format_hhmm(p.end)}") for p in peaks]
        where = ", ".join(x for x in (school.address, f"district {school.district}") if x)
        ws = wb.create_sheet(sheet_name(school.id, used))
        _grid_sheet(ws, school_name[school.id], where, [(p.id, p.name or p.id) for p in school.posts], columns,
                    cells, outcomes)
    if inst.routes:
        windows: dict[str, set[str]] = defaultdict(set)
        for r in inst.routes:
            for run in r.runs:
                windows[run.name].add(f"{format_hhmm(run.start)}-{format_hhmm(run.end)}")
        window = {name: next(iter(w)) if len(w) == 1 else "" for name, w in windows.items()}
        run_columns = sorted({(dt.date.fromisoformat(o.date), o.peak) for o in report.per_duty if o.kind == "route"})
        ws = wb.create_sheet("Routes")
        _grid_sheet(ws, "Patrol routes", "",
                    [("route:" + r.id, r.name or r.id) for r in inst.routes],
                    [(d, run, window.get(run, "")) for d, run in run_columns], cells, outcomes)

    # per unit: its people's week
    for unit in inst.units:
        members = [p for p in inst.persons if p.unit == unit.id]
        ws = wb.create_sheet(sheet_name(f"unit {unit.id}", used))
        ws["A1"] = unit.name or unit.id
        ws["A1"].font = TITLE
        ws["A2"] = f"{unit.kind} unit, {len(members)} people, schools: {', '.join(unit.schools)}"
        ws.append([])
        _table(ws, _table_name(unit.id, used), week_header, _week_rows(members, week, len(dates)), widths)
        for row in ws.iter_rows(min_row=5, min_col=7):
            for cell in row:
                cell.alignment = WRAP

    _no_formulas(wb)
    fixed = dt.datetime.combine(inst.week_start, dt.time())
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = "schoolpost"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip_times(buf.getvalue(), fixed)


def _dates_and_times(ws: Worksheet, header: tuple[str, ...] | list[str]) -> None:
    """The ISO date and ``HH:MM`` text of a table's date and time columns as real Excel dates and
    times (with a number format), so Excel sorts, filters and computes with them; a value that is
    not a date or a time of day (``24:00``) stays text. roster_workbook reads both back."""
    for name in header:
        if name not in DATE_COLUMNS and name not in TIME_COLUMNS:
            continue
        column = header.index(name) + 1
        for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
            if not isinstance(cell.value, str):
                continue
            try:
                if name in DATE_COLUMNS:
                    cell.value, cell.number_format = dt.date.fromisoformat(cell.value), DATE_NUMBER_FORMAT
                else:
                    h, m = divmod(parse_hhmm(cell.value), 60)
                    cell.value, cell.number_format = dt.time(h, m), TIME_NUMBER_FORMAT
            except ValueError:
                continue


def _no_formulas(wb: Workbook) -> None:
    """Text is text: openpyxl makes any string starting with ``=`` a formula, so a name such as
    ``=WEBSERVICE(...)`` would run in Excel; this workbook has no formulas, every cell is data."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def _table_name(base: str, used: set[str]) -> str:
    """An Excel table name (letters, digits, underscores; unique in the workbook)."""
    name = "T_" + re.sub(r"\W", "_", base)[:200]
    candidate, n = name, 2
    while "table:" + candidate.lower() in used:
        candidate = f"{name}_{n}"
        n += 1
    used.add("table:" + candidate.lower())
    return candidate


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fixed_zip_times(data: bytes, stamp: dt.datetime) -> bytes:
    """The same zip with every entry dated 1980-01-01 and the document's "modified" date (which
    openpyxl sets to now when saving) set to ``stamp``, so equal workbooks are equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", content)
            dst.writestr(fixed, content)
    return out.getvalue()
