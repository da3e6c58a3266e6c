"""From an instance to a solved roster, in named stages that draw on one :class:`Budget`.

::

    solve(instance, SolveOptions)
      prepare          expand the instance into duties and eligible pairs; the run's budget
      first_roster     the relaxation's LP plan guides the greedy roster: valid, returned if
                       nothing better is found
      a district (strategy lns, more than FULL_MODEL_MAX_PAIRS eligible pairs):
        shortfall bound    the LP on the shortfall alone: no roster misses fewer people
        coverage           scheduler.coverage: the fewest people missing below min over the whole
                           week, then the other coverage rules (police, skills, the
                           professional share, leaders) with that held, by the same local search
        exchange           scheduler.exchange: exact moves in seconds (swaps, stand-ins, gaps
                           filled by people a seat can spare, seats below target filled); no
                           coverage rule rises
        weighted search    scheduler.lns: adaptive neighbourhoods on the whole objective, the
                           coverage reached held in every step
        bound              the LP with its cuts: the objective's proven floor, for the gap
                           (solved in a thread beside the exchange and the neighbourhoods)
      a whole week in one model (strategy full):
        bound              the LP with its cuts and :func:`peak_by_peak_bound`
        polish             neighbourhoods from the greedy roster
        coverage           CP-SAT on the coverage rules alone from the better roster
        weighted search    the full model from there (lexicographic: the shortfall, then the rest
                           with it held)
        exchange           scheduler.exchange on its roster (unless proven optimal or the clock
                           ended the search)

``SolveOptions.time_limit`` is the whole budget, model building included. When the solver
returns no roster (time too short) the greedy roster, which keeps every hard rule, is returned
and the result says so (``source = "greedy"``). Why each stage is as it is, with the figures
measured, is in benchmarks/README.md.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, cast

from models import Instance
from scheduler.coverage import COVERAGE_SEARCH, CoverageOutcome, shortfall_bound
from scheduler.coverage import cover as cover_shortfall
from scheduler.cpsat import RosterModel
from scheduler.cpsat.bound import RelaxationLP, relaxation_bound
from scheduler.cpsat.model import COVERAGE_RULES, roster_objective
from scheduler.cpsat.solver import Progress, RawOutcome, Status, run, run_parallel, sum_le
from scheduler.duties import MAX_PAIRS, Problem, check_size, expand
from scheduler.exchange import SECONDS_PER_OPTION, ExchangeStats, exchange
from scheduler.greedy import greedy_roster
from scheduler.interrupt import requested
from scheduler.lns import COVER_PARAMETERS, SMALL_SUB_MODEL, SUB_PARAMETERS, LnsStats, improve

log = logging.getLogger("schoolpost")

WorkLimit = float | Literal["auto"] | None


@dataclass(frozen=True)
class SolveOptions:
    """What a caller may set for one solve (``schoolpost solve``'s options and a few of the
    library's own). Checked on creation: a wrong value is a ``ValueError`` naming it."""

    #: the whole budget in seconds, model building included
    time_limit: float = 60.0
    #: CP-SAT worker threads (two sub-solves at once in the neighbourhood search)
    workers: int = 2
    #: CP-SAT's random seed and the neighbourhood chooser's
    seed: int = 0
    #: the shortfall first, then the coverage rules, then the rest, each level held
    lexicographic: bool = False
    #: ``full``: one model of the whole week; ``lns``: coverage and neighbourhoods; ``auto``: by size
    strategy: Literal["auto", "full", "lns"] = "auto"
    #: deterministic seconds for the search; ``"auto"``: derived from ``time_limit`` by the
    #: measured rates (reproducible on a machine like the reference one); None: the clock alone
    work_limit: WorkLimit = "auto"
    #: seconds of ``time_limit`` kept for the caller's work afterwards (the human outputs)
    reserve: float = 0.0
    #: the limit the user gave, when ``time_limit`` is what is left of it after the command's
    #: start-up: an ``"auto"`` budget derives from it, so start-up time does not change the roster
    nominal_time: float | None = None
    #: the full model's stages: the neighbourhood polish's share of the search time, and the
    #: coverage stage's share of what is left
    polish: float = 1 / 3
    cover: float = 0.5
    #: extra CP-SAT parameters for the full model's stages (tests and experiments)
    solver_params: dict | None = None
    #: an instance with more eligible (person, duty) pairs than this is refused before expanding
    max_pairs: int = MAX_PAIRS

    def __post_init__(self) -> None:
        # time_limit may be 0 or less when a command's start-up ate it: the search then gets its minimum
        if not isinstance(self.time_limit, (int, float)) or self.time_limit != self.time_limit:
            raise ValueError(f"time_limit must be a number of seconds, not {self.time_limit!r}")
        if not (isinstance(self.workers, int) and self.workers >= 1):
            raise ValueError(f"workers must be a whole number of at least 1, not {self.workers!r}")
        if self.strategy not in ("auto", "full", "lns"):
            raise ValueError(f"strategy must be auto, full or lns, not {self.strategy!r}")
        if not (self.work_limit is None or self.work_limit == "auto"
                or (isinstance(self.work_limit, (int, float)) and self.work_limit > 0)):
            raise ValueError(f"work_limit must be auto, None or a positive number, not {self.work_limit!r}")
        if not (0 <= self.polish <= 1 and 0 <= self.cover <= 1):
            raise ValueError("polish and cover are shares between 0 and 1")

    @property
    def user_time_limit(self) -> float:
        """The time limit the user gave (summary.json's ``time_limit``)."""
        return self.time_limit if self.nominal_time is None else self.nominal_time


@dataclass
class Budget:
    """One run's clock and work. ``seconds``: the search's wall-clock limit from ``start`` (the
    time limit less the time kept to check and write the roster); ``work``: each stage's budget
    (deterministic or modelled seconds; None: the clock alone, nothing reproducible);
    ``clock_cut``: a stage ended by the clock before its work budget, so the run may not repeat;
    ``cut_stages``: which (summary.json's ``clock_cut_stages``)."""

    start: float
    seconds: float
    work: dict[str, float | None] | None
    clock_cut: bool = False
    cut_stages: list[str] = field(default_factory=list)

    @property
    def deadline(self) -> float:
        return self.start + self.seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self, at_least: float = 0.0) -> float:
        """Seconds left of the search's limit, at least ``at_least``."""
        return max(at_least, self.seconds - self.elapsed())

    def of(self, stage: str) -> float | None:
        """A stage's work budget (None: the clock alone)."""
        return None if self.work is None else self.work.get(stage)

    def cut(self, by_clock: bool, stage: str) -> None:
        """Record whether a stage was ended by the clock."""
        self.clock_cut |= by_clock
        if by_clock:
            self.cut_stages.append(stage)


