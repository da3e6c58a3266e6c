"""Gaps in words: for every duty (or school peak) where a soft rule is not met, say why.

What is short (needed, got) comes from the validator's report on the written roster, with the
rule names of docs/RULES.md; the reason looks at each person who could have served: not available,
on leave, busy elsewhere, at a limit, could only come instead of someone, or free but not used.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

from models import Gap
from scheduler.duties import Duty, Problem, unavailable_reason
from scheduler.greedy import Ledger

_BLOCK_WORDS = {
    "not available": "not available then",
    "on leave": "on leave",
    "busy": "busy at another duty",
    "max_per_day": "at their daily limit with other duties that day",
    "max_per_week": "at their weekly limit with other duties",
    "max_minutes_per_week": "at their weekly minutes limit",
    "limit zero": "not rostered (limit 0)",
    "posts full": "could only come instead of someone (the posts are at target)",
}
#: the reason named when a person is kept off a school peak's posts for several reasons
_PRIORITY = ["on leave", "not available", "limit zero", "max_per_week", "max_minutes_per_week", "max_per_day", "busy"]


def _who(problem: Problem, d: Duty) -> tuple[list[int], str]:
    """People who may serve duty ``d`` by unit, and words naming where they come from."""
    inst = problem.instance
    if d.kind == "route":
        unit = next(r.unit for r in inst.routes if r.id == d.route_id)
        return [p for p, person in enumerate(problem.persons) if person.unit == unit], f"unit {unit}"
    staff = sorted(set(problem.school_staff.get(d.school_id, [])))
    units = sorted({problem.persons[p].unit for p in staff})
    return staff, ", ".join(units) if units else "nobody"


def _census(problem: Problem, ledger: Ledger, d: Duty, people: list[int]) -> tuple[Counter, list[int]]:
    """Count why each of ``people`` is not on duty ``d``; also return those who were free."""
    why: Counter = Counter()
    free: list[int] = []
    on = set(ledger.staff[d.index])
    for p in people:
        if p in on:
            continue
        person = problem.persons[p]
        reason = unavailable_reason(person, d)
        if reason is None:
            lim = ledger.limits[p]
            if lim.max_per_day == 0 or lim.max_per_week == 0:
                reason = "limit zero"
            else:
                block = ledger.blocker(p, d)
                reason = "posts full" if block == "cap" else block
        if reason is None:
            free.append(p)
        else:
            why[reason] += 1
    return why, free


def _slot_census(problem: Problem, ledger: Ledger, duties: list[Duty], people: list[int]) -> tuple[Counter, list[int]]:
    """Like :func:`_census` for a school peak: who is not on any of its posts, and why."""
    on = {p for d in duties for p in ledger.staff[d.index]}
    why: Counter = Counter()
    free: list[int] = []
    for p in people:
        if p in on:
            continue
        reasons: list[str] = []
        for d in duties:
            w, f = _census(problem, ledger, d, [p])
            if f:
                free.append(p)
                break
            reasons.extend(k for k in w if k != "posts full")
        else:
            why[min(reasons, key=_PRIORITY.index) if reasons else "posts full"] += 1
    return why, free


def _sentence(what: str, count: int, why: Counter, free: list[int], problem: Problem) -> str:
    """In words, why the ``count`` people who may serve, named by ``what`` (e.g. "police of
    st1"), are not on the duty: how many for each reason, and the free ones by role."""
    if count == 0:
        return f"no {what} may serve here at all"
    parts = [f"{n} {_BLOCK_WORDS.get(k, k)}" for k, n in sorted(why.items(), key=lambda kv: (-kv[1], kv[0]))]
    if free:
        roles = Counter(problem.persons[p].role for p in free)
        named = ", ".join(f"{n} {r}" for r, n in sorted(roles.items()))
        parts.append(f"{len(free)} free but not used ({named})")
    if not parts:
        return f"all {count} {what} are already on duty here"
    return f"of {count} {what}: " + "; ".join(parts)


def _slot_move(problem: Problem, ledger: Ledger, duties: list[Duty], rule: str, free: list[int],
               missing: int) -> str | None:
    """One move that lowers a school peak's share or leader gap, in words, or None: add a free
    person to a post (the leader; a professional where adding lowers the share gap), or put a
    free professional in a non-professional's place."""
    persons = problem.persons
    prof = set(problem.instance.policy.professional_roles)
    share = Fraction(problem.instance.policy.min_professional_share).limit_denominator(1000)
    on = [p for d in duties for p in ledger.staff[d.index]]
    total, pros = len(on), sum(1 for p in on if persons[p].role in prof)
    for p in free:
        who = f"{persons[p].id} ({persons[p].name}, {persons[p].role})"
        for d in duties:
            if ledger.blocker(p, d) is not None:
                continue
            if rule != "share_shortfall" or math.ceil(share * (total + 1)) - (pros + 1) < missing:
                return f"add {who} to {d.post_id}, who is free"
        if rule != "share_shortfall":
            continue
        for d in duties:
            for q in list(ledger.staff[d.index]):
                if persons[q].role in prof:
                    continue
                ledger.remove(q, d)
                ok = ledger.blocker(p, d) is None
                ledger.add(q, d)
                if ok:
                    return f"put {who} in place of {persons[q].id} at {d.post_id}"
    return None


def gap_rows(problem: Problem, assignments: list[tuple[int, int]], report,
             shortfall_bound: int | None = None) -> list[Gap]:
    """One row per duty or school peak not fully met, with its reason in words, real gaps first.

    What is short (needed, got) comes from the validator's report on the written roster
    (:class:`scheduler.check.CheckReport`); why comes from each person who could have served.
    ``avoidable`` (SPEC): ``no`` where fewer people may serve at all than needed, or, for a seat
    below min, where the roster's total shortfall meets ``shortfall_bound`` (a proven lower bound:
    no roster of these people leaves fewer seats empty, though another may leave other ones);
    ``yes`` where a move is named in the reason (someone free added or, for the professional
    share, put in a non-professional's place); else ``unknown``.
    """
    ledger = Ledger(problem)
    for p, di in assignments:
        ledger.add(p, problem.duties[di])
    persons = problem.persons
    inst = problem.instance
    by_key = {(d.date.isoformat(), d.peak, d.post_id, d.route_id): d for d in problem.duties}
    slots: dict[tuple, list[Duty]] = {}
    for duty in problem.duties:
        if duty.kind == "post":
            slots.setdefault((duty.school_id, duty.date, duty.peak), []).append(duty)
    rows: list[Gap] = []

    eligible_on = problem.candidates
    at_bound = shortfall_bound is not None and report.terms.get("shortfall", 0) <= shortfall_bound

    def gap(d: Duty, rule: str, needed: int, got: int, reason: str, may: int = 0, free: Sequence[int] = (),
            proven: bool = False) -> Gap:
        """``may``: how many of the people this rule counts may serve the duty at all."""
        if proven or may < needed:
            avoidable = "no"
        elif free:
            avoidable = "yes"
            person = persons[free[0]]
            reason += f"; move: add {person.id} ({person.name}, {person.role}), who is free"
        else:
            avoidable = "unknown"
        return Gap(date=d.date.isoformat(), peak=d.peak, school_id=d.school_id, post_id=d.post_id,
                   route_id=d.route_id, rule=rule, needed=needed, got=got, reason=reason, avoidable=avoidable)

    for out in report.per_duty:
        d = by_key.get((out.date, out.peak, out.post_id, out.route_id))
        if d is None:
            continue
        people, where = _who(problem, d)
        if out.shortfall:
            why, free = _census(problem, ledger, d, people)
            text = f"{out.assigned} of {d.min} needed {d.window}; " + _sentence(
                f"people of {where}", len(people), why, free, problem)
            rows.append(gap(d, "shortfall", d.min, out.assigned, text, len(eligible_on[d.index]), free,
                            proven=at_bound))
        elif out.below_target:
            why, free = _census(problem, ledger, d, people)
            text = f"{out.assigned} of target {d.target}; " + _sentence(
                f"people of {where}", len(people), why, free, problem)
            rows.append(gap(d, "below_target", d.target, out.assigned, text, len(eligible_on[d.index]),
                            free))
        if out.police_shortfall:
            police = [p for p in people if persons[p].role == "police"]
            why, free = _census(problem, ledger, d, police)
            text = f"{out.police} of {d.min_police} police {d.window}; " + _sentence(
                f"police of {where}", len(police), why, free, problem)
            may = sum(1 for p in eligible_on[d.index] if persons[p].role == "police")
            rows.append(gap(d, "police_shortfall", d.min_police, out.police, text, may, free))
        for skill, need in sorted(d.skills.items()):
            got = out.skills_got.get(skill, 0)
            if got < need:
                holders = [p for p in people if skill in persons[p].skills]
                why, free = _census(problem, ledger, d, holders)
                text = f"{got} of {need} with skill {skill}; " + _sentence(
                    f"people with {skill} of {where}", len(holders), why, free, problem)
                may = sum(1 for p in eligible_on[d.index] if skill in persons[p].skills)
                rows.append(gap(d, f"skill_shortfall:{skill}", need, got, text, may, free))
    for school, date, peak, rule, needed, got in report.slot_gaps:
        free, avoidable = [], "unknown"
        if (school, date, peak) not in slots:
            text = "the school has no posts at this peak, so nobody can be put on duty"
            avoidable = "no"
        elif rule == "share_shortfall":
            prof_roles = set(inst.policy.professional_roles)
            staff = sorted(set(problem.school_staff.get(school, [])))
            profs = [p for p in staff if persons[p].role in prof_roles]
            why, free = _slot_census(problem, ledger, slots[(school, date, peak)], profs)
            share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
            text = (f"{got} professionals where {needed} are needed for {float(share):.0%}; "
                    + _sentence("professionals who may serve here", len(profs), why, free, problem))
        else:
            leaders = [p for p in sorted(set(problem.school_staff.get(school, [])))
                       if persons[p].role == "school_leader"]
            why, free = _slot_census(problem, ledger, slots[(school, date, peak)], leaders)
            text = "no school leader on duty; " + _sentence("school leaders", len(leaders), why, free, problem)
            may_lead = {p for d in slots[(school, date, peak)] for p in eligible_on[d.index]
                        if persons[p].role == "school_leader"}
            if not may_lead:
                avoidable = "no"
        if free and avoidable == "unknown":
            move = _slot_move(problem, ledger, slots[(school, date, peak)], rule, free, needed - got)
            if move is not None:
                avoidable = "yes"
                text += "; move: " + move
        rows.append(Gap(date=date.isoformat(), peak=peak, school_id=school, rule=rule, needed=needed, got=got,
                        reason=text, avoidable=avoidable))
    # real gaps first (SPEC), then by date, school, post, route, peak and rule
    rows.sort(key=lambda g: (g.severity != "gap", g.date, g.school_id or "~", g.post_id, g.route_id, g.peak, g.rule))
    return rows
