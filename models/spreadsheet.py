"""Instances as spreadsheets (``.xlsx``): the same document as a YAML file, one sheet per table.

:func:`instance_data_from_xlsx` reads a workbook into the plain instance document (the nested
dict a YAML file gives), not yet validated; :func:`instance_to_xlsx` writes any valid instance in
the same layout; :func:`template_bytes` is that layout with a small worked example. The layout is
described for users in ``docs/SPREADSHEET.md``; in short:

Sheets (names and column names are matched ignoring case; ``readme`` and ``notes`` sheets are
ignored; any other sheet is an error; sheets other than ``policy`` may be left out when empty):

========================  ==========================================================================
``policy``                ``key``, ``value``, ``note``: one row per setting, dotted keys -- ``format``,
                          ``name``, ``week_start``, ``days``, ``travel.speed_kmh``,
                          ``travel.road_factor``, ``policy.min_professional_share``,
                          ``policy.limits.<role>.<limit>``, ``policy.weights.<rule>``... (any field of
                          the instance header, ``Policy`` and ``Travel``; ``note`` is not read)
``units``                 id, kind, name, schools
``schools``               id, name, type, district, lat, lon, students, address
``peaks``                 school_id, name, start, end, days
``posts``                 one row per post and demand entry: school_id, post_id, kind, name, lat, lon
                          (post attributes, on any one of its rows), demand (``default`` or a peak
                          name; blank means ``default``), min, target, min_police, skills
``routes``                one row per run: route_id, name, unit, stops, crew_min, crew_max,
                          crew_min_police, crew_skills (route attributes, on any one of its rows),
                          run, start, end, days
``persons``               id, name, role, unit, skills, home_lat, home_lon, max_per_day, max_per_week,
                          max_minutes_per_week
``availability``          person_id, days, start, end (a row with days ``-`` and no times: never
                          available, i.e. ``availability: []``)
``leave``                 person_id, date, start, end (no times: the whole date)
``pins``                  person_id, date, peak, post, route (extension: duties a person must take)
``travel_matrix``         from, to, minutes
========================  ==========================================================================

Cells: row 1 holds the column names; a row whose first non-empty cell is text starting with ``#``
is a note (the written workbooks put one under the header) and fully empty rows are skipped.
Blank means "not given" (the default applies); ``-`` is an explicitly empty list or mapping.
Lists are comma-separated (``mon, tue`` or ``mon-thu`` for days; an item holding a comma is put in
double quotes); skill counts are ``traffic:1, first_aid:2`` (a bare name counts 1). Times are
``HH:MM`` text or Excel time cells; dates are date cells or ``YYYY-MM-DD`` text; numbers may be
typed as text. Text cells are stripped of surrounding spaces.

Errors: every problem is an :class:`models.errors.InstanceError` naming sheet, row and column.
The reader does not stop at the first bad cell: it reads on, checks the assembled document against
the instance model too, and raises every problem it found together (:class:`models.errors.InstanceErrors`,
one line each, in sheet, row and column order; one problem alone is raised as itself). A problem
with the layout (an unknown sheet, a missing or unknown column) is raised, with those found so
far, before any row is interpreted.
The returned document is a :class:`SheetDocument` whose ``origins`` map field paths
(``persons[3].role``, as :func:`models.errors.format_loc` writes them) to the cell they came
from; :func:`locate_error` turns a validation error's path into that cell.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import re
import types
import typing
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from models.errors import InstanceError, collected, validation_error
from models.instance import ROLES, SCHOOL_TYPES, WEEKDAYS, Instance, Travel, format_hhmm, parse_hhmm

__all__ = [
    "Origin",
    "SheetDocument",
    "instance_data_from_xlsx",
    "instance_to_xlsx",
    "locate_error",
    "template_bytes",
]

EMPTY = "-"  # an explicitly empty list or mapping
IGNORED_SHEETS = ("readme", "notes")
MAX_ROWS = 1_000_000
#: the most an instance workbook may unpack to (all its parts): a city's is about 10 MiB; a zip of
#: 2 MiB can hold gigabytes of blanks, which the reader would otherwise hold in memory
MAX_UNPACKED_BYTES = 256 * 2**20


# --------------------------------------------------------------------------------------------
# Where a value came from
# --------------------------------------------------------------------------------------------


class Origin(NamedTuple):
    """The cell a document value came from; ``key`` is the dotted key of a ``policy`` row."""

    sheet: str
    row: int | None
    column: str | None
    key: str | None = None

    def describe(self) -> str:
        parts = [f"sheet {self.sheet!r}"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.key is not None:
            parts.append(f"key {self.key!r}")
        return ", ".join(parts)


class SheetDocument(dict):
    """An instance document read from a workbook; ``origins`` maps field paths to cells."""

    def __init__(self, *args: Any, origins: dict[str, Origin] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.origins: dict[str, Origin] = origins if origins is not None else {}


class _Located(InstanceError):
    """A problem at a known cell; its origin orders the report."""

    def __init__(self, origin: Origin, message: str):
        super().__init__(origin.describe(), message)
        self.origin = origin


def _order(origin: Origin | None) -> tuple[int, int, int]:
    """Sheets in layout order, then rows, then columns (a whole row's problem before its cells')."""
    if origin is None:
        return (-1, 0, 0)
    names = list(SHEETS)
    columns = [c.name for c in SHEETS[origin.sheet][1]] if origin.sheet in SHEETS else []
    sheet = names.index(origin.sheet) if origin.sheet in SHEETS else len(names)
    if origin.column is None:
        column = -1
    else:
        column = columns.index(origin.column) if origin.column in columns else len(columns)
    return (sheet, origin.row or 0, column)


class _Problems:
    """The problems a reading finds, the first of each cell; raised all together at the end."""

    def __init__(self, source: str):
        self.source = source
        self.found: list[tuple[tuple[int, int, int], int, InstanceError]] = []
        self.seen: set[Any] = set()
        self.layout = False  # a sheet's layout is wrong: its rows cannot be read

    def add(self, exc: InstanceError, origin: Origin | None = None) -> None:
        origin = origin or getattr(exc, "origin", None)
        if origin is not None and origin.row is not None and origin.column is not None:
            where: Any = (origin.sheet, origin.row, origin.column)
        else:
            where = exc.path
        if where and where in self.seen:
            return  # one problem per cell: e.g. a bad required cell is not also "missing"
        self.seen.add(where)
        self.found.append((_order(origin), len(self.found), exc))

    def raise_all(self) -> None:
        if self.found:
            raise collected(self.source, [exc for _, _, exc in sorted(self.found, key=lambda f: f[:2])])


_PATH_IN_MESSAGE = re.compile(r"\b(?:units|schools|routes|persons)\[\d+\](?:\.\w+|\[\d+\])*")


def _parent_path(path: str) -> str | None:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else None


def locate_error(exc: InstanceError, origins: Mapping[str, Origin]) -> InstanceError:
    """``persons[3].role: must be ...`` -> ``sheet 'persons', row 6, column 'role': must be ...``:
    the longest prefix of the error's path that has an origin names the cell."""
    return _locate(exc, origins)[0]


def _locate(exc: InstanceError, origins: Mapping[str, Origin]) -> tuple[InstanceError, Origin | None]:
    """:func:`locate_error`, and the cell (or sheet) it names."""
    path = exc.path or ""

    def cell_of(match: re.Match) -> str:  # "first at persons[0].id" -> "first at row 3"
        origin = origins.get(match.group(0))
        return f"row {origin.row}" if origin is not None and origin.row is not None else match.group(0)

    text = _PATH_IN_MESSAGE.sub(cell_of, exc.message)
    probe: str | None = path
    while probe:
        origin = origins.get(probe)
        if origin is not None:
            rest = path[len(probe):].lstrip(".")
            message = text if not rest or origin.column is not None else f"{rest}: {text}"
            return InstanceError(origin.describe(), message), origin
        probe = _parent_path(probe)
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if head in _POLICY_SECTIONS:  # a setting the policy sheet does not list
        origin = Origin("policy", None, None, path)
        return InstanceError(origin.describe(), text), origin
    if head in _SHEET_OF_SECTION:
        return InstanceError(f"sheet {_SHEET_OF_SECTION[head]!r} ({path})", text), Origin(_SHEET_OF_SECTION[head], None, None)
    return exc, None


# --------------------------------------------------------------------------------------------
# The layout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id, text, num, time, date, days, list, counts, bool, note
    note: str
    required: bool = False
    width: int = 14


_DAYS_NOTE = "e.g. mon,tue,wed or mon-thu; blank = every school day; '-' = no day"

