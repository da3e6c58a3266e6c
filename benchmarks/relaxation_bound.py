"""The bound side of a district's gap: the aggregated relaxation solved as an integer program.

``solve`` reports the gap to the linear-programming optimum of the aggregated relaxation
(:class:`scheduler.cpsat.bound.RelaxationLP`, with its cuts). The same relaxation with its counts
kept whole (people are counted per unit and role at each school peak, and the professional share
with its ``ceil``) is a small integer program (about 19,000 variables on a 150-school district),
and CP-SAT's proven bound on it is a lower bound on every roster too, and no lower than the LP's.
This script runs it long and records the LP bound, CP-SAT's bound and the best relaxed solution
found (which no bound from this relaxation can pass), so benchmarks/README.md can say how much of
a gap is the bound's; ``lp_terms`` gives each weighted term in the LP's optimum, to set beside a
roster's ``costs`` in summary.json (the relaxation counts continuity, travel and skills as zero).

    python -m benchmarks.relaxation_bound INSTANCE [--time-limit 600] [--workers 2] [--out FILE]
"""

from __future__ import annotations

import time

from benchmarks import instance_run
from models import load_instance
from scheduler.cpsat.bound import RelaxationLP, relaxation
from scheduler.cpsat.solver import ORTOOLS_VERSION, run
from scheduler.duties import expand


def integer_bound(path: str, time_limit: float, workers: int, seed: int = 0) -> dict:
    t0 = time.monotonic()
    problem = expand(load_instance(path))
    lp = RelaxationLP(problem)
    lp_plain, _ = lp.plan()
    lp_cuts = lp.bound()
    lp_terms = {term: round(value, 3) for term, value in lp.term_values().items()}
    model, scale = relaxation(problem)
    trace: list[tuple[float, float, float]] = []
    raw = run(model, time_limit=time_limit, workers=workers, seed=seed,
              on_progress=lambda p: trace.append((round(p.elapsed, 1), p.objective / scale, p.bound / scale)))
    return {
        "instance": path, "time_limit": time_limit, "workers": workers, "seed": seed,
        "ortools_version": ORTOOLS_VERSION, "pairs": problem.pairs,
        "variables": len(model.proto.variables), "constraints": len(model.proto.constraints),
        "lp_bound_without_cuts": lp_plain, "lp_bound": lp_cuts,
        # each weighted term in the LP's optimum (below_target without its constant, the targets):
        # set beside a roster's terms, where the gap lies term by term
        "lp_terms": lp_terms,
        "integer_bound": raw.bound / scale, "best_relaxed_solution": None if raw.objective is None else raw.objective / scale,
        "status": raw.status, "trace": trace, "seconds": round(time.monotonic() - t0, 1),
    }


def main() -> None:
    instance_run.main(__doc__.splitlines()[0], integer_bound, workers=2)


if __name__ == "__main__":
    main()
