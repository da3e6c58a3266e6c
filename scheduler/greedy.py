"""A greedy roster, built the way a careful planner with a spreadsheet would.

Duties are taken in time order; each is filled with the least-loaded eligible person who is free
(every hard rule respected), asking first for the police, skills and leader it needs, then
filling to ``min`` and on to ``target`` while the professional share holds. It is the baseline the
benchmarks compare against and the hint (and fallback) of the CP-SAT solve.
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

    def pairs(self) -> list[tuple[int, int]]:
        return sorted((p, d) for d, ps in self.staff.items() for p in ps)


def greedy_roster(problem: Problem) -> list[tuple[int, int]]:
    """(person index, duty index) pairs of a greedy roster that keeps every hard rule."""
    inst = problem.instance
    persons = problem.persons
    prof_roles = set(inst.policy.professional_roles)
    share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
    candidates: dict[int, list[int]] = defaultdict(list)
    for p, duties in enumerate(problem.eligible):
        for d in duties:
            candidates[d].append(p)
    ledger = Ledger(problem)
    burden = set(inst.policy.burden_roles)
    slot_people: dict[tuple, list[int]] = defaultdict(list)  # (school, date, peak) -> persons there
    leader_at: set[tuple] = set()

    order = sorted(problem.duties, key=lambda d: (d.date, d.start, d.end, d.kind != "route", d.index))
    for d in order:
        cands = candidates.get(d.index, [])
        if not cands:
            continue
        slot = (d.school_id, d.date, d.peak)

        def take(pred, need: int) -> None:
            if need <= 0:
                return
            pool = [p for p in cands if pred(persons[p]) and ledger.blocker(p, d) is None]
            pool.sort(key=lambda p: (persons[p].role in burden, ledger.week[p], ledger.minutes[p], p))
            for p in pool:
                if need <= 0 or ledger.blocker(p, d) is not None:
                    break
                need -= 1
                ledger.add(p, d)
                if d.kind == "post":
                    slot_people[slot].append(p)
                    if persons[p].role == "school_leader":
                        leader_at.add(slot)

        def count(pred) -> int:
            return sum(1 for p in ledger.staff[d.index] if pred(persons[p]))

        take(lambda q: q.role == "police", d.min_police - count(lambda q: q.role == "police"))
        for skill, k in d.skills.items():
            take(lambda q, s=skill: s in q.skills, k - count(lambda q, s=skill: s in q.skills))
        if d.kind == "post" and inst.policy.leader_on_duty and slot not in leader_at:
            take(lambda q: q.role == "school_leader", 1)

        def share_ok_with_one_more_nonprof() -> bool:
            there = slot_people[slot]
            total = len(there) + 1
            prof = sum(1 for p in there if persons[p].role in prof_roles)
            return prof >= math.ceil(share * total)

        for goal in (d.min, d.target):
            while len(ledger.staff[d.index]) < goal:
                before = len(ledger.staff[d.index])
                take(lambda q: q.role in prof_roles, 1)
                if len(ledger.staff[d.index]) == before and (d.kind == "route" or share_ok_with_one_more_nonprof()
                                                             or goal == d.min):
                    take(lambda q: q.role not in prof_roles, 1)
                if len(ledger.staff[d.index]) == before:
                    break
    return ledger.pairs()
