"""The independent roster validator: ``schoolpost check INSTANCE OUTDIR``.

Recomputes every hard rule, every soft term, the weighted objective and the KPIs of
docs/SPEC.md from the instance and ``roster.csv`` alone, following docs/RULES.md to the letter.
It deliberately imports nothing from the rest of ``scheduler`` (not the duty expansion, not the
model builder): it has its own duty expansion, so a bug in the builder cannot hide itself here.

Readings chosen where RULES.md leaves room:

- Rows are resolved first (rule ``roster``). A post row names its duty by (date, peak, post_id),
  a route row by (date, peak = run name, route_id); weekday, school_id, start, end, person name
  and role must then agree with the instance. A row whose duty or person does not exist is
  reported and then ignored; a row with a wrong weekday, time, name or role is reported and then
  counted as the duty and person the instance defines. A person listed twice on one duty is
  reported once per extra row and counted once.
- A person without a ``name`` in the instance is expected with an empty ``person_name``.
- Every other rule, term and KPI counts the resolved assignments, whether or not they break a
  hard rule (the roster is measured as written).
- ``cap``: one violation per person beyond the cap, the extra people being the later rows.
- ``limits``: one violation per exceeded limit (per date for ``max_per_day``), naming the first
  duty, in time order, that goes over it.
- ``one_place``: all pairs of a person's duties on a date are checked (travel minutes need not
  obey the triangle inequality when ``travel.matrix`` is given); the violation names the later
  duty and the detail the earlier one.
- ``leader_missing`` counts every school, date and peak the school has that day, even a peak at
  which nobody is assigned (or a school without posts), as RULES.md states it.
- ``travel_chain_gap`` is read from the policy when it exists, else 60 minutes (RULES.md default).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from models import (
    ASSIGNMENT_COLUMNS,
    Instance,
    InstanceError,
    Person,
    csv_value,
    format_hhmm,
    parse_hhmm,
)
from models.instance import SOFT_RULES, Location

#: Hard rules in the order they are reported.
HARD_RULES: tuple[str, ...] = ("roster", "eligibility", "availability", "one_place", "limits", "cap", "pinned")
DEFAULT_TRAVEL_CHAIN_GAP = 60
OBJECTIVE_REL_TOL = 1e-6


# --------------------------------------------------------------------------------------------
# Duties: the validator's own expansion of the instance
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a duty starts or ends: the school it belongs to (for ``travel.matrix``) and a location."""

    school_id: str
    location: Location


@dataclass(frozen=True, eq=False)
class Duty:
    """One concrete thing to staff: a (post, date, peak) or a (route, date, run)."""

    kind: str  # "post" | "route"
    date: dt.date
    weekday: str
    peak: str  # the peak name, or the run name of a route duty
    school_id: str  # "" for a route duty
    post_id: str  # "" for a route duty
    route_id: str  # "" for a post duty
    start: int  # minutes after midnight, window [start, end)
    end: int
    start_place: Place
    end_place: Place
    min: int
    target: int
    cap: int
    min_police: int
    skills: Mapping[str, int]

    @property
    def ident(self) -> tuple[str, str, str, str]:
        """Unique identity: (kind, ISO date, peak or run, post or route id)."""
        return (self.kind, self.date.isoformat(), self.peak, self.post_id or self.route_id)

    @property
    def key(self) -> str:
        """Readable key, e.g. ``2026-12-07 arrival bz-exp/north-gate``, ``2026-12-07 morning route r1``."""
        if self.kind == "route":
            return f"{self.date.isoformat()} {self.peak} route {self.route_id}"
        return f"{self.date.isoformat()} {self.peak} {self.post_id}"

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def station(self) -> str:
        """The post or route served (for continuity)."""
        return f"post {self.post_id}" if self.kind == "post" else f"route {self.route_id}"

    @property
    def window(self) -> str:
        return f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"


