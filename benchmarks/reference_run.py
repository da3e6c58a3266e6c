"""One solve at the reference machine's budgets, whatever this machine's speed.

``schoolpost solve --time-limit T`` turns T into work budgets by the rate ``schoolpost calibrate``
measured here, so its roster depends on the machine (and on the clock when the machine is busy).
This run ignores the stored calibration (factor 1: the reference 2-core machine), derives the
budgets from ``--nominal-time`` as ``solve`` does from its limit, and gives the clock
``--clock`` seconds, so it ends by its work budget on a slow or busy machine too: the same
command gives the same roster anywhere, and two versions of the engine compare on equal work::

    python -m benchmarks.reference_run INSTANCE [--nominal-time 61] [--clock 400] [--workers 2]

It prints one JSON record: objective, bound, gap, status, every term (the validator's), the
exchange pass's moves, the neighbourhood search's counts, the roster's sha256 and the seconds.
The roster is checked by the validator (``valid``); the run fails when its objective differs
from the validator's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("--nominal-time", type=float, default=61.0,
                    help="the time limit the budgets derive from (solve: its --time-limit)")
    ap.add_argument("--clock", type=float, default=400.0, help="the clock's cap, seconds")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    # no stored calibration: the reference machine's rates (scheduler.calibrate.factor -> 1.0)
    os.environ["SCHOOLPOST_CALIBRATION"] = os.devnull + ".none"

    from models.loader import load_instance
    from scheduler.check import check_rows
    from scheduler.output import roster_rows
    from scheduler.solve import SolveOptions, solve

    inst = load_instance(args.instance)
    t = time.monotonic()
    r = solve(inst, SolveOptions(time_limit=args.clock, nominal_time=args.nominal_time, workers=args.workers,
                                 seed=args.seed))
    seconds = time.monotonic() - t
    rows = roster_rows(r.problem, r.assignments)
    report = check_rows(inst, rows)
    text = "\n".join(",".join(str(v) for v in row.values()) for row in rows)
    record = {
        "instance": args.instance, "nominal_time": args.nominal_time, "objective": r.objective,
        "bound": r.best_bound, "gap": round(r.gap, 5), "status": r.status.value, "reproducible": r.reproducible,
        "valid": report.ok, "terms": report.terms, "exchange": r.exchange, "lns": r.lns,
        "work_budgets": r.work_budgets,
        "roster_sha256": hashlib.sha256(text.encode()).hexdigest(), "seconds": round(seconds, 1),
    }
    print(json.dumps(record))
    if abs(report.objective - r.objective) > 1e-6 * max(1.0, abs(r.objective)):
        print(f"the validator's objective {report.objective} differs from the engine's {r.objective}", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
