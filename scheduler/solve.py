"""From an instance to a solved roster: expand, greedy hint, build, solve, read back.

Two paths. ``full`` (up to :data:`FULL_MODEL_MAX_PAIRS` eligible pairs): neighbourhood polish,
a CP-SAT stage on the coverage rules, then the full model. ``lns`` (a district): coverage first
(:mod:`scheduler.coverage`: the fewest people missing below ``min`` over the whole week, up to a
proven bound, then police, skills and leaders with that held), then the adaptive neighbourhood
search (:mod:`scheduler.lns`) with the shortfall held in every step.

``time_limit`` is the whole budget, model building included. When the solver returns no roster
(time too short) the greedy roster, which keeps every hard rule, is returned instead and the
result says so (``source = "greedy"``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from models import Instance
from scheduler.cpsat import RosterModel
from scheduler.cpsat.model import COVERAGE_RULES
from scheduler.cpsat.bound import RelaxationLP
from scheduler.cpsat.solver import ORTOOLS_VERSION, Progress, RawOutcome, run, run_parallel, sum_le
from scheduler.coverage import COVERAGE_SEARCH, CoverageOutcome, shortfall_bound
from scheduler.coverage import cover as cover_shortfall
from scheduler.duties import Problem, expand
from scheduler.greedy import greedy_roster
from scheduler.interrupt import requested
from scheduler.lns import COVER_PARAMETERS, SMALL_SUB_MODEL, SUB_PARAMETERS, improve

log = logging.getLogger("schoolpost")


@dataclass
class Result:
    status: str
    objective: float
    best_bound: float
    gap: float
    wall_time: float
    build_time: float
    solve_time: float
    first_solution_time: float | None
    assignments: list[tuple[int, int]]
    terms: dict[str, int]
    size: dict[str, int]
    problem: Problem
    source: str = "cp-sat"
    greedy_objective: float | None = None
    #: a proven lower bound on the people missing below ``min`` (the ``shortfall`` term)
    shortfall_bound: int | None = None
    settings: dict = field(default_factory=dict)
    trace: list[Progress] = field(default_factory=list)


def relative_gap(objective: float, bound: float) -> float:
    """(objective - bound) / |objective|, 0 when both are 0; the fraction 0.01 is 1 %."""
    if objective == bound:
        return 0.0
    return max(0.0, (objective - bound) / max(abs(objective), 1e-9))


#: above this many eligible (person, duty) pairs, ``auto`` solves by neighbourhoods (LNS)
FULL_MODEL_MAX_PAIRS = 40_000
#: the full model gets the valid inequalities of scheduler.cpsat.cuts up to this many pairs. They
#: lift CP-SAT's bound where CP-SAT can close the gap (one school, 3,460 pairs: 1,602 -> 2,264 at
#: 10 s), but slow its search on larger models (ten schools, 22,264 pairs: 52,879 against 49,347
#: at 30 s), whose bound comes from the aggregated relaxation anyway (it has the same cut)
CUTS_MAX_PAIRS = 10_000
#: ``work_limit="auto"``: each stage's budget is its rate here times its share of the time limit,
#: so that on the reference 2-core machine the budget, not the clock, ends the search and the run
#: is reproducible. ``lns_seconds``: modelled seconds of the neighbourhood search per second
#: (scheduler.lns.SECONDS_PER_WORK; district-bincheng, 60 s: 45.4 modelled in about 50 s);
#: ``local_search`` and ``tree_search``: CP-SAT deterministic seconds per second of its local
#: search on one worker and of its tree search on one worker beside it (ten schools, 12 s: 3.07 in
#: 3.1 s and 1.96 in 4.3 s). One school, 10 s: done in 5.6 s; ten schools, 30 s: in 17.5 s.
#: ``polish_seconds``: modelled seconds per second of the full model's first stage, whose few
#: large neighbourhoods run slower than the district's (10 s runs: 0.48 on bz-experimental, 0.76
#: on rural-primary, 0.95 on ten schools); ``small_cover``: deterministic seconds per second of
#: CP-SAT's default search on one worker, which the coverage stage runs on a model of at most
#: 2,000 pairs (rural-primary: 0.38). Set below the slowest measured, so that the budget, not the
#: clock, ends the search on other instances than the calibration's too: with 0.75 and 0.7 (and
#: without the start-up allowance and the last sub-solve's cap in scheduler.lns) four of seven
#: shipped and generated instances (1-20 schools) were cut by the clock at 10 s, now none
#: (benchmarks/README.md)
AUTO_WORK_RATE = {"local_search": 0.7, "tree_search": 0.3, "polish_seconds": 0.65,
                  "small_cover": 0.3, "coverage_first": 0.3, "coverage_second": 0.18, "district_lns": 0.5}
#: ``lns`` strategy (a district), ``work_limit="auto"``: the search time is the time limit less
#: an estimate of the set-up before the coverage search starts (reading, relaxation, greedy
#: roster, the coverage model and CP-SAT loading it: about 50 us per eligible pair here, 16 s on
#: 315,000 pairs), a function of the instance's size only so the budget is the same on every run.
#: Of it the coverage stage's first phase (shortfall alone) gets ``COVERAGE_SHARES[0]``, its
#: second (police, skills, leaders) ``[1]``, its neighbourhoods on the shortfall alone (only
#: where the first phase ends short of the bound) ``[2]``, the neighbourhood search the rest. Rates:
#: ``coverage_first``/``coverage_second``, deterministic seconds per second of the local search
#: without presolve on the shortfall (0.27 on a short-staffed district) and on the gap rules
#: (0.18); ``district_lns``, modelled seconds per second of the neighbourhood search there (0.62
#: measured: the sub-models of the week-spanning kinds build slower than the model assumes)
SETUP_PER_PAIR = 6e-5
#: a district's sub-solves: each local search's deterministic budget (0.75 in the full model's
#: polish; on the districts 0.4 gave 1,199,480 and 1,493 missing where 0.75 gave 1,205,965 and 1,509)
DISTRICT_SUB_WORK = 0.4
COVERAGE_SHARES = (0.55, 0.1, 0.0)
#: seconds the clock keeps for the neighbourhood search when the coverage stage overruns its budget
COVERAGE_GUARD = 5.0


def auto_rate(name: str) -> float:
    """An ``auto`` budget's rate on this machine: :data:`AUTO_WORK_RATE` times the factor that
    ``schoolpost calibrate`` stored (1 without one; :mod:`scheduler.calibrate`)."""
    from scheduler.calibrate import factor

    return AUTO_WORK_RATE[name] * factor()[0]


#: seconds of a command's time limit taken before ``solve`` starts (Python, OR-Tools and reading
#: the file; 0.5-1.5 s here), kept out of an ``"auto"`` budget as a constant, not as measured
STARTUP_SECONDS = 1.0
#: CP-SAT's local search alone (violation local search / feasibility jump), deterministic on one worker
LOCAL_SEARCH = {"use_ls_only": True}


def lower_bound(problem: Problem) -> float:
    """A valid lower bound on any roster's objective, school peak by school peak.

    At a school peak with posts D, let T people be on duty (T <= sum of targets and <= the people
    who may serve there at all, C). Then shortfall >= max(0, sum(min) - T), below_target =
    sum(target) - T, and share_shortfall >= max(0, ceil(share*T) - min(T, professionals in C)).
    The bound takes the best T for each school peak separately (people are not shared between them
    here, which only lowers it), adds police, skills and leaders that no one may provide, and the
    same for route duties.
    """
    inst = problem.instance
    w = inst.policy.weights
    share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
    prof_roles = set(inst.policy.professional_roles)
    cands: dict[int, list[int]] = {}
    for p, ds in enumerate(problem.eligible):
        for d in ds:
            cands.setdefault(d, []).append(p)
    persons = problem.persons
    total = 0.0
    slots: dict[tuple, list] = {}
    for d in problem.duties:
        people = cands.get(d.index, [])
        police = sum(1 for p in people if persons[p].role == "police")
        total += w.police_shortfall * max(0, d.min_police - police)
        for skill, k in d.skills.items():
            total += w.skill_shortfall * max(0, k - sum(1 for p in people if skill in persons[p].skills))
        if d.kind == "post":
            slots.setdefault((d.school_id, d.date, d.peak), []).append(d)
        else:
            t = min(len(people), d.target)
            total += w.shortfall * max(0, d.min - t) + w.below_target * (d.target - t)
    for duties in slots.values():
        people = {p for d in duties for p in cands.get(d.index, [])}
        profs = sum(1 for p in people if persons[p].role in prof_roles)
        lo, hi = sum(d.min for d in duties), sum(d.target for d in duties)
        best = min(
            w.shortfall * max(0, lo - t) + w.below_target * (hi - t)
            + w.share_shortfall * max(0, math.ceil(share * t) - min(t, profs))
            for t in range(min(hi, len(people)) + 1)
        )
        total += best
    if inst.policy.leader_on_duty:
        leader_slots = {key for key, duties in slots.items()
                        if any(persons[p].role == "school_leader" for d in duties for p in cands.get(d.index, []))}
        total += w.leader_missing * sum(1 for k in problem.school_peaks
                                        if k[0] in problem.leader_schools and k not in leader_slots)
    return total


def solve(
    instance: Instance,
    *,
    time_limit: float = 60.0,
    workers: int = 2,
    seed: int = 0,
    lexicographic: bool = False,
    strategy: str = "auto",
    on_progress: Callable[[Progress], None] | None = None,
    solver_params: dict | None = None,
    polish: float = 1 / 3,
    cover: float = 0.5,
    reserve: float = 0.0,
    work_limit: float | str | None = "auto",
    nominal_time: float | None = None,
) -> Result:
    """Solve an instance; see the module docstring.

    A ``full`` solve runs three stages from the greedy roster: ``polish`` (share of the search
    time) improves it by neighbourhood search; then ``cover`` (share of what is left) runs CP-SAT
    on the coverage rules alone (``COVERAGE_RULES``), whose sparse objective lets local moves
    cross the plateaus that the secondary terms wall off (one school: 5,844 -> 2,567 at 10 s);
    the better roster of the two by the full objective then hints the full model for the rest.

    ``reserve``: seconds of ``time_limit`` the caller keeps for its own work afterwards (the
    human outputs); the search ends that much earlier.

    ``work_limit``: a budget of CP-SAT deterministic seconds (a count of work, machine-independent)
    shared by the stages; ``"auto"`` (the default) derives it from ``time_limit`` by the rates of
    :data:`AUTO_WORK_RATE`, measured on the reference 2-core machine so that the budget, not the
    clock, ends the search there; None searches until the clock (every second used, not
    reproducible). With a budget every search is a single-worker CP-SAT run on a deterministic
    budget (the full model's last stage runs a local search and a tree search side by side), so
    a run that ends by its budget, not by ``time_limit`` (still a wall-clock cap) or a signal, is
    reproducible: the same instance, seed and workers give the same roster
    (``settings["reproducible"]``). ``nominal_time``: the time limit the ``"auto"`` budget is
    derived from when ``time_limit`` is what is left of it after the caller's start-up."""
    t0 = time.monotonic()
    problem = expand(instance)
    # keep time to check, explain and write the roster after the search
    budget = time_limit
    time_limit = max(0.5, time_limit - (0.5 + 1e-5 * problem.pairs) - reserve)
    # the time an "auto" work budget is derived from: the caller's nominal limit, less the same
    # reserves (a command's start-up time, which varies, must not change the budget)
    work_time = max(0.5, (budget if nominal_time is None else nominal_time - STARTUP_SECONDS)
                    - (0.5 + 1e-5 * problem.pairs) - reserve)
    # the relaxation's LP: a plan (people per unit, role and school peak) that guides the greedy
    # roster (district: greedy objective 1.71M -> 1.59M), then, with its cuts, a lower bound
    lp = RelaxationLP(problem)
    relaxed, plan = lp.plan()
    greedy = greedy_roster(problem, plan)
    first_roster = time.monotonic() - t0  # the greedy roster is valid: the first roster to return
    if strategy == "auto":
        strategy = "full" if problem.pairs <= FULL_MODEL_MAX_PAIRS else "lns"
    if strategy != "lns":  # the full model's search uses the bound (progress, a floor to stop at)
        relaxed = lp.bound() or relaxed
        del lp
    floor = max(relaxed or 0.0, lower_bound(problem))  # a proven lower bound, whichever is higher

    def emit(stage: str, objective: float, bound: float) -> None:
        """Progress from any stage, in policy units and seconds since the start of ``solve``."""
        if on_progress is not None:
            on_progress(Progress(time.monotonic() - t0, objective, bound, stage))

    small = problem.pairs <= SMALL_SUB_MODEL  # the coverage stage's default search proves these (as in scheduler.lns)
    budgets = _work_budgets(work_limit, work_time, strategy, lexicographic, polish, cover, small=small,
                            pairs=problem.pairs)
    if strategy == "lns":
        # coverage first: the fewest people missing the staff allows, over the whole week and district
        short_bound = shortfall_bound(problem)
        coverage = cover_shortfall(problem, greedy, short_bound,
                                   work=(budgets["coverage_first"], budgets["coverage_second"],
                                         budgets["coverage_lns"]) if budgets else None, workers=workers,
                                   time_limit=max(0.1, (time_limit - (time.monotonic() - t0) - COVERAGE_GUARD)
                                                  * (1.0 if budgets else sum(COVERAGE_SHARES))), seed=seed,
                         on_progress=(lambda p: emit("coverage", p.objective, p.bound)) if on_progress else None)
        result = _solve_lns(problem, coverage.pairs, t0, floor, time_limit=time_limit, workers=workers, seed=seed,
                            emit=emit, work_limit=work_limit, budgets=budgets, lexicographic=lexicographic,
                            greedy=greedy, coverage=coverage)
        result.shortfall_bound = short_bound
        # the neighbourhood search has no use for the bound: the LP with its cuts is solved after it
        # (about 1 s on the district), for the report
        better = lp.bound() if result.status != "interrupted" else None
        if better is not None and better > result.best_bound:
            result.best_bound = better
            result.gap = relative_gap(result.objective, better)
        if result.status != "interrupted" and result.objective <= result.best_bound + 1e-6:
            result.status = "optimal"  # the roster meets a proven lower bound
            result.best_bound = result.objective
        result.wall_time = time.monotonic() - t0
        result.settings["time_limit"] = budget
        result.first_solution_time = first_roster
        return result
    rm = RosterModel(problem, with_cuts=problem.pairs <= CUTS_MAX_PAIRS)
    hint = rm.values_of(greedy)
    greedy_objective, _ = rm.evaluate(list(hint))
    hint_source = "greedy"
    emit("greedy", greedy_objective, floor)
    build_time = time.monotonic() - t0
    t1 = time.monotonic()
    interrupted = False
    # with a budget each stage has its own share of deterministic seconds (a stage may overrun it a
    # little, CP-SAT's deterministic time advancing in steps; the next stage's share does not shrink)
    clock_cut = False  # a stage was ended by the wall clock: the run is not reproducible
    if not lexicographic and polish > 0:
        # primal first: neighbourhood search from the greedy roster, then the full model from there
        share = polish * max(0.0, time_limit - (time.monotonic() - t0))
        lns_deadline = t0 + time_limit if budgets else time.monotonic() + share
        pairs, lns_stats = improve(problem, greedy, deadline=lns_deadline, workers=workers, seed=seed,
                                   on_progress=lambda _el, delta: emit("polish", greedy_objective + delta, floor),
                                   work=(budgets or {}).get("polish_work") or math.inf,
                                   seconds=(budgets or {}).get("polish_seconds") or math.inf,
                                   # the area-by-date kind alone: the week-spanning kinds' sub-models
                                   # run slower than the modelled seconds that budget this stage
                                   kinds=("area_day",))
        clock_cut |= lns_stats.stopped_by == "time_limit"
        better = rm.values_of(pairs)
        if rm.evaluate(list(better))[0] <= greedy_objective:
            hint, hint_source = better, "lns"
        interrupted = lns_stats.stopped_by == "interrupted"  # Ctrl-C or SIGTERM: return what we have
    interrupted = interrupted or requested()  # a stop asked for while the model was built
    rm.add_hint(hint)
    trace: list[Progress] = []
    if not lexicographic and not interrupted and cover > 0:
        # with a budget: CP-SAT's local search, one worker (deterministic; ten schools: 48,508 in
        # 12.8 s against 49,020 from the clock-bound 2-worker search in 30 s)
        staged, interrupted, _used, cut = _coverage_stage(
            rm, hint, t0, time_limit, cover, 1 if budgets else workers, seed,
            {**(solver_params or {}), **({} if small else LOCAL_SEARCH)} if budgets else solver_params,
            on_progress=(lambda p: emit("coverage", p.objective / rm.weight_scale, 0.0)) if on_progress else None,
            work=budgets["cover"] if budgets else None)
        clock_cut |= cut
        if staged is not hint:
            hint, hint_source = staged, "cp-sat"
        rm.add_hint(hint)
    log.info("model built in %.2fs: %s; greedy objective %.1f", build_time, rm.size, greedy_objective)

    scale = rm.weight_scale
    remaining = max(0.5, time_limit - (time.monotonic() - t0))
    work = budgets["full"] if budgets else None
    if budgets and lexicographic:
        solver_params = {**(solver_params or {}), "interleave_search": workers > 1}
    if lexicographic:
        first = [p.var for p in rm.book.penalties if p.rule == "shortfall"]
        rm.model.minimize(sum(first) if first else 0)
        half = None if work is None else work / 2
        stage1 = run(rm.model, time_limit=remaining / 2, workers=workers, seed=seed,
                     extra=_with_work(solver_params, half))
        clock_cut |= cut_by_clock(stage1, half)
        work = half
        trace += stage1.trace
        if stage1.values is not None:
            best = round(stage1.objective)
            sum_le(rm.model, first, [1] * len(first), best)
            hint = rm.values_of(rm.assignments(stage1.values))
            rm.add_hint(hint)
        rm.model.minimize(rm.objective.expr())
        remaining = max(0.5, time_limit - (time.monotonic() - t0))
    interrupted = interrupted or requested()
    search_progress = ((lambda p: emit("search", p.objective / scale, max(p.bound / scale, floor)))
                       if on_progress and not lexicographic
                       else (lambda p: emit("search", p.objective / scale, p.bound / scale)) if on_progress else None)
    if interrupted:
        raw = RawOutcome("interrupted", list(hint), None, floor * scale, 0.0, None)
    elif budgets and not lexicographic:
        raw, cut = search_on_budget(rm, remaining, workers, seed, solver_params, work, budgets["tree"], search_progress,
                               stop_at=floor * scale if floor > 0 else None)
        clock_cut |= cut
    else:
        raw = run(rm.model, time_limit=remaining, workers=workers, seed=seed, on_progress=search_progress,
                  extra=_with_work(solver_params, work))
        clock_cut |= cut_by_clock(raw, work)
    solve_time = time.monotonic() - t1
    trace += raw.trace
    if interrupted:
        values, source = raw.values, hint_source
    elif raw.values is not None:
        values, source = raw.values, "cp-sat"
    else:
        values, source = hint, hint_source  # the search found nothing better in time
    assignments = rm.assignments(values)
    objective, terms = rm.evaluate(values)
    bound = raw.bound / scale if raw.status != "infeasible" else float("nan")
    if raw.status == "optimal":
        bound = objective
    elif not lexicographic and relaxed is not None:
        bound = max(bound, relaxed)
    status = raw.status
    if status == "unknown":  # the last stage found nothing better in its budget: the roster is the hint's
        status = "work_limit" if budgets and not clock_cut else "time_limit"
    return Result(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound),
        wall_time=time.monotonic() - t0,
        build_time=build_time,
        solve_time=solve_time,
        first_solution_time=first_roster,
        shortfall_bound=shortfall_bound(problem),
        assignments=assignments,
        terms=terms,
        size={**rm.size, "eligible_pairs": problem.pairs, "duties": len(problem.duties),
              "persons": len(problem.persons), **{f"{k}_constraints": v for k, v in rm.constraints.items()}},
        problem=problem,
        source=source,
        greedy_objective=greedy_objective,
        settings={
            "time_limit": budget,
            "workers": workers,
            "seed": seed,
            "lexicographic": lexicographic,
            "strategy": "full",
            "ortools_version": ORTOOLS_VERSION,
            "parameters": raw.parameters,
            "work_limit": work_limit,
            "work_budgets": budgets,
            "reproducible": raw.status == "optimal" or (
                budgets is not None and not clock_cut and raw.status != "interrupted"),
        },
        trace=trace,
    )