@dataclass
class Result:
    status: Status
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
    options: SolveOptions
    #: the strategy the run took (``auto`` resolved)
    strategy: str
    #: each stage's work budget (None: the clock alone)
    work_budgets: dict[str, float | None] | None
    #: the run ended by its budgets or by itself, not by the clock or a signal: a rerun gives it again
    reproducible: bool
    #: CP-SAT parameters of the stages
    parameters: dict
    source: str = "cp-sat"
    greedy_objective: float | None = None
    #: a proven lower bound on the people missing below ``min`` (the ``shortfall`` term)
    shortfall_bound: int | None = None
    #: the district's coverage stage: people missing at its start and end, status, work
    coverage: dict | None = None
    #: the district's neighbourhood search: rounds, sub-solves, improvements, what stopped it
    lns: dict | None = None
    #: the exchange pass (scheduler.exchange): the moves taken and the objective's change
    exchange: dict | None = None
    trace: list[Progress] = field(default_factory=list)
    #: the stages the wall clock ended before their work budget (summary.json's ``clock_cut_stages``)
    clock_cut_stages: list[str] = field(default_factory=list)
    #: what the planner should know about how the run went, in words (e.g. a time limit too
    #: short for the search); None: nothing
    note: str | None = None


def relative_gap(objective: float, bound: float) -> float:
    """(objective - bound) / |objective|, 0 when both are 0; the fraction 0.01 is 1 %."""
    if objective == bound:
        return 0.0
    return max(0.0, (objective - bound) / max(abs(objective), 1e-9))


#: above this many eligible (person, duty) pairs, ``auto`` solves by neighbourhoods (LNS)
FULL_MODEL_MAX_PAIRS = 40_000
#: the full model gets the valid inequalities of scheduler.cpsat.cuts up to this many pairs: they
#: lift CP-SAT's bound on one school but slow its search on ten (whose bound comes from the
#: aggregated relaxation, which has the same cut)
CUTS_MAX_PAIRS = 10_000
#: ``work_limit="auto"``: each stage's budget is its rate here times its share of the time limit,
#: set below the slowest rate measured on the reference 2-core machine so that the budget, not
#: the clock, ends the search and the run is reproducible (benchmarks/README.md has the figures).
#: ``local_search``/``tree_search``: CP-SAT deterministic seconds per second of its local search and
#: of its tree search, one worker each; ``polish_seconds``: modelled seconds
#: (scheduler.lns.SECONDS_PER_WORK) per second of the full model's neighbourhood polish;
#: ``small_cover``: CP-SAT's default search on a model of at most 2,000 pairs;
#: ``coverage_first``/``coverage_second``: the district coverage stage's local search without
#: presolve on the shortfall and on the other coverage rules (the second measured at 0.48 on
#: district seed 8484, idle machine: 7.27 deterministic s in 13.5 s at a calibrated factor of 1.3); ``district_lns``: modelled seconds per second
#: of a district's neighbourhood search; ``staffing``: the staffing model's local search (its
#: deterministic time runs slower than the calibration's model: at 0.6 the clock ended one unit
#: in three runs of tests/test_staffing.py's ten-school district)
AUTO_WORK_RATE = {"local_search": 0.6, "tree_search": 0.3, "polish_seconds": 0.6,
                  "small_cover": 0.3, "coverage_first": 0.3, "coverage_second": 0.3, "district_lns": 0.5,
                  "staffing": 0.45}
#: seconds per eligible pair of a district's first roster (duties, the LP plan, the greedy roster:
#: 3.9 s on district seed 8484's 233,402 pairs); a time limit below it skips the plan
FIRST_ROSTER_PER_PAIR = 1.7e-5
#: a district's ``auto`` budget counts from the time limit less this estimate per eligible pair of
#: the set-up before the coverage search (relaxation, greedy roster, the coverage model and CP-SAT
#: loading it; 16 s on 315,000 pairs), divided by the calibrated factor of a machine slower or
#: faster than the reference one: a function of the size and the stored factor only, so the budget
#: is the same on every run
SETUP_PER_PAIR = 6e-5
#: a district's sub-solves: each local search's deterministic budget
DISTRICT_SUB_WORK = 0.4
#: shares of a district's search time: the coverage stage's first phase (shortfall alone), its
#: second (police, skills, share, leaders; it also gets what the first leaves of its budget),
#: its shortfall neighbourhoods (where the first phase ends
#: short of the bound); the weighted neighbourhood search gets the rest
COVERAGE_SHARES = (0.55, 0.1, 0.0)
#: of the seconds the coverage stage's unused work stands for, the share the neighbourhood search
#: gets (its wall time is more than its work at the measured rate: loading the model, and a
#: fixed cost per roster found; the rest is the margin against a busy machine)
UNUSED_SHARE = 0.35
#: the exchange passes (scheduler.exchange) of a district before its neighbourhoods (a pass after
#: them too gained no more than the neighbourhoods' time it took: benchmarks/README.md, session
#: 12) and of a whole-week model after its search (ten schools: one pass -917 in 0.5 s, three
#: -949 in 2.8 s), and the seconds per eligible pair of one pass (7.1 s on district-bincheng's
#: 279,366 pairs, the machine at 1.17 times the reference speed; session 14: 2.25-2.37 million
#: moves weighed on three districts' coverage rosters, 7.3-7.7 a pair, at
#: scheduler.exchange.SECONDS_PER_OPTION each), kept out of the search's budget
EXCHANGE_PASSES = 1
EXCHANGE_PER_PAIR = 3.6e-5
#: seconds the clock keeps for the neighbourhood search when the coverage stage overruns its budget
COVERAGE_GUARD = 5.0


