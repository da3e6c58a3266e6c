"""A lower bound for large instances: the roster model with people counted, not named.

People of one unit and role form a **class**. Instead of "person p takes duty d", the relaxation
only decides how many of a class stand at each school peak (or route duty). Every constraint is a
consequence of the real rules, so any real roster maps to a solution of the relaxation with the
same or a higher cost, and the relaxation's best bound is a valid lower bound of the real optimum:

- one place at a time: at any moment, a class has no more people out than members who may serve
  then (cliques of overlapping windows; travel is ignored, which only relaxes);
- limits: a class's duties per date and per week are at most the sums of its members' own caps
  (:func:`_person_caps`: ``max_per_day`` and ``max_per_week``, and no more than the duties each
  can do without overlap in the hours they are free), its minutes per week at most the sum of
  their ``max_minutes_per_week``;
- cap: a school peak takes at most the sum of its posts' targets.

Terms kept exactly per school peak (shortfall, below_target, police, share with ``ceil``, leader,
burden) are summed over the peak's posts, which can only lower them; fairness (a group's largest
load) is bounded by the average load of each of the group's classes; continuity and travel count zero, skills too unless the classes are split by
them (``skills=True``: each skill asked for is bounded per slot). Valid inequalities tighten the LP:
the share floor, and the faces of the share's integer hull at each school peak
(:func:`scheduler.cpsat.cuts.share_hull`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction
from typing import cast

from ortools.sat.python import cp_model

from scheduler.cpsat.cuts import share_hull
from scheduler.duties import Problem, most_in_sequence


def relaxation(problem: Problem, counts: dict | None = None,
               cuts: list[int] | None = None, weights: dict[str, float] | None = None,
               terms: dict[str, list[tuple[cp_model.IntVar, int]]] | None = None,
               skills: bool = False) -> tuple[cp_model.CpModel, int]:
    """The aggregated model; returns (model, the objective's divisor: the weight scale).

    ``cuts``, when given, is filled with the indices of the constraints that are valid
    inequalities (the share floor), not consequences of single rules.
    ``counts``, when given, is filled with ``{(class, slot): variable}`` where a class is
    ``(unit, role)`` (with ``skills``: ``(unit, role, skills asked for that its members have)``)
    and a slot ``("post", school, date, peak)`` or ``("route", duty index)``.
    ``weights``: the objective's weights (default: the policy's); ``{"shortfall": 1}`` bounds the
    people missing below ``min`` alone. ``terms``, when given, is filled with each objective term's
    ``(variable, weight)`` pairs (``below_target`` counts down from its constant, the targets).
    ``skills``: split each class by the skills that some duty asks for, and bound the skill
    shortfall per slot (the posts' demands summed: ``sum max(0, k - s) >= max(0, K - S)``); a
    tighter bound (district-bincheng: 1,083,292 -> 1,098,880) for a larger LP (16,536 counts
    against 12,020; about 1.5 s more), so the plan that guides the greedy roster is solved without
    it and the bound, beside the search, with it."""
    from scheduler.cpsat.model import integer_weights

    inst = problem.instance
    w, scale = integer_weights(inst.policy.weights.model_dump() if weights is None else
                               {k: weights.get(k, 0) for k in inst.policy.weights.model_dump()})
    share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
    prof_roles = set(inst.policy.professional_roles)
    burden = set(inst.policy.burden_roles)
    persons = problem.persons
    m = cp_model.CpModel()

    # slots: school peaks with posts, and route duties
    slot_of: dict[int, tuple] = {}
    for d in problem.duties:
        slot_of[d.index] = ("post", d.school_id, d.date, d.peak) if d.kind == "post" else ("route", d.index)
    slot_duties: dict[tuple, list[int]] = defaultdict(list)
    for i, key in slot_of.items():
        slot_duties[key].append(i)

    # class -> members; (class, slot) -> members who may serve it
    demanded = sorted({k for d in problem.duties for k in d.skills}) if skills else []

    def class_of(person) -> tuple:
        if not skills:
            return (person.unit, person.role)
        return (person.unit, person.role, tuple(k for k in demanded if k in person.skills))

    members: dict[tuple, list[int]] = defaultdict(list)
    for p, person in enumerate(persons):
        members[class_of(person)].append(p)
    may: dict[tuple, set[int]] = defaultdict(set)
    for p, ds in enumerate(problem.eligible):
        c = class_of(persons[p])
        for di in ds:
            may[(c, slot_of[di])].add(p)

    y: dict[tuple, cp_model.IntVar] = {}
    cap_of: dict[int, int] = {}
    by_slot: dict[tuple, list[tuple[tuple, cp_model.IntVar]]] = defaultdict(list)
    by_class: dict[tuple, list[tuple[tuple, cp_model.IntVar]]] = defaultdict(list)
    for (c, s), people in sorted(may.items(), key=lambda kv: repr(kv[0])):
        cap = min(len(people), sum(problem.duties[d].target for d in slot_duties[s]))
        if cap <= 0:
            continue
        v = m.new_int_var(0, cap, "")
        y[(c, s)] = v
        cap_of[v.index] = cap
        if counts is not None:
            counts[(c, s)] = v
        by_slot[s].append((c, v))
        by_class[c].append((s, v))

    def window(s: tuple) -> tuple:
        d = problem.duties[slot_duties[s][0]]
        return d.date, d.start, d.end

    day_cap, week_cap = _person_caps(problem)
    for c, items in by_class.items():
        limits = [inst.limits_of(persons[p]) for p in members[c]]
        # one place at a time: maximal cliques of overlapping windows, per date
        per_date: dict[object, list] = defaultdict(list)
        for s, v in items:
            per_date[window(s)[0]].append((s, v))
        for day in per_date.values():
            day.sort(key=lambda sv: window(sv[0])[1:])
            active: list = []
            grew = False
            for s, v in day:
                start = window(s)[1]
                keep = [a for a in active if window(a[0])[2] > start]
                if len(keep) < len(active) and grew:
                    _clique(m, active, may, c)
                    grew = False
                active = keep + [(s, v)]
                grew = True
            if grew:
                _clique(m, active, may, c)
        for date, day in per_date.items():
            m.add(sum(v for _, v in day) <= sum(day_cap[p].get(date, 0) for p in members[c]))
        m.add(sum(v for _, v in items) <= sum(week_cap[p] for p in members[c]))
        if all(lim.max_minutes_per_week is not None for lim in limits):
            minutes = [problem.duties[slot_duties[s][0]].minutes for s, _ in items]
            m.add(cp_model.LinearExpr.weighted_sum([v for _, v in items], minutes)
                  <= sum(cast(int, lim.max_minutes_per_week) for lim in limits))  # all set (above)

    obj_vars: list = []
    obj_coefs: list[int] = []
    const = 0

    def add(term: str, v: cp_model.IntVar, weight: int) -> None:
        obj_vars.append(v)
        obj_coefs.append(weight)
        if terms is not None:
            terms.setdefault(term, []).append((v, weight))

    def hinge(term: str, expr, lo_const: int, ub: int, weight: int, div: int = 1) -> cp_model.IntVar | None:
        """weight * max(0, ceil((lo_const - expr) / div)); returns its variable (None: not posted)"""
        if weight == 0 or ub <= 0:
            return None
        t = m.new_int_var(0, ub, "")
        m.add(div * t + expr >= lo_const)
        add(term, t, weight)
        return t

    for s, slot_ids in slot_duties.items():
        slot_ds = [problem.duties[i] for i in slot_ids]
        items = by_slot.get(s, [])
        total = sum(v for _, v in items) if items else 0
        lo, hi = sum(d.min for d in slot_ds), sum(d.target for d in slot_ds)
        if items:
            m.add(total <= hi)
        short = hinge("shortfall", total, lo, lo, w["shortfall"])
        const += w["below_target"] * hi
        for _, v in items:
            add("below_target", v, -w["below_target"])
        police = sum(v for c, v in items if c[1] == "police") if items else 0
        need = sum(d.min_police for d in slot_ds)
        hinge("police_shortfall", police, need, need, w["police_shortfall"])
        for c, v in items:
            if c[1] in burden and w["burden"]:
                add("burden", v, w["burden"])
        for skill in demanded:
            # the posts' skill demands summed over the slot: sum_d max(0, k_d - s_d) >= K - S
            k = sum(d.skills.get(skill, 0) for d in slot_ds)
            if k:
                skilled = sum(v for c, v in items if skill in c[2]) if items else 0
                hinge("skill_shortfall", skilled, k, k, w["skill_shortfall"])
        if s[0] == "post" and items and share.numerator:
            # den*short >= num*total - den*prof
            expr = sum((share.denominator - share.numerator) * v if c[1] in prof_roles else -share.numerator * v
                       for c, v in items)
            ub = math.ceil(share * hi)
            short_share = hinge("share_shortfall", expr, 0, ub, w["share_shortfall"], div=share.denominator)
            need_prof = math.ceil(share * lo)
            if need_prof > 0 and (short_share is not None or ub <= 0) and (short is not None or lo <= 0):
                # the share floor (scheduler.cpsat.cuts.share_floor): the peak's minimum needs
                # ceil(share * min) professionals, or a share shortfall, or a shortfall each
                prof = [v for c, v in items if c[1] in prof_roles]
                if cuts is not None:
                    cuts.append(len(m.proto.constraints))
                m.add(sum(prof) + (short_share if short_share is not None else 0)
                      + (short if short is not None else 0) >= need_prof)
            if short_share is not None:
                # the share's integer hull at this peak (scheduler.cpsat.cuts.share_hull): with
                # few seats every non-professional costs a whole professional, not 1 - share
                pros = [v for c, v in items if c[1] in prof_roles]
                others = [v for c, v in items if c[1] not in prof_roles]
                pmax = min(hi, sum(cap_of[v.index] for v in pros))
                nmax = min(hi, sum(cap_of[v.index] for v in others))
                for cp, cn, cz, rhs in share_hull(pmax, nmax, hi, share.numerator, share.denominator):
                    if (cp, cn, cz) == (share.denominator - share.numerator, -share.numerator, share.denominator):
                        continue  # the hinge itself
                    if (cp, cn) == (0, 0):
                        continue  # z >= 0 (its domain)
                    if cuts is not None:
                        cuts.append(len(m.proto.constraints))
                    m.add(cz * short_share + cp * sum(pros) + cn * sum(others) >= rhs)
    if inst.policy.leader_on_duty:
        for key in problem.school_peaks:
            if key[0] not in problem.leader_schools:
                continue
            items = by_slot.get(("post", *key), [])
            leaders = sum(v for c, v in items if c[1] == "school_leader") if items else 0
            hinge("leader_missing", leaders, 1, 1, w["leader_missing"])
    # fairness: per (unit, role) group, its members' largest load (the history's duties added,
    # ``Instance.past_load``), which is at least the average load of any of its classes (a group is
    # one class, or split by skills) and at least any member's history alone
    past = [inst.past_load(person.id) for person in persons]
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for c, team in members.items():
        if by_class.get(c) or any(past[p] for p in team):
            groups[c[:2]].append(c)
    for _g, classes in sorted(groups.items()) if w["fairness"] else []:
        top = m.new_int_var(0, 10**6, "")
        for c in classes:
            m.add(len(members[c]) * top >= sum(v for _, v in by_class.get(c, [])) + sum(past[p] for p in members[c]))
        m.add(top >= max(past[p] for c in classes for p in members[c]))
        add("fairness", top, w["fairness"])
    m.minimize(cp_model.LinearExpr.weighted_sum(obj_vars, obj_coefs) + const)
    return m, scale


def _person_caps(problem: Problem) -> tuple[list[dict], list[int]]:
    """Per person: the most duties they can take on each date (``max_per_day``, and no more than
    the most of their eligible duties that do not overlap: interval scheduling, travel ignored),
    and in the week (``max_per_week``, and no more than the sum of those). A member who is free
    only on Tuesday mornings adds one or two duties to their class's capacity, not ten."""
    inst = problem.instance
    day_cap: list[dict] = []
    week_cap: list[int] = []
    for p, ds in enumerate(problem.eligible):
        lim = inst.limits_of(problem.persons[p])
        by_date: dict = defaultdict(list)
        for d in ds:
            duty = problem.duties[d]
            by_date[duty.date].append((duty.start, duty.end))
        caps = {}
        for date, windows in by_date.items():
            n = most_in_sequence(windows)
            caps[date] = n if lim.max_per_day is None else min(n, lim.max_per_day)
        day_cap.append(caps)
        week = sum(caps.values())
        week_cap.append(week if lim.max_per_week is None else min(week, lim.max_per_week))
    return day_cap, week_cap


def _clique(m: cp_model.CpModel, active: list, may: dict, c: tuple) -> None:
    if len(active) < 2:
        return
    people = set()
    for s, _ in active:
        people |= may[(c, s)]
    m.add(sum(v for _, v in active) <= len(people))


def lp_columns(proto):
    """A linear program (``MPModelProto``) with the columns of the CP-SAT model ``proto``: its
    variables' bounds, integrality dropped, and its objective (a term repeated on one variable
    summed), minimised; the rows are the caller's."""
    from ortools.linear_solver import linear_solver_pb2

    lp = linear_solver_pb2.MPModelProto()
    objective = [0.0] * len(proto.variables)
    for v, c in zip(proto.objective.vars, proto.objective.coeffs):
        objective[v] += float(c)
    for var, c in zip(proto.variables, objective):
        lp.variable.add(lower_bound=float(var.domain[0]), upper_bound=float(var.domain[len(var.domain) - 1]),
                        objective_coefficient=c)
    lp.objective_offset = float(proto.objective.offset)
    lp.maximize = False
    return lp


def _as_linear_program(proto) -> object:
    """The CP-SAT model ``proto`` (linear constraints only) as a linear program (``MPModelProto``),
    integrality dropped; an objective term repeated on one variable is summed."""
    lp = lp_columns(proto)
    big = 2**60
    inf = float("inf")
    for ct in proto.constraints:
        if not ct.has_linear() or len(ct.enforcement_literal):
            raise ValueError("the relaxation has a constraint that is not a plain linear one")
        dom = ct.linear.domain
        lo, hi = dom[0], dom[len(dom) - 1]
        row = lp.constraint.add(lower_bound=-inf if lo <= -big else float(lo), upper_bound=inf if hi >= big else float(hi))
        row.var_index.extend(ct.linear.vars)
        row.coefficient.extend(ct.linear.coeffs)
    return lp


class RelaxationLP:
    """The aggregated relaxation as a linear program (GLOP), solved in two steps.

    :meth:`plan` solves it without the valid inequalities (the share floor): its counts guide the
    greedy roster, which is better so (district-bincheng: 1,585,144 against 1,601,879 from the
    LP with them). :meth:`bound` then switches them on and solves again: the lower bound
    (district-bincheng: 508,686 without, 655,372 with). Both values are valid lower bounds.
    """

    def __init__(self, problem: Problem, *, time_limit: float = 30.0, weights: dict[str, float] | None = None,
                 skills: bool = False):
        from ortools.linear_solver import pywraplp

        self.counts: dict = {}
        self.cut_rows: list[int] = []
        self.terms: dict[str, list] = {}
        model, self.scale = relaxation(problem, self.counts, self.cut_rows, weights, self.terms, skills)
        self.lp = lp = pywraplp.Solver.CreateSolver("GLOP")
        if lp is None:
            return
        lp.SetTimeLimit(int(time_limit * 1000))
        self.inf = lp.infinity()
        # copied as one linear-program proto, a row at a time in C: far faster than a call per
        # coefficient through the solver's Python API (benchmarks/README.md, session 10)
        error = lp.LoadModelFromProto(_as_linear_program(model.proto))
        if error:
            raise RuntimeError(f"the relaxation LP could not be loaded: {error}")
        self.xs = lp.variables()
        big = 2**60
        self.rows = [(row, -self.inf if ct.linear.domain[0] <= -big else float(ct.linear.domain[0]))
                     for row, ct in zip(lp.constraints(), model.proto.constraints)]

    def _solve(self, cuts: bool) -> float | None:
        from ortools.linear_solver import pywraplp

        if self.lp is None:
            return None
        for i in self.cut_rows:
            row, lo = self.rows[i]
            row.SetLb(lo if cuts else -self.inf)
        if self.lp.Solve() != pywraplp.Solver.OPTIMAL:
            return None
        return self.lp.Objective().Value() / self.scale

    def plan(self) -> tuple[float | None, dict]:
        """(LP bound without the cuts, its count per ``((unit, role), slot)`` where positive)."""
        value = self._solve(cuts=False)
        plan: dict = defaultdict(float)
        if value is not None:
            for (c, slot), var in self.counts.items():
                x = self.xs[var.index].solution_value()
                if x > 1e-6:
                    plan[(c[:2], slot)] += x  # per (unit, role): a class split by skills summed
        return value, dict(plan)

    def bound(self) -> float | None:
        """The LP bound with the cuts."""
        return self._solve(cuts=True)

    def term_values(self) -> dict[str, float]:
        """Each objective term's value (weighted, policy units) in the last LP solved; below_target
        without its constant (so it is minus the weighted people counted towards the targets)."""
        return {term: sum(self.xs[v.index].solution_value() * c for v, c in pairs) / self.scale
                for term, pairs in self.terms.items()}


def relaxation_bound(problem: Problem, *, time_limit: float = 30.0, plan: dict | None = None) -> float | None:
    """The linear-programming optimum of the aggregated relaxation with its cuts and its classes
    split by skills (policy units): the bound a roster's gap is measured against.

    A valid lower bound on every roster's objective; None when the LP solver gives no optimum.
    ``plan``, when given, is filled with the counts of :meth:`RelaxationLP.plan` of the relaxation
    without the split (the one that guides the greedy roster: see :func:`relaxation`).
    """
    if plan is not None:
        plan.update(RelaxationLP(problem, time_limit=time_limit).plan()[1])
    return RelaxationLP(problem, time_limit=time_limit, skills=True).bound()