def _work_budgets(work_limit: float | str | None, time_limit: float, strategy: str, lexicographic: bool,
                  polish: float, cover: float, small: bool = False, pairs: int = 0) -> dict[str, float | None] | None:
    """The budget of each stage (None: the clock alone). A number: deterministic seconds, split in
    the stages' shares. ``"auto"``: the neighbourhood search by modelled seconds
    (``scheduler.lns.SECONDS_PER_WORK``), the CP-SAT stages by deterministic seconds, each its rate
    in :data:`AUTO_WORK_RATE` times its share of ``time_limit``; ``small``: the coverage stage runs
    CP-SAT's default search (a model of at most ``SMALL_SUB_MODEL`` pairs), not its local search."""
    if work_limit is None:
        return None
    if lexicographic:
        polish = cover = 0.0
    auto = work_limit == "auto"
    if strategy == "lns":
        first, second, hoods = COVERAGE_SHARES
        rest = 1 - first - second - hoods
        if not auto:
            w = float(work_limit)
            return {"coverage_first": round(first * w, 3), "coverage_second": round(second * w, 3),
                    "coverage_lns": round(hoods * w, 3), "lns_work": round(rest * w, 3), "lns_seconds": None}
        search = max(0.25 * time_limit, time_limit - SETUP_PER_PAIR * pairs)
        return {"coverage_first": round(auto_rate("coverage_first") * first * search, 3),
                "coverage_second": round(auto_rate("coverage_second") * second * search, 3),
                "coverage_lns": round(auto_rate("district_lns") * hoods * search, 3),
                "lns_work": None,
                "lns_seconds": round(auto_rate("district_lns") * rest * search, 3)}
    if auto:
        last = (1 - cover) * (1 - polish) * time_limit
        cover_rate = auto_rate("small_cover" if small else "local_search")
        budgets = {"polish_work": None, "polish_seconds": auto_rate("polish_seconds") * polish * time_limit,
                   "cover": cover_rate * cover * (1 - polish) * time_limit,
                   "full": auto_rate("local_search") * last, "tree": auto_rate("tree_search") * last}
    else:
        w = float(work_limit)
        p = polish * w
        c = cover * (w - p)
        budgets = {"polish_work": p, "polish_seconds": None, "cover": c, "full": w - p - c, "tree": w - p - c}
    # "full": the last stage's local search (or the whole last stage), "tree": its tree search
    return {k: None if v is None else round(v, 3) for k, v in budgets.items()}


