"""The benchmark ladder: fixed instances, fixed seeds, CP-SAT and the greedy baseline side by side.

::

    python -m benchmarks.ladder [--rungs school,ten,district,city] [--time-limit-scale F]
                                [--out benchmarks/results] [--smoke]

Rungs (``workers=2, seed=0`` throughout):

- ``school``: ``generate("school", 0)``, 10 s;
- ``ten``: ``generate("district", 0, schools=10)``, 30 s;
- ``district``: ``instances/district-bincheng.yaml``, 60 s;
- ``gen-district``: ``generate("district", 2026)`` (150 schools, 2,956 persons), 60 s: a district
  no engine change was tuned on before it was added (issue 15);
- ``city``: ``generate("city", 0)`` split by :func:`scheduler.districts.split_by_district`, each
  district solved in turn with 55 s (ten districts and their start-up fit in the 10-minute
  target); the rung reports sums, the total wall time and the largest
  peak memory.

Every instance (each city district) is run twice, each time in a fresh process
(:mod:`benchmarks.run_one`): the greedy baseline, then the CP-SAT solve through
``solve_to_folder``. Writes ``<out>/<rung>.json`` per rung and ``<out>/ladder.md`` (the table of
every rung file in ``<out>``). ``--smoke`` runs the ``ten`` rung with a 10 s limit into a
temporary folder (or ``--out`` when given). Generated instances live in a temporary folder only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
WORKERS = 2
SEED = 0
SMOKE_RUNG, SMOKE_LIMIT = "ten", 10.0


# ----------------------------------------------------------------------------------------------
# The ladder
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    name: str
    time_limit: float  # seconds per instance (per district for the city)
    source: str
    #: () -> (part name -> instance document or file, notes kept in the rung's JSON)
    prepare: Callable[[], tuple[dict[str, dict | Path], dict]]


def _school() -> tuple[dict[str, dict | Path], dict]:
    from scheduler.generate import generate

    return {"school": generate("school", 0)}, {}


def _ten() -> tuple[dict[str, dict | Path], dict]:
    from scheduler.generate import generate

    return {"ten": generate("district", 0, schools=10)}, {}


def _district() -> tuple[dict[str, dict | Path], dict]:
    return {"district": REPO / "instances" / "district-bincheng.yaml"}, {}


def _gen_district() -> tuple[dict[str, dict | Path], dict]:
    from scheduler.generate import generate

    return {"gen-district": generate("district", 2026)}, {}


def _city() -> tuple[dict[str, dict | Path], dict]:
    from scheduler.districts import cross_district, split_by_district
    from scheduler.generate import generate

    doc = generate("city", 0)
    parts = split_by_district(doc)
    return dict(parts), {"split": {"parts": list(parts), "cross_district": cross_district(doc)}}


RUNGS: dict[str, Rung] = {
    "school": Rung("school", 10.0, 'generate("school", 0)', _school),
    "ten": Rung("ten", 30.0, 'generate("district", 0, schools=10)', _ten),
    "district": Rung("district", 60.0, "instances/district-bincheng.yaml", _district),
    "gen-district": Rung("gen-district", 60.0, 'generate("district", 2026)', _gen_district),
    "city": Rung("city", 55.0, 'generate("city", 0), split by school.district, districts solved in turn', _city),
}


# ----------------------------------------------------------------------------------------------
# Machine and code
# ----------------------------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], check=False, cwd=REPO, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python, OR-Tools, commit, and the tracked files that differ from it (the
    measured code is the working tree, so a run during an experiment says which files it had)."""
    import ortools

    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    changed = _git("diff", "--name-only", "HEAD")
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "ortools": ortools.__version__,
        "commit": _git("rev-parse", "HEAD"),
        "modified_files": changed.splitlines() if changed else [],
    }


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ----------------------------------------------------------------------------------------------
# Running one part in a fresh process
# ----------------------------------------------------------------------------------------------


def run_child(method: str, instance: Path, result: Path, time_limit: float) -> dict:
    """Run :mod:`benchmarks.run_one` in a new Python process; its record, or an ``error`` record."""
    cmd = [sys.executable, "-m", "benchmarks.run_one", method, str(instance), str(result)]
    if method == "solve":
        cmd += ["--time-limit", str(time_limit), "--workers", str(WORKERS), "--seed", str(SEED)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    load_before = _loadavg()
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=2 * time_limit + 300)
        rc, err = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        tail = exc.stderr or ""
        rc, err = "timeout", tail.decode(errors="replace") if isinstance(tail, bytes) else tail
    elapsed = round(time.monotonic() - started, 3)
    if rc == 0 and result.exists():
        record = json.loads(result.read_text())
    else:
        record = {"method": "cp-sat" if method == "solve" else "greedy", "error": f"exit {rc}: {err[-2000:]}"}
    record["child_elapsed"] = elapsed
    record["loadavg_before"], record["loadavg_after"] = load_before, _loadavg()
    return record


