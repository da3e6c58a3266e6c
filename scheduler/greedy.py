"""A greedy roster, built the way a careful planner with a spreadsheet would.

In passes: the police and skills the duties ask for, a leader at every school peak, then every
duty to ``min`` and on to ``target`` while the professional share holds; in each pass the duties
with the fewest people to choose from go first, and each place goes to the least-loaded eligible
person who is free (every hard rule respected). It is the baseline the benchmarks compare
against and the hint (and fallback) of the CP-SAT solve.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

from scheduler.duties import Duty, Problem


class Ledger:
    """Who is where: the per-person state needed to test the hard rules incrementally."""

    def __init__(self, problem: Problem):
        self.problem = problem
        inst = problem.instance
        self.limits = [inst.limits_of(p) for p in problem.persons]
        self.on: dict[tuple[int, object], list[int]] = defaultdict(list)  # (person, date) -> duties
        self.week = [0] * len(problem.persons)
        self.minutes = [0] * len(problem.persons)
        self.staff: dict[int, list[int]] = defaultdict(list)  # duty -> persons

    def blocker(self, p: int, d: Duty) -> str | None:
        """The hard rule that keeps person ``p`` off duty ``d`` now, or None."""
        lim = self.limits[p]
        if len(self.staff[d.index]) >= d.cap:
            return "cap"
        if p in self.staff[d.index]:
            return "already there"
        day = self.on[(p, d.date)]
        if lim.max_per_day is not None and len(day) >= lim.max_per_day:
            return "max_per_day"
        if lim.max_per_week is not None and self.week[p] >= lim.max_per_week:
            return "max_per_week"
        if lim.max_minutes_per_week is not None and self.minutes[p] + d.minutes > lim.max_minutes_per_week:
            return "max_minutes_per_week"
        duties = self.problem.duties
        for other in day:
            if not self.problem.compatible(duties[other], d):
                return "busy"
        return None

    def add(self, p: int, d: Duty) -> None:
        self.on[(p, d.date)].append(d.index)
        self.week[p] += 1
        self.minutes[p] += d.minutes
        self.staff[d.index].append(p)

    def remove(self, p: int, d: Duty) -> None:
        self.on[(p, d.date)].remove(d.index)
        self.week[p] -= 1
        self.minutes[p] -= d.minutes
        self.staff[d.index].remove(p)

    def pairs(self) -> list[tuple[int, int]]:
        return sorted((p, d) for d, ps in self.staff.items() for p in ps)


def greedy_roster(problem: Problem, plan: dict | None = None) -> list[tuple[int, int]]:
    """(person index, duty index) pairs of a greedy roster that keeps every hard rule.

    Passes, as a careful planner would: police where police are asked for, people with the asked
    skills, a leader at every school peak, then every duty to ``min``, then on to ``target`` while
    the professional share holds. In each pass the duties with the fewest people to choose from go
    first (ties by time), and each place goes to the least-loaded free person (professionals and
    community staff before teachers and volunteers).

    ``plan`` (optional, from :meth:`scheduler.cpsat.bound.RelaxationLP.plan`) gives how many people
    of each (unit, role) the relaxation sends to each school peak; people whose class is still
    below its planned count there are asked first.
    """
    inst = problem.instance
    persons = problem.persons
    prof_roles = set(inst.policy.professional_roles)
    share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
    candidates: dict[int, list[int]] = defaultdict(list)
    for p, eligible in enumerate(problem.eligible):
        for d in eligible:
            candidates[d].append(p)
    ledger = Ledger(problem)
    burden = set(inst.policy.burden_roles)
    slot_people: dict[tuple, list[int]] = defaultdict(list)  # (school, date, peak) -> persons there
    duties = [d for d in problem.duties if candidates.get(d.index)]

    def slot(d) -> tuple:
        return (d.school_id, d.date, d.peak)

    sent: dict[tuple, int] = defaultdict(int)  # (class, plan slot) -> people sent so far
    for p, d in sorted(problem.pinned):  # pinned duties first: they keep every hard rule together
        ledger.add(p, problem.duties[d])
        if problem.duties[d].kind == "post":
            slot_people[slot(problem.duties[d])].append(p)

    def plan_slot(d) -> tuple:
        return ("post", d.school_id, d.date, d.peak) if d.kind == "post" else ("route", d.index)

    def behind_plan(p: int, d) -> float:
        if not plan:
            return 0.0
        key = ((persons[p].unit, persons[p].role), plan_slot(d))
        return -(plan.get(key, 0.0) - sent[key])

    def take(d, pred, need: int) -> int:
        """Put up to ``need`` free people matching ``pred`` on duty ``d``; returns how many."""
        if need <= 0:
            return 0
        pool = [p for p in candidates[d.index] if pred(persons[p]) and ledger.blocker(p, d) is None]
        pool.sort(key=lambda p: (behind_plan(p, d) > -0.5, persons[p].role in burden, ledger.week[p],
                                 ledger.minutes[p], p))
        got = 0
        for p in pool:
            if got >= need or ledger.blocker(p, d) is not None:
                break
            ledger.add(p, d)
            sent[((persons[p].unit, persons[p].role), plan_slot(d))] += 1
            got += 1
            if d.kind == "post":
                slot_people[slot(d)].append(p)
        return got

    def count(d, pred) -> int:
        return sum(1 for p in ledger.staff[d.index] if pred(persons[p]))

    def scarce_first(pred):
        return sorted(duties, key=lambda d: (sum(1 for p in candidates[d.index] if pred(persons[p])),
                                             d.date, d.start, d.index))

    def is_police(q) -> bool:
        return q.role == "police"

    for d in scarce_first(is_police):
        take(d, is_police, d.min_police - count(d, is_police))
    skills = sorted({s for d in duties for s in d.skills})
    for skill in skills:
        def has(q, s=skill) -> bool:
            return s in q.skills
        for d in scarce_first(has):
            if skill in d.skills:
                take(d, has, d.skills[skill] - count(d, has))
    if inst.policy.leader_on_duty:
        def is_leader(q) -> bool:
            return q.role == "school_leader"
        for d in scarce_first(is_leader):
            if d.kind == "post" and not any(persons[p].role == "school_leader" for p in slot_people[slot(d)]):
                take(d, is_leader, 1)

    def is_prof(q) -> bool:
        return q.role in prof_roles

    def non_prof_keeps_share(d) -> bool:
        if d.kind == "route":
            return True
        there = slot_people[slot(d)]
        prof = sum(1 for p in there if persons[p].role in prof_roles)
        return prof >= math.ceil(share * (len(there) + 1))

    by_any = scarce_first(lambda q: True)
    for goal in ("min", "target"):
        for d in by_any:
            want = getattr(d, goal)
            while len(ledger.staff[d.index]) < want:
                if take(d, is_prof, 1):
                    continue
                if (goal == "min" or non_prof_keeps_share(d)) and take(d, lambda q: not is_prof(q), 1):
                    continue
                break
    return ledger.pairs()


def fill_free_seats(problem: Problem, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Add to each duty below ``min`` the eligible people who are free for it (no hard rule
    blocks them), police first where police are missing, then professionals, the least loaded
    first; a search ended by its budget can leave such seats empty. Returns the roster with them."""
    ledger = Ledger(problem)
    for p, di in pairs:
        ledger.add(p, problem.duties[di])
    prof = set(problem.instance.policy.professional_roles)
    persons = problem.persons
    for d in problem.duties:
        if d.kind == "context" or len(ledger.staff[d.index]) >= d.min:
            continue
        police = sum(1 for p in ledger.staff[d.index] if persons[p].role == "police")
        order = sorted(problem.candidates[d.index], key=lambda p: (
            not (police < d.min_police and persons[p].role == "police"), persons[p].role not in prof,
            ledger.week[p], p))
        for p in order:
            if len(ledger.staff[d.index]) >= d.min:
                break
            if ledger.blocker(p, d) is None:
                ledger.add(p, d)
    return ledger.pairs()
