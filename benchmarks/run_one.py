"""One measured run in a fresh process: the CP-SAT solve or the greedy baseline of one instance.

The ladder (:mod:`benchmarks.ladder`) starts this module once per instance and method, so each
run's peak memory (``ru_maxrss``) is its own and no run profits from another's warm caches::

    python -m benchmarks.run_one solve  INSTANCE RESULT.json --time-limit 60 [--workers 2] [--seed 0]
    python -m benchmarks.run_one greedy INSTANCE RESULT.json

``solve`` goes through :func:`scheduler.pipeline.solve_to_folder` (the path of ``schoolpost
solve``: solve, validator, gap reasons, the four files) into a temporary folder. As with
``schoolpost solve --time-limit``, the limit is the whole budget from process start, loading
included. ``greedy`` times :func:`scheduler.duties.expand` plus
:func:`scheduler.greedy.greedy_roster` alone, then checks that roster with the validator.

Both write one JSON record (see :func:`solve_record` and :func:`greedy_record`); peak memory
(:func:`peak_rss_mb`) is read before the extra counting done for the ladder's exact sums.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from scheduler.pipeline import process_age

_STARTED = time.monotonic() - process_age()


def peak_rss_mb() -> float:
    """This process's own peak resident memory so far, in MB.

    Linux's ``VmHWM`` (``/proc/self/status``) belongs to the process's address space since exec.
    ``ru_maxrss`` is not used where VmHWM exists: Linux carries the parent's resident size at fork
    over into the child's ``ru_maxrss``, so a child of a large parent would report the parent's
    size (measured: every greedy child of the city rung reported the ladder's own 132 MB).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return ru_maxrss_mb()


def ru_maxrss_mb() -> float:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in MB (Linux reports KiB); includes the parent's size at fork."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def since_start() -> float:
    return time.monotonic() - _STARTED


def counts(instance, rows: list[dict], report) -> dict:
    """Numerators and denominators behind the KPIs, so several instances add up exactly.

    fill (min met), police duties met, share and leader school-peaks met, per role the number of
    persons, their duties in total and the largest and smallest load, and the persons with a duty
    with their distinct posts and routes (continuity).
    """
    from scheduler.check import (
        RosterIndex,
        check_roster_rows,
        distinct_stations,
        expand_duties,
        leader_outcomes,
        share_shortfalls,
    )

    table = expand_duties(instance)
    assignments, _ = check_roster_rows(instance, table, rows)
    idx = RosterIndex(instance, table, assignments)
    shares = share_shortfalls(idx)
    leaders = leader_outcomes(idx)
    per_duty = report.per_duty
    police = [o for o in per_duty if o.min_police > 0]
    load = Counter(r["person_id"] for r in rows)
    stations = distinct_stations(idx)
    roles: dict[str, dict] = {}
    for p in instance.persons:
        n = load.get(p.id, 0)
        e = roles.setdefault(p.role, {"persons": 0, "duties": 0, "max": n, "min": n})
        e["persons"] += 1
        e["duties"] += n
        e["max"], e["min"] = max(e["max"], n), min(e["min"], n)
    return {
        "demand_min": sum(o.min for o in per_duty),
        "filled_min": sum(min(o.assigned, o.min) for o in per_duty),
        "duties_total": len(per_duty),
        "duties_fully_met": sum(1 for o in per_duty if o.fully_met),
        "police_duties": len(police),
        "police_duties_met": sum(1 for o in police if o.police_shortfall == 0),
        "share_slots": len(shares),
        "share_slots_met": sum(1 for v in shares.values() if v == 0),
        "leader_slots": len(leaders),
        "leader_slots_met": sum(1 for v in leaders.values() if v),
        "load_by_role": dict(sorted(roles.items())),
        "active_persons": len(stations),
        "distinct_posts": sum(stations.values()),
    }


def _commit() -> dict:
    """The commit and the tracked files differing from it when this run started (the measured code)."""
    import subprocess

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], check=False, cwd=Path(__file__).resolve().parents[1],
                                 capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    changed = git("diff", "--name-only", "HEAD")
    return {"commit": git("rev-parse", "HEAD"), "modified_files": changed.splitlines() if changed else []}


def instance_sizes(instance, problem) -> dict:
    return {
        "schools": len(instance.schools),
        "posts": sum(len(s.posts) for s in instance.schools),
        "routes": len(instance.routes),
        "units": len(instance.units),
        "persons": len(instance.persons),
        "duties": len(problem.duties),
        "eligible_pairs": problem.pairs,
    }


