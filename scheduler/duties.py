"""Expand an instance into duties, places and the eligible (person, duty) pairs.

This is the first step of the flow ``instance -> duties -> model -> roster``. Only the pairs
listed here get a variable in the model, so every hard rule that can be decided for one person
and one duty alone (eligibility, availability, leave, limits a single duty already breaks) is
applied here, once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from models import Instance, InstanceError, Person
from models.instance import LeaveWindow, Location, format_hhmm


@dataclass(frozen=True, slots=True)
class Place:
    """A location, named by its school for ``travel.matrix`` look-ups."""

    school_id: str
    location: Location


@dataclass(slots=True)
class Duty:
    """One concrete thing to staff: a (post, date, peak) or a (route, date, run)."""

    index: int
    kind: str  # "post" | "route" | "context" (a sub-problem's fixed duty)
    date: dt.date
    weekday: str
    peak: str  # the peak's name, or the run's name for a route
    school_id: str
    post_id: str
    route_id: str
    start: int
    end: int
    start_place: int
    end_place: int
    min: int
    target: int
    min_police: int
    skills: dict[str, int]

    @property
    def cap(self) -> int:
        """SPEC: a post takes at most ``target``; a route at most ``crew.max`` (= target here)."""
        return self.target

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def where(self) -> str:
        return self.post_id or f"route {self.route_id}"

    @property
    def key(self) -> str:
        return f"{self.date.isoformat()} {self.peak} {self.where}"

    @property
    def window(self) -> str:
        return f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"


@dataclass
class Problem:
    """An instance expanded: duties, places, travel, and who may take what."""

    instance: Instance
    duties: list[Duty]
    places: list[Place]
    persons: list[Person]
    #: eligible duty indices per person index, sorted by (date, start)
    eligible: list[list[int]]
    #: person indices that may serve each school (by unit), for the leader rule and gap reasons
    school_staff: dict[str, list[int]] = field(default_factory=dict)
    #: schools that have a leader (some school_leader may serve them): the leader rule's scope
    leader_schools: frozenset[str] = frozenset()
    #: (school, date, peak) of every peak each school has on each date in scope
    school_peaks: list[tuple[str, dt.date, str]] = field(default_factory=list)
    #: (person, duty) pairs fixed to 1 (a sub-problem's context); their duties have kind "context"
    fixed: frozenset[tuple[int, int]] = frozenset()
    #: (person, duty) pairs the instance pins (``persons[].pins``): constants 1 in every model
    pinned: frozenset[tuple[int, int]] = frozenset()
    #: per (unit, role) group: the largest load of a member outside this (sub-)problem
    fairness_floor: dict[tuple[str, str], int] = field(default_factory=dict)
    _travel: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)

    def travel(self, src: int, dst: int) -> int:
        """Travel minutes between two place indices (cached)."""
        key = (src, dst)
        minutes = self._travel.get(key)
        if minutes is None:
            a, b = self.places[src], self.places[dst]
            minutes = self.instance.travel_minutes(a.school_id, a.location, b.school_id, b.location)
            self._travel[key] = minutes
        return minutes

    def compatible(self, a: Duty, b: Duty) -> bool:
        """One place at a time: ``a`` then ``b`` (or ``b`` then ``a``) fits with travel."""
        if a.date != b.date:
            return True
        if (a.start, a.end, a.index) > (b.start, b.end, b.index):
            a, b = b, a
        return a.end + self.travel(a.end_place, b.start_place) <= b.start

    @cached_property
    def pairs(self) -> int:
        return sum(len(e) for e in self.eligible)

    @cached_property
    def candidates(self) -> list[list[int]]:
        """Per duty index: the persons eligible for it, in person order (``eligible`` turned round)."""
        out: list[list[int]] = [[] for _ in self.duties]
        for p, ds in enumerate(self.eligible):
            for d in ds:
                out[d].append(p)
        return out

    @cached_property
    def dates(self) -> list[dt.date]:
        return sorted({d.date for d in self.duties})


#: eligible (person, duty) pairs one solve takes at most by default (``--max-pairs``): about 2.7 KB
#: of memory each at the peak of a district's solve (0.86 GB for 315,000), so some 8 GB
MAX_PAIRS = 3_000_000


def most_in_sequence(windows: Iterable[tuple[int, int]]) -> int:
    """The most of these ``(start, end)`` windows one person can serve one after the other, travel
    ignored (interval scheduling: the earliest end first)."""
    n, free_from = 0, None
    for start, end in sorted(windows, key=lambda w: (w[1], w[0])):
        if free_from is None or start >= free_from:
            n, free_from = n + 1, end
    return n


def pairs_upper_bound(instance: Instance) -> int:
    """The eligible (person, duty) pairs an instance can have at most (before availability, leave
    and limits), counted without expanding it: each person times the duties of the schools and
    routes their unit serves."""
    def times(days: Sequence[str] | None) -> int:
        return sum(1 for day in instance.days if days is None or day in days)

    of_school = {s.id: len(s.posts) * sum(times(pk.days) for pk in s.peaks) for s in instance.schools}
    of_route = {r.id: sum(times(run.days) for run in r.runs) for r in instance.routes}
    of_unit = {u.id: sum(of_school.get(s, 0) for s in set(u.schools)) for u in instance.units}
    for r in instance.routes:
        of_unit[r.unit] = of_unit.get(r.unit, 0) + of_route[r.id]
    return sum(of_unit.get(p.unit, of_school.get(p.unit, 0)) for p in instance.persons)


def document_pairs_upper_bound(doc: Any) -> int | None:
    """:func:`pairs_upper_bound` of a parsed document not yet validated (validating a city of
    700,000 people takes half a minute); None where its shape is not an instance's (validation
    then says what is wrong)."""
    try:
        days = doc.get("days") or ["mon", "tue", "wed", "thu", "fri"]

        def times(found) -> int:
            return sum(1 for day in days if found is None or day in found)

        of_school = {s["id"]: len(s.get("posts") or []) * sum(times(pk.get("days")) for pk in s.get("peaks") or [])
                     for s in doc.get("schools") or []}
        of_unit = {u["id"]: sum(of_school.get(s, 0) for s in set(u.get("schools") or [])) for u in doc.get("units") or []}
        for r in doc.get("routes") or []:
            of_unit[r["unit"]] = of_unit.get(r["unit"], 0) + sum(times(run.get("days")) for run in r.get("runs") or [])
        return sum(of_unit.get(p.get("unit"), of_school.get(p.get("unit"), 0)) for p in doc.get("persons") or [])
    except (AttributeError, KeyError, TypeError):
        return None


def check_size(instance: Instance | dict, max_pairs: int = MAX_PAIRS) -> None:
    """Refuse, before any memory is spent on it, an instance (or a parsed document, before it is
    validated) with more eligible pairs than one solve may take (:data:`MAX_PAIRS`)."""
    from models import InstanceError

    bound = pairs_upper_bound(instance) if isinstance(instance, Instance) else document_pairs_upper_bound(instance)
    if bound is not None and bound > max_pairs:
        raise InstanceError("persons", f"up to {bound:,} eligible (person, duty) pairs; one solve takes at most "
                                       f"{max_pairs:,} (about {max_pairs * 2700 / 1e9:.0f} GB of memory): split it by "
                                       f"district (schoolpost batch) or raise --max-pairs")


def expand(instance: Instance) -> Problem:
    """Duties for every school day of the horizon, and each person's eligible duties."""
    places: list[Place] = []
    place_index: dict[tuple[str, float, float], int] = {}

    def place(school_id: str, loc: Location) -> int:
        key = (school_id, loc.lat, loc.lon)
        if key not in place_index:
            place_index[key] = len(places)
            places.append(Place(school_id, loc))
        return place_index[key]

    schools = {s.id: s for s in instance.schools}
    duties: list[Duty] = []
    day_dates = [(day, instance.date_of(day)) for day in instance.days]
    day_dates.sort(key=lambda x: x[1])
    for day, date in day_dates:
        for school in instance.schools:
            for peak in school.peaks:
                if peak.days is not None and day not in peak.days:
                    continue
                for post in school.posts:
                    p = place(school.id, post.location or school.location)
                    dem = post.demand_at(peak.name)
                    duties.append(
                        Duty(len(duties), "post", date, day, peak.name, school.id, post.id, "",
                             peak.start, peak.end, p, p, dem.min, dem.target, dem.min_police, dem.skills)
                    )
        for route in instance.routes:
            first, last = schools[route.stops[0]], schools[route.stops[-1]]
            for run in route.runs:
                if run.days is not None and day not in run.days:
                    continue
                crew = route.crew
                duties.append(
                    Duty(len(duties), "route", date, day, run.name, "", "", route.id, run.start, run.end,
                         place(first.id, first.location), place(last.id, last.location),
                         crew.min, crew.max if crew.max is not None else crew.min, crew.min_police,
                         dict(crew.skills or {}))
                )

    by_school: dict[str, list[int]] = defaultdict(list)
    by_route: dict[str, list[int]] = defaultdict(list)
    for d in duties:
        (by_school[d.school_id] if d.kind == "post" else by_route[d.route_id]).append(d.index)
    unit_schools = {u.id: list(u.schools) for u in instance.units}
    unit_routes: dict[str, list[str]] = defaultdict(list)
    for r in instance.routes:
        unit_routes[r.unit].append(r.id)

    eligible: list[list[int]] = []
    school_staff: dict[str, list[int]] = defaultdict(list)
    memo: dict[tuple, list[int]] = {}
    for pi, person in enumerate(instance.persons):
        if person.unit in unit_schools:
            served, routes = unit_schools[person.unit], unit_routes.get(person.unit, [])
        else:  # the person's unit is a school: its own staff
            served, routes = [person.unit], []
        for sid in served:
            school_staff[sid].append(pi)
        limits = instance.limits_of(person)
        sig = (person.unit, _availability_signature(person), limits.max_per_day, limits.max_per_week,
               limits.max_minutes_per_week)
        if sig not in memo:
            candidates = [i for sid in dict.fromkeys(served) for i in by_school.get(sid, ())]
            candidates += [i for rid in routes for i in by_route.get(rid, ())]
            ok = [i for i in candidates if _may_take(person, duties[i], limits)]
            ok.sort(key=lambda i: (duties[i].date, duties[i].start, duties[i].end, i))
            memo[sig] = ok
        eligible.append(memo[sig])
    leader_schools = frozenset(
        sid for sid, staff in school_staff.items()
        if any(instance.persons[p].role == "school_leader" for p in staff)
    )
    school_peaks = [
        (school.id, date, peak.name)
        for day, date in day_dates
        for school in instance.schools
        for peak in school.peaks
        if peak.days is None or day in peak.days
    ]
    return Problem(instance, duties, places, list(instance.persons), eligible, dict(school_staff),
                   leader_schools, school_peaks, pinned=_pinned(instance, duties, eligible))


