"""The hard rules of docs/RULES.md, one function each (``Violation.rule``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from models import Person, format_hhmm
from scheduler.check.duties import Duty, runs_on_day
from scheduler.check.report import Violation
from scheduler.check.roster import RosterIndex


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
        runs_on_day(w.days, duty.weekday) and w.start <= duty.start and duty.end <= w.end for w in person.availability
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
