"""The shortfall-only reference: the fewest people missing below ``min`` an instance's staff allows.

A plain CP-SAT model of the hard rules (every eligible pair) with the ``shortfall`` term alone as
objective, hinted with the greedy roster, run long with many workers; it records the best
shortfall found and CP-SAT's proven bound, next to the project's own shortfall bound
(:func:`scheduler.coverage.shortfall_bound`). The engine's roster is judged against it
(benchmarks/README.md, issue 15).

    python -m benchmarks.shortfall_reference INSTANCE [--time-limit 600] [--workers 8] [--out FILE]
"""

from __future__ import annotations

import time

from benchmarks import instance_run
from models import load_instance
from scheduler.coverage import shortfall_bound
from scheduler.cpsat import RosterModel
from scheduler.cpsat.solver import ORTOOLS_VERSION, run
from scheduler.duties import expand
from scheduler.greedy import greedy_roster


def reference(path: str, time_limit: float, workers: int) -> dict:
    t0 = time.monotonic()
    problem = expand(load_instance(path))
    bound = shortfall_bound(problem)
    rm = RosterModel(problem, rules=("shortfall",), with_cuts=False)
    rm.model.minimize(rm.coverage_expr(("shortfall",)))
    hint = rm.values_of(greedy_roster(problem))
    rm.add_hint(hint)
    scale = rm.weights["shortfall"] * rm.weight_scale
    raw = run(rm.model, time_limit=time_limit, workers=workers, seed=0, stop_at=bound * scale)
    best = rm.evaluate(list(raw.values))[1]["shortfall"] if raw.values is not None else None
    return {
        "instance": path, "time_limit": time_limit, "workers": workers, "ortools_version": ORTOOLS_VERSION,
        "pairs": problem.pairs, "greedy_shortfall": rm.evaluate(hint)[1]["shortfall"],
        "best_shortfall": best, "cp_sat_bound": raw.bound / scale, "project_bound": bound,
        "proven": raw.status == "optimal", "status": raw.status, "seconds": round(time.monotonic() - t0, 1),
    }


def main() -> None:
    instance_run.main(__doc__.splitlines()[0], reference, workers=8)


if __name__ == "__main__":
    main()