@dataclass(frozen=True)
class DutyTable:
    """All valid duties of an instance, plus the school peaks that the leader rule counts."""

    duties: list[Duty]
    by_ident: dict[tuple[str, str, str, str], Duty]
    #: (school_id, date, peak) for every peak each school has on each school day.
    school_peaks: list[tuple[str, dt.date, str]]


def _runs_on(days: Iterable[str] | None, day: str) -> bool:
    return days is None or day in days


def expand_duties(instance: Instance) -> DutyTable:
    """Every post duty (post, date, peak) and route duty (route, date, run), as RULES.md "Duties" says."""
    schools = {s.id: s for s in instance.schools}
    duties: list[Duty] = []
    school_peaks: list[tuple[str, dt.date, str]] = []
    for day in instance.days:
        date = instance.date_of(day)
        for school in instance.schools:
            for peak in school.peaks:
                if not _runs_on(peak.days, day):
                    continue
                school_peaks.append((school.id, date, peak.name))
                for post in school.posts:
                    demand = post.demand_at(peak.name)
                    place = Place(school.id, post.location or school.location)
                    duties.append(
                        Duty(
                            kind="post",
                            date=date,
                            weekday=day,
                            peak=peak.name,
                            school_id=school.id,
                            post_id=post.id,
                            route_id="",
                            start=peak.start,
                            end=peak.end,
                            start_place=place,
                            end_place=place,
                            min=demand.min,
                            target=demand.target,
                            cap=demand.target,
                            min_police=demand.min_police,
                            skills=dict(demand.skills),
                        )
                    )
        for route in instance.routes:
            first, last = schools[route.stops[0]], schools[route.stops[-1]]
            cap = route.crew.max if route.crew.max is not None else route.crew.min
            for run in route.runs:
                if not _runs_on(run.days, day):
                    continue
                duties.append(
                    Duty(
                        kind="route",
                        date=date,
                        weekday=day,
                        peak=run.name,
                        school_id="",
                        post_id="",
                        route_id=route.id,
                        start=run.start,
                        end=run.end,
                        start_place=Place(first.id, first.location),
                        end_place=Place(last.id, last.location),
                        min=route.crew.min,
                        target=cap,
                        cap=cap,
                        min_police=route.crew.min_police,
                        skills=dict(route.crew.skills or {}),
                    )
                )
    return DutyTable(duties, {d.ident: d for d in duties}, school_peaks)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A broken hard rule: which rule, whose, on which duty, and why in words."""

    rule: str
    person_id: str
    duty: str
    detail: str

    def __str__(self) -> str:
        return f"VIOLATION {self.rule} person={self.person_id} duty={self.duty}: {self.detail}"


@dataclass(frozen=True)
class DutyOutcome:
    """What one duty got: assigned people, police and skills against its demand."""

    duty: str
    kind: str
    date: str
    peak: str
    school_id: str
    post_id: str
    route_id: str
    min: int
    target: int
    cap: int
    min_police: int
    skills: dict[str, int]
    assigned: int
    police: int
    skills_got: dict[str, int]

    @property
    def shortfall(self) -> int:
        return max(0, self.min - self.assigned)

    @property
    def police_shortfall(self) -> int:
        return max(0, self.min_police - self.police)

    @property
    def skill_shortfall(self) -> int:
        return sum(max(0, need - self.skills_got.get(s, 0)) for s, need in self.skills.items())

    @property
    def below_target(self) -> int:
        return max(0, self.target - self.assigned)

    @property
    def fully_met(self) -> bool:
        return self.assigned >= self.min

    @property
    def is_gap(self) -> bool:
        """Not fully met: short of people, police or a skill."""
        return bool(self.shortfall or self.police_shortfall or self.skill_shortfall)

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out.update(
            shortfall=self.shortfall,
            police_shortfall=self.police_shortfall,
            skill_shortfall=self.skill_shortfall,
            below_target=self.below_target,
        )
        return out


@dataclass
class CheckReport:
    """Hard violations, raw soft terms, weighted objective, KPIs and per-duty outcomes."""

    violations: list[Violation] = field(default_factory=list)
    terms: dict[str, int] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    objective: float = 0.0
    kpis: dict[str, Any] = field(default_factory=dict)
    per_duty: list[DutyOutcome] = field(default_factory=list)
    #: per school peak not fully met: (school_id, date, peak, rule, needed, got) for the share and leader rules
    slot_gaps: list[tuple[str, dt.date, str, str, int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no hard rule is broken."""
        return not self.violations

    @property
    def gaps(self) -> list[DutyOutcome]:
        """Duties short of people, police or a skill."""
        return [d for d in self.per_duty if d.is_gap]

    def violations_by_rule(self) -> dict[str, int]:
        counts = dict.fromkeys(HARD_RULES, 0)
        for v in self.violations:
            counts[v.rule] = counts.get(v.rule, 0) + 1
        return {rule: n for rule, n in counts.items() if n}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; per-duty outcomes are limited to the gaps."""
        return {
            "ok": self.ok,
            "violations": [asdict(v) for v in self.violations],
            "terms": dict(self.terms),
            "weights": dict(self.weights),
            "objective": self.objective,
            "kpis": self.kpis,
            "gaps": [d.as_dict() for d in self.gaps],
        }


# --------------------------------------------------------------------------------------------
# Reading roster.csv
# --------------------------------------------------------------------------------------------


def read_roster(roster_dir: str | Path) -> list[dict[str, str]]:
    """Rows of ``roster_dir/roster.csv`` (or of the file itself if a file is given), values stripped.

    Raises :class:`models.InstanceError` when the file or a column is missing.
    """
    path = Path(roster_dir)
    if not (path.is_file() or path.suffix.lower() == ".csv"):
        path = path / "roster.csv"
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


# --------------------------------------------------------------------------------------------
# Rule roster: resolve rows into assignments
# --------------------------------------------------------------------------------------------


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
    instance: Instance, table: DutyTable, rows: list[Mapping[str, str]]
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


# --------------------------------------------------------------------------------------------
# Indexed roster shared by the rules
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Hard rules
# --------------------------------------------------------------------------------------------


def check_eligibility(idx: RosterIndex) -> list[Violation]:
    """eligibility: a person serves only schools of their unit (or their own school) and routes of their unit."""
    out = []
    for a in idx.assignments:
        if not idx.may_serve(a.person, a.duty):
            where = f"route {a.duty.route_id}" if a.duty.kind == "route" else f"school {a.duty.school_id}"
            out.append(
                Violation("eligibility", a.person.id, a.duty.key, f"unit {a.person.unit} does not serve {where}")
            )
    return out


def check_pinned(idx: RosterIndex) -> list[Violation]:
    """pinned (extension): each of a person's ``pins`` (a post's peak or a route's run on a date)
    is on the roster for that person."""
    out = []
    for person in idx.instance.persons:
        if not person.pins:
            continue
        mine = {a.duty.ident for a in idx.by_person.get(person.id, ())}
        for pin in person.pins:
            if pin.ident not in mine:
                where = pin.post or f"route {pin.route}"
                exists = pin.ident in idx.table.by_ident
                out.append(Violation("pinned", person.id, f"{pin.date.isoformat()} {pin.peak} {where}",
                                     "pinned here but not on the roster" if exists
                                     else "pinned to a duty the instance does not have"))
    return out


def _availability_problem(person: Person, duty: Duty) -> str | None:
    """Why the person is not available for the duty, or None."""
    if person.availability is not None and not any(
        _runs_on(w.days, duty.weekday) and w.start <= duty.start and duty.end <= w.end for w in person.availability
    ):
        return f"{duty.weekday} {duty.window} is outside every availability window"
    for leave in person.leave:
        if isinstance(leave, dt.date):
            if leave == duty.date:
                return f"on leave all day {leave.isoformat()}"
        elif leave.date == duty.date and leave.start < duty.end and duty.start < leave.end:
            return f"on leave {leave.date.isoformat()} {format_hhmm(leave.start)}-{format_hhmm(leave.end)}"
    return None


def check_availability(idx: RosterIndex) -> list[Violation]:
    """availability: inside one availability window of the weekday, not on a leave date, not overlapping a leave."""
    out = []
    for a in idx.assignments:
        problem = _availability_problem(a.person, a.duty)
        if problem:
            out.append(Violation("availability", a.person.id, a.duty.key, f"duty {a.duty.window}: {problem}"))
    return out


def check_one_place(idx: RosterIndex) -> list[Violation]:
    """one_place: for a person's duties a, b on one date (a first), a.end + travel(a, b) <= b.start."""
    out = []
    for person, day in idx.person_days():
        for i, a in enumerate(day):
            for b in day[i + 1 :]:
                travel = idx.travel(a.end_place, b.start_place)
                if a.end + travel > b.start:
                    if a.end > b.start:
                        why = f"overlaps {a.key} ({a.window})"
                    else:
                        why = (
                            f"{a.key} ends {format_hhmm(a.end)} and travel from {a.end_place.school_id} "
                            f"takes {travel} min, arriving {format_hhmm(a.end + travel)}"
                        )
                    out.append(Violation("one_place", person.id, b.key, f"starts {format_hhmm(b.start)}, but {why}"))
    return out


