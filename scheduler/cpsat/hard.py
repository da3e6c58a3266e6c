"""Hard rules of SPEC.md that involve more than one (person, duty) pair.

Eligibility and availability are decided in :mod:`scheduler.duties` (no variable exists for a
pair that breaks them). Here: ``cap``, ``one_place`` (with travel) and ``limits``.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict

from ortools.sat.python import cp_model

from models.instance import Location, haversine_km
from scheduler.cpsat.variables import Variables
from scheduler.duties import Duty, Problem


def add_cap(model: cp_model.CpModel, problem: Problem, xv: Variables) -> int:
    """cap: a duty takes at most ``target`` people (``crew.max`` for a route)."""
    n = 0
    for d, row in xv.by_duty.items():
        if problem.duties[d].kind == "context":
            continue
        cap = problem.duties[d].cap
        if len(row) > cap:
            model.add(cp_model.LinearExpr.sum([v for _, v in row]) <= cap)
            n += 1
    return n


def _all_fixed(problem: Problem, p: int, row: dict) -> bool:
    return all((p, d) in problem.fixed for d in row)


def slot_key(d: Duty) -> tuple:
    """Duties with the same date, window and places conflict with the same others."""
    return (d.date, d.start, d.end, d.start_place, d.end_place)


class SlotConflicts:
    """Clique covers of the one-place-at-a-time conflicts between slots, cached per slot set."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self._cache: dict[tuple, list[list[int]]] = {}
        self.max_travel = 0

    def conflict(self, a: tuple, b: tuple) -> bool:
        # a, b: slot keys (date, start, end, start_place, end_place), same date
        if (a[1], a[2]) > (b[1], b[2]):
            a, b = b, a
        return a[2] + self.problem.travel(a[4], b[3]) > b[1]

    def cliques(self, slots: tuple[tuple, ...]) -> list[list[int]]:
        """Cliques (indices into ``slots``, which are sorted by start) covering every conflict."""
        hit = self._cache.get(slots)
        if hit is not None:
            return hit
        n = len(slots)
        cliques: list[list[int]] = []
        # 1. Overlapping windows: the maximal cliques of the interval graph (sweep by start).
        active: list[int] = []
        grew = False
        for i in range(n):
            start = slots[i][1]
            keep = [a for a in active if slots[a][2] > start]
            if len(keep) < len(active) and grew:
                cliques.append(list(active))
                grew = False
            active = keep + [i]
            grew = True
        if grew:
            cliques.append(active)
        covered = set()
        for c in cliques:
            for i in c:
                for j in c:
                    if i < j:
                        covered.add((i, j))
        # 2. Windows that do not overlap but leave too little time to travel between them.
        starts = [s[1] for s in slots]
        adj: dict[int, set[int]] = defaultdict(set)
        extra: list[tuple[int, int]] = []
        for i in range(n):
            end = slots[i][2]
            lo = bisect.bisect_left(starts, end)
            j = lo
            while j < n and starts[j] < end + self._travel_bound():
                if self.conflict(slots[i], slots[j]) and (i, j) not in covered:
                    extra.append((i, j))
                    adj[i].add(j)
                    adj[j].add(i)
                j += 1
        # Merge travel conflicts greedily into larger cliques (any conflict may join them).
        done: set[tuple[int, int]] = set()
        for i, j in extra:
            if (i, j) in done:
                continue
            clique = [i, j]
            for k in sorted(adj[i] | adj[j]):
                if k not in clique and all(self.conflict(slots[k], slots[m]) for m in clique):
                    clique.append(k)
            clique.sort()
            for a in clique:
                for b in clique:
                    if a < b:
                        done.add((a, b))
            cliques.append(clique)
        self._cache[slots] = cliques
        return cliques

    def _travel_bound(self) -> int:
        if not self.max_travel:
            self.max_travel = 1 + travel_upper_bound(self.problem)
        return self.max_travel


def travel_upper_bound(problem: Problem) -> int:
    """An upper bound on any travel time between two places: the corners of their bounding box."""
    inst = problem.instance
    locs = [pl.location for pl in problem.places]
    if not locs:
        return 0
    lo = Location(lat=min(x.lat for x in locs), lon=min(x.lon for x in locs))
    hi = Location(lat=max(x.lat for x in locs), lon=max(x.lon for x in locs))
    span = max(haversine_km(lo, hi), haversine_km(Location(lat=lo.lat, lon=hi.lon), Location(lat=hi.lat, lon=lo.lon)))
    minutes = math.ceil(span * 1.01 * inst.travel.road_factor / inst.travel.speed_kmh * 60) + 1
    listed = [m for row in (inst.travel.matrix or {}).values() for m in row.values()]
    return max([minutes, *listed])


def person_days(problem: Problem, row: dict[int, cp_model.IntVar]):
    """A person's variables by date and slot: yields (slots sorted by start, {slot: variables})."""
    by_date: dict[object, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    for d, var in row.items():
        duty = problem.duties[d]
        by_date[duty.date][slot_key(duty)].append(var)
    for slots_vars in by_date.values():
        yield tuple(sorted(slots_vars, key=lambda k: (k[1], k[2], k[3], k[4]))), slots_vars


def add_one_place(model: cp_model.CpModel, problem: Problem, xv: Variables) -> int:
    """one_place: a person's duties on one date never overlap once travel is added."""
    conflicts = SlotConflicts(problem)
    n = 0
    for row in xv.x:
        for slots, slots_vars in person_days(problem, row):
            in_clique = set()
            for clique in conflicts.cliques(slots):
                lits = [v for i in clique for v in slots_vars[slots[i]]]
                if len(lits) > 1:
                    model.add_at_most_one(lits)
                    n += 1
                    in_clique.update(clique)
            for i, key in enumerate(slots):
                if i not in in_clique and len(slots_vars[key]) > 1:
                    model.add_at_most_one(slots_vars[key])
                    n += 1
    return n


def add_limits(model: cp_model.CpModel, problem: Problem, xv: Variables) -> int:
    """limits: duties per date, duties per week and duty minutes per week, per person."""
    inst = problem.instance
    n = 0
    fixed_one = object()
    if problem.fixed:
        p0, d0 = next(iter(problem.fixed))
        fixed_one = xv.x[p0][d0]
    for p, row in enumerate(xv.x):
        if not row:
            continue
        lim = inst.limits_of(problem.persons[p])
        if lim.max_per_day is not None:
            by_date: dict[object, list] = defaultdict(list)
            for d, var in row.items():
                by_date[problem.duties[d].date].append(var)
            for lits in by_date.values():
                if len(lits) > lim.max_per_day and not all(v is fixed_one for v in lits):
                    model.add(cp_model.LinearExpr.sum(lits) <= lim.max_per_day)
                    n += 1
        if lim.max_per_week is not None and len(row) > lim.max_per_week and not _all_fixed(problem, p, row):
            model.add(cp_model.LinearExpr.sum(list(row.values())) <= lim.max_per_week)
            n += 1
        if lim.max_minutes_per_week is not None:
            minutes = [problem.duties[d].minutes for d in row]
            if sum(minutes) > lim.max_minutes_per_week:
                model.add(cp_model.LinearExpr.weighted_sum(list(row.values()), minutes) <= lim.max_minutes_per_week)
                n += 1
    return n
