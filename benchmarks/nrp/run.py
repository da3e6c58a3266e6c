"""Run the CP-SAT model on chosen Curtois & Qu instances and write a results table.

    python -m benchmarks.nrp.run --instances 1-5 --time-limit 60 [--workers 2] [--seed 0]
                                 [--reading format|open-ends] [--out benchmarks/nrp/results] [--data DIR]

Writes ``<out>/InstanceN.json`` (figures and the roster) per instance and ``<out>/results.md``
(rebuilt from every ``Instance*.json`` in the folder). Every roster is re-checked by the
independent evaluator; "evaluator agrees" is yes when it finds no hard violation and the same
objective as the model.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from .evaluate import evaluate, format_solution
from .model import NrpModel
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
            reading: str = "format") -> dict:
    inst = read_instance(instance_path(number, data_dir))
    t0 = time.monotonic()
    nm = NrpModel(inst, reading)
    build = time.monotonic() - t0
    res = nm.solve(time_limit=time_limit, workers=workers, seed=seed)
    bk = best_known(data_dir).get(number)
    record = {
        "instance": number,
        "name": inst.name,
        "days": inst.horizon, "staff": len(inst.staff), "shift_types": len(inst.shifts),
        "status": res.status,
        "objective": res.objective,
        "solver_objective": res.solver_objective,
        "bound": res.bound,
        "best_known": bk[0] if bk else None,
        "best_lb": bk[1] if bk else None,
        "gap_to_best_known_pct": (None if res.objective is None or not bk else
                                  round(100.0 * (res.objective - bk[0]) / bk[0], 3)),
        "time_s": round(res.wall_time, 2),
        "build_s": round(build, 2),
        "first_solution_s": None if res.first_solution_time is None else round(res.first_solution_time, 2),
        "time_limit": time_limit, "workers": workers, "seed": seed, "reading": reading,
    }
    if res.solution is not None:
        ev = evaluate(inst, res.solution, reading)
        record.update(evaluator_objective=ev.objective, evaluator_parts=ev.parts,
                      hard_violations=ev.violations,
                      evaluator_agrees=(not ev.violations and ev.objective == res.objective))
        record["solution"] = format_solution(inst, res.solution)
    else:
        record.update(evaluator_objective=None, hard_violations=None, evaluator_agrees=None)
    record["trace"] = [[round(p.elapsed, 2), p.objective, p.bound] for p in res.trace]
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{inst.name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def table(out: Path) -> str:
    recs = []
    for p in out.glob("Instance*.json"):
        recs.append(json.loads(p.read_text()))
    recs.sort(key=lambda r: r["instance"])
    header = ("| instance | our objective | best known | gap to best known (%) | our bound | time s | status "
              "| evaluator agrees |")
    lines = [header, "|---|---|---|---|---|---|---|---|"]

    def f(v):
        return "-" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))

    for r in recs:
        agrees = {True: "yes", False: "no", None: "-"}[r.get("evaluator_agrees")]
        lines.append(f"| {r['instance']} | {f(r['objective'])} | {f(r['best_known'])} | "
                     f"{f(r['gap_to_best_known_pct'])} | {f(r['bound'])} | {f(r['time_s'])} | {r['status']} | "
                     f"{agrees} |")
    settings = sorted({(r["time_limit"], r["workers"], r["seed"], r.get("reading", "format")) for r in recs})
    lines.append("")
    lines.append("Settings (time limit s, workers, seed, reading): " + ", ".join(str(s) for s in settings) + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.nrp.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", default="1-5", help="e.g. 1-5 or 1,3,7-9")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reading", choices=["format", "open-ends"], default="format",
                    help="runs of working days touching either end of the horizon: held to MinConsecutiveShifts "
                         "as the shared FORMAT.md says (format), or exempt (open-ends)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--data", type=Path, default=None, help="folder of InstanceN.txt (default ../shared/benchdata/nrp)")
    args = ap.parse_args(argv)
    data_dir = args.data or instance_path(1).parent
    bad = 0
    for n in parse_range(args.instances):
        r = run_one(n, time_limit=args.time_limit, workers=args.workers, seed=args.seed, data_dir=data_dir,
                    out=args.out, reading=args.reading)
        bad += r.get("evaluator_agrees") is False
        print(f"Instance{n}: {r['status']} objective {r['objective']} (best known {r['best_known']}, "
              f"gap {r['gap_to_best_known_pct']}%) bound {r['bound']} in {r['time_s']} s; "
              f"evaluator agrees: {r.get('evaluator_agrees')}", flush=True)
    md = table(args.out)
    (args.out / "results.md").write_text(md)
    print(md)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