def check_limits(idx: RosterIndex) -> list[Violation]:
    """limits: duties per date <= max_per_day, duties <= max_per_week, duty minutes <= max_minutes_per_week."""
    out = []
    for pid, items in idx.by_person.items():
        person = items[0].person
        limit = idx.instance.limits_of(person)
        duties = [a.duty for a in items]
        if limit.max_per_day is not None:
            per_date: dict[dt.date, list[Duty]] = defaultdict(list)
            for d in duties:
                per_date[d.date].append(d)
            for date, ds in per_date.items():
                if len(ds) > limit.max_per_day:
                    out.append(
                        Violation(
                            "limits",
                            pid,
                            ds[limit.max_per_day].key,
                            f"{len(ds)} duties on {date.isoformat()}, max_per_day is {limit.max_per_day}",
                        )
                    )
        if limit.max_per_week is not None and len(duties) > limit.max_per_week:
            out.append(
                Violation(
                    "limits",
                    pid,
                    duties[limit.max_per_week].key,
                    f"{len(duties)} duties in the horizon, max_per_week is {limit.max_per_week}",
                )
            )
        if limit.max_minutes_per_week is not None:
            total = 0
            first_over = None
            for d in duties:
                total += d.minutes
                if first_over is None and total > limit.max_minutes_per_week:
                    first_over = d
            if first_over is not None:
                out.append(
                    Violation(
                        "limits",
                        pid,
                        first_over.key,
                        f"{total} duty minutes in the horizon, max_minutes_per_week is {limit.max_minutes_per_week}",
                    )
                )
    return out