def machine_speed() -> float:
    """The factor ``schoolpost calibrate`` stored: this machine's speed against the reference
    machine's (1 without one; :mod:`scheduler.calibrate`)."""
    from scheduler.calibrate import factor

    return factor()[0]


def auto_rate(name: str) -> float:
    """An ``auto`` budget's rate on this machine: :data:`AUTO_WORK_RATE` times :func:`machine_speed`."""
    return AUTO_WORK_RATE[name] * machine_speed()


#: seconds of a command's time limit taken before ``solve`` starts (Python, OR-Tools and reading
#: the file; 0.5-1.5 s here), kept out of an ``"auto"`` budget as a constant, not as measured
STARTUP_SECONDS = 1.0
#: CP-SAT's local search alone (violation local search / feasibility jump), deterministic on one worker
LOCAL_SEARCH = {"use_ls_only": True}


def peak_by_peak_bound(problem: Problem) -> float:
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
        for di in ds:
            cands.setdefault(di, []).append(p)
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
        slot_people = {p for d in duties for p in cands.get(d.index, [])}
        profs = sum(1 for p in slot_people if persons[p].role in prof_roles)
        lo, hi = sum(d.min for d in duties), sum(d.target for d in duties)
        best = min(
            w.shortfall * max(0, lo - t) + w.below_target * (hi - t)
            + w.share_shortfall * max(0, math.ceil(share * t) - min(t, profs))
            for t in range(min(hi, len(slot_people)) + 1)
        )
        total += best
    if inst.policy.leader_on_duty:
        leader_slots = {key for key, duties in slots.items()
                        if any(persons[p].role == "school_leader" for d in duties for p in cands.get(d.index, []))}
        total += w.leader_missing * sum(1 for k in problem.school_peaks
                                        if k[0] in problem.leader_schools and k not in leader_slots)
    return total


@dataclass
class _Context:
    """What the stages of one solve share."""

    options: SolveOptions
    problem: Problem
    budget: Budget
    #: ``full`` or ``lns`` (``auto`` resolved by size)
    strategy: str
    on_progress: Callable[[Progress], None] | None
    #: Ctrl-C or SIGTERM arrived: later stages are skipped and the best roster so far returned
    interrupted: bool = False
    #: a district whose time limit is shorter than its set-up (:data:`SETUP_PER_PAIR`): the first
    #: roster is returned without the search, and the plan is skipped below
    #: :data:`FIRST_ROSTER_PER_PAIR` (a function of the limit and the size: the same every run)
    too_short: bool = False
    skip_plan: bool = False

    def emit(self, stage: str, objective: float, bound: float) -> None:
        """Progress from any stage, in policy units and seconds since the start of ``solve``."""
        if self.on_progress is not None:
            self.on_progress(Progress(self.budget.elapsed(), objective, bound, stage))


@dataclass
class FirstRoster:
    """The greedy roster (valid), with the relaxation that guided it."""

    pairs: list[tuple[int, int]]
    #: seconds from the start of ``solve`` to this roster
    seconds: float
    #: the aggregated relaxation: its LP without cuts was solved for the plan; its value (None:
    #: not solved) is a proven lower bound on the objective
    lp: RelaxationLP | None
    relaxed: float | None


def solve(instance: Instance, options: SolveOptions | None = None, *,
          on_progress: Callable[[Progress], None] | None = None) -> Result:
    """Solve an instance by the stages of the module docstring; ``on_progress`` gets every
    better roster's objective and the bound, stage by stage.

    With a work budget (``options.work_limit``, ``"auto"`` by default) every search is a
    single-worker CP-SAT run or neighbourhood search on a deterministic budget, so a run that ends
    by its budgets, not by the clock (still a cap) or a signal, is reproducible: the same
    instance, options and machine give the same roster (``Result.reproducible``)."""
    ctx = prepare(instance, options or SolveOptions(), on_progress)
    first = first_roster(ctx)
    if ctx.strategy == "lns":
        return _district(ctx, first)
    return _whole_week(ctx, first)


def prepare(instance: Instance, options: SolveOptions,
            on_progress: Callable[[Progress], None] | None = None) -> _Context:
    """Expand the instance and set the run's budget: the search's seconds (the time limit less
    the time kept to check, explain and write the roster, and the caller's ``reserve``) and each
    stage's work (:func:`_work_budgets`)."""
    start = time.monotonic()
    check_size(instance, options.max_pairs)
    problem = expand(instance)
    keep = 0.5 + 1e-5 * problem.pairs + options.reserve
    seconds = max(0.5, options.time_limit - keep)
    # an "auto" budget derives from the user's limit less the same reserves: a command's start-up
    # time, which varies, must not change it
    nominal = options.time_limit if options.nominal_time is None else options.nominal_time - STARTUP_SECONDS
    strategy = options.strategy
    if strategy == "auto":
        strategy = "full" if problem.pairs <= FULL_MODEL_MAX_PAIRS else "lns"
    work = _work_budgets(options.work_limit, max(0.5, nominal - keep), strategy, options.lexicographic,
                         options.polish, options.cover, small=problem.pairs <= SMALL_SUB_MODEL, pairs=problem.pairs)
    ctx = _Context(options, problem, Budget(start, seconds, work), strategy, on_progress)
    ctx.too_short = strategy == "lns" and nominal < SETUP_PER_PAIR * problem.pairs
    ctx.skip_plan = ctx.too_short and nominal < FIRST_ROSTER_PER_PAIR * problem.pairs
    return ctx


