"""Solve chosen Curtois & Qu instances and write a results table.

    python -m benchmarks.nrp.run --instances 1-12 --time-limit 60 [--workers 2] [--seed 0]
                                 [--engine lns|cpsat] [--bound-time S] [--reading open-ends|strict]
                                 [--out benchmarks/nrp/results] [--data DIR]

``lns`` (the default): the first roster person by person, then the neighbourhood search of
:mod:`benchmarks.nrp.lns` on a modelled-seconds budget (the same seed gives the same roster when
that budget, not the clock, ends the run); ``cpsat``: the whole model in one CP-SAT solve. The
bound is column generation's (:mod:`benchmarks.nrp.bound`), computed after the search for
``--bound-time`` seconds (0: none), or CP-SAT's own with ``cpsat``.

Writes ``<out>/InstanceN.json`` (figures and the roster) per instance and ``<out>/results.md``
(rebuilt from every ``Instance*.json`` in the folder). Every roster is re-checked by the
independent evaluator; "evaluator agrees" is yes when it finds no hard violation and the same
objective as the engine.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from . import lns
from .evaluate import evaluate, format_solution
from .model import DEFAULT_READING, READINGS, NrpModel
from .reader import instance_path, read_instance

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def parse_range(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = (int(x) for x in part.split("-", 1))
            out += range(a, b + 1)
        elif part:
            out.append(int(part))
    return sorted(set(out))


def best_known(data_dir: Path) -> dict[int, tuple[int, int]]:
    """instance -> (best known UB, best LB) from BEST_KNOWN.md."""
    out = {}
    path = data_dir / "BEST_KNOWN.md"
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|\s*\d+\s*\|\s*\d+\s*\|\s*\d+\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", line)
        if m:
            out[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    return out


def run_one(number: int, *, time_limit: float, workers: int, seed: int, data_dir: Path, out: Path,
            reading: str = DEFAULT_READING, engine: str = "lns", bound_time: float = 60.0) -> dict:
    inst = read_instance(instance_path(number, data_dir))
    bk = best_known(data_dir).get(number)
    record: dict = {
        "instance": number,
        "name": inst.name,
        "days": inst.horizon, "staff": len(inst.staff), "shift_types": len(inst.shifts),
        "engine": engine,
    }
    t0 = time.monotonic()
    if engine == "lns":
        res = lns.solve(inst, reading, time_limit=time_limit, workers=workers, seed=seed)
        solution, objective = res.solution, res.objective
        record.update(status=res.stats.stopped_by, reproducible=res.stats.reproducible,
                      first_objective=res.first_objective, first_solution_s=round(res.first_seconds, 2),
                      sub_solves=res.stats.solved, improving=res.stats.improved, kinds=res.stats.kinds,
                      modelled_seconds=round(res.first_modelled + res.stats.seconds, 2))
        trace = [[round(t, 2), v] for t, v in res.trace]
        bound = None
    else:
        nm = NrpModel(inst, reading)
        raw = nm.solve(time_limit=time_limit, workers=workers, seed=seed)
        solution, objective, bound = raw.solution, raw.objective, raw.bound
        record.update(status=raw.status, reproducible=False, solver_objective=raw.solver_objective,
                      first_solution_s=None if raw.first_solution_time is None else round(raw.first_solution_time, 2))
        trace = [[round(p.elapsed, 2), p.objective, p.bound] for p in raw.trace]
    record["time_s"] = round(time.monotonic() - t0, 2)
    record.update(bound=bound, bound_source="cp-sat" if engine == "cpsat" else None, objective=objective,
                  best_known=bk[0] if bk else None, best_lb=bk[1] if bk else None,
                  gap_to_best_known_pct=(None if objective is None or not bk else
                                         round(100.0 * (objective - bk[0]) / bk[0], 3)),
                  time_limit=time_limit, workers=workers, seed=seed, reading=reading)
    _bound(inst, record, solution, bound_time)
    if solution is not None:
        ev = evaluate(inst, solution, reading)
        record.update(evaluator_objective=ev.objective, evaluator_parts=ev.parts,
                      hard_violations=ev.violations,
                      evaluator_agrees=(not ev.violations and ev.objective == objective))
        record["solution"] = format_solution(inst, solution)
    else:
        record.update(evaluator_objective=None, hard_violations=None, evaluator_agrees=None)
    record["trace"] = trace
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{inst.name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def _bound(inst, record: dict, solution, bound_time: float) -> None:
    """Column generation's bound for ``bound_time`` seconds (if any), kept when it beats the
    record's; then the gap to the bound."""
    if bound_time > 0:
        from .bound import column_generation

        t1 = time.monotonic()
        cg = column_generation(inst, record["reading"], time_limit=bound_time, start=solution, seed=record["seed"])
        record.update(bound_time_s=round(time.monotonic() - t1, 2), lp_value=cg.lp_value, lp_proved=cg.proved_lp)
        if record.get("bound") is None or cg.bound > record["bound"]:
            record.update(bound=cg.bound, bound_source="column generation")
    objective, bound = record.get("objective"), record.get("bound")
    record["gap_to_bound_pct"] = (None if objective is None or bound is None or objective == 0 else
                                  round(100.0 * (objective - bound) / objective, 3))