def _pinned(instance: Instance, duties: list[Duty], eligible: list[list[int]]) -> frozenset[tuple[int, int]]:
    """The pinned (person, duty) pairs. Whether the pins alone keep every hard rule is the
    caller's check, made before (:func:`scheduler.check.pins.require_pins_possible`)."""
    if not any(p.pins for p in instance.persons):
        return frozenset()
    index = {(d.kind, d.date.isoformat(), d.peak, d.post_id or d.route_id): d.index for d in duties}
    pairs = set()
    for p, person in enumerate(instance.persons):
        for j, pin in enumerate(person.pins):
            d = index[pin.ident]
            if d not in eligible[p]:  # the validator and the expansion disagree: a bug, said plainly
                raise InstanceError(f"persons[{p}].pins[{j}]", "the pinned duty cannot be taken by this person")
            pairs.add((p, d))
    return frozenset(pairs)


def _availability_signature(person: Person) -> tuple:
    return (
        None if person.availability is None else tuple((tuple(w.days or ()), w.days is None, w.start, w.end)
                                                       for w in person.availability),
        tuple(sorted(str(x) if isinstance(x, dt.date) else f"{x.date}T{x.start}-{x.end}" for x in person.leave)),
    )


def unavailable_reason(person: Person, duty: Duty) -> str | None:
    """Why availability or leave keeps ``person`` off ``duty`` (None when they may take it)."""
    if person.availability is not None and not any(
        (w.days is None or duty.weekday in w.days) and w.start <= duty.start and duty.end <= w.end
        for w in person.availability
    ):
        return "not available"
    for leave in person.leave:
        if isinstance(leave, LeaveWindow):
            if leave.date == duty.date and leave.start < duty.end and duty.start < leave.end:
                return "on leave"
        elif leave == duty.date:
            return "on leave"
    return None


def _may_take(person: Person, duty: Duty, limits) -> bool:
    if limits.max_per_day == 0 or limits.max_per_week == 0:
        return False
    if limits.max_minutes_per_week is not None and duty.minutes > limits.max_minutes_per_week:
        return False
    return unavailable_reason(person, duty) is None