def first_roster(ctx: _Context) -> FirstRoster:
    """The greedy roster, guided by the relaxation's LP plan (people per unit, role and school
    peak: a better start than the greedy alone, benchmarks/README.md). Valid: the roster to
    return if nothing better comes."""
    if ctx.skip_plan:  # the time limit leaves no time for the plan: the greedy roster alone
        return FirstRoster(greedy_roster(ctx.problem), ctx.budget.elapsed(), None, None)
    lp = RelaxationLP(ctx.problem)
    relaxed, plan = lp.plan()
    pairs = greedy_roster(ctx.problem, plan)
    return FirstRoster(pairs, ctx.budget.elapsed(), lp, relaxed)


# -- a district: coverage first, then neighbourhoods ----------------------------------------------


def _district(ctx: _Context, first: FirstRoster) -> Result:
    problem = ctx.problem
    if ctx.too_short:
        return _first_roster_only(ctx, first)
    floor = max(first.relaxed or 0.0, peak_by_peak_bound(problem))
    short_bound = shortfall_bound(problem)
    coverage = coverage_stage(ctx, first.pairs, short_bound)
    pass_on_unused_work(ctx, coverage)
    # the report's bound (the LP with its cuts and its classes split by skills, about 3 s) on the
    # core that the exchange pass, in Python, leaves idle (GLOP lets go of the GIL), not after the
    # search: a function of the instance alone, so the run stays reproducible. The plan's LP is
    # let go first (memory).
    planned = first.lp is not None
    first.lp = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        lp_bound = pool.submit(relaxation_bound, problem) if planned else None

        def shown() -> float:
            # the live line's bound: the LP with its cuts once it is solved (progress only: the
            # search itself never reads it, so the roster does not depend on when it ends)
            if lp_bound is not None and lp_bound.done() and lp_bound.exception() is None:
                return max(floor, lp_bound.result() or 0.0)
            return floor

        result = district_search(ctx, first, coverage, floor, shown)
    result.shortfall_bound = short_bound
    final_bound(result, None if lp_bound is None else lp_bound.result())
    result.wall_time = ctx.budget.elapsed()
    return result


def coverage_stage(ctx: _Context, pairs: list[tuple[int, int]], bound: int) -> CoverageOutcome:
    """The fewest people missing below ``min`` over the whole week and district, down to
    ``bound``, then the other coverage rules (police, skills, share, leaders) with that held
    (:mod:`scheduler.coverage`)."""
    b, o = ctx.budget, ctx.options
    # without a work budget the clock shares: the coverage stage gets sum(COVERAGE_SHARES) of it,
    # with one the budgets end it and the clock keeps COVERAGE_GUARD seconds for what follows
    seconds = (b.seconds - b.elapsed() - COVERAGE_GUARD) * (1.0 if b.work else sum(COVERAGE_SHARES))
    outcome = cover_shortfall(
        ctx.problem, pairs, bound,
        # a district's work budget sets the three coverage stages (_work_budgets)
        work=cast(tuple[float, float, float], (b.of("coverage_first"), b.of("coverage_second"), b.of("coverage_lns")))
        if b.work else None,
        workers=o.workers, time_limit=max(0.1, seconds), seed=o.seed,
        # under "auto" the first phase's unused work goes on to the second at the two phases' rates
        carry=AUTO_WORK_RATE["coverage_second"] / AUTO_WORK_RATE["coverage_first"] if o.work_limit == "auto" else 1.0,
        on_progress=(lambda p: ctx.emit("coverage", p.objective, p.bound)) if ctx.on_progress else None)
    b.cut(outcome.clock_cut, "coverage")
    ctx.interrupted = outcome.status == Status.INTERRUPTED
    return outcome


def pass_on_unused_work(ctx: _Context, coverage: CoverageOutcome) -> None:
    """Settle the neighbourhood search's budget once the coverage stage is over. The work the
    coverage stage did not use (it met its bound early, as it does wherever the staff suffices)
    goes to it: all of it, as deterministic seconds, under a numeric work limit; under ``auto``,
    :data:`UNUSED_SHARE` of it, turned into modelled seconds by the two stages' rates, and never
    more than the search time that the coverage stage's own wall time leaves
    (:func:`coverage_seconds`: most of that time is loading the model and a pass over it per
    roster found, which its work does not measure), so a tight limit, as with all human outputs,
    still ends by the budget. Under ``auto`` it also sets the exchange pass's budget
    (``exchange_seconds``: moves weighed, :data:`scheduler.exchange.SECONDS_PER_OPTION` each): its
    planned time, plus what the coverage stage left beside it. Every amount is a function of
    deterministic counts only, so a run stays reproducible."""
    b = ctx.budget
    if not b.work or coverage.clock_cut or coverage.status == Status.INTERRUPTED:
        return
    unused = max(0.0, (b.of("coverage_first") or 0.0) + (b.of("coverage_second") or 0.0) - coverage.work)
    lns_work, lns_seconds = b.work.get("lns_work"), b.work.get("lns_seconds")
    if lns_work is not None:
        b.work["lns_work"] = round(lns_work + unused, 3)
    elif lns_seconds is not None:
        more = UNUSED_SHARE * unused / AUTO_WORK_RATE["coverage_first"] * AUTO_WORK_RATE["district_lns"]
        speed = machine_speed()
        planned = cast(float, b.work.get("exchange_planned") or 0.0)
        left = cast(float, b.work["search_seconds"]) - coverage_seconds(ctx.problem, coverage) / speed
        # the neighbourhoods: what the coverage stage's counts leave beside the exchange pass's
        # planned time (search_seconds is net of it); the pass: its planned time, or that too if
        # it needs more (district_search then takes what it used beyond its plan from them), its
        # moves weighed at their modelled rate, so it ends at the same move on every run
        b.work["exchange_seconds"] = round(speed * (planned + max(0.0, left)), 3)
        b.work["lns_seconds"] = round(max(0.0, min(lns_seconds + more, auto_rate("district_lns") * max(0.0, left))), 3)
    if unused > 0:
        b.work["from_coverage"] = round(unused, 3)