def add_bound(number: int, *, data_dir: Path, out: Path, bound_time: float) -> dict:
    """The bound of an instance already run (its ``InstanceN.json`` in ``out``), added to its record."""
    from .evaluate import parse_solution

    inst = read_instance(instance_path(number, data_dir))
    path = out / f"{inst.name}.json"
    record = json.loads(path.read_text())
    solution = parse_solution(record["solution"]) if record.get("solution") else None
    _bound(inst, record, solution, bound_time)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def table(out: Path) -> str:
    recs = []
    for p in out.glob("Instance*.json"):
        recs.append(json.loads(p.read_text()))
    recs.sort(key=lambda r: r["instance"])
    header = ("| instance | objective | best known | gap to best known (%) | bound | gap to bound (%) "
              "| first roster s | time s | stopped by | evaluator agrees |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|"]

    def f(v):
        return "-" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))

    for r in recs:
        agrees = {True: "yes", False: "no", None: "-"}[r.get("evaluator_agrees")]
        lines.append(f"| {r['instance']} | {f(r['objective'])} | {f(r['best_known'])} | "
                     f"{f(r['gap_to_best_known_pct'])} | {f(r['bound'])} | {f(r.get('gap_to_bound_pct'))} | "
                     f"{f(r.get('first_solution_s'))} | {f(r['time_s'])} | {r['status']} | {agrees} |")
    settings = sorted({(r.get("engine", "cpsat"), r["time_limit"], r["workers"], r["seed"],
                        r.get("reading", "strict")) for r in recs})
    lines.append("")
    lines.append("Settings (engine, time limit s, workers, seed, reading): "
                 + ", ".join(str(s) for s in settings) + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.nrp.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", default="1-5", help="e.g. 1-5 or 1,3,7-9")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reading", choices=list(READINGS), default=DEFAULT_READING,
                    help="runs touching either end of the horizon: exempt from the minimum lengths as the shared "
                         "FORMAT.md states (open-ends), or runs of working days held to MinConsecutiveShifts (strict)")
    ap.add_argument("--engine", choices=["lns", "cpsat"], default="lns")
    ap.add_argument("--bound-time", type=float, default=60.0,
                    help="seconds of column generation for the bound after each search (0: none)")
    ap.add_argument("--bound-only", action="store_true",
                    help="no search: add the bound to the instances' records already in --out")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--data", type=Path, default=None, help="folder of InstanceN.txt (default ../shared/benchdata/nrp)")
    args = ap.parse_args(argv)
    data_dir = args.data or instance_path(1).parent
    bad = 0
    for n in parse_range(args.instances):
        if args.bound_only:
            r = add_bound(n, data_dir=data_dir, out=args.out, bound_time=args.bound_time)
            print(f"Instance{n}: bound {r['bound']} ({r.get('bound_source')}, {r.get('bound_time_s')} s), "
                  f"objective {r['objective']}, gap {r.get('gap_to_bound_pct')}%", flush=True)
            continue
        r = run_one(n, time_limit=args.time_limit, workers=args.workers, seed=args.seed, data_dir=data_dir,
                    out=args.out, reading=args.reading, engine=args.engine, bound_time=args.bound_time)
        bad += r.get("evaluator_agrees") is False
        print(f"Instance{n}: {r['status']} objective {r['objective']} (best known {r['best_known']}, "
              f"gap {r['gap_to_best_known_pct']}%) bound {r['bound']} in {r['time_s']} s "
              f"(first roster {r.get('first_solution_s')} s, {r['status']}); "
              f"evaluator agrees: {r.get('evaluator_agrees')}", flush=True)
        if r["status"] == "interrupted":  # Ctrl-C or SIGTERM: this instance's best roster is kept, no more
            break
    md = table(args.out)
    (args.out / "results.md").write_text(md)
    print(md)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
