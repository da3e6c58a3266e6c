"""Gaps in words: for every duty (or school peak) where a soft rule is not met, say why.

The rows come from the penalties the model itself used (same data, same names), and the reason
looks at each person who could have served: not available, on leave, busy elsewhere, at a limit,
or free but left out because other rules cost more.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from fractions import Fraction

from models import Gap
from scheduler.duties import Duty, Problem, unavailable_reason
from scheduler.greedy import Ledger

_BLOCK_WORDS = {
    "not available": "not available then",
    "on leave": "on leave",
    "busy": "busy at another duty",
    "max_per_day": "at their daily limit",
    "max_per_week": "at their weekly limit",
    "max_minutes_per_week": "at their weekly minutes limit",
    "limit zero": "not rostered (limit 0)",
}


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
                reason = None if block in (None, "cap") else block
        if reason is None:
            free.append(p)
        else:
            why[reason] += 1
    return why, free


def _sentence(what: str, why: Counter, free: list[int], problem: Problem) -> str:
    parts = [f"{n} {_BLOCK_WORDS.get(k, k)}" for k, n in sorted(why.items(), key=lambda kv: (-kv[1], kv[0]))]
    if free:
        roles = Counter(problem.persons[p].role for p in free)
        named = ", ".join(f"{n} {r}" for r, n in sorted(roles.items()))
        parts.append(f"{len(free)} free but not used ({named}): other rules cost more there")
    if not parts:
        return f"no {what} may serve here at all"
    return f"of {what}: " + "; ".join(parts)


def gap_rows(problem: Problem, assignments: list[tuple[int, int]], penalties: list) -> list[Gap]:
    """One row per duty or school peak not fully met, with its reason in words."""
    ledger = Ledger(problem)
    for p, d in assignments:
        ledger.add(p, problem.duties[d])
    inst = problem.instance
    persons = problem.persons
    rows: list[Gap] = []
    assigned = defaultdict(list)
    for p, d in assignments:
        assigned[d].append(p)
    slots: dict[tuple, list[Duty]] = defaultdict(list)
    for x in problem.duties:
        if x.kind == "post":
            slots[(x.school_id, x.date, x.peak)].append(x)

    def gap(d: Duty, rule: str, needed: int, got: int, reason: str) -> Gap:
        return Gap(date=d.date.isoformat(), peak=d.peak, school_id=d.school_id, post_id=d.post_id,
                   route_id=d.route_id, rule=rule, needed=needed, got=got, reason=reason)

    for pen, value in penalties:
        kind = pen.subject[0]
        if kind == "duty":
            d = problem.duties[pen.subject[1]]
            people, where = _who(problem, d)
            got = len(assigned[d.index])
            if pen.rule == "shortfall":
                why, free = _census(problem, ledger, d, people)
                text = f"{got} of {d.min} needed {d.window}; " + _sentence(f"{len(people)} people of {where}", why,
                                                                          free, problem)
                rows.append(gap(d, "shortfall", d.min, got, text))
            elif pen.rule == "police_shortfall":
                police = [p for p in people if persons[p].role == "police"]
                n = sum(1 for p in assigned[d.index] if persons[p].role == "police")
                why, free = _census(problem, ledger, d, police)
                text = f"{n} of {d.min_police} police {d.window}; " + _sentence(f"{len(police)} police of {where}",
                                                                                why, free, problem)
                rows.append(gap(d, "police_shortfall", d.min_police, n, text))
            elif pen.rule == "skill_shortfall":
                skill = pen.subject[2]
                holders = [p for p in people if skill in persons[p].skills]
                n = sum(1 for p in assigned[d.index] if skill in persons[p].skills)
                why, free = _census(problem, ledger, d, holders)
                text = f"{n} of {d.skills[skill]} with skill {skill}; " + _sentence(
                    f"{len(holders)} people with {skill} of {where}", why, free, problem)
                rows.append(gap(d, f"skill_shortfall:{skill}", d.skills[skill], n, text))
        elif kind == "slot" and pen.rule in ("share_shortfall", "leader_missing"):
            school, date, peak = pen.subject[1:4]
            duties = slots.get((school, date, peak), [])
            if not duties:
                rows.append(Gap(date=date.isoformat(), peak=peak, school_id=school, rule=pen.rule, needed=1, got=0,
                                reason="the school has no posts at this peak, so nobody can be put on duty"))
                continue
            d = duties[0]
            there = [p for x in duties for p in assigned[x.index]]
            if pen.rule == "share_shortfall":
                prof_roles = set(inst.policy.professional_roles)
                prof = sum(1 for p in there if persons[p].role in prof_roles)
                share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
                needed = -((-share.numerator * len(there)) // share.denominator)
                staff = sorted(set(problem.school_staff.get(school, [])))
                profs = [p for p in staff if persons[p].role in prof_roles]
                why, free = _census(problem, ledger, d, profs)
                text = (f"{prof} professionals among {len(there)} on duty, {needed} needed for "
                        f"{float(share):.0%}; " + _sentence(f"{len(profs)} professionals", why, free, problem))
                row = Gap(date=d.date.isoformat(), peak=peak, school_id=school, rule="share_shortfall",
                          needed=needed, got=prof, reason=text)
                rows.append(row)
            else:
                leaders = [p for p in sorted(set(problem.school_staff.get(school, [])))
                           if persons[p].role == "school_leader"]
                why, free = _census(problem, ledger, d, leaders)
                text = "no school leader on duty; " + _sentence(f"{len(leaders)} school leaders", why, free, problem)
                rows.append(Gap(date=d.date.isoformat(), peak=peak, school_id=school, rule="leader_missing",
                                needed=1, got=0, reason=text))
    for d in problem.duties:
        got = len(assigned[d.index])
        if got < d.target and got >= d.min:
            people, where = _who(problem, d)
            why, free = _census(problem, ledger, d, people)
            text = f"{got} of target {d.target}; " + _sentence(f"{len(people)} people of {where}", why, free, problem)
            rows.append(gap(d, "below_target", d.target, got, text))
    rows.sort(key=lambda g: (g.date, g.school_id or "~", g.post_id, g.route_id, g.peak, g.rule))
    return rows