#: the coverage stage's wall time beyond the set-up (SETUP_PER_PAIR counts its first load): seconds
#: per eligible pair for each further CP-SAT run's load and for each roster found (district,
#: 315,000 pairs: 1.7 s a load, 18-24 ms a roster; benchmarks/README.md), and a margin
LOAD_PER_PAIR, ROSTER_PER_PAIR, COVERAGE_MARGIN = 5.5e-6, 7.6e-8, 1.1
#: seconds per eligible pair of one run of the coverage stage's flow (scheduler.cpsat.flow: 1.7-2.6
#: s on 307,793 pairs, building the network in Python and repairing its roster included)
FLOW_PER_PAIR = 8e-6


def coverage_seconds(problem: Problem, coverage: CoverageOutcome) -> float:
    """A model of the coverage stage's wall time from its counts (deterministic): its work at its
    budget's rate, or a pass over the model per roster found where that is longer (a search that
    finds many small improvements, as on a well-staffed district), plus the loads of its runs and
    its flows."""
    work = ((coverage.work - coverage.second_work) / AUTO_WORK_RATE["coverage_first"]
            + coverage.second_work / AUTO_WORK_RATE["coverage_second"])
    search = max(work, coverage.rosters * ROSTER_PER_PAIR * problem.pairs)
    return COVERAGE_MARGIN * (search + max(0, coverage.runs - 1) * LOAD_PER_PAIR * problem.pairs
                              + coverage.flows * FLOW_PER_PAIR * problem.pairs)


def neighbourhood_budget(ctx: _Context, swapped: ExchangeStats) -> None:
    """Under ``auto``: the exchange pass's moves weighed beyond its planned time (at their modelled
    rate, the machine's speed applied) come out of the neighbourhoods' modelled seconds: a function
    of counts only, so the run stays reproducible."""
    b = ctx.budget
    if not b.work or b.work.get("exchange_planned") is None or b.work.get("lns_seconds") is None:
        return
    speed = machine_speed()
    beyond = max(0.0, swapped.options * SECONDS_PER_OPTION / speed - cast(float, b.work["exchange_planned"]))
    b.work["lns_seconds"] = round(max(0.0, cast(float, b.work["lns_seconds"]) - auto_rate("district_lns") * beyond), 3)


def district_search(ctx: _Context, first: FirstRoster, coverage: CoverageOutcome, floor: float,
                    shown: Callable[[], float] | None = None) -> Result:
    """The weighted search of a district: neighbourhoods (:mod:`scheduler.lns`) from the coverage
    stage's roster with its shortfall held (lexicographic: every coverage rule's total held, so
    no move trades one for the rest). The objective is the start roster's exact objective plus
    every accepted sub-model change (each exact); ``floor`` is the proven lower bound; ``shown``,
    the bound for progress lines (a better one may arrive while the search runs)."""
    problem, b, o = ctx.problem, ctx.budget, ctx.options
    start = coverage.pairs
    start_obj = roster_objective(problem, start)
    # the exchange pass (no coverage rule rises; continuity, travel, targets, stand-ins) before
    # the neighbourhoods (EXCHANGE_PASSES): they start from the better roster
    swapped = ExchangeStats()
    # passes: from the work budget (a function of the size and the limit); on the clock alone,
    # when the time left allows one
    passes = (int(b.work.get("exchange_passes") or 0) if b.work
              else EXCHANGE_PASSES if b.left() > EXCHANGE_PASSES * EXCHANGE_PER_PAIR * problem.pairs else 0)
    if passes and not ctx.interrupted:
        start, swapped = exchange(problem, start, passes=passes, stop=requested, deadline=b.deadline,
                                  budget=b.of("exchange_seconds"))
        ctx.interrupted = swapped.stopped
        b.cut(swapped.clock_cut, "exchange")
        start_obj += swapped.delta
    neighbourhood_budget(ctx, swapped)
    greedy_obj = roster_objective(problem, first.pairs)
    build_time = b.elapsed()
    t1 = time.monotonic()
    shown = shown or (lambda: floor)
    ctx.emit("greedy", start_obj, shown())
    hold = tuple(COVERAGE_RULES) if o.lexicographic else ("shortfall",)
    pairs, stats = improve(problem, start, deadline=b.deadline, workers=o.workers, seed=o.seed,
                           on_progress=lambda _elapsed, delta: ctx.emit("lns", start_obj + delta, shown()),
                           work=0.0 if ctx.interrupted else _or_unlimited(b.of("lns_work")),
                           seconds=_or_unlimited(b.of("lns_seconds")), hold=hold, sub_work=DISTRICT_SUB_WORK)
    if ctx.interrupted:
        stats.stopped_by = "interrupted"
    b.cut(stats.stopped_by == "time_limit", "neighbourhoods")
    objective = start_obj + stats.delta
    return Result(
        status=_lns_status(stats, b.clock_cut),
        objective=objective,
        best_bound=floor,
        gap=relative_gap(objective, floor),
        wall_time=b.elapsed(),
        build_time=build_time,
        solve_time=time.monotonic() - t1,
        first_solution_time=first.seconds,
        assignments=pairs,
        terms={},
        size=problem_size(problem),
        problem=problem,
        options=o,
        strategy="lns",
        work_budgets=b.work,
        reproducible=stats.reproducible and not b.clock_cut,
        parameters={"coverage_search": COVERAGE_SEARCH,
                    "coverage_stage": {**COVER_PARAMETERS, "max_deterministic_time": DISTRICT_SUB_WORK},
                    "full_stage": {**SUB_PARAMETERS, "max_deterministic_time": DISTRICT_SUB_WORK},
                    "num_workers": 1},
        source="lns",
        greedy_objective=greedy_obj,
        coverage={"start_shortfall": coverage.start_shortfall, "shortfall": coverage.shortfall,
                  "status": coverage.status, "work": round(coverage.work, 3), "flows": coverage.flows},
        lns={"rounds": stats.rounds, "solved": stats.solved, "improved": stats.improved,
             "stopped_by": stats.stopped_by, "work": round(stats.work, 3),
             "modelled_seconds": round(stats.seconds, 3), "by_kind": stats.kinds},
        exchange=_exchange_summary(swapped),
        clock_cut_stages=b.cut_stages,
    )