def check_cap(idx: RosterIndex) -> list[Violation]:
    """cap: a post duty takes at most its target people, a route duty at most crew.max (default crew.min)."""
    out = []
    for duty in idx.table.duties:
        people = idx.by_duty.get(duty.ident, [])
        if len(people) > duty.cap:
            what = "crew.max" if duty.kind == "route" else "target"
            for a in people[duty.cap :]:
                out.append(
                    Violation(
                        "cap",
                        a.person.id,
                        duty.key,
                        f"{len(people)} people on a duty that takes at most {duty.cap} ({what}); "
                        f"row {a.row} is beyond the cap",
                    )
                )
    return out


# --------------------------------------------------------------------------------------------
# Soft rules (raw, unweighted values)
# --------------------------------------------------------------------------------------------


def duty_outcomes(idx: RosterIndex) -> list[DutyOutcome]:
    """Assigned people, police and skills of every duty, in duty order."""
    out = []
    for duty in idx.table.duties:
        people = [a.person for a in idx.by_duty.get(duty.ident, [])]
        skills_got = {s: sum(1 for p in people if s in p.skills) for s in duty.skills}
        out.append(
            DutyOutcome(
                duty.key,
                duty.kind,
                duty.date.isoformat(),
                duty.peak,
                duty.school_id,
                duty.post_id,
                duty.route_id,
                duty.min,
                duty.target,
                duty.cap,
                duty.min_police,
                dict(duty.skills),
                len(people),
                sum(1 for p in people if p.role == "police"),
                skills_got,
            )
        )
    return out