def search_on_budget(rm: RosterModel, time_limit: float, workers: int, seed: int, params: dict | None, work: float,
                tree_work: float, on_progress: Callable[[Progress], None] | None,
                stop_at: float | None = None) -> tuple[RawOutcome, bool]:
    """A model on a work budget (the full model's last stage; each repair stage): CP-SAT's tree search (the bound, and a proof of optimality;
    it has the cuts) and its local search (the roster) side by side, one worker each (the tree
    search gets the workers beyond two, interleaved); one worker: the tree search, then, unless it
    proved the optimum, the local search from its roster with half of its budget. ``work`` and
    ``tree_work``: the two searches' budgets; ``stop_at``: a proven floor (scaled), a roster
    reaching it ends a search as optimal. Returns the outcome (the tree search's when it proves
    the optimum, else the better roster; the bound is the tree search's) and whether the clock
    cut a search short. Every choice depends on the searches' results only."""
    tree = {**(params or {}), "max_deterministic_time": max(0.01, tree_work)}
    local = {**(params or {}), **LOCAL_SEARCH, "max_deterministic_time": max(0.01, work)}
    if workers > 2:
        tree["interleave_search"] = True
    if workers >= 2:
        outcomes = run_parallel(rm.model, [(max(1, workers - 1), tree), (1, local)], time_limit=time_limit,
                                seed=seed, on_progress=on_progress, stop_at=stop_at)
    else:
        # the tree search first: on a small model it proves the optimum, and nothing is left to do
        start = time.monotonic()
        first = run(rm.model, time_limit=time_limit, workers=1, seed=seed, on_progress=on_progress, extra=tree,
                    stop_at=stop_at)
        if first.status in ("optimal", "infeasible", "interrupted"):
            return first, False
        if first.values is not None:
            rm.add_hint(rm.values_of(rm.assignments(first.values)))
        local["max_deterministic_time"] = max(0.01, work / 2)
        left = max(0.1, time_limit - (time.monotonic() - start))
        outcomes = [first, run(rm.model, time_limit=left, workers=1, seed=seed, on_progress=on_progress,
                               extra=local, stop_at=stop_at)]
    tree_out = outcomes[0]
    if tree_out.status == "optimal":
        chosen, cut = tree_out, False
    else:
        found = [o for o in outcomes if o.values is not None]
        chosen = min(found, key=lambda o: o.objective) if found else tree_out
        cut = any(cut_by_clock(o, o.parameters.get("max_deterministic_time")) for o in outcomes
                  if o.status != "interrupted")
    # a roster that reached the proven floor (stop_at) is optimal, whatever the tree search's bound
    bound = chosen.bound if chosen.status == "optimal" or tree_out.status == "infeasible" else tree_out.bound
    trace = sorted((p for o in outcomes for p in o.trace), key=lambda p: p.elapsed)
    raw = RawOutcome(chosen.status, chosen.values, chosen.objective, bound, max(o.wall_time for o in outcomes),
                     min((o.first_solution_time for o in outcomes if o.first_solution_time is not None), default=None),
                     trace, {"tree_search": tree_out.parameters, "local_search": outcomes[1].parameters},
                     sum(o.deterministic_time for o in outcomes))
    return raw, cut