# ----------------------------------------------------------------------------------------------
# Sums over the parts of a rung (one part except for the city)
# ----------------------------------------------------------------------------------------------


def _ratio(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def _kpis(records: list[dict]) -> dict:
    """The validator's KPIs over several instances, exact, from the counts each run kept."""
    c: Counter = Counter()
    load: dict[str, dict] = {}
    for r in records:
        for k, v in r["counts"].items():
            if k != "load_by_role":
                c[k] += v
        for role, e in r["counts"]["load_by_role"].items():
            agg = load.setdefault(role, {"persons": 0, "duties": 0, "max": e["max"], "min": e["min"]})
            agg["persons"] += e["persons"]
            agg["duties"] += e["duties"]
            agg["max"], agg["min"] = max(agg["max"], e["max"]), min(agg["min"], e["min"])
    by_role: Counter = Counter()
    for r in records:
        by_role.update(r["kpis"].get("duties_by_role", {}))
    return {
        "fill_rate": _ratio(c["filled_min"], c["demand_min"]),
        "duties_total": c["duties_total"],
        "duties_fully_met": c["duties_fully_met"],
        "police_demand_met": _ratio(c["police_duties_met"], c["police_duties"]),
        "share_compliance": _ratio(c["share_slots_met"], c["share_slots"]),
        "leader_compliance": _ratio(c["leader_slots_met"], c["leader_slots"]),
        "load_by_role": {
            role: {"max": e["max"], "min": e["min"], "mean": e["duties"] / e["persons"], "spread": e["max"] - e["min"]}
            for role, e in sorted(load.items())
        },
        "continuity_mean_distinct_posts": c["distinct_posts"] / c["active_persons"] if c["active_persons"] else 0.0,
        "travel_minutes": sum(r["kpis"].get("travel_minutes", 0) for r in records),
        "duties_by_role": dict(sorted(by_role.items())),
    }


def _sum(records: list[dict], key: str) -> float | None:
    values = [r.get(key) for r in records]
    return None if any(v is None for v in values) else round(sum(values), 6)


def _sum_dicts(records: list[dict], key: str) -> dict:
    out: Counter = Counter()
    for r in records:
        out.update({k: v for k, v in (r.get(key) or {}).items() if isinstance(v, int | float)})
    return {k: round(v, 6) for k, v in out.items()}


def _label(values: list) -> Any:
    """One value when all parts agree, else "n x value" for each."""
    if all(v == values[0] for v in values):
        return values[0]
    return ", ".join(f"{n} x {v}" for v, n in Counter(map(str, values)).most_common())


def _common(records: list[dict]) -> dict:
    sizes = _sum_dicts(records, "sizes")
    kpis = _kpis(records)
    return {
        "sizes": sizes,
        "objective": _sum(records, "objective"),
        "shortfall": _sum(records, "shortfall"),
        "police_shortfall": _sum(records, "police_shortfall"),
        "fairness": _sum(records, "fairness"),
        "share_compliance": kpis["share_compliance"],
        "load_spread": {role: v["spread"] for role, v in kpis["load_by_role"].items()},
        "terms": _sum_dicts(records, "terms"),
        "kpis": kpis,
        "validator_ok": all(r["validator_ok"] for r in records),
        "violations": int(sum(r["violations"] for r in records)),
        "assignments": int(sum(r["assignments"] for r in records)),
        "load_time": _sum(records, "load_time"),
        "wall_time": _sum(records, "wall_time"),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in records),
    }


