"""The roster sheet of ``roster.xlsx``: its layout, shared by the writer
(:mod:`scheduler.human.workbook`) and the reader below, so the two cannot drift apart.

The sheet :data:`ROSTER_SHEET` holds one header row (the first row, :data:`ROSTER_SHEET_COLUMNS`)
and one row per assignment. ``date`` is a real Excel date (:data:`DATE_NUMBER_FORMAT`), ``start``
and ``end`` real Excel times (:data:`TIME_NUMBER_FORMAT`), the ids and names text cells.

:func:`read_roster_workbook` gives the rows back in the form :func:`scheduler.check.read_roster`
reads from roster.csv (:data:`models.roster.ASSIGNMENT_COLUMNS`; ISO dates, ``HH:MM`` times, text
stripped), whatever a spreadsheet program made of the cells after a planner's edits: a date cell or
a date and time at midnight, a time cell, a serial number, a number stored as text, empty rows,
trailing spaces, columns moved or added. A cell it cannot read is an :class:`InstanceError` naming
file, sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from models.errors import InstanceError
from models.instance import format_hhmm
from models.roster import ASSIGNMENT_COLUMNS
from models.spreadsheet import (
    _NUMBER,
    UNSAVED,
    UNSAVED_TEXT,
    Origin,
    _as_date,
    _as_time,
    _CellError,
    _formulas_and_merges,
    _norm,
    _open_workbook,
    _sheet_rows,
    worksheet_parts,
)

#: the sheet of roster.xlsx that holds the roster table (also the Excel table's name)
ROSTER_SHEET = "Roster"
#: its header, in order: roster.csv's columns, ``start``/``end`` after ``peak``, and the school's name
ROSTER_SHEET_COLUMNS: tuple[str, ...] = ("date", "weekday", "peak", "start", "end", "school_id", "school", "post_id",
                                         "route_id", "person_id", "person_name", "role")
#: number formats of the date and time cells
DATE_NUMBER_FORMAT = "yyyy-mm-dd"
TIME_NUMBER_FORMAT = "hh:mm"
#: columns holding a date, and a time of day
DATE_COLUMNS = ("date",)
TIME_COLUMNS = ("start", "end")

assert set(ASSIGNMENT_COLUMNS) <= set(ROSTER_SHEET_COLUMNS)

#: seconds text a spreadsheet program may add to a time ("07:20:00.000"): dropped before parsing
_ZERO_FRACTION = re.compile(r"^(\d{1,2}:\d{2}:\d{2})\.0*$")
#: the largest serial number Excel shows as a date (9999-12-31)
_MAX_SERIAL = 2_958_465


def _whole(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _text(value: object) -> str:
    """A text column: ids and names, as a spreadsheet program may have typed them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return _whole(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time | dt.timedelta):
        try:
            return _hhmm_text(value)
        except _CellError:
            return str(value)
    return str(value).strip()


def _date_text(value: object, epoch: dt.datetime) -> str:
    """A date column: ``YYYY-MM-DD``. Beyond what the planner's workbook takes
    (:func:`models.spreadsheet._as_date`): a serial number, and date-and-time text at midnight."""
    from openpyxl.utils.datetime import from_excel

    what = "a date (a date cell, or text YYYY-MM-DD)"
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.match(text):
            value = float(text)
        else:
            try:
                value = dt.datetime.fromisoformat(text)
            except ValueError:
                raise _CellError(f"{text!r} is not {what}") from None
    if isinstance(value, bool | int | float):
        if isinstance(value, bool) or not (float(value).is_integer() and 1 <= value <= _MAX_SERIAL):
            raise _CellError(f"{_text(value)} is not {what}")
        value = from_excel(value, epoch)
    if isinstance(value, dt.datetime) and value.time() != dt.time():
        raise _CellError(f"{value.isoformat(' ')} is a date and a time of day, not {what}")
    try:
        return _as_date(value).isoformat()
    except _CellError:
        raise _CellError(f"{_text(value)!r} is not {what}") from None