def _exchange_summary(stats: ExchangeStats | None) -> dict | None:
    """summary.json's ``exchange``: the moves taken and the objective's change, by term."""
    if stats is None:
        return None
    return {"swaps": stats.swaps, "transfers": stats.transfers, "moves": stats.moves, "additions": stats.additions,
            "replacements": stats.replacements, "delta": stats.delta,
            "by_term": stats.by_term, "by_move": stats.by_move, "clock_cut": stats.clock_cut,
            "budget_cut": stats.budget_cut, "options": stats.options}


def _first_roster_only(ctx: _Context, first: FirstRoster) -> Result:
    """A district whose time limit is shorter than its set-up: the first roster, its exact
    objective and the bounds already at hand, and a note naming the time the search needs."""
    problem, o = ctx.problem, ctx.options
    floor = max(first.relaxed or 0.0, peak_by_peak_bound(problem))
    objective = roster_objective(problem, first.pairs)
    ctx.emit("greedy", objective, floor)
    setup = SETUP_PER_PAIR * problem.pairs
    return Result(
        status=Status.TIME_LIMIT, objective=objective, best_bound=floor, gap=relative_gap(objective, floor),
        wall_time=ctx.budget.elapsed(), build_time=first.seconds, solve_time=0.0, first_solution_time=first.seconds,
        assignments=first.pairs, terms={},
        size=problem_size(problem),
        problem=problem, options=o, strategy="lns", work_budgets=ctx.budget.work, reproducible=True,
        parameters={}, source="greedy", greedy_objective=objective,
        note=(f"the time limit ({o.user_time_limit:g} s) is shorter than this instance's set-up (about {setup:.0f} s "
              f"for {problem.pairs:,} eligible pairs at the reference speed): the first roster is returned without "
              f"the search; give --time-limit {math.ceil(2 * setup)} or more for it"))


def problem_size(problem: Problem) -> dict[str, int]:
    """summary.json's ``model`` of a district: the instance's size, no one model of it being built."""
    return {"eligible_pairs": problem.pairs, "duties": len(problem.duties), "persons": len(problem.persons)}


def _or_unlimited(budget: float | None) -> float:
    """A stage's budget for the neighbourhood search: None (the clock alone) is no limit; 0 is 0."""
    return math.inf if budget is None else budget


def _lns_status(stats: LnsStats, clock_cut: bool) -> Status:
    """A district run's status from what stopped its neighbourhood search (and whether the clock
    cut an earlier stage): the clock or a signal, else its budget, else ``feasible`` (converged)."""
    if stats.stopped_by in ("time_limit", "interrupted"):
        return Status(stats.stopped_by)
    if clock_cut:
        return Status.TIME_LIMIT
    return Status.WORK_LIMIT if stats.stopped_by == "work_limit" else Status.FEASIBLE


def final_bound(result: Result, better: float | None) -> None:
    """The district's bound for the report: ``better``, the LP with its cuts (solved beside the
    search, which has no use for it). A roster that meets it is optimal."""
    if result.status == Status.INTERRUPTED:
        return
    if better is not None and better > result.best_bound:
        result.best_bound = better
        result.gap = relative_gap(result.objective, better)
    if result.objective <= result.best_bound + 1e-6:
        result.status = Status.OPTIMAL
        result.best_bound = result.objective


# -- a whole week in one model ------------------------------------------------------------------


