"""Soft rules of SPEC.md, one function each, named as the rule (docs/RULES.md has the formulas).

Each function posts its penalties through :class:`TermBook` (or returns a linear part for rules
that are linear in the decision variables) with a ``subject`` naming what the term is about, so
the gaps table and the cost breakdown come from the same data the model used.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from fractions import Fraction

from scheduler.cpsat.hard import person_days
from scheduler.cpsat.terms import TermBook
from scheduler.cpsat.variables import Variables
from scheduler.duties import Problem


def shortfall(book: TermBook, problem: Problem, xv: Variables) -> None:
    """shortfall(duty) = max(0, min - assigned)."""
    for d in problem.duties:
        if d.min > 0:
            lits = [v for _, v in xv.on_duty(d.index)]
            book.hinge("shortfall", ("duty", d.index), lits, [-1] * len(lits), d.min, d.min)


def police_shortfall(book: TermBook, problem: Problem, xv: Variables) -> None:
    """police_shortfall(duty) = max(0, min_police - assigned with role police)."""
    persons = problem.persons
    for d in problem.duties:
        if d.min_police > 0:
            lits = [v for p, v in xv.on_duty(d.index) if persons[p].role == "police"]
            book.hinge("police_shortfall", ("duty", d.index), lits, [-1] * len(lits), d.min_police, d.min_police)


def skill_shortfall(book: TermBook, problem: Problem, xv: Variables) -> None:
    """skill_shortfall(duty, s) = max(0, skills[s] - assigned with skill s)."""
    persons = problem.persons
    for d in problem.duties:
        for skill, k in sorted(d.skills.items()):
            lits = [v for p, v in xv.on_duty(d.index) if skill in persons[p].skills]
            book.hinge("skill_shortfall", ("duty", d.index, skill), lits, [-1] * len(lits), k, k)


def below_target(problem: Problem, xv: Variables) -> tuple[list, list[int], int]:
    """below_target(duty) = target - assigned; exact and linear because the cap is the target."""
    lits, coefs, const = [], [], 0
    for d in problem.duties:
        if d.target > 0:
            row = xv.on_duty(d.index)
            const += d.target
            lits += [v for _, v in row]
            coefs += [-1] * len(row)
    return lits, coefs, const


def school_slots(problem: Problem) -> dict[tuple, list[int]]:
    """Post duties grouped by (school, date, peak): the unit of the share and leader rules."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for d in problem.duties:
        if d.kind == "post":
            groups[(d.school_id, d.date, d.peak)].append(d.index)
    return groups


def share_shortfall(book: TermBook, problem: Problem, xv: Variables) -> None:
    """share_shortfall = max(0, ceil(share * total) - professionals) per school, date and peak."""
    inst = problem.instance
    share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
    num, den = share.numerator, share.denominator
    if num == 0:
        return
    prof = set(inst.policy.professional_roles)
    persons = problem.persons
    for key, duties in school_slots(problem).items():
        lits, coefs = [], []
        for d in duties:
            for p, v in xv.on_duty(d):
                lits.append(v)
                coefs.append(num - den if persons[p].role in prof else num)
        if any(c > 0 for c in coefs):
            cap = sum(problem.duties[d].cap for d in duties)
            book.hinge("share_shortfall", ("slot",) + key, lits, coefs, 0, math.ceil(num * cap / den), div=den)


def leader_missing(book: TermBook, problem: Problem, xv: Variables) -> None:
    """leader_missing = 1 per school, date and peak the school has, with no school_leader on its posts.

    Only where the school has a leader (someone of role school_leader may serve it). A peak where
    no leader can be put (a school without posts, leaders on leave) is a constant cost.
    """
    if not problem.instance.policy.leader_on_duty:
        return
    persons = problem.persons
    slots = school_slots(problem)
    for key in problem.school_peaks:
        if key[0] not in problem.leader_schools:
            continue
        lits = [v for d in slots.get(key, ()) for p, v in xv.on_duty(d) if persons[p].role == "school_leader"]
        book.hinge("leader_missing", ("slot",) + key, lits, [-1] * len(lits), 1, 1)


def fairness(book: TermBook, problem: Problem, xv: Variables) -> None:
    """fairness = per (unit, role) group, the largest number of duties of any one member, their
    duties of the history's earlier weeks added (``Instance.past_load``: 0 without a history)."""
    inst = problem.instance
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    past: dict[tuple[str, str], int] = defaultdict(int)  # members without a duty to take: constant
    for p, person in enumerate(problem.persons):
        key: tuple[str, str] = (person.unit, person.role)
        if xv.x[p]:
            groups[key].append(p)
        else:
            past[key] = max(past[key], inst.past_load(person.id))
    for key in sorted(set(groups) | {k for k, v in past.items() if v}):
        members = groups.get(key, [])
        exprs = [(list(xv.x[p].values()), [1] * len(xv.x[p]), inst.past_load(problem.persons[p].id))
                 for p in members]
        floor = max(problem.fairness_floor.get(key, 0), past[key])
        if floor:
            exprs.append(([], [], floor))  # members outside a sub-problem, fixed, or with no duty to take
        ub = max([floor] + [inst.past_load(problem.persons[p].id) + _max_load(problem, p, len(xv.x[p]))
                            for p in members])
        book.max_of("fairness", ("group",) + key, exprs, ub)


