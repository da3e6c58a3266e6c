"""The school rung's CP-SAT model handed to a MIP solver, to see whether LP-based branch and cut
proves a better bound than CP-SAT (benchmarks/README.md, "Why the targets are missed").

    python -m benchmarks.mip_bound --solver SCIP --time-limit 60

Translates the model's proto as it is (linear constraints, at-most-one, implications) into
OR-Tools' ``pywraplp`` (SCIP, HiGHS and CBC ship with OR-Tools) and prints status, objective and
bound in policy units. An experiment, not part of the product.
"""

from __future__ import annotations

import argparse
import time

from ortools.linear_solver import pywraplp

from models.loader import instance_from_data
from scheduler.cpsat.model import RosterModel
from scheduler.duties import expand
from scheduler.generate import generate

_BIG = 2**60


def to_mip(proto, solver: pywraplp.Solver) -> None:
    xs = []
    for v in proto.variables:
        dom = list(v.domain)
        xs.append(solver.IntVar(dom[0], dom[-1], ""))

    def lit(ref: int):
        return xs[ref] if ref >= 0 else 1 - xs[-ref - 1]

    for ct in proto.constraints:
        enf = list(ct.enforcement_literal)
        if ct.has_linear() and not enf:
            expr = sum(c * xs[i] for i, c in zip(ct.linear.vars, ct.linear.coeffs))
            dom = list(ct.linear.domain)
            if dom[0] > -_BIG:
                solver.Add(expr >= dom[0])
            if dom[-1] < _BIG:
                solver.Add(expr <= dom[-1])
        elif ct.has_at_most_one() and not enf:
            solver.Add(sum(lit(r) for r in ct.at_most_one.literals) <= 1)
        elif ct.has_bool_and():
            for r in ct.bool_and.literals:
                solver.Add(lit(r) >= sum(lit(e) for e in enf) - (len(enf) - 1))
        else:
            raise SystemExit(f"constraint not translated: {ct}")
    obj = proto.objective
    solver.Minimize(sum(c * xs[i] for i, c in zip(obj.vars, obj.coeffs)) + obj.offset)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--solver", default="SCIP")
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    model = RosterModel(expand(instance_from_data(generate("school", 0))))
    solver = pywraplp.Solver.CreateSolver(args.solver)
    to_mip(model.model.proto, solver)
    solver.SetTimeLimit(int(args.time_limit * 1000))
    solver.SetNumThreads(1)
    start = time.monotonic()
    status = solver.Solve()
    found = status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    scale = model.weight_scale
    print(f"{args.solver}: status {status}, objective "
          f"{solver.Objective().Value() / scale if found else '-'}, "
          f"bound {solver.Objective().BestBound() / scale:.1f}, {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