def term_shortfall(outcomes: list[DutyOutcome]) -> int:
    """shortfall: per duty, max(0, min - assigned)."""
    return sum(o.shortfall for o in outcomes)


def term_police_shortfall(outcomes: list[DutyOutcome]) -> int:
    """police_shortfall: per duty, max(0, min_police - assigned with role police); auxiliaries do not count."""
    return sum(o.police_shortfall for o in outcomes)


def term_skill_shortfall(outcomes: list[DutyOutcome]) -> int:
    """skill_shortfall: per duty and skill s asked for, max(0, skills[s] - assigned having s)."""
    return sum(o.skill_shortfall for o in outcomes)


def term_below_target(outcomes: list[DutyOutcome]) -> int:
    """below_target: per duty, max(0, target - assigned)."""
    return sum(o.below_target for o in outcomes)


def professional_share(instance: Instance) -> Fraction:
    """policy.min_professional_share as an exact fraction (limit_denominator(1000))."""
    return Fraction(instance.policy.min_professional_share).limit_denominator(1000)


def share_shortfalls(idx: RosterIndex) -> dict[tuple[str, dt.date, str], int]:
    """Per school, date and peak with an assignment at the school's posts: max(0, ceil(share*total) - professionals)."""
    share = professional_share(idx.instance)
    professional = set(idx.instance.policy.professional_roles)
    out = {}
    for key, people in idx.school_peak_people().items():
        pros = sum(1 for p in people if p.role in professional)
        out[key] = max(0, math.ceil(share * len(people)) - pros)
    return out


def term_share_shortfall(idx: RosterIndex) -> int:
    """share_shortfall: summed over school peaks with assignments (routes never count)."""
    return sum(share_shortfalls(idx).values())


def schools_with_leader(instance: Instance) -> set[str]:
    """Schools some person of role school_leader may serve (by the eligibility rule)."""
    unit_schools = {u.id: u.schools for u in instance.units}
    school_ids = {s.id for s in instance.schools}
    out: set[str] = set()
    for p in instance.persons:
        if p.role == "school_leader":
            out.update([p.unit] if p.unit in school_ids else unit_schools.get(p.unit, ()))
    return out


def leader_outcomes(idx: RosterIndex) -> dict[tuple[str, dt.date, str], bool]:
    """Per school peak counted by the leader rule: whether a school_leader is assigned to a post there."""
    if not idx.instance.policy.leader_on_duty:
        return {}
    with_leader = schools_with_leader(idx.instance)
    people = idx.school_peak_people()
    return {
        key: any(p.role == "school_leader" for p in people.get(key, ()))
        for key in idx.table.school_peaks
        if key[0] in with_leader
    }


def term_leader_missing(idx: RosterIndex) -> int:
    """leader_missing: per school, date and peak (school having a leader), 1 when no school_leader is on a post."""
    return sum(1 for has in leader_outcomes(idx).values() if not has)


def term_fairness(idx: RosterIndex) -> int:
    """fairness: per (unit, role) group of persons, the largest number of duties of one member; summed."""
    group_max: dict[tuple[str, str], int] = defaultdict(int)
    for p in idx.instance.persons:
        key = (p.unit, p.role)
        group_max[key] = max(group_max[key], idx.duty_count(p.id))
    return sum(group_max.values())


def distinct_stations(idx: RosterIndex) -> dict[str, int]:
    """Per person with a duty: the number of distinct posts and routes served."""
    return {pid: len({a.duty.station for a in items}) for pid, items in idx.by_person.items()}


def term_continuity(idx: RosterIndex) -> int:
    """continuity: per person, max(0, distinct posts and routes served - 1); summed."""
    return sum(max(0, n - 1) for n in distinct_stations(idx).values())


