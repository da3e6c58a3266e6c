"""``schoolpost solve`` and ``schoolpost info``."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import click

from models import ROLES, InstanceError, instance_from_data, load_document, load_instance
from scheduler.duties import MAX_PAIRS, Problem, check_size, expand
from scheduler.interrupt import deferred


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
    from scheduler.output import output_folder

    return output_folder(path)


def build_summary(instance, result, report, gaps) -> dict:
    """summary.json: solver status and figures, model size, per-rule costs, validator KPIs."""
    from scheduler.cpsat.solver import ORTOOLS_VERSION

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
        # people missing below min: in the roster, and no fewer in any roster of these people (proven)
        "shortfall": (result.terms or report.terms).get("shortfall", 0),
        "shortfall_bound": result.shortfall_bound,
        "coverage": result.coverage,
        "assignments": len(result.assignments),
        "gaps": len(gaps),
        # the model's own exact terms (full model); the validator's where the roster was built by
        # neighbourhoods (its objective is tracked from exact sub-model changes instead)
        "terms": result.terms or report.terms,
        "costs": {rule: round(weights.get(rule, 0) * value, 6) for rule, value in (result.terms or report.terms).items()},
        "strategy": result.strategy,
        "lns": result.lns,
        "model": result.size,
        "kpis": report.kpis,
        "seed": result.options.seed,
        "workers": result.options.workers,
        # the user's limit, not what was left of it once the instance was read
        "time_limit": result.options.user_time_limit,
        "lexicographic": result.options.lexicographic,
        "work_limit": result.options.work_limit,
        "work_budgets": result.work_budgets,
        "work_rate_factor": work_rate_factor(result.options.work_limit),
        "ended_by": ended_by(result),
        "reproducible": result.reproducible,
        "ortools_version": ORTOOLS_VERSION,
        "parameters": result.parameters,
    }


def work_rate_factor(work_limit) -> float | None:
    """The calibrated factor an ``auto`` budget was scaled by (None for other budgets)."""
    if work_limit != "auto":
        return None
    from scheduler.calibrate import factor

    return factor()[0]


def ended_by(result) -> str:
    """What ended the search: ``optimum`` (proved, or the bound met), ``work`` (its work budget),
    ``clock`` (the time limit), ``signal`` (Ctrl-C or SIGTERM) or ``converged`` (nothing improved)."""
    status = result.status
    if status == "optimal":
        return "optimum"
    if status == "interrupted":
        return "signal"
    if status == "time_limit" or not result.reproducible:
        return "clock"
    if status == "work_limit":
        return "work"
    return "converged"


def shortfall_line(summary: dict) -> str | None:
    """What the planner reads about the seats left empty: proven unavoidable when the roster
    meets the shortfall bound; otherwise how many more the bound allows to fill."""
    short, bound = summary.get("shortfall"), summary.get("shortfall_bound")
    if short is None or bound is None or short == 0:
        return None
    if short <= bound:
        return f"the {short} remaining gaps cannot be filled with these people (proven)"
    return f"{short} people missing below min; no roster of these people has fewer than {bound}"


def solve_files(inst, outputs: tuple[str, ...] = (), **options):
    """Solve, check with the validator and explain the gaps; nothing is written.

    Returns (result, summary, check report, gaps, files) where ``files`` maps roster.csv,
    roster.json, gaps.csv and summary.json to their text, plus the human ``outputs`` asked for
    (:data:`scheduler.human.HUMAN_OUTPUTS`: roster.xlsx, duty sheets, calendars, report.html).
    ``options`` go to :func:`scheduler.solve.solve`; when human outputs are asked for, their time
    is kept out of the search's ``time_limit``."""
    from scheduler.check import check_rows
    from scheduler.explain import gap_rows
    from scheduler.human import human_files
    from scheduler.output import roster_files, roster_rows
    from scheduler.solve import SolveOptions, solve

    on_progress = options.pop("on_progress", None)
    if outputs and "time_limit" in options:
        options["reserve"] = human_reserve(inst, outputs)
    result = solve(inst, SolveOptions(**options), on_progress=on_progress)
    rows = roster_rows(result.problem, result.assignments)
    report = check_rows(inst, rows)
    gaps = gap_rows(result.problem, result.assignments, report, result.shortfall_bound)
    summary = build_summary(inst, result, report, gaps)
    files = roster_files(rows, gaps, summary)
    if outputs and report.ok:  # a roster that fails the check is written for inspection, never for staff
        files.update(human_files(inst, rows, report, gaps, summary, outputs))
    return result, summary, report, gaps, files