def _hhmm_text(value: object) -> str:
    """A time column: ``HH:MM``. Beyond what the planner's workbook takes
    (:func:`models.spreadsheet._as_time`): a fraction of a day as a number, and a date-and-time
    cell's time of day, whatever its date."""
    shown = value.strip() if isinstance(value, str) else str(value)
    if isinstance(value, str):
        text = value.strip()
        value = float(text) if _NUMBER.match(text) else _ZERO_FRACTION.sub(r"\1", text)
    elif isinstance(value, dt.datetime):
        value = value.time()
    try:
        if isinstance(value, bool):
            raise _CellError
        if isinstance(value, int | float):  # a fraction of a day, as Excel stores a time
            minutes = value * 24 * 60
            whole = round(minutes)
            if not 0 <= value <= 1 or abs(minutes - whole) > 1 / 60 + 1e-9:  # more than a second off
                raise _CellError
            return format_hhmm(whole)
        return _as_time(value)
    except _CellError:
        raise _CellError(f"{shown!r} is not a time of day (a time cell, or text HH:MM)") from None


def read_roster_workbook(path: str | Path) -> list[dict[str, str]]:
    """The rows of the roster sheet of a workbook written by ``schoolpost solve`` (and perhaps edited
    since), as :data:`ASSIGNMENT_COLUMNS` text like roster.csv's; rows with none of those columns
    filled are left out. Raises :class:`InstanceError` naming file, sheet, row and column."""
    path = Path(path)
    if not path.is_file():
        raise InstanceError(str(path), "no such file (expected the roster workbook written by 'schoolpost solve')")
    try:
        wb = _open_workbook(path)
    except InstanceError as exc:
        raise InstanceError(str(path), exc.message) from None
    try:
        titles = {ws.title: ws for ws in wb.worksheets}
        title = ROSTER_SHEET if ROSTER_SHEET in titles else next(
            (t for t in titles if t.strip().lower() == ROSTER_SHEET.lower()), None)
        if title is None:
            raise InstanceError(str(path), f"no sheet {ROSTER_SHEET!r} (the roster table of roster.xlsx); the sheets "
                                           f"are {', '.join(repr(t) for t in titles) or 'none'}")
        try:
            cells = _formulas_and_merges(path, {title: worksheet_parts(wb)[title]}).get(title)
            return _rows(path, title, _sheet_rows(titles[title], title, cells), wb.epoch)
        except InstanceError as exc:
            if exc.path.startswith(str(path)):
                raise
            raise InstanceError(f"{path}: {exc.path}" if exc.path else str(path), exc.message) from None
    finally:
        wb.close()


def _rows(path: Path, sheet: str, rows, epoch: dt.datetime) -> list[dict[str, str]]:
    from openpyxl.utils import get_column_letter

    def where(row: int, column: str | None = None) -> str:
        return f"{path}: {Origin(sheet, row, column).describe()}"

    first = next(rows, None)
    if first is None:
        raise InstanceError(where(1), f"empty: the first row must hold the column names "
                                      f"({', '.join(ROSTER_SHEET_COLUMNS)})")
    number, header = first
    index: dict[str, int] = {}
    for i, value in enumerate(header):
        if value is UNSAVED:
            raise InstanceError(where(number, get_column_letter(i + 1)), UNSAVED_TEXT)
        name = _norm(value) if value is not None else ""
        if name in ASSIGNMENT_COLUMNS:
            if name in index:
                raise InstanceError(where(number, name), f"twice, in columns {get_column_letter(index[name] + 1)} "
                                                         f"and {get_column_letter(i + 1)}")
            index[name] = i
    missing = [c for c in ASSIGNMENT_COLUMNS if c not in index]
    if missing:
        raise InstanceError(where(number, missing[0]), f"missing from the header: {', '.join(missing)} "
                                                       f"(expected {', '.join(ROSTER_SHEET_COLUMNS)})")
    out = []
    for number, values in rows:
        raw = {c: values[i] if i < len(values) else None for c, i in index.items()}
        if all(v is None or v == "" for v in raw.values()):
            continue
        row = {}
        for column in ASSIGNMENT_COLUMNS:
            value = raw[column]
            if value is UNSAVED:
                raise InstanceError(where(number, column), UNSAVED_TEXT)
            try:
                if value is None or (isinstance(value, str) and not value.strip()):
                    row[column] = ""
                elif column in DATE_COLUMNS:
                    row[column] = _date_text(value, epoch)
                elif column in TIME_COLUMNS:
                    row[column] = _hhmm_text(value)
                else:
                    row[column] = _text(value)
            except _CellError as exc:
                raise InstanceError(where(number, column), str(exc) or "cannot be read") from None
        out.append(row)
    return out