def _max_load(problem: Problem, p: int, eligible: int) -> int:
    lim = problem.instance.limits_of(problem.persons[p])
    ub = eligible
    if lim.max_per_week is not None:
        ub = min(ub, lim.max_per_week)
    if lim.max_per_day is not None:
        ub = min(ub, lim.max_per_day * len({problem.duties[d].date for d in problem.eligible[p]}))
    return ub


def continuity(book: TermBook, problem: Problem, xv: Variables) -> None:
    """continuity = per person, max(0, distinct posts and routes served - 1); for a person who
    served posts or routes the week before (``Instance.last_week``), the posts and routes served now
    that are not among them."""
    inst = problem.instance
    for p, row in enumerate(xv.x):
        by_place: dict[str, list] = defaultdict(list)
        for d, v in row.items():
            by_place[problem.duties[d].post_id or "route:" + problem.duties[d].route_id].append(v)
        posts, routes = inst.last_week(problem.persons[p].id)
        known = set(posts) | {"route:" + r for r in routes}
        if known:
            new = sorted(place for place in by_place if place not in known)
            if new:
                serves = [book.any_of(("serves", p, place), by_place[place]) for place in new]
                ub = min(len(serves), _max_load(problem, p, len(row)))
                book.hinge("continuity", ("person", p), serves, [1] * len(serves), 0, ub)
            continue
        if len(by_place) < 2:
            continue
        serves = []
        for place, lits in by_place.items():
            # u is 1 as soon as the person serves the post once: x -> u for each duty (tight LP)
            u = book.any_of(("serves", p, place), lits)
            serves.append(u)
        ub = min(len(serves), _max_load(problem, p, len(row))) - 1
        if ub > 0:
            book.hinge("continuity", ("person", p), serves, [1] * len(serves), -1, ub)


def travel_minute(book: TermBook, problem: Problem, xv: Variables) -> None:
    """travel_minute = per person and date, travel between consecutive duties whose idle gap is
    at most ``policy.travel_chain_gap`` minutes.

    One penalty per (person, slot a) with a possible successor: ``T >= m(a,b) * [a and b on and
    nothing between]`` for each successor slot b, so T is the minutes to the next duty."""
    gap = problem.instance.policy.travel_chain_gap
    memo: dict[tuple, list] = {}
    for p, row in enumerate(xv.x):
        for slots, slots_vars in person_days(problem, row):
            chains = memo.get(slots)
            if chains is None:
                chains = memo[slots] = _chains(problem, slots, gap)
            for i, successors in chains:
                a_lits = slots_vars[slots[i]]
                exprs = []
                for j, minutes, between in successors:
                    b_lits = slots_vars[slots[j]]
                    btw = [v for c in between for v in slots_vars[slots[c]]]
                    coefs = [minutes] * (len(a_lits) + len(b_lits)) + [-minutes] * len(btw)
                    exprs.append((a_lits + b_lits + btw, coefs, -minutes))
                top = max(m for _, m, _ in successors)
                book.max_of("travel_minute", ("travel", p, slots[i]), exprs, top)


def _chains(problem: Problem, slots: tuple, gap: int) -> list[tuple[int, list[tuple[int, int, list[int]]]]]:
    """For each slot a: the slots b that may follow it within ``gap`` minutes at a travel cost,
    with the slots that would sit between them."""
    starts = [k[1] for k in slots]
    out = []
    for i, a in enumerate(slots):
        succ = []
        for j in range(bisect.bisect_left(starts, a[2]), bisect.bisect_right(starts, a[2] + gap)):
            b = slots[j]
            minutes = problem.travel(a[4], b[3])
            if minutes == 0 or a[2] + minutes > b[1]:
                continue  # free, or never both (one_place)
            between = [c for c in range(i + 1, j) if slots[c][1] >= a[2] and slots[c][2] <= b[1]]
            succ.append((j, minutes, between))
        if succ:
            out.append((i, succ))
    return out


def burden(problem: Problem, xv: Variables) -> list:
    """burden = one per assignment of a role in ``policy.burden_roles`` (teachers, volunteers)."""
    roles = set(problem.instance.policy.burden_roles)
    return [v for p, row in enumerate(xv.x) if problem.persons[p].role in roles for v in row.values()]
