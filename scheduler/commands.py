"""``schoolpost solve`` and ``schoolpost info``."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import click

from models import ROLES, InstanceError, load_instance
from scheduler.duties import Problem, expand


def process_age() -> float:
    """Seconds since this process started (Linux /proc), so --time-limit covers start-up too."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def _outdir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InstanceError("-o/--output", f"{out} exists and is not a folder")
    return out


def build_summary(instance, result, report, gaps) -> dict:
    """summary.json: solver status and figures, model size, per-rule costs, validator KPIs."""
    weights = instance.policy.weights.model_dump()
    return {
        "instance": instance.name,
        "status": result.status,
        "source": result.source,
        "valid": report.ok,
        "violations": len(report.violations),
        "objective": round(result.objective, 6),
        "best_bound": round(result.best_bound, 6),
        "gap": round(result.gap, 6),
        "wall_time": round(result.wall_time, 3),
        "build_time": round(result.build_time, 3),
        "solve_time": round(result.solve_time, 3),
        "first_solution_time": None if result.first_solution_time is None else round(result.first_solution_time, 3),
        "greedy_objective": result.greedy_objective,
        "assignments": len(result.assignments),
        "gaps": len(gaps),
        # the model's own exact terms (full model); the validator's where the roster was built by
        # neighbourhoods (its objective is tracked from exact sub-model changes instead)
        "terms": result.terms or report.terms,
        "costs": {rule: round(weights.get(rule, 0) * value, 6) for rule, value in (result.terms or report.terms).items()},
        "strategy": result.settings.get("strategy"),
        "lns": result.settings.get("lns"),
        "model": result.size,
        "kpis": report.kpis,
        "seed": result.settings["seed"],
        "workers": result.settings["workers"],
        "time_limit": result.settings["time_limit"],
        "lexicographic": result.settings["lexicographic"],
        "ortools_version": result.settings["ortools_version"],
        "parameters": result.settings["parameters"],
    }


def solve_files(inst, **options):
    """Solve, check with the validator and explain the gaps; nothing is written.

    Returns (result, summary, check report, gaps, files) where ``files`` maps roster.csv,
    roster.json, gaps.csv and summary.json to their text. ``options`` go to
    :func:`scheduler.solve.solve`."""
    from scheduler.check import check_rows
    from scheduler.explain import gap_rows
    from scheduler.output import roster_files, roster_rows
    from scheduler.solve import solve

    result = solve(inst, **options)
    rows = roster_rows(result.problem, result.assignments)
    report = check_rows(inst, rows)
    gaps = gap_rows(result.problem, result.assignments, report)
    summary = build_summary(inst, result, report, gaps)
    return result, summary, report, gaps, roster_files(rows, gaps, summary)