def solve_record(path: str, time_limit: float, workers: int, seed: int) -> dict:
    """Solve ``path`` as ``schoolpost solve`` would and return every figure the ladder keeps."""
    from models import load_instance
    from scheduler.output import roster_rows
    from scheduler.pipeline import solve_to_folder

    t = time.monotonic()
    inst = load_instance(path)
    load_time = time.monotonic() - t
    budget = time_limit - since_start()
    with tempfile.TemporaryDirectory(prefix="schoolpost-bench-") as out:
        result, summary, report, _gaps = solve_to_folder(inst, out, time_limit=budget, workers=workers, seed=seed)
        files = sorted(p.name for p in Path(out).iterdir())
    wall = since_start()
    rss = peak_rss_mb()
    terms = summary["terms"]
    lns = summary["strategy"] == "lns"
    # seconds from the start of solve() to its first valid roster (since bf8f9f0 the greedy
    # roster's time in both strategies); code that left it empty in lns: 0, the greedy start point
    first = summary["first_solution_time"]
    if first is None and lns:
        first = 0.0
    record = {
        "method": "cp-sat",
        "commit": _commit(),
        "instance": inst.name,
        "sizes": instance_sizes(inst, result.problem),
        "time_limit": time_limit,
        "budget_passed": round(budget, 3),
        "load_time": round(load_time, 3),
        "build_time": summary["build_time"],
        "first_solution_time": first,
        "solve_time": summary["solve_time"],
        "solver_wall_time": summary["wall_time"],
        "wall_time": round(wall, 3),
        "status": summary["status"],
        "source": summary["source"],
        "strategy": summary["strategy"],
        "lns": summary["lns"],
        "objective": summary["objective"],
        "best_bound": summary["best_bound"],
        "gap": summary["gap"],
        "greedy_objective_in_solve": summary["greedy_objective"],
        "shortfall": terms.get("shortfall"),
        "shortfall_bound": summary.get("shortfall_bound"),
        "reproducible": summary.get("reproducible"),
        "ended_by": summary.get("ended_by"),
        "police_shortfall": terms.get("police_shortfall"),
        "fairness": terms.get("fairness"),
        "share_compliance": summary["kpis"].get("share_compliance"),
        "load_spread": {role: v["spread"] for role, v in summary["kpis"].get("load_by_role", {}).items()},
        "terms": terms,
        "costs": summary["costs"],
        "kpis": summary["kpis"],
        "validator_ok": bool(summary["valid"]),
        "violations": summary["violations"],
        "validator_objective": report.objective,
        "assignments": summary["assignments"],
        "gaps": summary["gaps"],
        "files_written": files,
        "peak_rss_mb": rss,
        "ru_maxrss_mb": ru_maxrss_mb(),
        "model": summary["model"],
        "ortools_version": summary["ortools_version"],
        "parameters": summary["parameters"],
        "workers": summary["workers"],
        "seed": summary["seed"],
    }
    record["counts"] = counts(inst, roster_rows(result.problem, result.assignments), report)
    return record


def greedy_record(path: str) -> dict:
    """Time expand + greedy_roster alone, check the roster with the validator, return the figures."""
    from models import load_instance
    from scheduler.check import check_rows
    from scheduler.duties import expand
    from scheduler.greedy import greedy_roster
    from scheduler.output import roster_rows

    t = time.monotonic()
    inst = load_instance(path)
    load_time = time.monotonic() - t
    t0 = time.monotonic()
    problem = expand(inst)
    t1 = time.monotonic()
    pairs = greedy_roster(problem)
    t2 = time.monotonic()
    rows = roster_rows(problem, pairs)
    report = check_rows(inst, rows)
    t3 = time.monotonic()
    rss = peak_rss_mb()
    record = {
        "method": "greedy",
        "commit": _commit(),
        "instance": inst.name,
        "sizes": instance_sizes(inst, problem),
        "load_time": round(load_time, 3),
        "expand_time": round(t1 - t0, 3),
        "greedy_time": round(t2 - t1, 3),
        "run_time": round(t2 - t0, 3),
        "check_time": round(t3 - t2, 3),
        "wall_time": round(since_start(), 3),
        "objective": report.objective,
        "shortfall": report.terms["shortfall"],
        "police_shortfall": report.terms["police_shortfall"],
        "fairness": report.terms["fairness"],
        "share_compliance": report.kpis["share_compliance"],
        "load_spread": {role: v["spread"] for role, v in report.kpis["load_by_role"].items()},
        "terms": report.terms,
        "kpis": report.kpis,
        "validator_ok": report.ok,
        "violations": len(report.violations),
        "assignments": len(pairs),
        "peak_rss_mb": rss,
        "ru_maxrss_mb": ru_maxrss_mb(),
    }
    record["counts"] = counts(inst, rows, report)
    return record


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run_one", description=__doc__.splitlines()[0])
    ap.add_argument("method", choices=["solve", "greedy"])
    ap.add_argument("instance")
    ap.add_argument("result")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.method == "solve":
        record = solve_record(args.instance, args.time_limit, args.workers, args.seed)
    else:
        record = greedy_record(args.instance)
    Path(args.result).write_text(json.dumps(record, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