def solver_figures(records: list[dict]) -> dict:
    """The CP-SAT side of a rung: sums (times, objective, bound, terms), the largest peak memory,
    the largest time to a first roster, the gap of the sums."""
    from scheduler.solve import relative_gap

    obj, bound = _sum(records, "objective"), _sum(records, "best_bound")
    firsts = [r["first_solution_time"] for r in records]
    out = {
        "method": "cp-sat",
        "parts": len(records),
        "time_limit": _label([r["time_limit"] for r in records]),
        "status": _label([r["status"] for r in records]),
        "source": _label([r["source"] for r in records]),
        "strategy": _label([r["strategy"] for r in records]),
        **_common(records),
        "best_bound": bound,
        "gap": None if obj is None or bound is None else round(relative_gap(obj, bound), 6),
        "build_time": _sum(records, "build_time"),
        "first_solution_time": None if None in firsts else max(firsts),
        "solve_time": _sum(records, "solve_time"),
        "solver_wall_time": _sum(records, "solver_wall_time"),
        "build_share_of_solve": None,
        "model": _sum_dicts(records, "model"),
        "ortools_version": _label([r["ortools_version"] for r in records]),
        "parameters": records[0]["parameters"] if len(records) == 1 else _label(
            [json.dumps(r["parameters"], sort_keys=True) for r in records]),
        "lns": records[0]["lns"] if len(records) == 1 else None,
        "workers": records[0]["workers"],
        "seed": records[0]["seed"],
    }
    if out["solve_time"]:
        out["build_share_of_solve"] = round(out["build_time"] / out["solve_time"], 4)
    return out


def greedy_figures(records: list[dict]) -> dict:
    """The greedy side of a rung: sums of times and terms, KPIs over all parts, largest memory."""
    return {
        "method": "greedy",
        "parts": len(records),
        **_common(records),
        "expand_time": _sum(records, "expand_time"),
        "greedy_time": _sum(records, "greedy_time"),
        "run_time": _sum(records, "run_time"),
        "check_time": _sum(records, "check_time"),
    }


def advantage(solver: dict, greedy: dict) -> dict:
    """What CP-SAT gains over the greedy roster (positive = CP-SAT better) and what it costs in time."""
    def less(key):
        s, g = solver.get(key), greedy.get(key)
        return None if s is None or g is None else round(g - s, 6)

    obj = less("objective")
    return {
        "objective_reduction": obj,
        "objective_reduction_pct": None if obj is None or not greedy["objective"] else round(100 * obj / greedy["objective"], 3),
        "shortfall_reduction": less("shortfall"),
        "police_shortfall_reduction": less("police_shortfall"),
        "share_compliance_gain": round(solver["share_compliance"] - greedy["share_compliance"], 6),
        "fairness_reduction": less("fairness"),
        # solve() from expand to the end, against expand + greedy_roster
        "run_time_ratio": round(solver["solver_wall_time"] / greedy["run_time"], 1) if greedy["run_time"] else None,
        # the two processes end to end (load, check, files included)
        "process_time_ratio": round(solver["wall_time"] / greedy["wall_time"], 1) if greedy["wall_time"] else None,
    }


# ----------------------------------------------------------------------------------------------
# Running a rung
# ----------------------------------------------------------------------------------------------


def run_rung(rung: Rung, time_limit: float, workdir: Path, echo: Callable[[str], None] = lambda s: None) -> dict:
    """Prepare the rung's instances, run greedy and CP-SAT on each in fresh processes, sum up."""
    from scheduler.generate import dump_instance

    t = time.monotonic()
    parts, notes = rung.prepare()
    files: dict[str, Path] = {}
    for name, item in parts.items():
        if isinstance(item, Path):
            files[name] = item
        else:
            files[name] = workdir / f"{rung.name}-{name}.json"
            files[name].write_text(dump_instance(item, "json"))
    del parts, item  # the children read the files; keep this process small while they run
    prepare_time = round(time.monotonic() - t, 3)
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    records = []
    for name, path in files.items():
        greedy = run_child("greedy", path, workdir / f"{rung.name}-{name}-greedy.json", time_limit)
        echo(f"  {rung.name}/{name} greedy: " + _brief(greedy))
        solver = run_child("solve", path, workdir / f"{rung.name}-{name}-solve.json", time_limit)
        echo(f"  {rung.name}/{name} cp-sat: " + _brief(solver))
        records.append({"name": name, "solver": solver, "greedy": greedy})
    ok = [p for p in records if "error" not in p["solver"] and "error" not in p["greedy"]]
    out: dict[str, Any] = {
        "rung": rung.name,
        "source": rung.source,
        "time_limit": time_limit,
        "workers": WORKERS,
        "seed": SEED,
        "date": started,
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "prepare_time": prepare_time,
        "failed_parts": [p["name"] for p in records if p not in ok],
        **notes,
    }
    if ok:
        solver = solver_figures([p["solver"] for p in ok])
        greedy = greedy_figures([p["greedy"] for p in ok])
        out.update(sizes=solver["sizes"], solver=solver, greedy=greedy, advantage=advantage(solver, greedy))
    out["parts"] = records
    return out