SHEETS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "policy": (
        "Settings, one per row: the instance header (format, name, week_start, days), travel.* and policy.*.",
        (
            Column("key", "id", "dotted key, e.g. policy.weights.shortfall", True, 36),
            Column("value", "any", "the value; blank = the default", True, 28),
            Column("note", "note", "free text, not read", False, 90),
        ),
    ),
    "units": (
        "Police stations, community committees...: which schools each serves. A school needs no row here.",
        (
            Column("id", "id", "unique unit id (required)", True, 26),
            Column("kind", "id", "police, community or school (blank = police)", False, 12),
            Column("name", "text", "display name", False, 34),
            Column("schools", "list", "ids of the schools it serves, comma-separated; '-' = none", False, 40),
        ),
    ),
    "schools": (
        "One row per school.",
        (
            Column("id", "id", "unique school id (required)", True, 18),
            Column("name", "text", "display name", False, 30),
            Column("type", "id", f"{', '.join(SCHOOL_TYPES)} (required)", True, 14),
            Column("district", "id", "district id (blank = default)", False, 12),
            Column("lat", "num", "latitude, WGS84 (required)", True, 11),
            Column("lon", "num", "longitude, WGS84 (required)", True, 11),
            Column("students", "num", "pupils", False, 10),
            Column("address", "text", "shown on duty sheets", False, 30),
        ),
    ),
    "peaks": (
        "The daily windows when a school's posts are staffed. One name may have several rows on different days.",
        (
            Column("school_id", "id", "a school id (required)", True, 18),
            Column("name", "id", "peak name, e.g. arrival, dismissal (required)", True, 14),
            Column("start", "time", "HH:MM (required)", True, 8),
            Column("end", "time", "HH:MM (required)", True, 8),
            Column("days", "days", _DAYS_NOTE, False, 22),
        ),
    ),
    "posts": (
        "One row per post and demand entry. Post attributes (kind, name, lat, lon) may go on any one of its rows.",
        (
            Column("school_id", "id", "the post's school (required)", True, 18),
            Column("post_id", "id", "unique post id (required)", True, 26),
            Column("kind", "id", "gate or pickup_area (blank = gate)", False, 12),
            Column("name", "text", "display name", False, 20),
            Column("lat", "num", "post location (blank = the school's)", False, 10),
            Column("lon", "num", "post location (blank = the school's)", False, 10),
            Column("demand", "id", "'default' or a peak name whose entry overrides default (blank = default)", False, 12),
            Column("min", "num", "people needed", False, 7),
            Column("target", "num", "people wanted (blank = min)", False, 7),
            Column("min_police", "num", "of them police", False, 10),
            Column("skills", "counts", "skill:count, e.g. traffic:1", False, 18),
        ),
    ),
    "routes": (
        "Patrol routes, one row per run. Route attributes (name, unit, stops, crew_*) may go on any one of its rows.",
        (
            Column("route_id", "id", "unique route id (required)", True, 18),
            Column("name", "text", "display name", False, 20),
            Column("unit", "id", "the unit that crews it (required)", True, 22),
            Column("stops", "list", "school ids passed, in order (required)", True, 24),
            Column("crew_min", "num", "crew size (blank = 1)", False, 9),
            Column("crew_max", "num", "largest crew (blank = no limit)", False, 9),
            Column("crew_min_police", "num", "of the crew police", False, 9),
            Column("crew_skills", "counts", "skill:count", False, 14),
            Column("run", "id", "run name, e.g. morning", False, 12),
            Column("start", "time", "HH:MM", False, 8),
            Column("end", "time", "HH:MM", False, 8),
            Column("days", "days", _DAYS_NOTE, False, 20),
        ),
    ),
    "persons": (
        "One row per person. A unit is a unit id, or a school id for the school's own staff.",
        (
            Column("id", "id", "unique person id (required)", True, 12),
            Column("name", "text", "display name", False, 18),
            Column("role", "id", f"{', '.join(ROLES)} (required)", True, 18),
            Column("unit", "id", "unit or school id (required)", True, 22),
            Column("skills", "list", "comma-separated, e.g. traffic, first_aid", False, 18),
            Column("home_lat", "num", "home, start of the day's travel", False, 10),
            Column("home_lon", "num", "home, start of the day's travel", False, 10),
            Column("max_per_day", "num", "own limit, overrides the role's", False, 11),
            Column("max_per_week", "num", "own limit, overrides the role's", False, 11),
            Column("max_minutes_per_week", "num", "own limit, overrides the role's", False, 12),
        ),
    ),
    "availability": (
        "When a person can serve; a person without rows here can serve all day every day.",
        (
            Column("person_id", "id", "a person id (required)", True, 12),
            Column("days", "days", "e.g. mon-fri; blank = every day; '-' with no times = never available", False, 22),
            Column("start", "time", "HH:MM (required)", True, 8),
            Column("end", "time", "HH:MM (required)", True, 8),
        ),
    ),
    "leave": (
        "Leave: a whole date, or a window of a date.",
        (
            Column("person_id", "id", "a person id (required)", True, 12),
            Column("date", "date", "YYYY-MM-DD (required)", True, 12),
            Column("start", "time", "HH:MM; blank = the whole date", False, 8),
            Column("end", "time", "HH:MM; blank = the whole date", False, 8),
        ),
    ),
    "pins": (
        "Duties a person must take (hard rule 'pinned'): a post's peak or a route's run on a date.",
        (
            Column("person_id", "id", "a person id (required)", True, 12),
            Column("date", "date", "YYYY-MM-DD, a school day of the week (required)", True, 12),
            Column("peak", "id", "the peak's name, or the run's for a route (required)", True, 12),
            Column("post", "id", "a post id (or give a route)", False, 22),
            Column("route", "id", "a route id (or give a post)", False, 16),
        ),
    ),
    "travel_matrix": (
        "Explicit travel minutes between schools, used for the pairs listed (others: distance).",
        (
            Column("from", "id", "school id (required)", True, 18),
            Column("to", "id", "school id (required)", True, 18),
            Column("minutes", "num", "travel minutes (required)", True, 9),
        ),
    ),
}

_SHEET_OF_SECTION = {"units": "units", "schools": "schools", "routes": "routes", "persons": "persons"}
#: Top-level fields set on the policy sheet: the header (format, name, week_start, days, timezone...),
#: policy.* and travel.* -- every field of :class:`Instance` that is not a table of its own.
_POLICY_SECTIONS = tuple(f for f in Instance.model_fields if f not in _SHEET_OF_SECTION)
_DAY_NAMES = {d: d for d in WEEKDAYS} | {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
    "saturday": "sat", "sunday": "sun", "tues": "tue", "thur": "thu", "thurs": "thu",
}


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


class _CellError(ValueError):
    pass


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, dt.datetime):
        return f"the date-time {value.isoformat(sep=' ')}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dt.time):
        return f"the time {value.isoformat()}"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return f"the number {value!r}"


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_TIME_TEXT = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | dt.date | dt.time | dt.timedelta):
        raise _CellError(f"must be text, got {_show(value)} (format the cell as text)")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _as_number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _CellError(f"must be a number, got {_show(value)}")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if not _NUMBER.match(text):
            raise _CellError(f"must be a number, got {_show(value)}")
        try:
            return int(text) if _INTEGER.match(text) else float(text)
        except ValueError:  # an integer of more than 4,300 digits
            raise _CellError(f"must be a number of at most 4,300 digits, got {_show(value)}") from None
    return value


def _minutes_of_seconds(seconds: float) -> int:
    minutes = round(seconds / 60)
    if abs(seconds - minutes * 60) > 1:
        raise _CellError("must be a time in whole minutes 'HH:MM'")
    return minutes