def travel_chain_gap(instance: Instance) -> int:
    """policy.travel_chain_gap (extension), default 60 minutes."""
    gap = getattr(instance.policy, "travel_chain_gap", None)
    return DEFAULT_TRAVEL_CHAIN_GAP if gap is None else gap


def term_travel_minute(idx: RosterIndex) -> int:
    """travel_minute: per person and date, travel between consecutive duties whose idle gap is <= the chain gap."""
    chain_gap = travel_chain_gap(idx.instance)
    total = 0
    for _, day in idx.person_days():
        for a, b in itertools.pairwise(day):
            if b.start - a.end <= chain_gap:
                total += idx.travel(a.end_place, b.start_place)
    return total


def term_burden(idx: RosterIndex) -> int:
    """burden: 1 per assignment of a person whose role is in policy.burden_roles."""
    roles = set(idx.instance.policy.burden_roles)
    return sum(1 for a in idx.assignments if a.person.role in roles)


# --------------------------------------------------------------------------------------------
# KPIs
# --------------------------------------------------------------------------------------------


def _fraction(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def compute_kpis(idx: RosterIndex, outcomes: list[DutyOutcome], travel_minutes: int) -> dict[str, Any]:
    """SPEC's KPIs.

    - ``fill_rate``: sum over duties of min(assigned, min) / sum over duties of min (people beyond
      a duty's ``min`` do not make up for another duty's shortfall); 1.0 when nothing is demanded.
    - ``duties_total``; ``duties_fully_met``: duties with assigned >= min.
    - ``police_demand_met``: fraction of duties with min_police > 0 whose police count meets it (1.0 if none).
    - ``share_compliance``: fraction of school-date-peaks with assignments whose share_shortfall is 0 (1.0 if none).
    - ``leader_compliance``: fraction of the school-date-peaks the leader rule counts that have a leader
      (1.0 if none, e.g. when ``leader_on_duty`` is off).
    - ``load_by_role``: {role: {max, min, mean, spread}} of duties per person over all persons of the role.
    - ``continuity_mean_distinct_posts``: mean distinct posts and routes over persons with >= 1 duty (0.0 if none).
    - ``travel_minutes``: the travel_minute term; ``duties_by_role``: {role: assignment count}.
    """
    demanded = sum(o.min for o in outcomes)
    filled = sum(min(o.assigned, o.min) for o in outcomes)
    police_duties = [o for o in outcomes if o.min_police > 0]
    shares = share_shortfalls(idx)
    leaders = leader_outcomes(idx)
    load: dict[str, list[int]] = defaultdict(list)
    for p in idx.instance.persons:
        load[p.role].append(idx.duty_count(p.id))
    by_role: dict[str, int] = dict.fromkeys(sorted(load), 0)
    for a in idx.assignments:
        by_role[a.person.role] = by_role.get(a.person.role, 0) + 1
    stations = distinct_stations(idx)
    return {
        "fill_rate": _fraction(filled, demanded),
        "duties_total": len(outcomes),
        "duties_fully_met": sum(1 for o in outcomes if o.fully_met),
        "police_demand_met": _fraction(sum(1 for o in police_duties if o.police_shortfall == 0), len(police_duties)),
        "share_compliance": _fraction(sum(1 for s in shares.values() if s == 0), len(shares)),
        "leader_compliance": _fraction(sum(1 for has in leaders.values() if has), len(leaders)),
        "load_by_role": {
            role: {
                "max": max(counts),
                "min": min(counts),
                "mean": sum(counts) / len(counts),
                "spread": max(counts) - min(counts),
            }
            for role, counts in sorted(load.items())
        },
        "continuity_mean_distinct_posts": sum(stations.values()) / len(stations) if stations else 0.0,
        "travel_minutes": travel_minutes,
        "duties_by_role": by_role,
    }


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def check_rows(instance: Instance, rows: list[Mapping[str, str]]) -> CheckReport:
    """Check roster rows (dicts with the ``roster.csv`` columns) against the instance."""
    table = expand_duties(instance)
    assignments, violations = check_roster_rows(instance, table, rows)
    idx = RosterIndex(instance, table, assignments)
    for rule in (check_eligibility, check_availability, check_one_place, check_limits, check_cap, check_pinned):
        violations.extend(rule(idx))
    outcomes = duty_outcomes(idx)
    terms = {
        "shortfall": term_shortfall(outcomes),
        "police_shortfall": term_police_shortfall(outcomes),
        "skill_shortfall": term_skill_shortfall(outcomes),
        "share_shortfall": term_share_shortfall(idx),
        "leader_missing": term_leader_missing(idx),
        "below_target": term_below_target(outcomes),
        "fairness": term_fairness(idx),
        "continuity": term_continuity(idx),
        "travel_minute": term_travel_minute(idx),
        "burden": term_burden(idx),
    }
    weights = {rule: float(getattr(instance.policy.weights, rule)) for rule in SOFT_RULES}
    objective = sum(weights[rule] * terms[rule] for rule in SOFT_RULES)
    return CheckReport(
        slot_gaps=_slot_gaps(idx),
        violations=violations,
        terms=terms,
        weights=weights,
        objective=objective,
        kpis=compute_kpis(idx, outcomes, terms["travel_minute"]),
        per_duty=outcomes,
    )


def _slot_gaps(idx: RosterIndex) -> list[tuple[str, dt.date, str, str, int, int]]:
    """School peaks short of the professional share or of a leader, with needed and got."""
    share = professional_share(idx.instance)
    professional = set(idx.instance.policy.professional_roles)
    people = idx.school_peak_people()
    out = []
    for key, short in share_shortfalls(idx).items():
        if short:
            total = len(people[key])
            out.append((*key, "share_shortfall", math.ceil(share * total), sum(p.role in professional for p in people[key])))
    for key, has in leader_outcomes(idx).items():
        if not has:
            out.append((*key, "leader_missing", 1, 0))
    return sorted(out, key=lambda g: (g[1], g[0], g[2], g[3]))


def check_roster(instance: Instance, roster_dir: str | Path) -> CheckReport:
    """Check ``roster_dir/roster.csv`` against the instance."""
    return check_rows(instance, read_roster(roster_dir))


def summary_objective(roster_dir: str | Path) -> float | None:
    """The ``objective`` of ``roster_dir/summary.json`` if present and numeric, else None."""
    path = Path(roster_dir)
    path = (path if path.is_dir() else path.parent) / "summary.json"
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("objective")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def objective_matches(recomputed: float, reported: float) -> bool:
    """Equal within a relative tolerance of 1e-6 (and an absolute one of 1e-6 near zero)."""
    return math.isclose(recomputed, reported, rel_tol=OBJECTIVE_REL_TOL, abs_tol=OBJECTIVE_REL_TOL)


def number_text(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.6g}" if abs(value) < 1 else f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def format_report(report: CheckReport) -> list[str]:
    """Readable lines: violations, then terms, objective and KPIs as short tables."""
    lines = [str(v) for v in report.violations]
    lines.append(f"{'term':<18}{'value':>10}{'weight':>10}{'weighted':>14}")
    for rule in SOFT_RULES:
        w, v = report.weights.get(rule, 0.0), report.terms.get(rule, 0)
        lines.append(f"  {rule:<16}{v:>10,}{number_text(w):>10}{number_text(w * v):>14}")
    lines.append(f"{'objective':<38}{number_text(report.objective):>14}")
    lines.append("kpis")
    for name, value in report.kpis.items():
        if name == "load_by_role":
            for role, s in value.items():
                lines.append(
                    f"  load {role:<24} max {s['max']:>3}  min {s['min']:>3}  "
                    f"mean {s['mean']:6.2f}  spread {s['spread']:>3}"
                )
        elif name == "duties_by_role":
            lines.append("  duties_by_role  " + "  ".join(f"{r}={n}" for r, n in value.items()))
        elif isinstance(value, float):
            lines.append(f"  {name:<32}{value:>10.4f}")
        else:
            lines.append(f"  {name:<32}{value:>10}")
    return lines