#: seconds per person to make each human output, measured on the district (2,770 persons, 13,600
#: assignments, time zone set): roster.xlsx 5.0 s, calendars 4.4 s, duty sheets 0.2 s, report 0.1 s
HUMAN_SECONDS_PER_PERSON = {"xlsx": 0.0019, "calendars": 0.0017, "sheets": 0.0001, "report": 0.0001}


def human_reserve(inst, outputs: tuple[str, ...]) -> float:
    """Seconds of the time limit to keep for making the human ``outputs`` after the search."""
    return 1.0 + sum(HUMAN_SECONDS_PER_PERSON[o] for o in outputs) * len(inst.persons)


def solve_to_folder(inst, outdir: str | Path, **options):
    """:func:`solve_files`, then write the files atomically into ``outdir``.

    Returns (result, summary, check report, gaps)."""
    from scheduler.output import ROSTER_OUTPUTS, write_files

    result, summary, report, gaps, files = solve_files(inst, **options)
    write_files(outdir, files, replaces=ROSTER_OUTPUTS)  # an earlier roster's outputs go with it
    return result, summary, report, gaps


def parse_outputs(text: str) -> tuple[str, ...]:
    from scheduler.human import HUMAN_OUTPUTS

    words = [w.strip() for w in text.split(",") if w.strip()]
    if words in (["all"], []):
        return HUMAN_OUTPUTS if words else ()
    if words == ["none"]:
        return ()
    bad = [w for w in words if w not in HUMAN_OUTPUTS]
    if bad:
        raise InstanceError("--outputs", f"unknown output {bad[0]!r}; choose from all, none, {', '.join(HUMAN_OUTPUTS)}")
    return tuple(w for w in HUMAN_OUTPUTS if w in words)


def _open_log(path: str | None):
    if path is None:
        return None
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise InstanceError("--log", f"cannot write {path}: {exc.strerror}") from None


def _work_limit(ctx, param, value: str) -> float | str | None:
    """``--work-limit``: ``auto`` (solve's default), ``none`` (None) or a positive number."""
    text = value.strip().lower()
    if text in ("auto", "none"):
        return None if text == "none" else "auto"
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not (0.01 <= number <= 1e9):
        raise click.BadParameter(f"{value!r} is not auto, none or a number of deterministic seconds (0.01 or more)")
    return number