def _brief(r: dict) -> str:
    if "error" in r:
        return "ERROR " + r["error"].strip().splitlines()[-1][:200] if r["error"].strip() else "ERROR"
    if r["method"] == "greedy":
        return (f"objective {r['objective']:.0f}, shortfall {r['shortfall']}, valid {r['validator_ok']}, "
                f"{r['run_time']:.2f}s, {r['peak_rss_mb']:.0f} MB")
    return (f"{r['status']} ({r['strategy']}) objective {r['objective']:.0f}, bound {r['best_bound']:.0f}, "
            f"gap {r['gap']:.1%}, shortfall {r['shortfall']}, valid {r['validator_ok']}, "
            f"{r['wall_time']:.1f}s, {r['peak_rss_mb']:.0f} MB")


# ----------------------------------------------------------------------------------------------
# ladder.md
# ----------------------------------------------------------------------------------------------


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == int(value) and abs(value) >= 100:
            return f"{int(value):,}"
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f} %"


def _signed(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:+.1f} pts" if pct else f"{value:+,.0f}"


MAIN_COLUMNS = ("rung", "method", "schools", "persons", "duties", "pairs", "limit s", "status", "strategy",
                "build s", "first roster s", "solve s", "run s", "process s", "objective", "best bound", "gap",
                "shortfall", "police short.", "share compl.", "fairness", "spread police", "valid", "peak MB")


def table_rows(res: dict) -> list[list[str]]:
    """The two rows (CP-SAT, greedy) of one rung in ladder.md."""
    s, g, z = res.get("solver"), res.get("greedy"), res.get("sizes", {})
    name = res["rung"] + (f" ({s['parts']} districts)" if s and s["parts"] > 1 else "")
    if s is None:
        return [[name, "error", *["–"] * (len(MAIN_COLUMNS) - 2)]]
    size = [_f(z.get("schools")), _f(z.get("persons")), _f(z.get("duties")), _f(z.get("eligible_pairs"))]
    rows = [[name, "cp-sat", *size, _f(res["time_limit"], 0), str(s["status"]), str(s["strategy"]),
             _f(s["build_time"], 2), _f(s["first_solution_time"], 2), _f(s["solve_time"]), _f(s["solver_wall_time"]),
             _f(s["wall_time"]), _f(s["objective"], 0), _f(s["best_bound"], 0), _pct(s["gap"], 2), _f(s["shortfall"]),
             _f(s["police_shortfall"]), _pct(s["share_compliance"]), _f(s["fairness"]),
             _f(s["load_spread"].get("police")), _f(s["validator_ok"]), _f(s["peak_rss_mb"], 0)]]
    rows.append([name, "greedy", *size, "–", "–", "greedy", _f(g["expand_time"], 2), _f(g["run_time"], 2), "–",
                 _f(g["run_time"], 2), _f(g["wall_time"]), _f(g["objective"], 0), "–", "–", _f(g["shortfall"]),
                 _f(g["police_shortfall"]), _pct(g["share_compliance"]), _f(g["fairness"]),
                 _f(g["load_spread"].get("police")), _f(g["validator_ok"]), _f(g["peak_rss_mb"], 0)])
    return rows


TEXT_COLUMNS = {"rung", "method", "status", "strategy", "part", "valid"}


def _md_table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    right = ["---" if h in TEXT_COLUMNS else "---:" for h in header]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(right) + " |",
            *("| " + " | ".join(r) + " |" for r in rows)]