def _as_time(value: Any) -> str:
    """``"07:20"``, an Excel time, or a time-formatted 1.0 (24:00) -> ``"07:20"``."""
    if isinstance(value, str):
        m = _TIME_TEXT.match(value.strip())
        text = f"{m.group(1)}:{m.group(2)}" if m else value.strip()
        try:
            return format_hhmm(parse_hhmm(text))
        except ValueError:
            raise _CellError(f"must be a time 'HH:MM' between 00:00 and 24:00, got {_show(value)}") from None
    if isinstance(value, dt.datetime):
        # Excel keeps times as fractions of a day; a whole day (24:00) comes back as 1900-01-01 00:00.
        day = value.date()
        if day in (dt.date(1899, 12, 30), dt.date(1899, 12, 31), dt.date(1904, 1, 1)):
            base = 0
        elif day in (dt.date(1900, 1, 1), dt.date(1904, 1, 2)):
            base = 24 * 60
        else:
            raise _CellError(f"must be a time 'HH:MM', got {_show(value)}")
        value, extra = value.time(), base
    else:
        extra = 0
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        minutes = _minutes_of_seconds(seconds) + extra
    elif isinstance(value, dt.timedelta):
        minutes = _minutes_of_seconds(value.total_seconds())
    else:
        raise _CellError(f"must be a time 'HH:MM' (text or a time cell), got {_show(value)}")
    if not 0 <= minutes <= 24 * 60:
        raise _CellError(f"must be a time between 00:00 and 24:00, got {_show(value)}")
    return format_hhmm(minutes)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise _CellError(f"must be a date, got {_show(value)}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise _CellError(f"must be a date 'YYYY-MM-DD', got {_show(value)}") from None
    raise _CellError(f"must be a date (a date cell or 'YYYY-MM-DD' text), got {_show(value)}")


def _split(text: str) -> list[str]:
    """``a, b, "c,d"`` -> ``['a', 'b', 'c,d']``."""
    try:
        rows = list(csv.reader([text], skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise _CellError(f"is not a comma-separated list ({exc})") from None
    return [item.strip() for item in (rows[0] if rows else []) if item.strip()]


def _join(items: list[Any]) -> str:
    if not items:
        return EMPTY
    out = []
    for item in items:
        text = str(item)
        if any(c in text for c in ',"') or text != text.strip() or text == EMPTY or not text:
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ", ".join(out)


def _as_list(value: Any) -> list[str]:
    text = _as_text(value)
    if text.strip() == EMPTY:
        return []
    return _split(text)


def _as_days(value: Any) -> list[str]:
    if not isinstance(value, str):
        raise _CellError(f"must be days like 'mon, tue' or 'mon-fri', got {_show(value)}")
    text = re.sub(r"\s*-\s*", "-", value.strip().lower())
    if text == EMPTY:
        return []

    def day(token: str) -> str:
        if token not in _DAY_NAMES:
            raise _CellError(f"must be days like 'mon, tue' or 'mon-fri'; {token!r} is not a day")
        return _DAY_NAMES[token]

    out: list[str] = []
    for token in re.split(r"[,;\s]+", text):
        if not token:
            continue
        if "-" in token:
            first, _, last = token.partition("-")
            a, b = WEEKDAYS.index(day(first)), WEEKDAYS.index(day(last))
            if b < a:
                raise _CellError(f"day range {token!r} runs backwards")
            out.extend(WEEKDAYS[a : b + 1])
        else:
            out.append(day(token))
    return out


def _as_counts(value: Any) -> dict[str, int]:
    text = _as_text(value)
    if text.strip() == EMPTY:
        return {}
    out: dict[str, int] = {}
    for item in _split(text):
        name, sep, count = item.rpartition(":")
        if not sep:
            name, count = item, "1"
        name, count = name.strip(), count.strip()
        if not name or not _INTEGER.match(count) or len(count) > 9:
            raise _CellError(f"must be skill counts like 'traffic:1, first_aid:2', got {_show(item)}")
        if name in out:
            raise _CellError(f"skill {name!r} is listed twice")
        out[name] = int(count)
    return out


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "y", "1", "on"):
            return True
        if text in ("false", "no", "n", "0", "off"):
            return False
    raise _CellError(f"must be true or false, got {_show(value)}")


_PARSERS = {
    "id": _as_text,
    "text": _as_text,
    "num": _as_number,
    "time": _as_time,
    "date": _as_date,
    "days": _as_days,
    "list": _as_list,
    "counts": _as_counts,
    "bool": _as_bool,
}


# --------------------------------------------------------------------------------------------
# Policy keys: the instance header, Policy and Travel, resolved through the pydantic models
# --------------------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> tuple[Any, tuple]:
    metadata: tuple = ()
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            metadata += annotation.__metadata__
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, metadata
            annotation = args[0]
        else:
            return annotation, metadata


def _kind_of(annotation: Any) -> tuple[str, Any]:
    """A field's cell kind, and for ``model``/``dict`` what is inside."""
    annotation, metadata = _unwrap(annotation)
    if any(getattr(m, "func", None) is parse_hhmm for m in metadata):
        return "time", None
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if origin is dict:
        return "dict", typing.get_args(annotation)[1]
    if origin is list:
        item, _ = _unwrap(typing.get_args(annotation)[0])
        if typing.get_origin(item) is typing.Literal and set(typing.get_args(item)) <= set(WEEKDAYS):
            return "days", None
        return "list", None
    if origin is typing.Literal:
        return "id", None
    if annotation is bool:
        return "bool", None
    if annotation in (int, float):
        return "num", None
    if annotation is dt.date:
        return "date", None
    return "text", None


def policy_key_kind(key: str) -> str:
    """The cell kind of a ``policy`` sheet key; ``mapping`` for a key naming a whole mapping
    (only ``-`` may be given there). Raises :class:`_CellError` for an unknown key."""
    parts = key.split(".")
    current: Any = Instance
    kind = "model"
    for i, part in enumerate(parts):
        if kind == "model":
            fields = current.model_fields
            if current is Instance and part not in _POLICY_SECTIONS:
                where = f" (that table is sheet {_SHEET_OF_SECTION[part]!r})" if part in _SHEET_OF_SECTION else ""
                raise _CellError(f"unknown key {key!r}{where}")
            if part not in fields:
                known = ", ".join(".".join(parts[:i] + [f]) for f in fields if current is not Instance
                                  or f in _POLICY_SECTIONS)
                raise _CellError(f"unknown key {key!r}; known here: {known}")
            if current is Travel and part == "matrix" and i < len(parts) - 1:
                raise _CellError("travel minutes go in sheet 'travel_matrix' (from, to, minutes)")
            kind, current = _kind_of(fields[part].annotation)
        elif kind == "dict":
            if not part:
                raise _CellError(f"key {key!r} has an empty part")
            kind, current = _kind_of(current)
        else:
            raise _CellError(f"unknown key {key!r}: {'.'.join(parts[:i])} is a single value")
    return "mapping" if kind in ("model", "dict") else kind


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    cells: dict[str, Any]


@dataclass
class _Table:
    name: str
    columns: dict[str, Column]
    rows: list[_Row]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _open_workbook(path: Path):
    import openpyxl

    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise InstanceError("", f"cannot read {path}: {exc.strerror or exc}") from None
    if not head:
        raise InstanceError("", "the file is empty")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InstanceError("", "not an .xlsx workbook: an old-format .xls or a password-protected file; "
                                "save it as an unprotected .xlsx workbook")
    if not head.startswith(b"PK"):
        raise InstanceError("", "not an .xlsx workbook (an .xlsx file is a zip archive; this one is not)")
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InstanceError("", f"not a readable .xlsx workbook: {_one_line(exc)}") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise InstanceError("", f"the workbook unpacks to {unpacked // 2**20:,} MiB; the limit is "
                                f"{MAX_UNPACKED_BYTES // 2**20} MiB (a city's workbook is about 10 MiB)")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike: one line, no traceback
        raise InstanceError("", f"not a readable .xlsx workbook: {_one_line(exc)}") from None


UNSAVED_TEXT = ("a formula with no value saved (a program wrote it without computing it): open and save the "
                "workbook in Excel or LibreOffice, or type the value")


class _Unsaved:
    """A formula cell with no value saved by a spreadsheet program (openpyxl and other libraries
    write formulas without computing them): never read as blank, refused by sheet, row and column."""

    def __repr__(self) -> str:
        return "<formula without a saved value>"


UNSAVED = _Unsaved()
#: a formula element or a merged range anywhere in a worksheet's XML (any namespace prefix)
_FORMULA_OR_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:f|mergeCell)[\s>/]")


#: cells that merged ranges may cover in one sheet, all ranges together: a planner merges a unit's
#: cell over its people's rows or a heading over a few columns (a city's 30,000 people: 30,000
#: cells). A workbook of a few KiB can declare one range of 17 billion cells (``A1:XFD1048576``),
#: which laid out cell by cell took minutes and gigabytes.
MAX_MERGED_CELLS = 200_000
#: formula cells without a saved value kept per sheet before the sheet is refused whole
MAX_UNSAVED_FORMULAS = 10_000


@dataclass
class _SheetCells:
    """What the value-only reading of a sheet cannot see: its formula cells without a saved value
    and its merged ranges."""

    formulas: set[tuple[int, int]]  # (row, column), 1-based
    merged: dict[tuple[int, int], tuple[int, int]]  # a covered cell -> the range's top-left cell
    #: per row, the last column a formula or a merged range reaches (a row may be longer than its values)
    widths: dict[int, int] = dataclasses.field(default_factory=dict)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _scan_sheet(archive, part: str, title: str) -> _SheetCells:
    """One worksheet's XML read as a stream (never the whole sheet in memory, as openpyxl's full
    load would): the cells holding a formula with no value saved, and the merged ranges, each
    range's area checked against :data:`MAX_MERGED_CELLS` before a cell of it is laid out."""
    from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
    from openpyxl.xml.functions import iterparse

    formulas: set[tuple[int, int]] = set()
    ranges: list[tuple[str, tuple[int, int, int, int]]] = []
    row = col = 0
    with archive.open(part) as fh:
        for _event, elem in iterparse(fh, events=("start", "end")):
            tag = _local(elem.tag)
            if _event == "start":
                if tag == "row":
                    row = int(elem.get("r") or row + 1)
                    col = 0
                elif tag == "c":
                    ref = elem.get("r")
                    row, col = coordinate_to_tuple(ref) if ref else (row, col + 1)
                continue
            if tag == "c":
                children = {_local(child.tag): child for child in elem}
                value = children.get("v")
                if "f" in children and (value is None or not (value.text or "")):
                    formulas.add((row, col))
                    if len(formulas) > MAX_UNSAVED_FORMULAS:
                        raise InstanceError(f"sheet {title!r}", f"more than {MAX_UNSAVED_FORMULAS:,} formulas with "
                                                                f"no value saved: {UNSAVED_TEXT}")
                elem.clear()
            elif tag == "row":
                elem.clear()
            elif tag == "mergeCell":
                ref = elem.get("ref") or ""
                try:
                    min_col, min_row, max_col, max_row = range_boundaries(ref)
                except (TypeError, ValueError):
                    raise InstanceError(f"sheet {title!r}", f"the merged range {ref!r} is not a range of "
                                                            f"cells") from None
                ranges.append((ref, (min_row, min_col, max_row, max_col)))
                elem.clear()
    covered = 0
    for ref, (min_row, min_col, max_row, max_col) in ranges:
        covered += (max_row - min_row + 1) * (max_col - min_col + 1) - 1
        if covered > MAX_MERGED_CELLS:
            raise InstanceError(f"sheet {title!r}", f"the merged range {ref} covers "
                                                    f"{(max_row - min_row + 1) * (max_col - min_col + 1):,} cells; "
                                                    f"merged ranges may cover at most {MAX_MERGED_CELLS:,} cells of "
                                                    f"a sheet: unmerge it and type the value in each cell")
    merged: dict[tuple[int, int], tuple[int, int]] = {}
    widths: dict[int, int] = {}
    for r, c in formulas:
        widths[r] = max(widths.get(r, 0), c)
    for _ref, (min_row, min_col, max_row, max_col) in ranges:
        for r in range(min_row, max_row + 1):
            widths[r] = max(widths.get(r, 0), max_col)
            for c in range(min_col, max_col + 1):
                if (r, c) != (min_row, min_col):
                    merged[(r, c)] = (min_row, min_col)
    return _SheetCells(formulas, merged, widths)


def _formulas_and_merges(path: Path, worksheets: Mapping[str, str]) -> dict[str, _SheetCells]:
    """Per sheet title (``worksheets``: title -> the sheet's part in the zip, as the read-only
    workbook names it): its formula cells without a saved value and its merged ranges. Only a sheet
    whose XML holds a formula or a merged range at all (a quick scan; workbooks written by this
    project and most typed ones hold none) is read a second time, as a stream."""
    import zipfile

    sheets: dict[str, _SheetCells] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for title, part in worksheets.items():
                part = part.lstrip("/")
                if part not in names:
                    continue
                with archive.open(part) as fh:
                    tail, found = b"", False
                    while chunk := fh.read(1 << 20):
                        if _FORMULA_OR_MERGE.search(tail + chunk):
                            found = True
                            break
                        tail = chunk[-64:]
                if found:
                    sheets[title] = _scan_sheet(archive, part, title)
    except InstanceError:
        raise
    except Exception as exc:  # noqa: BLE001 - zip and XML errors alike: one line, no traceback
        raise InstanceError("", f"not a readable .xlsx workbook: {_one_line(exc)}") from None
    return sheets


def worksheet_parts(wb) -> dict[str, str]:
    """Title -> the worksheet's part in the zip, of a workbook :func:`_open_workbook` opened."""
    return {ws.title: getattr(ws, "_worksheet_path", "") for ws in wb.worksheets}


def _sheet_rows(ws, sheet: str, cells: _SheetCells | None = None) -> Iterator[tuple[int, tuple]]:
    """The non-empty rows of a worksheet, numbered as Excel shows them. With ``cells``: a cell a
    merged range covers reads the range's value (what the planner sees in it), and a formula
    without a saved value reads :data:`UNSAVED`."""
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # read every cell, whatever size the file claims the sheet has
    rows = ws.iter_rows(values_only=True)
    number = 0
    anchors: dict[tuple[int, int], Any] = {}
    anchor_cells = set(cells.merged.values()) if cells else set()
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a damaged sheet
            raise InstanceError(f"sheet {sheet!r}", f"cannot be read: {_one_line(exc)}") from None
        number += 1
        if number > MAX_ROWS:
            raise InstanceError(f"sheet {sheet!r}", f"more than {MAX_ROWS} rows")
        if cells and (cells.formulas or cells.merged):
            width = max(len(values), cells.widths.get(number, 0))
            filled = list(values) + [None] * (width - len(values))
            for i in range(width):
                key = (number, i + 1)
                if filled[i] is None and key in cells.formulas:
                    filled[i] = UNSAVED
                elif key in cells.merged:
                    filled[i] = anchors.get(cells.merged[key])
                if key in anchor_cells:
                    anchors[key] = filled[i]
            values = tuple(filled)
        values = tuple(v.strip() if isinstance(v, str) else v for v in values)
        if any(v is not None and v != "" for v in values):
            yield number, values


def _norm(name: Any) -> str:
    return re.sub(r"\s+", "_", str(name).strip().lower())


def _read_table(ws, sheet: str, cells: _SheetCells | None, problems: _Problems) -> _Table | None:
    """The rows of one sheet. A problem with its header (row 1) is added to ``problems`` as a
    layout problem and no row is read; a value in a column without a name, or a formula without a
    value, is added and the cell left out."""
    from openpyxl.utils import get_column_letter

    spec = {c.name: c for c in SHEETS[sheet][1]}
    rows = _sheet_rows(ws, sheet, cells)
    first = next(rows, None)
    if first is None:
        return None
    number, header = first
    header_problems: list[tuple[InstanceError, Origin | None]] = []
    for index, cell in enumerate(header):
        if cell is UNSAVED:
            letter = get_column_letter(index + 1)
            header_problems.append((InstanceError(f"sheet {sheet!r}, row {number}, column {letter}", UNSAVED_TEXT),
                                    Origin(sheet, number, letter)))
    if number != 1:
        header_problems.append((InstanceError(f"sheet {sheet!r}, row 1", f"must hold the column names "
                                                                        f"({', '.join(spec)})"), Origin(sheet, 1, None)))
        header = ()
    names: dict[int, str] = {}
    for index, cell in enumerate(header):
        if cell is None or cell == "" or cell is UNSAVED:
            continue
        name = _norm(cell)
        if name not in spec:
            header_problems.append((_Located(Origin(sheet, 1, str(cell)),
                                             f"unknown column; the columns are {', '.join(spec)}"), None))
        elif name in names.values():
            header_problems.append((_Located(Origin(sheet, 1, name), "the column is there twice"), None))
        else:
            names[index] = name
    if number == 1:
        for column in spec.values():
            if column.required and column.name not in names.values():
                header_problems.append((_Located(Origin(sheet, 1, column.name), "required column is missing"), None))
    if header_problems:
        for exc, origin in header_problems:
            problems.add(exc, origin)
        problems.layout = True
        return None
    table = _Table(sheet, {n: spec[n] for n in names.values()}, [])
    for number, values in rows:
        lead = next(v for v in values if v is not None and v != "")
        if isinstance(lead, str) and lead.startswith("#"):
            continue  # a note row
        given: dict[str, Any] = {}
        for index, value in enumerate(values):
            if value is None or value == "":
                continue
            if index not in names:
                letter = get_column_letter(index + 1)
                problems.add(InstanceError(f"sheet {sheet!r}, row {number}, column {letter}",
                                           "a value in a column without a name in row 1"), Origin(sheet, number, letter))
            elif spec[names[index]].kind != "note":
                if value is UNSAVED:
                    problems.add(_Located(Origin(sheet, number, names[index]), UNSAVED_TEXT))
                    continue
                given[names[index]] = value
        if given:
            table.rows.append(_Row(number, given))
    return table


def _read_tables(path: Path, problems: _Problems) -> dict[str, _Table]:
    """Every sheet's rows. Problems with the layout (an unknown sheet, one there twice, a bad
    header) are raised here, with any others found so far: rows are not interpreted against a
    layout that is wrong (a misnamed sheet would make every reference to it a problem)."""
    wb = _open_workbook(path)
    try:
        hidden = _formulas_and_merges(path, worksheet_parts(wb))
        tables: dict[str, _Table] = {}
        titles: dict[str, str] = {}
        for ws in wb.worksheets:
            name = _norm(ws.title)
            if name in IGNORED_SHEETS:
                continue
            if name not in SHEETS:
                problems.add(InstanceError(f"sheet {ws.title!r}", f"unknown sheet; the sheets are {', '.join(SHEETS)} "
                                                                  f"(a sheet named {IGNORED_SHEETS[0]!r} is not read)"),
                             Origin(ws.title, None, None))
                problems.layout = True
                continue
            if name in titles:
                problems.add(InstanceError(f"sheet {ws.title!r}", f"is there twice (also {titles[name]!r})"),
                             Origin(name, None, None))
                problems.layout = True
                continue
            titles[name] = ws.title
            table = _read_table(ws, name, hidden.get(ws.title), problems)
            if table is not None:
                tables[name] = table
    finally:
        wb.close()
    if problems.layout:
        problems.raise_all()
    return tables


class _Reader:
    """Reads the tables into the document. A problem with a cell is added to ``problems`` and the
    cell left out; a problem that leaves a row without meaning (no school for a peak, a post
    without id, ...) ends that row's reading (:meth:`reading`); the next row is read."""

    def __init__(self, tables: dict[str, _Table], problems: _Problems):
        self.tables = tables
        self.problems = problems
        self.origins: dict[str, Origin] = {}

    # -- cells ---------------------------------------------------------------------------------

    def value(self, sheet: str, row: _Row, column: str, kind: str | None = None) -> Any:
        raw = row.cells.get(column)
        if raw is None:
            return None
        kind = kind or SHEETS[sheet][1][self._index(sheet, column)].kind
        try:
            return _PARSERS[kind](raw)
        except _CellError as exc:
            raise _Located(Origin(sheet, row.number, column), str(exc)) from None

    def quiet(self, sheet: str, row: _Row, column: str) -> Any:
        """A cell's value, or None when it is bad (its own reading reports it)."""
        try:
            return self.value(sheet, row, column)
        except InstanceError:
            return None

    @staticmethod
    def _index(sheet: str, column: str) -> int:
        return next(i for i, c in enumerate(SHEETS[sheet][1]) if c.name == column)

    def fail(self, sheet: str, row: _Row, column: str | None, message: str) -> InstanceError:
        return _Located(Origin(sheet, row.number, column), message)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """A problem raised while reading a row is added to the problems; the row's reading ends."""
        try:
            yield
        except InstanceError as exc:
            self.problems.add(exc)

    def at(self, path: str, sheet: str, row: _Row, column: str | None, key: str | None = None) -> None:
        self.origins[path] = Origin(sheet, row.number, column, key)

    def put(self, target: dict, field: str, path: str, sheet: str, row: _Row, column: str) -> None:
        """Read one cell into ``target[field]`` (when not blank) and remember where it came from;
        a bad cell is added to the problems and left out."""
        self.at(path, sheet, row, column)
        try:
            value = self.value(sheet, row, column)
        except InstanceError as exc:
            self.problems.add(exc)
            return
        if value is not None:
            target[field] = value

    def rows(self, sheet: str) -> list[_Row]:
        table = self.tables.get(sheet)
        return table.rows if table else []

    def need(self, sheet: str, row: _Row, column: str) -> str:
        value = self.value(sheet, row, column)
        if value is None:
            raise self.fail(sheet, row, column, "required value is missing")
        return value

    def unique(self, sheet: str, row: _Row, ident: Any, first: dict[str, int], what: str) -> None:
        """An id seen on an earlier row: the words the loader's check gives for a duplicate."""
        if not isinstance(ident, str):
            return
        if ident in first:
            self.problems.add(self.fail(sheet, row, "id", f"duplicate {what} id {ident!r} (first at row {first[ident]})"))
        else:
            first[ident] = row.number

    # -- sheets --------------------------------------------------------------------------------

    def read(self) -> SheetDocument:
        if "policy" not in self.tables:
            raise InstanceError("sheet 'policy'", "is missing; it holds format, name, week_start and days")
        doc = SheetDocument(origins=self.origins)
        self.read_policy(doc)
        self.read_matrix(doc)
        doc["units"] = self.read_units()
        schools, by_id = self.read_schools()
        doc["schools"] = schools
        self.read_peaks(by_id)
        self.read_posts(by_id)
        doc["routes"] = self.read_routes()
        persons, by_id = self.read_persons()
        doc["persons"] = persons
        self.read_availability(by_id)
        self.read_leave(by_id)
        self.read_pins(by_id)
        return doc

    def validate(self, doc: SheetDocument) -> None:
        """The instance model's problems with the assembled document, each named by its cell, so
        that they are reported with the cells' own (the loader validates the document again)."""
        if doc.get("format") != "schoolpost/1":
            return  # the loader says what is wrong with it
        try:
            Instance.model_validate(doc)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                located, origin = _locate(validation_error(err), self.origins)
                self.problems.add(located, origin)

    def read_policy(self, doc: dict) -> None:
        seen: dict[str, int] = {}
        for row in self.rows("policy"):
            with self.reading():
                self._policy_row(doc, row, seen)

    def _policy_row(self, doc: dict, row: _Row, seen: dict[str, int]) -> None:
        key = self.value("policy", row, "key")
        if key is None:
            raise self.fail("policy", row, "key", "a value without a key")
        key = key.strip()
        if key in seen:
            raise self.fail("policy", row, "key", f"key {key!r} is listed twice (also row {seen[key]})")
        seen[key] = row.number
        try:
            kind = policy_key_kind(key)
        except _CellError as exc:
            raise self.fail("policy", row, "key", str(exc)) from None
        parts = key.split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix not in self.origins:
                self.origins[prefix] = Origin("policy", row.number, "key", prefix)
        self.origins[key] = Origin("policy", row.number, "value", key)
        raw = row.cells.get("value")
        if raw is None:
            return
        if kind == "mapping":
            if not isinstance(raw, str) or raw.strip() != EMPTY:
                raise _Located(Origin("policy", row.number, "value", key),
                               f"names a group of settings; give its parts ({key}.<name>) or '{EMPTY}' for none")
            value: Any = {}
        else:
            value = self.value("policy", row, "value", kind)
        node = doc
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise self.fail("policy", row, "key", f"{part!r} is given a single value elsewhere")
            node = child
        if parts[-1] in node and isinstance(node[parts[-1]], dict) and value == {}:
            return
        if parts[-1] in node:
            raise self.fail("policy", row, "key", f"conflicts with another key under {key!r}")
        node[parts[-1]] = value

    def read_matrix(self, doc: dict) -> None:
        rows = self.rows("travel_matrix")
        if not rows:
            return
        school_ids = {self.quiet("schools", r, "id") for r in self.rows("schools")}
        travel = doc.setdefault("travel", {})
        matrix = travel.get("matrix")
        if matrix is None:
            matrix = travel["matrix"] = {}
        seen: dict[tuple[str, str], int] = {}
        for row in rows:
            with self.reading():
                self._matrix_row(row, matrix, school_ids, seen)

    def _matrix_row(self, row: _Row, matrix: dict, school_ids: set, seen: dict[tuple[str, str], int]) -> None:
        sheet = "travel_matrix"
        src = self.need(sheet, row, "from")
        if src not in school_ids:
            raise self.fail(sheet, row, "from", f"no school with id {src!r} in sheet 'schools'")
        dst = self.value(sheet, row, "to")
        if f"travel.matrix.{src}" not in self.origins:
            self.at(f"travel.matrix.{src}", sheet, row, "from")
        entry = matrix.setdefault(src, {})
        if dst is None and row.cells.get("minutes") is None:
            return  # a school with no listed pairs
        if dst is None:
            raise self.fail(sheet, row, "to", "required value is missing")
        if dst not in school_ids:
            raise self.fail(sheet, row, "to", f"no school with id {dst!r} in sheet 'schools'")
        if (src, dst) in seen:
            raise self.fail(sheet, row, "to", f"{src} -> {dst} is listed twice (also row {seen[(src, dst)]})")
        seen[(src, dst)] = row.number
        self.at(f"travel.matrix.{src}.{dst}", sheet, row, "minutes")
        minutes = self.value(sheet, row, "minutes")
        if minutes is None:
            raise self.fail(sheet, row, "minutes", "required value is missing")
        entry[dst] = minutes

    def read_units(self) -> list[dict]:
        out = []
        first: dict[str, int] = {}
        for i, row in enumerate(self.rows("units")):
            path = f"units[{i}]"
            self.at(path, "units", row, None)
            entry: dict[str, Any] = {}
            for column in ("id", "kind", "name", "schools"):
                self.put(entry, column, f"{path}.{column}", "units", row, column)
            self.unique("units", row, entry.get("id"), first, "unit")
            out.append(entry)
        return out

    def read_schools(self) -> tuple[list[dict], dict[str, tuple[dict, int]]]:
        out: list[dict] = []
        by_id: dict[str, tuple[dict, int]] = {}
        first: dict[str, int] = {}
        for i, row in enumerate(self.rows("schools")):
            path = f"schools[{i}]"
            self.at(path, "schools", row, None)
            entry: dict[str, Any] = {}
            for column in ("id", "name", "type", "district", "students", "address"):
                self.put(entry, column, f"{path}.{column}", "schools", row, column)
            self.at(f"{path}.location", "schools", row, "lat")
            location: dict[str, Any] = {}
            for column in ("lat", "lon"):
                self.put(location, column, f"{path}.location.{column}", "schools", row, column)
            if location:
                entry["location"] = location
            self.unique("schools", row, entry.get("id"), first, "school")
            out.append(entry)
            if "id" in entry:
                by_id.setdefault(entry["id"], (entry, i))
        return out, by_id

    def _school(self, schools: dict, sheet: str, row: _Row) -> tuple[dict, int]:
        sid = self.need(sheet, row, "school_id")
        if sid not in schools:
            raise self.fail(sheet, row, "school_id", f"no school with id {sid!r} in sheet 'schools'")
        return schools[sid]

    def read_peaks(self, schools: dict) -> None:
        for row in self.rows("peaks"):
            with self.reading():
                school, i = self._school(schools, "peaks", row)
                peaks = school.setdefault("peaks", [])
                path = f"schools[{i}].peaks[{len(peaks)}]"
                self.at(path, "peaks", row, None)
                entry: dict[str, Any] = {}
                for column in ("name", "start", "end", "days"):
                    self.put(entry, column, f"{path}.{column}", "peaks", row, column)
                peaks.append(entry)

    def _attributes(self, sheet: str, row: _Row, entry: dict, path: str, fields: dict[str, tuple[str, ...]],
                    given: dict[str, int]) -> None:
        """Attributes of a post or route that may sit on any one of its rows (the same value if
        repeated). The origins of a group (``location``, ``crew``) follow the row that first gives
        one of its members. A bad or differing cell is added to the problems and left out."""
        for column, field_path in fields.items():
            try:
                value = self.value(sheet, row, column)
            except InstanceError as exc:
                self.problems.add(exc)
                continue
            if value is None:
                continue
            if column in given:
                node = entry
                for part in field_path[:-1]:
                    node = node.get(part, {})
                if node.get(field_path[-1]) != value:
                    what = "post" if sheet == "posts" else "route"
                    self.problems.add(self.fail(sheet, row, column, f"differs from row {given[column]} of the same {what}"))
                continue
            given[column] = row.number
            node = entry
            for part in field_path[:-1]:
                node = node.setdefault(part, {})
            node[field_path[-1]] = value
            self.at(f"{path}.{'.'.join(field_path)}", sheet, row, column)
            if len(field_path) > 1 and ("group:" + field_path[0]) not in given:
                given["group:" + field_path[0]] = row.number
                group = f"{path}.{field_path[0]}"
                self.origins[group] = self.origins[group]._replace(row=row.number)
                for other, other_path in fields.items():
                    if other_path[0] == field_path[0] and other not in given:
                        self.at(f"{path}.{'.'.join(other_path)}", sheet, row, other)

    def read_posts(self, schools: dict) -> None:
        posts: dict[tuple[str, str], tuple[dict, str, dict]] = {}
        for row in self.rows("posts"):
            with self.reading():
                self._post_row(schools, posts, row)

    def _first_row(self, seen: dict, key: Any, items: list[dict], list_path: str, sheet: str, row: _Row,
                   id_column: str, ident: str, fields: dict[str, tuple[str, ...]]) -> str:
        """A post or route met for the first time: its entry (``{"id": ...}``) appended to ``items``
        and recorded in ``seen`` as (entry, path, cells given); its fields located at this row until
        a row gives them. Returns its path."""
        path = f"{list_path}[{len(items)}]"
        entry: dict[str, Any] = {"id": ident}
        items.append(entry)
        seen[key] = (entry, path, {})
        self.at(path, sheet, row, None)
        self.at(f"{path}.id", sheet, row, id_column)
        for column, field_path in fields.items():
            self.at(f"{path}.{'.'.join(field_path)}", sheet, row, column)
        return path

    def _post_row(self, schools: dict, posts: dict[tuple[str, str], tuple[dict, str, dict]], row: _Row) -> None:
        sheet = "posts"
        fields = {"kind": ("kind",), "name": ("name",), "lat": ("location", "lat"), "lon": ("location", "lon")}
        school, i = self._school(schools, sheet, row)
        pid = self.need(sheet, row, "post_id")
        key = (school["id"], pid)
        if key not in posts:
            school_posts = school.setdefault("posts", [])
            path = self._first_row(posts, key, school_posts, f"schools[{i}].posts", sheet, row, "post_id", pid,
                                   fields)
            self.at(f"{path}.location", sheet, row, "lat")
        entry, path, given = posts[key]
        self._attributes(sheet, row, entry, path, fields, given)
        values = {f: row.cells.get(f) for f in ("min", "target", "min_police", "skills")}
        name = self.value(sheet, row, "demand")
        if name is None and all(v is None for v in values.values()):
            return  # a row of attributes only
        name = name or "default"
        demand = entry.setdefault("demand", {})
        if name in demand:
            raise self.fail(sheet, row, "demand", f"demand {name!r} of post {pid!r} is given twice "
                                                  f"(also row {given['demand:' + name]})")
        given["demand:" + name] = row.number
        dpath = f"{path}.demand.{name}"
        self.at(dpath, sheet, row, "demand")
        item: dict[str, Any] = {}
        for column in values:
            self.put(item, column, f"{dpath}.{column}", sheet, row, column)
        demand[name] = item

    def read_routes(self) -> list[dict]:
        out: list[dict] = []
        routes: dict[str, tuple[dict, str, dict]] = {}
        for row in self.rows("routes"):
            with self.reading():
                self._route_row(out, routes, row)
        return out

    def _route_row(self, out: list[dict], routes: dict[str, tuple[dict, str, dict]], row: _Row) -> None:
        sheet = "routes"
        fields = {"name": ("name",), "unit": ("unit",), "stops": ("stops",), "crew_min": ("crew", "min"),
                  "crew_max": ("crew", "max"), "crew_min_police": ("crew", "min_police"),
                  "crew_skills": ("crew", "skills")}
        rid = self.need(sheet, row, "route_id")
        if rid not in routes:
            path = self._first_row(routes, rid, out, "routes", sheet, row, "route_id", rid, fields)
            self.at(f"{path}.crew", sheet, row, "crew_max")  # crew's own check: max >= min
        entry, path, given = routes[rid]
        self._attributes(sheet, row, entry, path, fields, given)
        if all(row.cells.get(c) is None for c in ("run", "start", "end", "days")):
            return
        runs = entry.setdefault("runs", [])
        rpath = f"{path}.runs[{len(runs)}]"
        self.at(rpath, sheet, row, None)
        run: dict[str, Any] = {}
        for column, field in (("run", "name"), ("start", "start"), ("end", "end"), ("days", "days")):
            self.put(run, field, f"{rpath}.{field}", sheet, row, column)
        runs.append(run)

    def read_persons(self) -> tuple[list[dict], dict[str, tuple[dict, int]]]:
        sheet = "persons"
        out: list[dict] = []
        by_id: dict[str, tuple[dict, int]] = {}
        first: dict[str, int] = {}
        for i, row in enumerate(self.rows(sheet)):
            path = f"persons[{i}]"
            self.at(path, sheet, row, None)
            entry: dict[str, Any] = {}
            for column in ("id", "name", "role", "unit", "skills"):
                self.put(entry, column, f"{path}.{column}", sheet, row, column)
            home: dict[str, Any] = {}
            self.at(f"{path}.home", sheet, row, "home_lat")
            for column, field in (("home_lat", "lat"), ("home_lon", "lon")):
                self.put(home, field, f"{path}.home.{field}", sheet, row, column)
            if home:
                entry["home"] = home
            limits: dict[str, Any] = {}
            self.at(f"{path}.limits", sheet, row, "max_per_day")
            for column in ("max_per_day", "max_per_week", "max_minutes_per_week"):
                self.put(limits, column, f"{path}.limits.{column}", sheet, row, column)
            if limits:
                entry["limits"] = limits
            self.unique(sheet, row, entry.get("id"), first, "person")
            out.append(entry)
            if "id" in entry:
                by_id.setdefault(entry["id"], (entry, i))
        return out, by_id

    def _person(self, persons: dict, sheet: str, row: _Row) -> tuple[dict, int]:
        pid = self.need(sheet, row, "person_id")
        if pid not in persons:
            raise self.fail(sheet, row, "person_id", f"no person with id {pid!r} in sheet 'persons'")
        return persons[pid]

    def read_availability(self, persons: dict) -> None:
        never: dict[str, int] = {}
        for row in self.rows("availability"):
            with self.reading():
                self._availability_row(persons, never, row)

    def _availability_row(self, persons: dict, never: dict[str, int], row: _Row) -> None:
        sheet = "availability"
        person, i = self._person(persons, sheet, row)
        days = self.value(sheet, row, "days")
        windows = person.setdefault("availability", [])
        if days == [] and row.cells.get("start") is None and row.cells.get("end") is None:
            if windows or person["id"] in never:
                raise self.fail(sheet, row, "days", f"'{EMPTY}' (never available) but person "
                                                    f"{person['id']!r} has other rows here")
            never[person["id"]] = row.number
            self.at(f"persons[{i}].availability", sheet, row, "days")
            return
        if person["id"] in never:
            raise self.fail(sheet, row, "person_id", f"person {person['id']!r} is never available "
                                                     f"(row {never[person['id']]})")
        path = f"persons[{i}].availability[{len(windows)}]"
        self.at(path, sheet, row, None)
        entry: dict[str, Any] = {}
        for column in ("days", "start", "end"):
            self.put(entry, column, f"{path}.{column}", sheet, row, column)
        windows.append(entry)

    def read_leave(self, persons: dict) -> None:
        sheet = "leave"
        for row in self.rows(sheet):
            with self.reading():
                person, i = self._person(persons, sheet, row)
                leave = person.setdefault("leave", [])
                path = f"persons[{i}].leave[{len(leave)}]"
                if row.cells.get("start") is None and row.cells.get("end") is None:
                    self.at(path, sheet, row, "date")
                    leave.append(self.need(sheet, row, "date"))
                    continue
                self.at(path, sheet, row, None)
                entry: dict[str, Any] = {}
                for column in ("date", "start", "end"):
                    self.put(entry, column, f"{path}.{column}", sheet, row, column)
                leave.append(entry)

    def read_pins(self, persons: dict) -> None:
        sheet = "pins"
        for row in self.rows(sheet):
            with self.reading():
                person, i = self._person(persons, sheet, row)
                pins = person.setdefault("pins", [])
                path = f"persons[{i}].pins[{len(pins)}]"
                self.at(path, sheet, row, None)
                entry: dict[str, Any] = {}
                for column in ("date", "peak", "post", "route"):
                    self.put(entry, column, f"{path}.{column}", sheet, row, column)
                pins.append(entry)


def instance_data_from_xlsx(path: str | Path) -> SheetDocument:
    """Read a workbook into the plain instance document (checked against the instance model but
    returned unvalidated: the loader validates it); the result's ``origins`` map field paths to
    cells. Raises :class:`InstanceError` naming sheet, row and column; several problems together
    as :class:`models.errors.InstanceErrors` (``errors``: each one)."""
    problems = _Problems(str(path))
    with warnings.catch_warnings():  # openpyxl warns on stderr of what it drops (styles, extensions, odd
        warnings.simplefilter("ignore")  # dates); bad input gets one line per problem: ours, naming the cell
        reader = _Reader(_read_tables(Path(path), problems), problems)
        doc = reader.read()
        reader.validate(doc)
    problems.raise_all()
    return doc


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _flatten(prefix: str, value: Any, out: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append((prefix, EMPTY))
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    else:
        out.append((prefix, value))


_POLICY_NOTES = {
    "format": "always schoolpost/1",
    "name": "instance name, shown in outputs",
    "week_start": "a date; the horizon is the week from here",
    "days": "school days in the horizon, e.g. mon-fri",
    "timezone": "IANA time zone of the times, e.g. Asia/Shanghai (calendars carry it)",
    "travel.speed_kmh": "travel speed between posts",
    "travel.road_factor": "road km per straight-line km",
    "policy.professional_roles": "roles that count as professionals",
    "policy.min_professional_share": "share of professionals at each school peak (0-1)",
    "policy.leader_on_duty": "a school leader on every school peak (true/false)",
    "policy.burden_roles": "roles whose duties count in the burden term",
    "policy.travel_chain_gap": "idle minutes after which consecutive duties count no travel",
    "policy.weights.shortfall": "per person below min",
    "policy.weights.police_shortfall": "per police officer below min_police",
    "policy.weights.skill_shortfall": "per missing skill",
    "policy.weights.share_shortfall": "per person the professional share misses",
    "policy.weights.leader_missing": "per school peak without a leader",
    "policy.weights.below_target": "per person below target",
    "policy.weights.fairness": "spread of duties within a role",
    "policy.weights.continuity": "per change of post for a person",
    "policy.weights.travel_minute": "per travel minute",
    "policy.weights.burden": "per duty of a burden role",
}


def _policy_note(key: str) -> str:
    if key in _POLICY_NOTES:
        return _POLICY_NOTES[key]
    m = re.match(r"^policy\.limits\.([^.]+)\.(\w+)$", key)
    if m:
        who = "every role" if m.group(1) == "default" else f"role {m.group(1)}"
        return f"{m.group(2).replace('_', ' ')} for {who} (a person's own limit overrides)"
    return ""


def _rows_of(data: dict) -> dict[str, list[dict[str, Any]]]:
    """The rows of each sheet for an instance dumped with ``exclude_unset``."""
    settings: list[tuple[str, Any]] = []
    travel = dict(data.get("travel", {}))
    matrix = travel.pop("matrix", None)
    for key in _POLICY_SECTIONS:
        if key in ("policy", "travel"):
            continue
        if key in data:
            _flatten(key, data[key], settings)
    for section, value in (("travel", travel), ("policy", data.get("policy", {}))):
        for k, v in value.items():
            _flatten(f"{section}.{k}", v, settings)
    if matrix == {}:
        settings.append(("travel.matrix", EMPTY))
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SHEETS}
    rows["policy"] = [{"key": k, "value": v, "note": _policy_note(k)} for k, v in settings]
    for src, row in (matrix or {}).items():
        if not row:
            rows["travel_matrix"].append({"from": src})
        for dst, minutes in row.items():
            rows["travel_matrix"].append({"from": src, "to": dst, "minutes": minutes})
    for unit in data.get("units", []):
        rows["units"].append(dict(unit))
    for school in data.get("schools", []):
        row = {k: v for k, v in school.items() if k not in ("location", "peaks", "posts")}
        row.update(school["location"])
        rows["schools"].append(row)
        for peak in school.get("peaks", []):
            rows["peaks"].append({"school_id": school["id"], **peak})
        for post in school.get("posts", []):
            attributes = {"school_id": school["id"], "post_id": post["id"]}
            attributes.update({k: post[k] for k in ("kind", "name") if k in post})
            attributes.update(post.get("location") or {})
            demand = post.get("demand") or {}
            if not demand:
                rows["posts"].append(attributes)
            for n, (name, entry) in enumerate(demand.items()):
                base = attributes if n == 0 else {"school_id": school["id"], "post_id": post["id"]}
                rows["posts"].append({**base, "demand": name, **entry})
    for route in data.get("routes", []):
        attributes = {"route_id": route["id"]}
        attributes.update({k: route[k] for k in ("name", "unit", "stops") if k in route})
        attributes.update({f"crew_{k}": v for k, v in (route.get("crew") or {}).items()})
        runs = route.get("runs") or []
        if not runs:
            rows["routes"].append(attributes)
        for n, run in enumerate(runs):
            base = attributes if n == 0 else {"route_id": route["id"]}
            rows["routes"].append({**base, "run": run["name"], **{k: v for k, v in run.items() if k != "name"}})
    for person in data.get("persons", []):
        row = {k: person[k] for k in ("id", "name", "role", "unit", "skills") if k in person}
        if person.get("home"):
            row.update(home_lat=person["home"]["lat"], home_lon=person["home"]["lon"])
        row.update(person.get("limits") or {})
        rows["persons"].append(row)
        availability = person.get("availability")
        if availability == []:
            rows["availability"].append({"person_id": person["id"], "days": []})
        for window in availability or []:
            rows["availability"].append({"person_id": person["id"], **window})
        for entry in person.get("leave", []):
            if isinstance(entry, dict):
                rows["leave"].append({"person_id": person["id"], **entry})
            else:
                rows["leave"].append({"person_id": person["id"], "date": entry})
        for entry in person.get("pins", []):
            rows["pins"].append({"person_id": person["id"], **entry})
    return rows


def _fits_16g(value: float) -> bool:
    return float(f"{value:.16g}") == value  # what openpyxl writes


def _write_cell(ws, row: int, col: int, kind: str, value: Any):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = ws.cell(row=row, column=col)
    if value is None:
        return cell
    if kind in ("days", "list"):
        value = _join(value) if isinstance(value, list) else value
    elif kind == "counts" and isinstance(value, dict):
        value = _join([f"{k}:{v}" for k, v in value.items()]) if value else EMPTY
    elif kind == "date" and isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
        return cell
    elif kind in ("num", "any") and isinstance(value, float) and not _fits_16g(value):
        value = repr(value)  # Excel keeps 15-16 digits; the text keeps the exact number
    elif kind == "any" and isinstance(value, list):
        value = _join(value)
    elif kind == "any" and isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, str):
        if ILLEGAL_CHARACTERS_RE.search(value):
            raise InstanceError(f"sheet {ws.title!r}, row {row}", f"text {value!r} has characters a workbook cannot hold")
        cell.value = value
        cell.data_type = "s"  # never a formula, even when it starts with '='
    else:
        cell.value = value
    return cell


