"""A lower bound for a Curtois & Qu instance by column generation (Dantzig-Wolfe on staff).

Every hard rule concerns one person, so a person's feasible schedules (one shift or off per day,
all their hard rules held) are the columns of a master LP::

    min  sum_{p,s} c_{p,s} lambda_{p,s} + sum_{dt} U_{dt} u_{dt} + O_{dt} o_{dt}
    s.t. sum_s lambda_{p,s} = 1                                          (mu_p,  each person p)
         sum_{p,s} a_{p,s,d,t} lambda_{p,s} + u_{dt} - o_{dt} = R_{dt}    (pi_dt, each cover line)
         lambda, u, o >= 0

where ``c_{p,s}`` is the schedule's request penalty and ``a_{p,s,d,t}`` is 1 when the schedule
works shift ``t`` on day ``d``. The master is solved by GLOP; the pricing problem of person ``p``,
``min_s c_{p,s} - sum_{dt} pi_dt a_{p,s,d,t}`` over p's feasible schedules, is a one-person CP-SAT
model (:class:`benchmarks.nrp.model.NrpModel` with only that person free and no cover terms).

**The bound.** For any multipliers ``pi`` with ``-O_dt <= pi_dt <= U_dt`` the Lagrangian value
``L(pi) = sum_dt pi_dt R_dt + sum_p min_s (c_{p,s} - pi . a_{p,s})`` is a lower bound on every
roster's objective (relax the cover lines: the hinge terms ``U u + O o - pi (u - o)`` are >= 0 on
that box). The multipliers priced here are the master's duals rounded to a grid of ``1/scale``
(and clipped to the box), so each pricing objective is exactly ``scale`` times the reduced cost in
integers, CP-SAT's optimum (or, when a solve is cut short, its proven bound) is exact, and
``scale * L`` is summed in integers: no rounding error enters the bound. As the objective of a
roster is an integer, the reported bound is ``ceil(L)``, the best over the iterations.

**Stopping.** The master's LP value ``z`` is >= the LP optimum ``z*`` >= every ``L``; the loop ends
when ``ceil(best L) >= ceil(z)`` (no further iteration can raise the integer bound: ``bound_final``),
when ``best L`` meets ``z`` (the LP is solved: ``proved_lp``), when no column of negative reduced
cost is left at the master's duals (``proved_lp`` too), or at the time, iteration or work limit.

**Warm start (round 0).** Before the first master, every person is priced at the cover duals of
the *compact* LP relaxation (each person's pricing model relaxed to an LP, plus the cover lines),
solved approximately by PDLP under an iteration limit; that gives a first bound at once (Instance12:
3634 in 3 s, where plain column generation needs ~35 s to get there) and the first columns, and its
multipliers are the first centre of the smoothing. Without it (``warm_start=False``, or when it
fails) the first columns are each person's cheapest schedule at duals 0 (or the caller's roster).

**Stabilisation.** Wentges smoothing: the duals priced are ``alpha * centre + (1 - alpha) * pi``,
the centre being the multipliers of the best ``L`` so far. By default ``alpha`` adapts every round
(Pessoa et al. 2018): it falls by 0.1 when the subgradient at the priced point points towards the
master's duals, and rises by a tenth of its distance to 1 otherwise. A round that finds no column
of negative reduced cost at the master's own duals (a mis-price) still gives a bound; after ``k``
mis-prices in a row the weight used is ``1 - (k + 1) (1 - alpha)``, down to plain pricing at the
master's duals. ``alpha=0`` is plain column generation. (Measured on Instance12 to the LP bound:
adaptive 36 s, fixed 0.5 40 s, 0.8 52 s, 0.9 60 s, none 49 s; on Instance8 24 s against 25-28 s.)

**Determinism.** Every CP-SAT solve uses one worker, the given seed and a deterministic work
budget (``pricing_work``); GLOP is deterministic, PDLP runs to an iteration limit. A run that ends
by convergence, ``max_iterations`` or ``work_limit`` (CP-SAT's deterministic time, summed) gives
the same result every time; one cut short by the wall clock (``time_limit``, which also caps PDLP
at a fifth of it) may stop elsewhere.

    python -m benchmarks.nrp.bound --instances 1-12 --time-limit 60
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ortools.linear_solver import linear_solver_pb2, pywraplp
from ortools.pdlp import solvers_pb2
from ortools.pdlp.python import pdlp
from ortools.sat.python import cp_model

from scheduler.cpsat.solver import new_solver

from .evaluate import evaluate
from .model import NrpModel
from .reader import Instance, Staff, instance_path, read_instance

Solution = dict[str, list[str | None]]
#: one person's schedule: the shift (or None) of each day
Schedule = tuple[str | None, ...]

#: duals are rounded to multiples of 1/SCALE before pricing (CP-SAT needs integer coefficients)
SCALE = 1_000_000
#: CP-SAT parameters of a pricing solve: the full linearisation halves the work on Instances 8 and 12
#: (measured against the default, presolve off, core-based search and LB-tree search)
PRICING_PARAMETERS = {"linearization_level": 2}
#: iteration limit of PDLP on the compact LP relaxation (the warm start)
PDLP_ITERATIONS = 10_000


@dataclass
class CgProgress:
    """One round: the master's LP value, the Lagrangian value of the multipliers priced, the best
    integer bound so far, the columns added, the smoothing weight used. Round 0 is the warm start:
    its ``lp_value`` is the compact LP relaxation's (PDLP's approximate) value."""

    iteration: int
    elapsed: float
    lp_value: float
    lagrangian: float
    bound: int
    added: int
    alpha: float
    pricing_time: float


@dataclass
class BoundResult:
    #: a proven lower bound on the objective of every feasible roster (at least 0: penalties are >= 0)
    bound: int
    #: the last master LP value (an upper bound on the LP relaxation's optimum, equal to it when proved_lp)
    lp_value: float
    iterations: int
    #: columns in the master at the end (the start columns included)
    columns: int
    #: the LP relaxation is solved: no column of negative reduced cost left (to the dual grid's precision)
    proved_lp: bool
    wall_time: float
    #: why the loop ended: ``proved_lp``, ``bound_final``, ``time_limit``, ``work_limit``,
    #: ``iteration_limit``, ``pricing_limit`` (a pricing solve not proven optimal and no column found),
    #: ``master_failed`` (GLOP did not solve the master; the bound so far stands)
    status: str = ""
    #: the best Lagrangian value (float; ``bound`` is its ceiling)
    lagrangian: float = -math.inf
    pricing_solves: int = 0
    #: wall seconds spent in the pricing solves, and CP-SAT's deterministic time of them
    pricing_time: float = 0.0
    work: float = 0.0
    #: wall seconds in the master LP's solves
    master_time: float = 0.0
    trace: list[CgProgress] = field(default_factory=list)
    #: the master's columns: (staff id, schedule, request penalty, value in the last master LP solution)
    pool: list[tuple[str, Schedule, int, float]] = field(default_factory=list)


class _Pricer:
    """Person ``p``'s pricing model: p's hard rules (built once), objective reset every round."""

    def __init__(self, inst: Instance, reading: str, person: Staff, scale: int):
        H = inst.horizon
        self.person = person
        self.scale = scale
        base: Solution = {q.id: [None] * H for q in inst.staff}
        nm = NrpModel(inst, reading, free={person.id: set(range(H))}, base=base, cover=False)
        self.model: cp_model.CpModel = nm.model
        self.cells: list[tuple[int, str]] = sorted((d, t) for (pid, d, t) in nm.x if pid == person.id)
        self.vars = [nm.x[person.id, d, t] for d, t in self.cells]
        # request penalty: a constant (every on request unmet) plus a cost per cell
        self.const = 0
        cost: dict[tuple[int, str], int] = {}
        for r in inst.on_requests:
            if r.staff == person.id:
                self.const += r.weight
                cost[r.day, r.shift] = cost.get((r.day, r.shift), 0) - r.weight
        for r in inst.off_requests:
            if r.staff == person.id:
                cost[r.day, r.shift] = cost.get((r.day, r.shift), 0) + r.weight
        self.cell_cost = [cost.get(c, 0) for c in self.cells]
        self.cost_of = {c: cost.get(c, 0) for c in self.cells}
        self.by_day: list[list[int]] = [[] for _ in range(H)]  # cell indices of each day
        for i, (d, _) in enumerate(self.cells):
            self.by_day[d].append(i)
        self.hint: Schedule | None = None

    def request_cost(self, schedule: Schedule) -> int:
        """The schedule's request penalty (as :func:`benchmarks.nrp.evaluate.evaluate` counts it)."""
        total = self.const
        for d, t in enumerate(schedule):
            if t is not None:
                total += self.cost_of[d, t]
        return total

    def relaxed_min(self, coefs: list[int]) -> int:
        """A lower bound on the scaled pricing optimum ignoring every rule but one shift a day."""
        return sum(min([0] + [coefs[i] for i in cells]) for cells in self.by_day)

    def solve(self, duals: dict[tuple[int, str], int], *, seed: int, work: float, time_left: float,
              keep: int) -> tuple[int, bool, list[Schedule], float, float]:
        """Minimise ``scale * c_s - sum duals . a_s`` (``duals`` already scaled, integers), without the
        constant ``scale * const``. Returns (lower bound on that minimum, proven optimal, up to
        ``keep`` improving schedules found (best last), wall seconds, deterministic time)."""
        coefs = self.coefs(duals)
        self.model.minimize(cp_model.LinearExpr.weighted_sum(self.vars, coefs))
        self.model.clear_hints()
        if self.hint is not None:
            for v, (d, t) in zip(self.vars, self.cells):
                self.model.add_hint(v, self.hint[d] == t)
        solver = new_solver(max(0.01, time_left), 1, seed, max_deterministic_time=work, **PRICING_PARAMETERS)
        found: list[list[int]] = []
        vars_ = self.vars

        class _Keep(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                found.append([i for i, v in enumerate(vars_) if self.boolean_value(v)])

        t0 = time.monotonic()
        status = solver.solve(self.model, _Keep() if keep > 1 else None)
        wall = time.monotonic() - t0
        det = solver.response_proto.deterministic_time
        if status == cp_model.INFEASIBLE:
            raise ValueError(f"staff {self.person.id}: no schedule meets the hard rules")
        if status == cp_model.MODEL_INVALID:  # pragma: no cover - a defect, never a limit
            raise RuntimeError(f"staff {self.person.id}: invalid pricing model: {solver.response_proto}")
        optimal = status == cp_model.OPTIMAL
        relaxed = self.relaxed_min(coefs)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            last = [i for i, v in enumerate(vars_) if solver.boolean_value(v)]
            if not found or found[-1] != last:
                found.append(last)
            low = round(solver.objective_value) if optimal else max(relaxed, math.ceil(solver.best_objective_bound - 1e-6))
        else:
            low = max(relaxed, math.ceil(solver.best_objective_bound - 1e-6)) if math.isfinite(
                solver.best_objective_bound) else relaxed
        H = len(self.by_day)
        schedules = []
        for cells in found[-keep:]:
            row: list[str | None] = [None] * H
            for i in cells:
                d, t = self.cells[i]
                row[d] = t
            schedules.append(tuple(row))
        if schedules:
            self.hint = schedules[-1]
        return low, optimal, schedules, wall, det

    def coefs(self, duals: dict[tuple[int, str], int]) -> list[int]:
        """The scaled reduced cost of each cell (without the constant): ``scale * cost - dual``."""
        return [self.scale * c - duals.get(cell, 0) for c, cell in zip(self.cell_cost, self.cells)]


class _Master:
    """The restricted master LP (GLOP): convexity rows, cover rows, and the slack columns u, o."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        if self.lp is None:  # pragma: no cover - GLOP ships with OR-Tools
            raise RuntimeError("GLOP is not available")
        inf = self.lp.infinity()
        self.obj = self.lp.Objective()
        self.obj.SetMinimization()
        self.convex = {p.id: self.lp.Constraint(1, 1, f"one[{p.id}]") for p in inst.staff}
        self.row: dict[tuple[int, str], pywraplp.Constraint] = {}
        for c in inst.cover:
            row = self.lp.Constraint(c.requirement, c.requirement, f"cover[{c.day},{c.shift}]")
            self.row[c.day, c.shift] = row
            u = self.lp.NumVar(0, inf, f"u[{c.day},{c.shift}]")
            o = self.lp.NumVar(0, inf, f"o[{c.day},{c.shift}]")
            row.SetCoefficient(u, 1)
            row.SetCoefficient(o, -1)
            self.obj.SetCoefficient(u, c.under_weight)
            self.obj.SetCoefficient(o, c.over_weight)
        self.columns: list[tuple[str, Schedule, int, pywraplp.Variable]] = []
        #: the columns' values in the last solution (columns added since then: 0)
        self.values: list[float] = []
        self.seen: set[tuple[str, Schedule]] = set()

    def add(self, pid: str, schedule: Schedule, cost: int) -> bool:
        if (pid, schedule) in self.seen:
            return False
        self.seen.add((pid, schedule))
        var = self.lp.NumVar(0, self.lp.infinity(), f"l{len(self.columns)}")
        self.obj.SetCoefficient(var, cost)
        self.convex[pid].SetCoefficient(var, 1)
        for d, t in enumerate(schedule):
            if t is not None and (d, t) in self.row:
                self.row[d, t].SetCoefficient(var, 1)
        self.columns.append((pid, schedule, cost, var))
        return True

    def solve(self) -> tuple[float, dict[tuple[int, str], float], dict[str, float]] | None:
        """(LP value, cover duals, convexity duals), or None if GLOP does not reach the optimum."""
        status = self.lp.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            return None
        self.values = [var.solution_value() for *_, var in self.columns]
        pi = {key: row.dual_value() for key, row in self.row.items()}
        mu = {pid: row.dual_value() for pid, row in self.convex.items()}
        return self.obj.Value(), pi, mu


def _compact_duals(inst: Instance, pricers: list[_Pricer], iterations: int = PDLP_ITERATIONS,
                   time_limit: float = 60.0, deadline: float = math.inf
                   ) -> tuple[float, dict[tuple[int, str], float]] | None:
    """The cover lines' duals in the LP relaxation of the compact model (every person's pricing
    model, relaxed, plus the cover lines): a first point to price, far better than the master's
    duals of the first rounds (which sit at the under-cover weight wherever the start columns
    leave a gap). Constraint kinds it cannot write as LP rows are left out (a weaker relaxation;
    any point gives a valid Lagrangian bound, so PDLP's approximate duals serve, and an iteration
    limit keeps it deterministic unless ``time_limit`` ends it first). Returns (LP value, duals),
    or None if PDLP fails or writing the LP down passes ``deadline`` (``time.monotonic()``)."""
    lp = pywraplp.Solver.CreateSolver("GLOP")  # only to write the LP down; PDLP solves it
    if lp is None:  # pragma: no cover - GLOP ships with OR-Tools
        return None
    inf = lp.infinity()
    big = 10**9  # a bound this large is no bound (the model writes "no lower limit" as -2**40)
    obj = lp.Objective()
    obj.SetMinimization()
    rows: dict[tuple[int, str], pywraplp.Constraint] = {}
    for c in inst.cover:
        row = lp.Constraint(c.requirement, c.requirement)
        rows[c.day, c.shift] = row
        u, o = lp.NumVar(0, inf, ""), lp.NumVar(0, inf, "")
        row.SetCoefficient(u, 1)
        row.SetCoefficient(o, -1)
        obj.SetCoefficient(u, c.under_weight)
        obj.SetCoefficient(o, c.over_weight)

    def row_of(xs: list, lo: float, hi: float, terms: list[tuple[int, int]]) -> None:
        """``lo <= sum coef * literal <= hi`` (a negative literal ``-i-1`` is ``1 - x_i``)."""
        shift = 0
        coef: dict[int, float] = {}
        for lit, a in terms:
            if lit >= 0:
                coef[lit] = coef.get(lit, 0) + a
            else:
                coef[-lit - 1] = coef.get(-lit - 1, 0) - a
                shift += a
        ct = lp.Constraint(-inf if lo <= -big else lo - shift, inf if hi >= big else hi - shift)
        for i, a in coef.items():
            ct.SetCoefficient(xs[i], a)

    const = 0
    for pr in pricers:
        if time.monotonic() >= deadline:
            return None
        proto = pr.model.proto
        xs = []
        for v in proto.variables:
            dom = list(v.domain)
            xs.append(lp.NumVar(dom[0], dom[-1], ""))

        for ct in proto.constraints:
            enforced = list(ct.enforcement_literal)
            if ct.has_linear():
                if enforced:
                    continue
                dom = list(ct.linear.domain)
                row_of(xs, dom[0], dom[-1], list(zip(ct.linear.vars, ct.linear.coeffs)))
            elif ct.has_bool_or():
                if enforced:
                    continue
                row_of(xs, 1, big, [(lit, 1) for lit in ct.bool_or.literals])
            elif ct.has_bool_and():
                if len(enforced) > 1:
                    continue
                for lit in ct.bool_and.literals:  # lit >= enforcement (or lit = 1)
                    row_of(xs, 0 if enforced else 1, big, [(lit, 1)] + [(e, -1) for e in enforced])
            elif ct.has_at_most_one() and not enforced:
                row_of(xs, -big, 1, [(lit, 1) for lit in ct.at_most_one.literals])
            elif ct.has_exactly_one() and not enforced:
                row_of(xs, 1, 1, [(lit, 1) for lit in ct.exactly_one.literals])
        const += pr.const
        for v, (d, t), c in zip(pr.vars, pr.cells, pr.cell_cost):
            if c:
                obj.SetCoefficient(xs[v.index], c)
            if (d, t) in rows:
                rows[d, t].SetCoefficient(xs[v.index], 1)
    proto = linear_solver_pb2.MPModelProto()
    lp.ExportModelToProto(proto)
    qp = pdlp.qp_from_mpmodel_proto(proto, False)
    prm = solvers_pb2.PrimalDualHybridGradientParams()
    prm.num_threads = 1
    crit = prm.termination_criteria
    crit.iteration_limit = int(iterations)
    crit.time_sec_limit = max(0.1, float(time_limit))
    crit.simple_optimality_criteria.eps_optimal_relative = 1e-4
    crit.simple_optimality_criteria.eps_optimal_absolute = 1e-4
    out = pdlp.primal_dual_hybrid_gradient(qp, prm)
    y = list(out.dual_solution)
    x = list(out.primal_solution)
    if len(y) != proto.constraint.__len__() or not all(map(math.isfinite, y)):  # pragma: no cover
        return None
    value = sum(c * v for c, v in zip(qp.objective_vector, x)) + qp.objective_offset + const
    return value, {key: y[row.index()] for key, row in rows.items()}


def _start_columns(inst: Instance, reading: str, start: Solution | None) -> dict[str, Schedule]:
    """The rows of ``start`` that meet their person's hard rules (judged by the evaluator)."""
    if start is None:
        return {}
    H = inst.horizon
    rows = {p.id: tuple(start[p.id]) for p in inst.staff if p.id in start and len(start[p.id]) == H}
    full = {p.id: list(rows.get(p.id, (None,) * H)) for p in inst.staff}
    bad = evaluate(inst, full, reading).violations
    out = {}
    for pid, row in rows.items():
        if any(v.startswith((pid + ":", pid + " ")) for v in bad):
            continue
        if any(t is not None and t not in inst.shift_by_id for t in row):
            continue
        out[pid] = row
    return out