def _with_work(params: dict | None, work: float | None) -> dict | None:
    """CP-SAT parameters with a deterministic-time budget (None: no budget)."""
    if work is None:
        return params
    return {**(params or {}), "max_deterministic_time": max(0.01, work)}


def cut_by_clock(raw: RawOutcome, work: float | None) -> bool:
    """The run ended by its wall-clock limit, not by its work budget or by itself."""
    if raw.status in ("optimal", "infeasible"):
        return False
    return work is None or raw.deterministic_time < 0.99 * work


def _coverage_stage(rm: RosterModel, hint: list[int], t0: float, time_limit: float, cover: float, workers: int,
                    seed: int, solver_params: dict | None, on_progress: Callable[[Progress], None] | None = None,
                    work: float | None = None) -> tuple[list[int], bool, float, bool]:
    """CP-SAT on the coverage rules alone for ``cover`` of the time left, from ``hint``; returns
    the better roster of the two by the full objective (as a complete solution vector) and whether
    the stage was interrupted. The full objective is restored on return."""
    left = max(0.0, time_limit - (time.monotonic() - t0))
    limit = left if work is not None else cover * left  # with a work budget the clock is only a cap
    values, status, used = rm.coverage_search(hint, time_limit=max(0.1, limit), workers=workers, seed=seed,
                                              extra=_with_work(solver_params, work), on_progress=on_progress)
    cut = status not in ("optimal", "interrupted") and (work is None or used < 0.99 * work)
    return values, status == "interrupted", used, cut