def solve_to_folder(inst, outdir: str | Path, **options):
    """:func:`solve_files`, then write the four files atomically into ``outdir``.

    Returns (result, summary, check report, gaps)."""
    from scheduler.output import write_files

    result, summary, report, gaps, files = solve_files(inst, **options)
    write_files(outdir, files)
    return result, summary, report, gaps


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(), help="Folder for the roster files.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Whole budget in seconds, model building included.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="CP-SAT worker threads.")
@click.option("--seed", type=int, default=0, show_default=True, help="CP-SAT random seed.")
@click.option("--lexicographic", is_flag=True, help="Minimise shortfall first, then everything else.")
@click.option("--strategy", type=click.Choice(["auto", "full", "lns"]), default="auto", show_default=True,
              help="One model for the whole week (full), or area by area and day by day (lns); auto picks by size.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def solve_command(instance, outdir, time_limit, workers, seed, lexicographic, strategy, quiet):
    """Solve INSTANCE and write roster.csv, roster.json, gaps.csv and summary.json."""
    started = time.monotonic() - process_age()
    inst = load_instance(instance)
    out = _outdir(outdir)
    show = not quiet and sys.stderr.isatty()

    def progress(p):
        if show:
            click.echo(f"  {p.elapsed:7.1f}s  objective {p.objective:12.1f}  bound {p.bound:12.1f}", err=True)

    result, summary, report, gaps = solve_to_folder(
        inst, out, time_limit=time_limit - (time.monotonic() - started), workers=workers, seed=seed, lexicographic=lexicographic,
        strategy=strategy, on_progress=progress)
    rows = summary["assignments"]
    if not quiet:
        click.echo(
            f"{result.status} ({result.source}): objective {result.objective:.1f}, bound {result.best_bound:.1f}, "
            f"gap {result.gap:.2%}, {rows} assignments, {len(gaps)} gaps, "
            f"{result.wall_time:.1f}s -> {out}"
        )
    if not report.ok:
        for v in report.violations[:20]:
            click.echo(f"VIOLATION {v.rule} person={v.person_id} duty={v.duty}: {v.detail}", err=True)
        sys.exit(1)


def supply_demand(problem: Problem) -> dict:
    """Per unit and peak: demand (min, police) of its schools and people free by role (worst day)."""
    persons = problem.persons
    cand: dict[int, list[int]] = defaultdict(list)
    for p, ds in enumerate(problem.eligible):
        for d in ds:
            cand[d].append(p)
    unit_of_school: dict[str, set[str]] = defaultdict(set)
    for u in problem.instance.units:
        for s in u.schools:
            unit_of_school[s].add(u.id)
    table: dict[tuple[str, str], dict] = {}
    per_day: dict[tuple[str, str, object], dict] = defaultdict(lambda: {"min": 0, "police": 0, "free": defaultdict(set)})
    for d in problem.duties:
        units = {d.school_id} | unit_of_school[d.school_id] if d.kind == "post" else {
            next(r.unit for r in problem.instance.routes if r.id == d.route_id)}
        for u in units:
            row = per_day[(u, d.peak, d.date)]
            row["min"] += d.min
            row["police"] += d.min_police
            for p in cand[d.index]:
                if persons[p].unit == u:
                    row["free"][persons[p].role].add(p)
    for (u, peak, _date), row in sorted(per_day.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2]))):
        entry = table.setdefault((u, peak), {"unit": u, "peak": peak, "school_min": 0, "school_police": 0,
                                             "free_worst_day": {}})
        entry["school_min"] = max(entry["school_min"], row["min"])
        entry["school_police"] = max(entry["school_police"], row["police"])
        for role in ROLES:
            n = len(row["free"].get(role, ()))
            if n or role in entry["free_worst_day"]:
                entry["free_worst_day"][role] = min(entry["free_worst_day"].get(role, n), n)
    short = []
    slots: dict[tuple, dict] = defaultdict(lambda: {"min": 0, "police": 0, "people": set(), "police_people": set()})
    for d in problem.duties:
        key = (d.date.isoformat(), d.peak, d.school_id or f"route {d.route_id}")
        s = slots[key]
        s["min"] += d.min
        s["police"] += d.min_police
        s["people"].update(cand[d.index])
        s["police_people"].update(p for p in cand[d.index] if persons[p].role == "police")
    for key, s in sorted(slots.items()):
        if len(s["people"]) < s["min"] or len(s["police_people"]) < s["police"]:
            short.append({"date": key[0], "peak": key[1], "where": key[2], "min": s["min"],
                          "people_free": len(s["people"]), "min_police": s["police"],
                          "police_free": len(s["police_people"])})
    return {"units": list(table.values()), "short": short}


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def info_command(instance, as_json):
    """Sizes of INSTANCE, and supply against demand per unit and peak, before solving."""
    inst = load_instance(instance)
    problem = expand(inst)
    roles = Counter(p.role for p in inst.persons)
    sizes = {
        "name": inst.name,
        "days": len(inst.days),
        "schools": len(inst.schools),
        "posts": sum(len(s.posts) for s in inst.schools),
        "routes": len(inst.routes),
        "units": len(inst.units),
        "persons": len(inst.persons),
        "persons_by_role": dict(sorted(roles.items())),
        "duties": len(problem.duties),
        "demand_min": sum(d.min for d in problem.duties),
        "demand_target": sum(d.target for d in problem.duties),
        "eligible_pairs": problem.pairs,
    }
    sd = supply_demand(problem)
    if as_json:
        click.echo(json.dumps({"sizes": sizes, **sd}, indent=2, default=str))
        return
    for k, v in sizes.items():
        click.echo(f"{k:>16}: {v}")
    click.echo("\nper unit and peak: demand at its schools (worst day) and people free by role (worst day)")
    click.echo(f"{'unit':<28} {'peak':<12} {'min':>5} {'police':>6}  free")
    for e in sd["units"]:
        free = ", ".join(f"{r} {n}" for r, n in e["free_worst_day"].items())
        click.echo(f"{e['unit']:<28} {e['peak']:<12} {e['school_min']:>5} {e['school_police']:>6}  {free}")
    if sd["short"]:
        click.echo(f"\n{len(sd['short'])} school peaks where fewer people (or police) may serve than min demands:")
        for s in sd["short"][:50]:
            click.echo(f"  {s['date']} {s['peak']:<10} {s['where']:<28} min {s['min']} (free {s['people_free']}), "
                       f"police {s['min_police']} (free {s['police_free']})")
        if len(sd["short"]) > 50:
            click.echo(f"  ... and {len(sd['short']) - 50} more (use --json)")
    else:
        click.echo("\nevery school peak has at least as many people (and police) who may serve as min demands")