def column_generation(instance: Instance, reading: str = "open-ends", *, time_limit: float,
                      start: Solution | None = None, seed: int = 0,
                      on_progress: Callable[[CgProgress], None] | None = None,
                      max_iterations: int | None = None, work_limit: float | None = None,
                      alpha: float | None = None, pricing_work: float = 20.0, keep: int = 5,
                      scale: int = SCALE, exact_lp: bool = False, warm_start: bool = True,
                      threads: int = 1) -> BoundResult:
    """A lower bound on ``instance``'s optimum (see the module's text).

    ``start``: a roster whose rows seed the master (rows breaking their person's hard rules are
    ignored); ``alpha``: Wentges smoothing weight (0: none; None: adapted every round, starting
    at 0.5); ``pricing_work``: deterministic time limit of one pricing solve; ``keep``: improving schedules kept per pricing solve (1: the
    optimum only); ``work_limit``: total deterministic time of the pricing solves, checked between
    rounds; ``exact_lp``: go on until the LP is solved even when the integer bound cannot rise;
    ``warm_start``: price first at the duals of the compact LP relaxation (round 0); ``threads``:
    pricing solves run at once (each still one CP-SAT worker: the result does not depend on it)."""
    t0 = time.monotonic()
    inst = instance
    deadline = t0 + time_limit
    pricers = [_Pricer(inst, reading, p, scale) for p in inst.staff]
    master = _Master(inst)
    cover_r = {(c.day, c.shift): c.requirement for c in inst.cover}
    box = {(c.day, c.shift): (-c.over_weight * scale, c.under_weight * scale) for c in inst.cover}
    res = BoundResult(bound=0, lp_value=math.inf, iterations=0, columns=0, proved_lp=False, wall_time=0.0)
    best_l_scaled: int | None = None  # scale * best L (exact integer)
    centre: dict[tuple[int, str], int] | None = None

    def price(duals_scaled: dict[tuple[int, str], int], keep_: int) -> tuple[int, bool, dict[str, list[Schedule]]]:
        """Price every person at ``duals_scaled``; return (scale * L, all optimal, schedules)."""
        total = sum(duals_scaled.get(k, 0) * r for k, r in cover_r.items())
        all_optimal = True
        out: dict[str, list[Schedule]] = {}

        def one(pr: _Pricer) -> tuple[int, bool, list[Schedule], float, float] | None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            return pr.solve(duals_scaled, seed=seed, work=pricing_work, time_left=left, keep=keep_)

        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                outcomes = list(pool.map(one, pricers))
        else:
            outcomes = [one(pr) for pr in pricers]
        for pr, outcome in zip(pricers, outcomes):
            if outcome is None:  # out of time: a relaxation's bound for this person (valid, weak)
                total += scale * pr.const + pr.relaxed_min(pr.coefs(duals_scaled))
                all_optimal = False
                continue
            low, optimal, schedules, wall, det = outcome
            res.pricing_solves += 1
            res.pricing_time += wall
            res.work += det
            all_optimal &= optimal
            total += scale * pr.const + low
            out[pr.person.id] = schedules
        return total, all_optimal, out

    def clip(key: tuple[int, str], value: float) -> int:
        lo, hi = box[key]
        return min(hi, max(lo, round(value)))

    # start columns: the caller's rows that meet their person's hard rules
    given = _start_columns(inst, reading, start)
    for pr in pricers:
        if pr.person.id in given:
            master.add(pr.person.id, given[pr.person.id], pr.request_cost(given[pr.person.id]))
            pr.hint = given[pr.person.id]
    # warm start: price at the duals of the compact LP relaxation (round 0); its schedules join the master
    if warm_start:
        before = time.monotonic()
        compact = _compact_duals(inst, pricers, time_limit=max(1.0, 0.2 * time_limit), deadline=deadline)
        if compact is not None:
            lp0, pi0 = compact
            duals0 = {key: clip(key, v * scale) for key, v in pi0.items()}
            l_scaled, _, found = price(duals0, keep)
            best_l_scaled, centre = l_scaled, duals0
            added = 0
            for pr in pricers:
                for sched in found.get(pr.person.id, []):
                    added += master.add(pr.person.id, sched, pr.request_cost(sched))
            res.bound = max(res.bound, _ceil_div(l_scaled, scale))
            prog = CgProgress(0, time.monotonic() - t0, lp0, l_scaled / scale, res.bound, added, 1.0,
                              time.monotonic() - before)
            res.trace.append(prog)
            if on_progress is not None:
                on_progress(prog)
    # every person still without a column: their cheapest schedule (all duals 0)
    have = {pid for pid, *_ in master.columns}
    missing = [pr for pr in pricers if pr.person.id not in have]
    l_zero = 0  # scale * L(0), when every person was priced at pi = 0
    for pr in missing:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        low, _, schedules, wall, det = pr.solve({}, seed=seed, work=pricing_work, time_left=left, keep=1)
        res.pricing_solves += 1
        res.pricing_time += wall
        res.work += det
        if schedules:
            master.add(pr.person.id, schedules[-1], pr.request_cost(schedules[-1]))
        l_zero += scale * pr.const + low
    if missing and len(missing) == len(pricers) and best_l_scaled is None:  # a full round at pi = 0
        best_l_scaled = l_zero
        centre = {key: 0 for key in cover_r}
    if len({pid for pid, *_ in master.columns}) < len(pricers):  # out of time before every person had one
        return _finish(res, best_l_scaled, scale, "time_limit", master, t0)

    misprices = 0
    smooth = 0.5 if alpha is None else alpha  # the smoothing weight (adapted when alpha is None)
    status = ""
    lp_value = math.inf
    while True:
        before = time.monotonic()
        solved = master.solve()
        res.master_time += time.monotonic() - before
        if solved is None:
            status = "master_failed"
            break
        lp_value, pi, mu = solved
        res.lp_value = lp_value
        if best_l_scaled is not None:
            if best_l_scaled / scale >= lp_value - 1e-7 * max(1.0, abs(lp_value)):
                res.proved_lp, status = True, "proved_lp"
                break
            # (GLOP's value is trusted to 1e-6: an LP optimum within 1e-6 above an integer is taken as it)
            if not exact_lp and _ceil_div(best_l_scaled, scale) >= math.ceil(lp_value - 1e-6):
                status = "bound_final"
                break
        if time.monotonic() >= deadline:
            status = "time_limit"
            break
        if max_iterations is not None and res.iterations >= max_iterations:
            status = "iteration_limit"
            break
        if work_limit is not None and res.work >= work_limit:
            status = "work_limit"
            break
        res.iterations += 1
        # the point priced: the master's duals, smoothed towards the centre, on the 1/scale grid (after
        # k mis-prices in a row the weight falls to 1 - (k + 1) (1 - alpha): plain pricing at last)
        a = 0.0 if centre is None else max(0.0, 1.0 - (misprices + 1) * (1.0 - smooth))
        if a < 1e-9:
            a = 0.0
        duals: dict[tuple[int, str], int] = {}
        for key, value in pi.items():
            v = value * scale
            if a > 0 and centre is not None:
                v = a * centre[key] + (1 - a) * v
            duals[key] = clip(key, v)
        before = time.monotonic()
        l_scaled, all_optimal, found = price(duals, keep)
        if best_l_scaled is None or l_scaled > best_l_scaled:
            best_l_scaled = l_scaled
            centre = duals
        # columns of negative reduced cost at the master's own duals
        added = 0
        for pr in pricers:
            pid = pr.person.id
            for sched in found.get(pid, []):
                cost = pr.request_cost(sched)
                rc = cost - mu[pid] - sum(pi.get((d, t), 0.0) for d, t in enumerate(sched) if t is not None)
                if rc < -1e-6 and master.add(pid, sched, cost):
                    added += 1
        res.bound = max(res.bound, _ceil_div(best_l_scaled, scale))
        prog = CgProgress(res.iterations, time.monotonic() - t0, lp_value, l_scaled / scale, res.bound, added, a,
                          time.monotonic() - before)
        res.trace.append(prog)
        if on_progress is not None:
            on_progress(prog)
        if alpha is None and added and a > 0 and centre is not None:
            # automatic smoothing (Pessoa et al. 2018): the subgradient at the priced point against the
            # direction to the master's duals; an acute angle trusts the master more
            g = dict(cover_r)
            for pr in pricers:
                best = found.get(pr.person.id)
                if best:
                    for d, t in enumerate(best[-1]):
                        if t is not None and (d, t) in g:
                            g[d, t] -= 1
            slope = sum(g[key] * (pi[key] * scale - duals[key]) for key in g)
            smooth = max(0.0, smooth - 0.1) if slope > 0 else min(0.99, smooth + 0.1 * (1.0 - smooth))
        if added == 0:
            if a == 0.0:
                if all_optimal:
                    res.proved_lp, status = True, "proved_lp"
                else:
                    status = "time_limit" if time.monotonic() >= deadline else "pricing_limit"
                break
            misprices += 1
        else:
            misprices = 0
    return _finish(res, best_l_scaled, scale, status, master, t0)