def _solve_lns(problem: Problem, start: list[tuple[int, int]], t0: float, bound: float, *,
               time_limit: float, workers: int, seed: int, emit: Callable[[str, float, float], None],
               work_limit: float | str | None = None, budgets: dict | None = None, lexicographic: bool = False,
               greedy: list[tuple[int, int]] | None = None, coverage: CoverageOutcome | None = None) -> Result:
    """Neighbourhood search from ``start`` (the coverage stage's roster) with its shortfall held
    (``lexicographic``: every coverage rule's total held, so no later move trades one for the
    rest); the objective is the start roster's exact objective plus every accepted sub-model
    change (each exact); ``bound`` is the proven floor."""
    from scheduler.check import check_rows
    from scheduler.output import roster_rows

    start_obj = check_rows(problem.instance, roster_rows(problem, start)).objective
    greedy_obj = (check_rows(problem.instance, roster_rows(problem, greedy)).objective
                  if greedy is not None and greedy is not start else start_obj)
    build_time = time.monotonic() - t0
    t1 = time.monotonic()

    emit("greedy", start_obj, bound)
    interrupted = coverage is not None and coverage.status == "interrupted"
    hold = tuple(COVERAGE_RULES) if lexicographic else ("shortfall",)
    pairs, stats = improve(problem, start, deadline=t0 + time_limit, workers=workers, seed=seed,
                           on_progress=lambda _elapsed, delta: emit("lns", start_obj + delta, bound),
                           work=0.0 if interrupted else (budgets or {}).get("lns_work") or math.inf,
                           seconds=(budgets or {}).get("lns_seconds") or math.inf, hold=hold,
                           sub_work=DISTRICT_SUB_WORK)
    if interrupted:
        stats.stopped_by = "interrupted"
    objective = start_obj + stats.delta
    solve_time = time.monotonic() - t1
    clock_cut = coverage is not None and coverage.clock_cut
    status = (stats.stopped_by if stats.stopped_by in ("time_limit", "interrupted")
              else "time_limit" if clock_cut else "work_limit" if stats.stopped_by == "work_limit" else "feasible")
    return Result(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound),
        wall_time=time.monotonic() - t0,
        build_time=build_time,
        solve_time=solve_time,
        first_solution_time=None,
        assignments=pairs,
        terms={},
        size={"eligible_pairs": problem.pairs, "duties": len(problem.duties), "persons": len(problem.persons)},
        problem=problem,
        source="lns",
        greedy_objective=greedy_obj,
        settings={
            "time_limit": time_limit,
            "workers": workers,
            "seed": seed,
            "lexicographic": lexicographic,
            "strategy": "lns",
            "ortools_version": ORTOOLS_VERSION,
            "parameters": {"coverage_search": COVERAGE_SEARCH,
                           "coverage_stage": {**COVER_PARAMETERS, "max_deterministic_time": DISTRICT_SUB_WORK},
                           "full_stage": {**SUB_PARAMETERS, "max_deterministic_time": DISTRICT_SUB_WORK},
                           "num_workers": 1},
            "coverage": None if coverage is None else {
                "start_shortfall": coverage.start_shortfall, "shortfall": coverage.shortfall,
                "status": coverage.status, "work": round(coverage.work, 3)},
            "lns": {"rounds": stats.rounds, "solved": stats.solved, "improved": stats.improved,
                    "stopped_by": stats.stopped_by, "work": round(stats.work, 3),
                    "modelled_seconds": round(stats.seconds, 3), "by_kind": stats.kinds},
            "work_limit": work_limit,
            "work_budgets": budgets,
            "reproducible": stats.reproducible and not clock_cut,
        },
    )
