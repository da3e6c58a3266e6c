"""Large instances, solved piece by piece: areas, neighbourhoods and sub-problems.

A district's schools fall into **areas**: the schools of one police station (each school goes to
the smallest police unit that serves it; schools no police unit serves are grouped by their
community or school unit). A **neighbourhood** is an area (or a unit's routes) on one date. Its
**sub-problem** keeps every rule exact: the people who may serve its duties are free on them,
and each such person's other assignments that week are fixed context (constants for one place at
a time, travel, limits, fairness and continuity). Improving a sub-problem's objective improves the
whole roster's by exactly the same amount.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from scheduler.duties import Problem


@dataclass(frozen=True)
class Neighbourhood:
    name: str
    duties: tuple[int, ...]  # global duty indices


def areas(problem: Problem) -> dict[str, list[str]]:
    """Area name -> school ids. Each school goes to the smallest police unit that serves it; one
    that no police unit serves, to the first unit that lists it, else to its district."""
    inst = problem.instance
    best: dict[str, tuple[int, str]] = {}
    for unit in inst.units:
        if unit.kind != "police":
            continue
        for sid in unit.schools:
            key = (len(unit.schools), unit.id)
            if sid not in best or key < best[sid]:
                best[sid] = key
    community: dict[str, str] = {}
    for unit in inst.units:
        for sid in unit.schools:
            community.setdefault(sid, unit.id)
    out: dict[str, list[str]] = defaultdict(list)
    for school in inst.schools:
        area = best[school.id][1] if school.id in best else community.get(school.id, school.district)
        out[area].append(school.id)
    return dict(out)


def neighbourhoods(problem: Problem) -> list[Neighbourhood]:
    """Every (area, date) and (route unit, date) with duties, in a fixed order."""
    area_of = {sid: area for area, schools in areas(problem).items() for sid in schools}
    route_unit = {r.id: r.unit for r in problem.instance.routes}
    groups: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
    for d in problem.duties:
        key = area_of[d.school_id] if d.kind == "post" else f"routes:{route_unit[d.route_id]}"
        groups[(key, d.date)].append(d.index)
    return [Neighbourhood(f"{k} {date.isoformat()}", tuple(v)) for (k, date), v in sorted(groups.items())]


@dataclass
class SubProblem:
    problem: Problem  # local indices
    persons: list[int]  # local person -> global person
    duties: list[int]  # local duty -> global duty
    free: set[int]  # local indices of the neighbourhood's duties


def restrict(problem: Problem, duty_set: set[int], roster: dict[int, set[int]]) -> SubProblem:
    """The sub-problem of ``duty_set`` given the current roster (person -> duties).

    Free: every eligible pair on those duties. Fixed: the free persons' other assignments (duty
    kind ``context``, demand zero). Fairness floors carry the loads of everyone else.
    """
    persons = sorted({p for p, el in enumerate(problem.eligible) if not duty_set.isdisjoint(el)})
    local_p = {p: i for i, p in enumerate(persons)}
    context: set[int] = set()
    for p in persons:
        context.update(d for d in roster.get(p, ()) if d not in duty_set)
    gduties = sorted(duty_set) + sorted(context)
    local_d = {d: i for i, d in enumerate(gduties)}
    duties = []
    for i, d in enumerate(gduties):
        duty = problem.duties[d]
        if d in duty_set:
            duties.append(dataclasses.replace(duty, index=i))
        else:
            duties.append(dataclasses.replace(duty, index=i, kind="context", min=0, target=0, min_police=0,
                                              skills={}))
    eligible = []
    fixed = set()
    for p in persons:
        mine = [local_d[d] for d in problem.eligible[p] if d in duty_set]
        for d in roster.get(p, ()):
            if d not in duty_set:
                mine.append(local_d[d])
                fixed.add((local_p[p], local_d[d]))
        mine.sort(key=lambda i: (duties[i].date, duties[i].start, duties[i].end, i))
        eligible.append(mine)
    floor: dict[tuple[str, str], int] = defaultdict(int)
    inside = set(persons)
    for p, person in enumerate(problem.persons):
        load = problem.instance.past_load(person.id) + len(roster.get(p, ()))
        if p not in inside and load:
            key = (person.unit, person.role)
            floor[key] = max(floor[key], load)
    scope = {(d.school_id, d.date, d.peak) for d in (problem.duties[i] for i in duty_set) if d.kind == "post"}
    sub = Problem(
        instance=problem.instance,
        duties=duties,
        places=problem.places,
        persons=[problem.persons[p] for p in persons],
        eligible=eligible,
        school_staff={},
        leader_schools=problem.leader_schools,
        school_peaks=[k for k in problem.school_peaks if k in scope],
        fixed=frozenset(fixed),
        pinned=frozenset((local_p[p], local_d[d]) for p, d in problem.pinned if d in duty_set),
        fairness_floor=dict(floor),
        _travel=problem._travel,
    )
    return SubProblem(sub, persons, gduties, {local_d[d] for d in duty_set})