def _whole_week(ctx: _Context, first: FirstRoster) -> Result:
    problem, b, o = ctx.problem, ctx.budget, ctx.options
    # bound: the search uses it (progress, a floor to stop at)
    relaxed = (relaxation_bound(problem) if first.lp is not None else None) or first.relaxed
    first.lp = None
    floor = max(relaxed or 0.0, peak_by_peak_bound(problem))
    rm = RosterModel(problem, with_cuts=problem.pairs <= CUTS_MAX_PAIRS)
    hint = rm.values_of(first.pairs)
    greedy_objective, _ = rm.evaluate(list(hint))
    source = "greedy"
    ctx.emit("greedy", greedy_objective, floor)
    build_time = b.elapsed()
    t1 = time.monotonic()
    if not o.lexicographic and o.polish > 0:
        hint, source = polish(ctx, rm, first.pairs, hint, greedy_objective, floor)
    ctx.interrupted = ctx.interrupted or requested()  # a stop asked for while the model was built
    rm.add_hint(hint)
    if not o.lexicographic and not ctx.interrupted and o.cover > 0:
        hint, source = coverage_model(ctx, rm, hint, source)
    log.info("model built in %.2fs: %s; greedy objective %.1f", build_time, rm.size, greedy_objective)
    raw, hint, trace = weighted_model(ctx, rm, hint, floor)
    solve_time = time.monotonic() - t1
    if raw.values is not None and not ctx.interrupted:
        values, source = raw.values, "cp-sat"
    else:  # interrupted (raw.values is the hint), or the search found nothing better in time
        values = cast(list[int], raw.values) if ctx.interrupted else hint  # interrupted: raw.values is the hint
    assignments = rm.assignments(values)
    swapped = None
    # the exchange pass, unless the roster is proven optimal or the clock already ended the search
    if not ctx.interrupted and raw.status not in (Status.OPTIMAL, Status.TIME_LIMIT) and not b.clock_cut:
        assignments, swapped = exchange(problem, assignments, passes=EXCHANGE_PASSES, stop=requested,
                                        deadline=b.deadline)
        ctx.interrupted = swapped.stopped
        b.cut(swapped.clock_cut, "exchange")
        values = rm.values_of(assignments)
    objective, terms = rm.evaluate(values)
    scale = rm.weight_scale
    bound = raw.bound / scale if raw.status != Status.INFEASIBLE else float("nan")
    if raw.status == Status.OPTIMAL:
        bound = objective
    elif not o.lexicographic and relaxed is not None:
        bound = max(bound, relaxed)
    status = raw.status
    if swapped is not None and swapped.stopped:
        status = Status.INTERRUPTED
    elif swapped is not None and swapped.clock_cut and status == Status.WORK_LIMIT:
        status = Status.TIME_LIMIT
    if status == Status.UNKNOWN:  # the last stage found nothing better in its budget: the roster is the hint's
        status = Status.WORK_LIMIT if b.work and not b.clock_cut else Status.TIME_LIMIT
    return Result(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound),
        wall_time=b.elapsed(),
        build_time=build_time,
        solve_time=solve_time,
        first_solution_time=first.seconds,
        assignments=assignments,
        terms=terms,
        size={**rm.size, "eligible_pairs": problem.pairs, "duties": len(problem.duties),
              "persons": len(problem.persons), **{f"{k}_constraints": v for k, v in rm.constraints.items()}},
        problem=problem,
        options=o,
        strategy="full",
        work_budgets=b.work,
        reproducible=raw.status == Status.OPTIMAL or (
            b.work is not None and not b.clock_cut and status != Status.INTERRUPTED),
        parameters=raw.parameters,
        source=source,
        greedy_objective=greedy_objective,
        shortfall_bound=shortfall_bound(problem),
        trace=trace,
        exchange=_exchange_summary(swapped),
        clock_cut_stages=b.cut_stages,
    )


def polish(ctx: _Context, rm: RosterModel, greedy: list[tuple[int, int]], hint: list[int],
           greedy_objective: float, floor: float) -> tuple[list[int], str]:
    """Neighbourhood search from the greedy roster, area by date (the week-spanning kinds'
    sub-models run slower than the modelled seconds that budget this stage); returns the hint
    for the model and its source."""
    b, o = ctx.budget, ctx.options
    share = o.polish * b.left()
    pairs, stats = improve(ctx.problem, greedy, deadline=b.deadline if b.work else time.monotonic() + share,
                           workers=o.workers, seed=o.seed,
                           on_progress=lambda _el, delta: ctx.emit("polish", greedy_objective + delta, floor),
                           work=_or_unlimited(b.of("polish_work")), seconds=_or_unlimited(b.of("polish_seconds")),
                           kinds=("area_day",))
    b.cut(stats.stopped_by == "time_limit", "polish")
    ctx.interrupted = stats.stopped_by == "interrupted"  # Ctrl-C or SIGTERM: return what we have
    better = rm.values_of(pairs)
    if rm.evaluate(list(better))[0] <= greedy_objective:
        return better, "lns"
    return hint, "greedy"


def coverage_model(ctx: _Context, rm: RosterModel, hint: list[int], source: str) -> tuple[list[int], str]:
    """CP-SAT on the coverage rules alone (``COVERAGE_RULES``) from ``hint``, for ``cover`` of
    the time left (with a budget: its work, on one worker, deterministic: CP-SAT's local search,
    or its default search on a model of at most ``SMALL_SUB_MODEL`` pairs).
    Its sparse objective lets local moves cross the plateaus the secondary terms wall off
    (benchmarks/README.md has the figures). Returns the better roster of the two by the full
    objective (the full objective restored) and its source."""
    b, o = ctx.budget, ctx.options
    work = b.of("cover")
    params = o.solver_params
    if b.work:
        small = ctx.problem.pairs <= SMALL_SUB_MODEL  # CP-SAT's default search proves these
        params = {**(params or {}), **({} if small else LOCAL_SEARCH)}
    left = b.left()
    values, status, used = rm.coverage_search(
        hint, time_limit=max(0.1, left if work is not None else o.cover * left), workers=1 if b.work else o.workers,
        seed=o.seed, extra=_with_work(params, work),
        on_progress=(lambda p: ctx.emit("coverage", p.objective / rm.weight_scale, 0.0)) if ctx.on_progress else None)
    b.cut(status not in (Status.OPTIMAL, Status.INTERRUPTED) and (work is None or used < 0.99 * work), "coverage")
    ctx.interrupted = status == Status.INTERRUPTED
    if values is not hint:
        hint, source = values, "cp-sat"
    rm.add_hint(hint)
    return hint, source