def _finish(res: BoundResult, best_l_scaled: int | None, scale: int, status: str, master: _Master,
            t0: float) -> BoundResult:
    if best_l_scaled is not None:
        res.bound = max(res.bound, _ceil_div(best_l_scaled, scale))
        res.lagrangian = best_l_scaled / scale
    res.status = status
    res.columns = len(master.columns)
    values = master.values + [0.0] * (len(master.columns) - len(master.values))
    res.pool = [(pid, sched, cost, v) for (pid, sched, cost, _), v in zip(master.columns, values)]
    res.wall_time = time.monotonic() - t0
    return res


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


# ---- command line -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    from .run import best_known, parse_range

    ap = argparse.ArgumentParser(prog="python -m benchmarks.nrp.bound",
                                 description="Lower bounds by column generation on Curtois & Qu instances.")
    ap.add_argument("--instances", default="1-12", help="e.g. 1-12 or 1,3,7-9")
    ap.add_argument("--time-limit", type=float, default=60.0, help="wall seconds per instance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reading", choices=["open-ends", "strict"], default="open-ends")
    ap.add_argument("--alpha", type=float, default=None,
                    help="Wentges smoothing weight (0: none; default: adapted every round)")
    ap.add_argument("--max-iterations", type=int, default=None)
    ap.add_argument("--exact-lp", action="store_true", help="solve the LP even when the integer bound is final")
    ap.add_argument("--data", type=Path, default=None, help="folder of InstanceN.txt (default ../shared/benchdata/nrp)")
    ap.add_argument("--threads", type=int, default=1, help="pricing solves at once (default 1)")
    ap.add_argument("--no-warm-start", action="store_true", help="skip the compact LP's duals (round 0)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every round")
    args = ap.parse_args(argv)
    data_dir = args.data or instance_path(1).parent
    known = best_known(data_dir)
    print("| instance | our bound | best-known LB | best-known UB | LP value | iterations | columns | status "
          "| time s |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)

    def show(p: CgProgress) -> None:
        print(f"  round {p.iteration}: LP {p.lp_value:.3f}  L {p.lagrangian:.3f}  bound {p.bound}  "
              f"+{p.added} columns  alpha {p.alpha:g}  pricing {p.pricing_time:.2f} s  ({p.elapsed:.1f} s)",
              flush=True)

    for n in parse_range(args.instances):
        inst = read_instance(instance_path(n, data_dir))
        r = column_generation(inst, args.reading, time_limit=args.time_limit, seed=args.seed, alpha=args.alpha,
                              max_iterations=args.max_iterations, exact_lp=args.exact_lp, threads=args.threads,
                              warm_start=not args.no_warm_start,
                              on_progress=show if args.verbose else None)
        ub, lb = known.get(n, (None, None))
        print(f"| {n} | {r.bound} | {lb if lb is not None else '-'} | {ub if ub is not None else '-'} | "
              f"{r.lp_value:.3f} | {r.iterations} | {r.columns} | {r.status} | {r.wall_time:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