class FiniteFloat(click.FloatRange):
    """A number in a range that is a number: click's FloatRange lets ``nan`` (every comparison
    false) and ``inf`` through."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def time_limit_type(least: float) -> FiniteFloat:
    """``--time-limit`` of every command: seconds, at least ``least``, at most ten million."""
    return FiniteFloat(min=least, max=1e7)


#: ``--work-limit`` of solve, batch and whatif
WORK_LIMIT_OPTION = click.option(
    "--work-limit", default="auto", show_default=True, callback=_work_limit,
    help="Search budget in CP-SAT deterministic seconds (machine-independent work) per solve. auto: derived "
         "from --time-limit, so that on a 2-core machine like the reference one the budget ends the search "
         "and the same instance, seed and workers give the same roster; a number: that budget; none: search "
         "until --time-limit (every second used, not reproducible). --time-limit is always a cap.")

OUTPUTS_HELP = ("Human outputs besides the CSV/JSON files: all (default), none, or a comma list of xlsx "
                "(roster.xlsx), sheets (duty-sheets.html), calendars (calendars/*.ics), report (report.html).")


def clock_cut_budget(result, work_limit) -> bool:
    """A run with a work budget that the clock ended first, in any stage (its last stage may still
    end by its budget): reproducible only by luck. A run stopped by a signal is not one."""
    return (work_limit is not None and result.status != "interrupted"
            and not result.reproducible)


def clock_note(what: str, consequence: str) -> str:
    """The ``note:`` line of ``solve``, ``batch`` and ``staffing`` when the clock ended ``what``
    before its work budget."""
    return (f"note: the clock ended {what} before its work budget (a slow or busy machine), so another run "
            f"{consequence}; give a larger --time-limit or a fixed --work-limit")


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(), help="Folder for the roster files.")
@click.option("--time-limit", type=time_limit_type(0.1), default=60.0, show_default=True,
              help="Whole budget in seconds, model building and writing the files included.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="CP-SAT worker threads.")
@click.option("--seed", type=int, default=0, show_default=True, help="CP-SAT random seed.")
@click.option("--lexicographic", is_flag=True, help="Minimise shortfall first, then everything else.")
@click.option("--strategy", type=click.Choice(["auto", "full", "lns"]), default="auto", show_default=True,
              help="One model for the whole week (full), or area by area and day by day (lns); auto picks by size.")
@WORK_LIMIT_OPTION
@click.option("--outputs", "outputs_text", default="all", show_default=True, help=OUTPUTS_HELP)
@click.option("--quiet", is_flag=True, help="No live progress and no closing line.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False), default=None,
              help="Write progress as JSON lines to this file (start, progress, done).")
@click.option("--max-pairs", type=click.IntRange(1, 10**9), default=MAX_PAIRS, show_default=True,
              help="Refuse an instance with more eligible (person, duty) pairs (about 2.7 KB of memory each).")
def solve_command(instance, outdir, time_limit, workers, seed, lexicographic, strategy, work_limit, outputs_text,
                  quiet, log_path, max_pairs):
    """Solve INSTANCE and write roster.csv, roster.json, gaps.csv, summary.json and the human
    outputs (roster.xlsx, duty-sheets.html, calendars/, report.html).

    On a terminal a live line shows the stage, elapsed time, objective, bound and gap."""
    from scheduler.progress import SolveProgress

    started = time.monotonic() - process_age()
    # from here to the last file a first Ctrl-C or SIGTERM stops the search and keeps its roster
    with deferred():
        outputs = parse_outputs(outputs_text)
        doc = load_document(instance)
        check_size(doc, max_pairs)  # before validating: a very large file is refused in seconds
        inst = instance_from_data(doc)
        out = _outdir(outdir)
        log = _open_log(log_path)
        show = not quiet and sys.stderr.isatty()
        try:
            with SolveProgress(time_limit=time_limit, show=show, log=log, started=started) as view:
                view.begin(instance=inst.name, path=str(instance), time_limit=time_limit, workers=workers, seed=seed,
                           strategy=strategy, outputs=list(outputs))
                result, summary, report, gaps = solve_to_folder(
                    inst, out, outputs=outputs, time_limit=time_limit - (time.monotonic() - started), workers=workers,
                    seed=seed, lexicographic=lexicographic, strategy=strategy, work_limit=work_limit,
                    nominal_time=time_limit, on_progress=view.update, max_pairs=max_pairs)
                view.finish(status=result.status, reproducible=summary["reproducible"],
                            objective=round(result.objective, 6),
                            bound=round(result.best_bound, 6), gap=round(result.gap, 6), valid=report.ok,
                            assignments=summary["assignments"], gaps=len(gaps), output=str(out))
        finally:
            if log is not None:
                log.close()
    if not quiet:
        click.echo(
            f"{result.status} ({result.source}): objective {result.objective:.1f}, bound {result.best_bound:.1f}, "
            f"gap {result.gap:.2%}, {summary['assignments']} assignments, {len(gaps)} gaps, "
            f"{time.monotonic() - started:.1f}s -> {out}"
        )
    if not quiet and (line := shortfall_line(summary)):
        click.echo(line)
    if clock_cut_budget(result, work_limit) and not quiet:
        click.echo(clock_note("the search", 'may give another roster (summary.json: "reproducible": false)'), err=True)
    if not report.ok:
        for v in report.violations[:20]:
            click.echo(f"VIOLATION {v.rule} person={v.person_id} duty={v.duty}: {v.detail}", err=True)
        click.echo(f"the roster breaks {len(report.violations)} hard rule(s): roster.csv, gaps.csv and summary.json "
                   f"are written to inspect it, no workbook, duty sheets, calendars or report", err=True)
        sys.exit(1)


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("roster", type=click.Path(file_okay=False))
@click.option("-o", "--output", "outdir", type=click.Path(), default=None,
              help="Folder for the files (default: the ROSTER folder).")
@click.option("--outputs", "outputs_text", default="all", show_default=True, help=OUTPUTS_HELP)
def report_command(instance, roster, outdir, outputs_text):
    """Make the human outputs (roster.xlsx, duty sheets, calendars, report.html) of the roster in
    the folder ROSTER (roster.csv, and gaps.csv and summary.json when present), e.g. the merged
    city roster of ``batch`` or a roster mended by ``repair``. The roster is checked first: one
    that breaks a hard rule is refused (exit 1)."""
    from scheduler.check import check_rows, read_roster
    from scheduler.human import human_files
    from scheduler.output import gaps_from_rows, write_files

    outputs = parse_outputs(outputs_text)
    inst = load_instance(instance)
    folder = Path(roster)
    rows = read_roster(folder)
    report = check_rows(inst, rows)
    if not report.ok:
        for v in report.violations[:20]:
            click.echo(str(v), err=True)
        click.echo(f"the roster breaks {len(report.violations)} hard rule(s); no outputs made", err=True)
        sys.exit(1)
    gaps = []
    if (folder / "gaps.csv").is_file():
        import csv

        with open(folder / "gaps.csv", encoding="utf-8", newline="") as fh:
            try:
                gaps = gaps_from_rows(csv.DictReader(fh))
            except (ValueError, TypeError, KeyError) as exc:
                raise InstanceError(str(folder / "gaps.csv"), f"not a gaps.csv of schoolpost ({exc})") from None
    summary = {"status": "unknown", "objective": report.objective}
    if (folder / "summary.json").is_file():
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InstanceError(str(folder / "summary.json"), f"not valid JSON ({exc})") from None
        if not isinstance(summary, dict):
            raise InstanceError(str(folder / "summary.json"), "not a summary.json of schoolpost")
    files = human_files(inst, [dict(r) for r in rows], report, gaps, summary, outputs)
    out = _outdir(outdir) if outdir else folder
    write_files(out, files)
    click.echo(f"{', '.join(sorted({n.split('/')[0] for n in files}))} -> {out}")


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


@click.command()
@click.option("--runs", type=click.IntRange(1, 9), default=3, show_default=True,
              help="Times the workload is run; the median counts.")
@click.option("--show", is_flag=True, help="Print the stored calibration and change nothing.")
@click.option("--reset", is_flag=True, help="Remove the stored calibration (auto budgets use the reference rates).")
def calibrate_command(runs, show, reset):
    """Measure this machine's speed once and store it, so that --work-limit auto gives budgets the
    machine finishes before the clock (the same roster on a rerun). About 10 s."""
    from scheduler.calibrate import calibrate, factor, path, store

    where = path()
    if show:
        value, source = factor()
        click.echo(f"factor {value:g} ({source})")
        return
    try:
        if reset:
            if where.exists():
                where.unlink()
            click.echo(f"removed {where}; auto budgets use the reference machine's rates (factor 1)")
            return
        record = calibrate(runs)
        store(record)
    except OSError as exc:  # an unwritable config folder: one line, not a traceback
        click.echo(f"error: {where}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo(f"speed {record['speed']:g} deterministic s/s (reference {record['reference_speed']:g}); "
               f"factor {record['factor']:g} -> {where}")