def weighted_model(ctx: _Context, rm: RosterModel, hint: list[int],
                   floor: float) -> tuple[RawOutcome, list[int], list[Progress]]:
    """The full model from ``hint`` on the rest of the budget. With a work budget (not
    lexicographic): CP-SAT's tree search and local search side by side (:func:`search_on_budget`);
    lexicographic: first the shortfall alone on half the budget, then everything with that
    shortfall held. Returns the outcome, the hint (the first level's roster when lexicographic)
    and the progress trace."""
    b, o = ctx.budget, ctx.options
    scale = rm.weight_scale
    remaining = b.left(0.5)
    work = b.of("full")
    params = o.solver_params
    if b.work and o.lexicographic:
        params = {**(params or {}), "interleave_search": o.workers > 1}
    trace: list[Progress] = []
    if o.lexicographic:
        shortfall = [p.var for p in rm.book.penalties if p.rule == "shortfall"]
        rm.model.minimize(sum(shortfall) if shortfall else 0)
        half = None if work is None else work / 2
        level = run(rm.model, time_limit=remaining / 2, workers=o.workers, seed=o.seed, extra=_with_work(params, half))
        b.cut(cut_by_clock(level, half), "lexicographic_shortfall")
        work = half
        trace += level.trace
        if level.values is not None:
            assert level.objective is not None  # a solution has its objective
            sum_le(rm.model, shortfall, [1] * len(shortfall), round(level.objective))
            hint = rm.values_of(rm.assignments(level.values))
            rm.add_hint(hint)
        rm.model.minimize(rm.objective.expr())
        remaining = b.left(0.5)
    ctx.interrupted = ctx.interrupted or requested()
    progress = None
    if ctx.on_progress is not None:
        progress = ((lambda p: ctx.emit("search", p.objective / scale, p.bound / scale)) if o.lexicographic
                    else (lambda p: ctx.emit("search", p.objective / scale, max(p.bound / scale, floor))))
    if ctx.interrupted:
        raw = RawOutcome(Status.INTERRUPTED, list(hint), None, floor * scale, 0.0, None)
    elif b.work and not o.lexicographic:
        # the full model's work budget sets both (_work_budgets)
        raw, cut = search_on_budget(rm, remaining, o.workers, o.seed, params, cast(float, work), cast(float, b.of("tree")),
                                    progress,
                                    stop_at=floor * scale if floor > 0 else None)
        b.cut(cut, "search")
    else:
        raw = run(rm.model, time_limit=remaining, workers=o.workers, seed=o.seed, on_progress=progress,
                  extra=_with_work(params, work))
        b.cut(cut_by_clock(raw, work), "search")
    return raw, hint, trace + raw.trace


def _work_budgets(work_limit: float | str | None, time_limit: float, strategy: str, lexicographic: bool,
                  polish: float, cover: float, small: bool = False, pairs: int = 0) -> dict[str, float | None] | None:
    """The budget of each stage (None: the clock alone). A number: deterministic seconds, split in
    the stages' shares. ``"auto"``: the neighbourhood search by modelled seconds
    (``scheduler.lns.SECONDS_PER_WORK``), the CP-SAT stages by deterministic seconds, each its rate
    in :data:`AUTO_WORK_RATE` times its share of ``time_limit`` (a district's: of ``time_limit``
    less :data:`SETUP_PER_PAIR` per pair); ``small``: the coverage stage runs CP-SAT's default
    search (a model of at most ``SMALL_SUB_MODEL`` pairs), not its local search."""
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
                    "coverage_lns": round(hoods * w, 3), "lns_work": round(rest * w, 3), "lns_seconds": None,
                    "exchange_passes": EXCHANGE_PASSES}
        # the set-up and the exchange pass (Python, and CP-SAT loading its model) take longer on a
        # machine the calibration found slower than the reference one
        speed = machine_speed()
        search = max(0.25 * time_limit, time_limit - SETUP_PER_PAIR * pairs / speed)
        # the exchange's time comes out of the neighbourhoods' share, never the coverage stage's
        # (on a short-staffed district the first phase's every second fills seats)
        # (and it is skipped where that share cannot pay for it: a short limit on a large district)
        passes = EXCHANGE_PASSES if EXCHANGE_PASSES * EXCHANGE_PER_PAIR * pairs / speed <= rest * search else 0
        exchange_seconds = passes * EXCHANGE_PER_PAIR * pairs / speed
        return {"search_seconds": round(search - exchange_seconds, 3), "exchange_passes": passes,
                "exchange_planned": round(exchange_seconds, 3),
                "coverage_first": round(auto_rate("coverage_first") * first * search, 3),
                "coverage_second": round(auto_rate("coverage_second") * second * search, 3),
                "coverage_lns": round(auto_rate("district_lns") * hoods * search, 3),
                "lns_work": None,
                "lns_seconds": round(auto_rate("district_lns") * max(0.0, rest * search - exchange_seconds), 3)}
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
    """A model on a work budget (the full model's last stage, each repair stage, the staffing
    search): CP-SAT's tree search (the bound, and a proof of optimality; it has the cuts) and its
    local search (the roster) side by side, one worker each (the tree search gets the workers
    beyond two, interleaved); one worker: the tree search, then, unless it proved the optimum, the
    local search from its roster with half of ``work``. ``work`` and ``tree_work``: the two
    searches' budgets; ``stop_at``: a proven floor (scaled), a roster reaching it ends a search as
    optimal. Returns the outcome (the tree search's when it proves the optimum, else the better
    roster; the bound is the tree search's) and whether the clock cut a search short. Every
    choice depends on the searches' results only."""
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
        chosen = min(found, key=lambda o: cast(float, o.objective)) if found else tree_out  # a solution's objective
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