def render_markdown(results: list[dict]) -> str:
    """ladder.md: the main table, CP-SAT against greedy, the city's districts, and the runs' context."""
    lines = ["# Benchmark ladder", "",
             "Written by `python -m benchmarks.ladder`; columns are explained in benchmarks/README.md.", ""]
    lines += _md_table(MAIN_COLUMNS, [row for res in results for row in table_rows(res)])
    lines += ["", "## CP-SAT against the greedy roster", "",
              "Positive = CP-SAT better. Run-time ratio: CP-SAT `solve()` (expand to end) / greedy (expand + roster).", ""]
    adv_rows = []
    for res in results:
        a = res.get("advantage")
        if a:
            adv_rows.append([res["rung"], _signed(a["objective_reduction"]),
                             "–" if a["objective_reduction_pct"] is None else f"{a['objective_reduction_pct']:+.1f} %",
                             _signed(a["shortfall_reduction"]), _signed(a["police_shortfall_reduction"]),
                             _signed(a["share_compliance_gain"], pct=True), _signed(a["fairness_reduction"]),
                             _f(a["run_time_ratio"]) + " x"])
    lines += _md_table(("rung", "objective less", "objective less %", "shortfall less", "police short. less",
                        "share compl. gain", "fairness less", "run-time ratio"), adv_rows)
    for res in results:
        if len(res.get("parts", [])) > 1:
            lines += ["", f"## {res['rung']}: each part", ""]
            part_rows = []
            for p in res["parts"]:
                s, g = p["solver"], p["greedy"]
                if "error" in s or "error" in g:
                    part_rows.append([p["name"], "error", *["–"] * 12])
                    continue
                z = s["sizes"]
                part_rows.append([p["name"], _f(z["schools"]), _f(z["persons"]), _f(z["eligible_pairs"]),
                                  f"{s['status']} ({s['strategy']})", _f(s["build_time"], 2), _f(s["wall_time"]),
                                  _f(s["objective"], 0), _f(s["best_bound"], 0), _pct(s["gap"], 2),
                                  _f(s["shortfall"]), _f(g["objective"], 0), _f(s["peak_rss_mb"], 0)])
            lines += _md_table(("part", "schools", "persons", "pairs", "status", "build s", "process s", "objective",
                                "best bound", "gap", "shortfall", "greedy objective", "peak MB"), part_rows)
    lines += ["", "## Runs", ""]
    versions = set()
    for res in results:
        m = res["machine"]
        codes = []
        for p in res.get("parts", []):
            for rec in (p["greedy"], p["solver"]):
                c = rec.get("commit") or {"commit": m["commit"], "modified_files": m["modified_files"]}
                code = f"commit {(c['commit'] or '?')[:10]}" + (
                    f" with changes to {', '.join(c['modified_files'])}" if c["modified_files"] else "")
                if code not in codes:
                    codes.append(code)
        versions.update(codes)
        loads = [x for p in res.get("parts", []) for x in (p["solver"].get("loadavg_before"),) if x]
        load = f", load average before parts {min(x[0] for x in loads):.2f}–{max(x[0] for x in loads):.2f}" if loads else ""
        lines.append(f"- {res['rung']}: {res['date']}, {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, "
                     f"OR-Tools {m['ortools']}, workers {res['workers']}, seed {res['seed']}, "
                     f"{'; '.join(codes) or 'commit ' + (m['commit'] or '?')[:10]}{load}")
    if len(versions) > 1:
        lines += ["", f"**The rungs above measured {len(versions)} different versions of the code.**"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def load_results(out: Path) -> list[dict]:
    """Every ``<rung>.json`` in ``out``, in ladder order."""
    found = []
    for name in RUNGS:
        path = out / f"{name}.json"
        if path.exists():
            found.append(json.loads(path.read_text()))
    return found


@click.command()
@click.option("--rungs", default=",".join(RUNGS), show_default=True, help="Comma-separated rungs to run.")
@click.option("--time-limit-scale", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Multiply every rung's time limit.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Results folder [default: benchmarks/results; a temporary folder with --smoke].")
@click.option("--smoke", is_flag=True, help=f"Only the {SMOKE_RUNG!r} rung, {SMOKE_LIMIT:g} s, into a temporary folder.")
def main(rungs: str, time_limit_scale: float, out: str | None, smoke: bool) -> None:
    """Run the benchmark ladder; write <out>/<rung>.json and <out>/ladder.md."""
    names = [SMOKE_RUNG] if smoke else [r.strip() for r in rungs.split(",") if r.strip()]
    unknown = [n for n in names if n not in RUNGS]
    if unknown:
        raise click.BadParameter(f"unknown rung(s) {', '.join(unknown)}; choose from {', '.join(RUNGS)}",
                                 param_hint="--rungs")
    folder = Path(out) if out else (Path(tempfile.mkdtemp(prefix="schoolpost-smoke-")) if smoke else RESULTS)
    folder.mkdir(parents=True, exist_ok=True)

    def echo(line: str) -> None:
        click.echo(line, err=True)

    with tempfile.TemporaryDirectory(prefix="schoolpost-ladder-") as work:
        for name in names:
            rung = RUNGS[name]
            limit = (SMOKE_LIMIT if smoke else rung.time_limit) * time_limit_scale
            echo(f"{name}: {rung.source}, {limit:g} s per instance")
            res = run_rung(rung, limit, Path(work), echo)
            (folder / f"{name}.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    (folder / "ladder.md").write_text(render_markdown(load_results(folder)))
    click.echo(str(folder / "ladder.md"))


if __name__ == "__main__":
    main(prog_name="python -m benchmarks.ladder")