def _build_workbook(data: dict, readme: list[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    rows = _rows_of(data)
    wb = Workbook()
    ws = wb.active
    ws.title = "readme"
    ws.column_dimensions["A"].width = 110
    for r, line in enumerate(readme, start=1):
        cell = ws.cell(row=r, column=1, value=line)
        cell.data_type = "s"
        if r == 1:
            cell.font = Font(bold=True, size=13)
        elif line and not line.startswith(" "):
            cell.font = Font(bold=line.endswith(":"))
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    note_font = Font(italic=True, color="666666")
    choices = {("units", "kind"): ("police", "community", "school"), ("schools", "type"): SCHOOL_TYPES,
               ("posts", "kind"): ("gate", "pickup_area"), ("persons", "role"): ROLES}
    for sheet, (about, columns) in SHEETS.items():
        names = {c.name for c in columns}
        for values in rows[sheet]:
            extra = sorted(set(values) - names)
            if extra:  # a model field this module does not know yet: refuse rather than lose it
                raise InstanceError("", f"field {extra[0]!r} cannot be written to sheet {sheet!r} yet")
            lead = values.get(columns[0].name)
            if isinstance(lead, str) and lead.startswith("#"):
                raise InstanceError(f"sheet {sheet!r}, column {columns[0].name!r}",
                                    f"{lead!r} starts with '#', which a spreadsheet reads as a note row")
        ws = wb.create_sheet(sheet)
        for c, column in enumerate(columns, start=1):
            letter = get_column_letter(c)
            head = ws.cell(row=1, column=c, value=column.name)
            head.font, head.fill = head_font, head_fill
            head.comment = Comment(column.note + ("" if c > 1 else f"\n\n{about}"), "schoolpost")
            note = ws.cell(row=2, column=c, value=("# " if c == 1 else "") + column.note)
            note.font, note.alignment = note_font, Alignment(wrap_text=True, vertical="top")
            note.data_type = "s"
            ws.column_dimensions[letter].width = column.width
            if column.kind in ("id", "text", "time", "days", "list", "counts"):
                ws.column_dimensions[letter].number_format = "@"  # typed 07:20 stays text
            if (sheet, column.name) in choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(choices[(sheet, column.name)]) + '"',
                                    allow_blank=True, showErrorMessage=True, errorStyle="warning")
                dv.add(f"{letter}3:{letter}{max(3, len(rows[sheet]) + 500)}")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A3"
        for r, values in enumerate(rows[sheet], start=3):
            for c, column in enumerate(columns, start=1):
                kind = column.kind
                if sheet == "policy" and column.name == "value":
                    kind = policy_key_kind(values["key"])
                    kind = "any" if kind == "mapping" else kind
                cell = _write_cell(ws, r, c, kind, values.get(column.name))
                if column.kind == "note":
                    cell.font = note_font
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


_README = [
    "schoolpost instance workbook (format schoolpost/1)",
    "",
    "One sheet per table; the same data as a YAML instance (docs/SPEC.md, docs/SPREADSHEET.md).",
    "Use it with: schoolpost info FILE.xlsx / schoolpost solve FILE.xlsx -o OUT / schoolpost check FILE.xlsx OUT",
    "",
    "Conventions:",
    "  Row 1 holds the column names (hover over them for notes); row 2 is a note row, not read:",
    "  a row whose first filled cell starts with # is a note. Fully empty rows are skipped.",
    "  Blank cell = not given (the default applies). '-' = an explicitly empty list (e.g. no days).",
    "  Lists are comma-separated: 'traffic, first_aid'. Days: 'mon, tue' or 'mon-thu'.",
    "  Skill counts: 'traffic:1, first_aid:2'. Times: 07:20 (text or a time cell). Dates: 2026-12-07.",
    "  Sheets other than policy may be deleted when empty; this readme sheet is not read.",
    "",
    "Sheets:",
    *[f"  {name}: {about}" for name, (about, _) in SHEETS.items()],
    "",
    "Errors name the sheet, row and column of the bad cell, e.g.",
    "  sheet 'persons', row 7, column 'role': must be 'police', 'auxiliary_police', ...",
]


def instance_to_xlsx(inst: Instance) -> bytes:
    """An instance (validated: :func:`models.instance_from_data`) as workbook bytes in the layout
    above; reading them back gives the same instance."""
    data = inst.model_dump(exclude_unset=True)
    return _build_workbook(data, _README)


#: The worked example of :func:`template_bytes`: one primary school with a gate and a pickup
#: area, a Friday-only dismissal, a patrol route and 12 people of six roles.
EXAMPLE: dict[str, Any] = {
    "format": "schoolpost/1",
    "name": "example-week-50",
    "week_start": "2026-12-07",
    "days": ["mon", "tue", "wed", "thu", "fri"],
    **({"timezone": "Asia/Shanghai"} if "timezone" in Instance.model_fields else {}),
    "policy": {
        "professional_roles": ["police", "auxiliary_police", "security_guard"],
        "min_professional_share": 0.6,
        "leader_on_duty": True,
        "burden_roles": ["teacher", "volunteer"],
        "travel_chain_gap": 60,
        "limits": {
            "default": {"max_per_day": 2, "max_per_week": 10, "max_minutes_per_week": 600},
            "volunteer": {"max_per_day": 1, "max_per_week": 2},
            "teacher": {"max_per_day": 1, "max_per_week": 4},
        },
        "weights": {"shortfall": 1000, "police_shortfall": 500, "skill_shortfall": 200, "share_shortfall": 300,
                    "leader_missing": 300, "below_target": 20, "fairness": 10, "continuity": 3,
                    "travel_minute": 1, "burden": 2},
    },
    "travel": {"speed_kmh": 30, "road_factor": 1.3},
    "units": [
        {"id": "west-station", "kind": "police", "name": "West police station", "schools": ["example-ps"]},
        {"id": "east-village", "kind": "community", "name": "East Village Committee", "schools": ["example-ps"]},
    ],
    "schools": [
        {
            "id": "example-ps",
            "name": "Example Primary School",
            "type": "primary",
            "district": "west",
            "location": {"lat": 37.3712, "lon": 117.9105},
            "students": 640,
            "address": "12 School Road",
            "peaks": [
                {"name": "arrival", "start": "07:30", "end": "08:10"},
                {"name": "dismissal", "start": "16:20", "end": "17:00", "days": ["mon", "tue", "wed", "thu"]},
                {"name": "dismissal", "start": "15:20", "end": "16:00", "days": ["fri"]},
            ],
            "posts": [
                {
                    "id": "example-ps/gate",
                    "kind": "gate",
                    "name": "Main gate",
                    "demand": {
                        "default": {"min": 3, "target": 4, "min_police": 1, "skills": {"traffic": 1}},
                        "dismissal": {"min": 4, "target": 5},
                    },
                },
                {
                    "id": "example-ps/pickup",
                    "kind": "pickup_area",
                    "name": "Pickup area east",
                    "location": {"lat": 37.3715, "lon": 117.9112},
                    "demand": {"default": {"min": 1, "target": 2}, "arrival": {"min": 0, "target": 1}},
                },
            ],
        }
    ],
    "routes": [
        {
            "id": "west-r1",
            "name": "Patrol car west 1",
            "unit": "west-station",
            "stops": ["example-ps"],
            "crew": {"min": 2, "max": 2, "min_police": 1},
            "runs": [
                {"name": "morning", "start": "07:20", "end": "08:20"},
                {"name": "afternoon", "start": "16:10", "end": "17:10", "days": ["mon", "tue", "wed", "thu"]},
                {"name": "afternoon", "start": "15:10", "end": "16:10", "days": ["fri"]},
            ],
        }
    ],
    "persons": [
        {"id": "P01", "name": "Wang Jun", "role": "police", "unit": "west-station", "skills": ["traffic"]},
        {"id": "P02", "name": "Liu Yang", "role": "police", "unit": "west-station", "skills": ["traffic"],
         "leave": ["2026-12-09"]},
        {"id": "P03", "name": "Zhang Wei", "role": "police", "unit": "west-station"},
        {"id": "A01", "name": "Li Bo", "role": "auxiliary_police", "unit": "west-station", "skills": ["traffic"]},
        {"id": "A02", "name": "Chen Tao", "role": "auxiliary_police", "unit": "west-station",
         "home": {"lat": 37.3650, "lon": 117.9020}},
        {"id": "A03", "name": "Huang Lei", "role": "auxiliary_police", "unit": "west-station",
         "leave": [{"date": "2026-12-10", "start": "15:00", "end": "18:00"}]},
        {"id": "G01", "name": "Qian Gang", "role": "security_guard", "unit": "example-ps",
         "limits": {"max_per_day": 3, "max_per_week": 15, "max_minutes_per_week": 900}},
        {"id": "G02", "name": "Zhou Yong", "role": "security_guard", "unit": "example-ps",
         "limits": {"max_per_day": 3, "max_per_week": 15, "max_minutes_per_week": 900}},
        {"id": "L01", "name": "Zhao Hong", "role": "school_leader", "unit": "example-ps",
         "limits": {"max_per_day": 3, "max_per_week": 15, "max_minutes_per_week": 900}},
        {"id": "T01", "name": "Sun Li", "role": "teacher", "unit": "example-ps", "skills": ["first_aid"]},
        {"id": "C01", "name": "Wu Fang", "role": "community_worker", "unit": "east-village",
         "availability": [{"start": "07:00", "end": "18:30"}]},
        {"id": "V01", "name": "Zheng Mei", "role": "volunteer", "unit": "example-ps",
         "availability": [{"days": ["tue", "thu"], "start": "07:00", "end": "09:00"}]},
    ],
}

_TEMPLATE_README = _README[:2] + [
    "This template holds a small worked example (one school, two posts, a patrol route, 12 people):",
    "replace its rows with your own, keeping row 1 of each sheet.",
    "",
] + _README[2:]


def template_bytes() -> bytes:
    """The template workbook: the layout with notes and the worked example :data:`EXAMPLE`."""
    data = Instance.model_validate(EXAMPLE).model_dump(exclude_unset=True)  # the example is valid (tested)
    return _build_workbook(data, _TEMPLATE_README)
