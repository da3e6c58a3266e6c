"""One instance through the whole flow of docs/ARCHITECTURE.md in one call: solve, check with the
validator, explain the gaps, and the files (:func:`solve_files`, :func:`solve_to_folder`), with
summary.json (:func:`build_summary`) and the lines a command prints about the result. Used by the
``solve``, ``whatif`` and ``batch`` commands and by the benchmarks; no click here."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from models import ROLES, InstanceError
from scheduler.duties import Problem


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
        "exchange": result.exchange,
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
        "clock_cut_stages": result.clock_cut_stages,
        "note": result.note,
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


#: how the search ended, in the words of the result line (summary.json's ``ended_by``)
ENDED_WORDS = {
    "optimum": "proven the best roster possible",
    "work": "the search used its work budget (the same command gives the same roster)",
    "clock": "the time limit ended the search",
    "signal": "stopped on request; the best roster found so far",
    "converged": "the search found nothing better",
}


def result_lines(summary: dict, seconds: float, out: object) -> list[str]:
    """What a planner reads first when a roster is made: the duties assigned and where the files
    are, what is missing in words (real gaps first, then the soft ones), then how good the roster
    is and what ended the search. The time is summary.json's ``wall_time`` (the solve: expanding,
    the search, the final bound), then ``seconds``, the command's whole run (start-up, reading the
    file, the check and the files included), each named, so the two figures cannot be confused."""
    terms = summary.get("terms", {})
    real = (f"{terms.get('shortfall', 0):,} people below minimum, {terms.get('police_shortfall', 0):,} police, "
            f"{terms.get('skill_shortfall', 0):,} skilled people, {terms.get('leader_missing', 0):,} school leaders")
    soft = (f"{terms.get('share_shortfall', 0):,} professionals for the share, "
            f"{terms.get('below_target', 0):,} people below target")
    quality = f"score {summary['objective']:,.0f} (lower is better)"
    gap = summary.get("gap")
    if summary.get("ended_by") != "optimum" and gap is not None and summary.get("best_bound") is not None:
        quality += f"; no roster scores below {summary['best_bound']:,.0f} (gap {gap:.1%} of the score)"
    ended = ENDED_WORDS.get(summary.get("ended_by", ""), summary.get("ended_by", ""))
    return [(f"Roster ready: {summary['assignments']:,} duties assigned; solved in {summary['wall_time']:.1f} s, "
             f"{seconds:.1f} s in all -> {out}"),
            f"  missing: {real}; soft: {soft}",
            f"  {quality}; {ended}"]


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
    from scheduler.check.pins import require_pins_possible
    from scheduler.explain import gap_rows
    from scheduler.human import human_files
    from scheduler.output import roster_files, roster_rows
    from scheduler.solve import SolveOptions, solve

    on_progress = options.pop("on_progress", None)
    if outputs and "time_limit" in options:
        options["reserve"] = human_reserve(inst, outputs)
    require_pins_possible(inst)  # impossible pins are refused in words before the engine starts
    result = solve(inst, SolveOptions(**options), on_progress=on_progress)
    rows = roster_rows(result.problem, result.assignments)
    report = check_rows(inst, rows)
    gaps = gap_rows(result.problem, result.assignments, report, result.shortfall_bound)
    summary = build_summary(inst, result, report, gaps)
    files = roster_files(rows, gaps, summary)
    if outputs and report.ok:  # a roster that fails the check is written for inspection, never for staff
        files.update(human_files(inst, rows, report, gaps, summary, outputs))
    return result, summary, report, gaps, files


#: seconds per person to make each human output at the reference machine's speed (the measured
#: times times the calibrated factor), from the slower of two measurements on generated districts,
#: since this shared machine's Python work slows more than its calibration says: seed 6029 (2,735
#: persons, 43 gap rows; factor 1.19: roster.xlsx 6.5 s, calendars 8.2 s, duty sheets and report
#: 0.5 s) and seed 5507 with every 4th person removed (2,052 persons, 5,036 gap rows: roster.xlsx
#: 7.5 s, calendars 6.5 s, duty sheets 0.8 s, report 0.3 s); at factor 1.38 the first took 4.5 s
#: and 4.6 s (benchmarks/README.md, session 15)
HUMAN_SECONDS_PER_PERSON = {"xlsx": 0.0043, "calendars": 0.0036, "sheets": 0.0003, "report": 0.0002}


def human_reserve(inst, outputs: tuple[str, ...]) -> float:
    """Seconds of the time limit to keep for making the human ``outputs`` after the search, on this
    machine (:func:`scheduler.calibrate.factor`): the workbook's time and the others' side by side
    where :func:`scheduler.human.parallel_outputs` says they run so, else one after the other."""
    from scheduler.calibrate import factor
    from scheduler.human import parallel_outputs

    if not outputs:
        return 0.0
    rest = sum(HUMAN_SECONDS_PER_PERSON[o] for o in outputs if o != "xlsx")
    workbook = HUMAN_SECONDS_PER_PERSON["xlsx"] if "xlsx" in outputs else 0.0
    per_person = max(workbook, rest) if parallel_outputs(outputs) else workbook + rest
    return 1.0 + per_person * len(inst.persons) / factor()[0]


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


#: a district's first roster taking more than this many times its modelled time
#: (:data:`scheduler.solve.FIRST_ROSTER_PER_PAIR` at the calibrated factor) says the machine ran
#: slower than its calibration; below :data:`STALE_MIN_PAIRS` pairs that time is too short to tell
#: (measured this session: a ratio of 0.99-1.09 on a calibrated machine, 1.27 and 1.53 with a
#: factor stored in a fast spell, the second run cut by the clock)
STALE_RATIO, STALE_MIN_PAIRS = 1.3, 50_000


def stale_calibration_note(summary: dict) -> str | None:
    """The ``note:`` line of ``solve`` when an ``auto`` run's own first roster shows the machine
    running slower than its stored calibration, whose budgets it then may not finish before the
    clock; None otherwise."""
    from scheduler.solve import FIRST_ROSTER_PER_PAIR

    factor, first = summary.get("work_rate_factor"), summary.get("first_solution_time")
    pairs = (summary.get("model") or {}).get("eligible_pairs") or 0
    if summary.get("work_limit") != "auto" or not factor or first is None or pairs < STALE_MIN_PAIRS:
        return None
    modelled = FIRST_ROSTER_PER_PAIR * pairs / factor
    if first <= STALE_RATIO * modelled:
        return None
    return (f"note: the first roster took {first:.1f} s, {first / modelled - 1:.0%} longer than this machine's "
            f"calibration (factor {factor:g}) predicts: it ran slower than when it was measured; if it stays so, "
            f"`schoolpost calibrate` measures it again, so that the work budget, not the clock, ends the search")


def supply_demand(problem: Problem) -> dict:
    """Per unit and peak: demand (min, police) of its schools and people free by role (worst day)."""
    persons = problem.persons
    cand: dict[int, list[int]] = defaultdict(list)
    for p, ds in enumerate(problem.eligible):
        for di in ds:
            cand[di].append(p)
    unit_of_school: dict[str, set[str]] = defaultdict(set)
    for unit in problem.instance.units:
        for sid in unit.schools:
            unit_of_school[sid].add(unit.id)
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
        slot = slots[key]
        slot["min"] += d.min
        slot["police"] += d.min_police
        slot["people"].update(cand[d.index])
        slot["police_people"].update(p for p in cand[d.index] if persons[p].role == "police")
    for key, slot in sorted(slots.items()):
        if len(slot["people"]) < slot["min"] or len(slot["police_people"]) < slot["police"]:
            short.append({"date": key[0], "peak": key[1], "where": key[2], "min": slot["min"],
                          "people_free": len(slot["people"]), "min_police": slot["police"],
                          "police_free": len(slot["police_people"])})
    return {"units": list(table.values()), "short": short}
