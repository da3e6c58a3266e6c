"""The bound side of a district's gap, with people named: the linear relaxation of the full model.

``solve`` reports its gap to the aggregated relaxation (:class:`scheduler.cpsat.bound.RelaxationLP`),
which counts people per unit and role at each school peak. The full CP-SAT model of the week
(every eligible pair a variable, each person's one-place cliques, limits, travel, continuity and
the share floor cut) with integrality dropped is another valid lower bound, one that sees each
person's own week. This script builds it once, solves it with GLOP and prints both bounds, each weighted term of the full LP's optimum, and the times, so that
benchmarks/README.md can say how much of a 60-s gap the aggregation gives away. An experiment,
not part of the product (a district's full model takes about a minute and 2-3 GB to build).

    python -m benchmarks.full_lp_bound INSTANCE [--time-limit 1800] [--out FILE]
"""

from __future__ import annotations

import time

from benchmarks import instance_run
from models import load_instance
from scheduler.cpsat.bound import RelaxationLP, lp_columns
from scheduler.cpsat.model import RosterModel
from scheduler.cpsat.solver import ORTOOLS_VERSION
from scheduler.duties import expand

_BIG = 2**60


def linear_program(proto) -> object:
    """``proto`` (linear constraints, at-most-one, implications ``e -> l``) as an ``MPModelProto``
    with integrality dropped: a relaxation of the model, so its optimum is a lower bound."""
    lp = lp_columns(proto)
    inf = float("inf")

    def row(refs: list[int], coefs: list[float], lo: float, hi: float) -> None:
        """sum coefs * literal(refs) in [lo, hi]; a negative ref is the negation ``1 - x``."""
        vars_, cs = [], []
        for r, c in zip(refs, coefs):
            if r >= 0:
                vars_.append(r)
                cs.append(c)
            else:
                vars_.append(-r - 1)
                cs.append(-c)
                lo -= c
                hi -= c
        ct = lp.constraint.add(lower_bound=lo, upper_bound=hi)
        ct.var_index.extend(vars_)
        ct.coefficient.extend(cs)

    for ct in proto.constraints:
        enf = list(ct.enforcement_literal)
        if ct.has_linear() and not enf:
            dom = ct.linear.domain
            lo, hi = dom[0], dom[len(dom) - 1]
            row(list(ct.linear.vars), [float(c) for c in ct.linear.coeffs],
                -inf if lo <= -_BIG else float(lo), inf if hi >= _BIG else float(hi))
        elif ct.has_at_most_one() and not enf:
            lits = list(ct.at_most_one.literals)
            row(lits, [1.0] * len(lits), -inf, 1.0)
        elif ct.has_bool_and() and len(enf) == 1:
            for r in ct.bool_and.literals:  # e -> r: r - e >= 0
                row([r, enf[0]], [1.0, -1.0], 0.0, inf)
        else:
            raise SystemExit(f"constraint not translated: {ct}")
    return lp


def full_lp_bound(path: str, time_limit: float, _workers: int = 1) -> dict:
    from ortools.linear_solver import pywraplp

    t0 = time.monotonic()
    problem = expand(load_instance(path))
    agg = RelaxationLP(problem)
    agg.plan()
    aggregated = agg.bound()
    t_agg = time.monotonic() - t0
    rm = RosterModel(problem)
    t_build = time.monotonic() - t0 - t_agg
    proto = rm.model.proto
    solver = "GLOP"
    lp = pywraplp.Solver.CreateSolver(solver)
    error = lp.LoadModelFromProto(linear_program(proto))
    if error:
        raise SystemExit(f"the LP could not be loaded: {error}")
    lp.SetTimeLimit(int(time_limit * 1000))
    t1 = time.monotonic()
    status = lp.Solve()
    t_solve = time.monotonic() - t1
    scale = rm.weight_scale
    record = {
        "instance": path, "solver": solver, "time_limit": time_limit, "ortools_version": ORTOOLS_VERSION,
        "pairs": problem.pairs, "variables": len(proto.variables), "constraints": len(proto.constraints),
        "aggregated_lp_bound": aggregated, "aggregated_seconds": round(t_agg, 1),
        "build_seconds": round(t_build, 1), "solve_seconds": round(t_solve, 1),
        "status": {pywraplp.Solver.OPTIMAL: "optimal", pywraplp.Solver.FEASIBLE: "feasible"}.get(status, str(status)),
    }
    if status == pywraplp.Solver.OPTIMAL:
        xs = lp.variables()
        record["full_lp_bound"] = lp.Objective().Value() / scale
        terms: dict[str, float] = {}
        w = rm.weights
        for pen in rm.book.penalties:
            if pen.rule and w.get(pen.rule, 0):
                terms[pen.rule] = terms.get(pen.rule, 0.0) + w[pen.rule] * pen.scale * xs[pen.var.index].solution_value()
        lits, coefs, const = rm.below_target
        terms["below_target"] = w.get("below_target", 0) * (const + sum(c * xs[v.index].solution_value()
                                                                        for v, c in zip(lits, coefs)))
        terms["burden"] = w.get("burden", 0) * sum(xs[v.index].solution_value() for v in rm.burden)
        record["full_lp_terms"] = {k: round(v / scale, 1) for k, v in sorted(terms.items())}
    return record


def main() -> None:
    instance_run.main(__doc__.splitlines()[0], full_lp_bound, workers=1)


if __name__ == "__main__":
    main()
