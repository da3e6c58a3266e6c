"""Reading roster.csv (or roster.xlsx) and resolving its rows into assignments (rule ``roster``), indexed for the rules."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from models import ASSIGNMENT_COLUMNS, Instance, InstanceError, Person, csv_value, format_hhmm, parse_hhmm
from models.roster_workbook import read_roster_workbook
from scheduler.check.duties import Duty, DutyTable, Place
from scheduler.check.report import Violation


def read_roster(roster_dir: str | Path) -> list[dict[str, str]]:
    """Rows of ``roster_dir/roster.csv`` (or of the file itself if a file is given), values stripped.

    A ``.xlsx`` file is read as the roster workbook ``solve`` writes (roster.xlsx, perhaps edited in
    a spreadsheet program; :func:`models.roster_workbook.read_roster_workbook`), giving the same rows
    as roster.csv; so is a folder's roster.xlsx when it has no roster.csv.

    Raises :class:`models.InstanceError` when the file or a column is missing (for a workbook, also
    a cell that cannot be read, named by sheet, row and column).
    """
    path = Path(roster_dir)
    if path.suffix.lower() == ".xlsx" and not path.is_dir():
        return read_roster_workbook(path)
    if not (path.is_file() or path.suffix.lower() == ".csv"):
        path = path / "roster.csv"
        if not path.is_file() and (path.parent / "roster.xlsx").is_file():
            return read_roster_workbook(path.parent / "roster.xlsx")
    if not path.is_file():
        raise InstanceError(str(path), "no such file (expected the roster written by 'schoolpost solve')")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in ASSIGNMENT_COLUMNS if c not in header]
            if missing:
                raise InstanceError(
                    str(path), f"missing column(s) {', '.join(missing)}; expected {', '.join(ASSIGNMENT_COLUMNS)}"
                )
            reader.fieldnames = header
            return [{c: csv_value((row.get(c) or "").strip()) for c in ASSIGNMENT_COLUMNS} for row in reader]
    except UnicodeDecodeError as exc:
        raise InstanceError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise InstanceError(str(path), f"not valid CSV: {exc}") from None


@dataclass(frozen=True)
class Assignment:
    """A resolved roster row: a person of the instance on a duty of the instance."""

    row: int  # 1-based data row (the CSV line is row + 1)
    person: Person
    duty: Duty


def _row_duty_key(row: Mapping[str, str]) -> str:
    if row.get("route_id"):
        return f"{row.get('date', '')} {row.get('peak', '')} route {row['route_id']}"
    return f"{row.get('date', '')} {row.get('peak', '')} {row.get('post_id', '')}"


def _same_time(text: str, minutes: int) -> bool:
    try:
        return parse_hhmm(text) == minutes
    except ValueError:
        return False


def _find_duty(
    table: DutyTable, row: Mapping[str, str], horizon: set[dt.date], post_school: Mapping[str, str], route_ids: set[str]
) -> Duty | str:
    """The duty a row names, or why it names none."""
    post_id, route_id, date_text, peak = row["post_id"], row["route_id"], row["date"], row["peak"]
    if post_id and route_id:
        return "names both a post and a route"
    if not post_id and not route_id:
        return "names neither a post nor a route"
    try:
        date = dt.date.fromisoformat(date_text)
    except ValueError:
        return f"date {date_text!r} is not an ISO date YYYY-MM-DD"
    if date not in horizon:
        return f"date {date_text} is not a school day of the horizon"
    if post_id:
        if post_id not in post_school:
            return f"no post {post_id!r}"
        duty = table.by_ident.get(("post", date_text, peak, post_id))
        return duty or f"school {post_school[post_id]} has no peak {peak!r} on {date_text}"
    if route_id not in route_ids:
        return f"no route {route_id!r}"
    duty = table.by_ident.get(("route", date_text, peak, route_id))
    return duty or f"route {route_id} has no run {peak!r} on {date_text}"


def _row_mismatches(row: Mapping[str, str], duty: Duty, person: Person) -> list[str]:
    """Fields of a row that disagree with the duty and person it names."""
    wrong = []
    expected = {
        "weekday": duty.weekday,
        "school_id": duty.school_id,
        "post_id": duty.post_id,
        "route_id": duty.route_id,
        "person_name": person.name or "",
        "role": person.role,
    }
    for column, value in expected.items():
        if row[column] != value:
            wrong.append(f"{column} is {row[column]!r}, expected {value!r}")
    for column, minutes in (("start", duty.start), ("end", duty.end)):
        if not _same_time(row[column], minutes):
            wrong.append(f"{column} is {row[column]!r}, expected {format_hhmm(minutes)!r}")
    return wrong


def check_roster_rows(
    instance: Instance, table: DutyTable, rows: Sequence[Mapping[str, str]]
) -> tuple[list[Assignment], list[Violation]]:
    """roster: each row names an existing duty and person, with matching fields, and no person twice on a duty."""
    persons = {p.id: p for p in instance.persons}
    post_school = {post.id: school.id for school in instance.schools for post in school.posts}
    route_ids = {r.id for r in instance.routes}
    horizon = {instance.date_of(d) for d in instance.days}
    assignments: list[Assignment] = []
    violations: list[Violation] = []
    seen: set[tuple[str, tuple[str, str, str, str]]] = set()
    for i, raw in enumerate(rows, start=1):
        row = {c: str(raw.get(c) or "").strip() for c in ASSIGNMENT_COLUMNS}
        pid = row["person_id"]
        duty = _find_duty(table, row, horizon, post_school, route_ids)
        if isinstance(duty, str):
            violations.append(Violation("roster", pid, _row_duty_key(row), f"row {i}: {duty}"))
            continue
        person = persons.get(pid)
        if person is None:
            violations.append(Violation("roster", pid, duty.key, f"row {i}: no person {pid!r}"))
            continue
        wrong = _row_mismatches(row, duty, person)
        if wrong:
            violations.append(Violation("roster", pid, duty.key, f"row {i}: " + "; ".join(wrong)))
        if (pid, duty.ident) in seen:
            violations.append(Violation("roster", pid, duty.key, f"row {i}: person listed twice on this duty"))
            continue
        seen.add((pid, duty.ident))
        assignments.append(Assignment(i, person, duty))
    return assignments, violations


def _chronological(duty: Duty) -> tuple[dt.date, int, int, str]:
    """RULES.md order of a person's duties: start, then end, then duty key."""
    return (duty.date, duty.start, duty.end, duty.key)


class RosterIndex:
    """Resolved assignments indexed by person and by duty, with a travel-minute cache."""

    def __init__(self, instance: Instance, table: DutyTable, assignments: list[Assignment]):
        self.instance = instance
        self.table = table
        self.assignments = assignments
        self.by_person: dict[str, list[Assignment]] = defaultdict(list)
        self.by_duty: dict[tuple[str, str, str, str], list[Assignment]] = defaultdict(list)
        for a in assignments:
            self.by_person[a.person.id].append(a)
            self.by_duty[a.duty.ident].append(a)
        for items in self.by_person.values():
            items.sort(key=lambda a: _chronological(a.duty))
        self.unit_schools: dict[str, frozenset[str]] = {u.id: frozenset(u.schools) for u in instance.units}
        self.route_unit: dict[str, str] = {r.id: r.unit for r in instance.routes}
        self._travel: dict[tuple[Place, Place], int] = {}

    def travel(self, src: Place, dst: Place) -> int:
        """Travel minutes from one place to another (``Instance.travel_minutes``), cached."""
        key = (src, dst)
        if key not in self._travel:
            self._travel[key] = self.instance.travel_minutes(src.school_id, src.location, dst.school_id, dst.location)
        return self._travel[key]

    def person_days(self) -> Iterator[tuple[Person, list[Duty]]]:
        """Each person's duties on each date, in RULES.md order."""
        for items in self.by_person.values():
            day: list[Duty] = []
            for a in items:
                if day and day[-1].date != a.duty.date:
                    yield items[0].person, day
                    day = []
                day.append(a.duty)
            if day:
                yield items[0].person, day

    def may_serve(self, person: Person, duty: Duty) -> bool:
        """RULES.md eligibility: the person's unit serves the duty's school, is that school, or owns the route."""
        if duty.kind == "route":
            return person.unit == self.route_unit[duty.route_id]
        return person.unit == duty.school_id or duty.school_id in self.unit_schools.get(person.unit, ())

    def school_peak_people(self) -> dict[tuple[str, dt.date, str], list[Person]]:
        """People assigned to any post of a school at a date and peak (route duties excluded)."""
        out: dict[tuple[str, dt.date, str], list[Person]] = defaultdict(list)
        for a in self.assignments:
            if a.duty.kind == "post":
                out[(a.duty.school_id, a.duty.date, a.duty.peak)].append(a.person)
        return out

    def duty_count(self, person_id: str) -> int:
        return len(self.by_person.get(person_id, ()))
