"""Coverage first: the fewest people missing below ``min`` over the whole week and district.

SPEC puts shortfall before every other soft term. Its first phase minimises the ``shortfall``
term alone on a model of every eligible pair (hard rules exact, one penalty per duty), from a
valid roster, by CP-SAT's local search on one worker without presolve. On a model of 300,000
pairs presolve costs about 40 s before the search starts; without it the local search moves a
person's duty from one day or school to another wherever the weekly and daily limits allow, which
the area-by-day neighbourhoods never could (benchmarks/README.md has the figures). Where it
stalls short of the bound, neighbourhoods on the shortfall alone follow when given a budget
(:mod:`scheduler.lns`); then, with the shortfall held, a second phase lowers the other coverage
rules by their weights (police, skills, the professional share and leaders missing) by the same
local search over the whole district and week (the share where every seat is filled). That phase moves a professional's duty from one
school or day to another anywhere in the district at once, which neighbourhoods of a few schools
cannot: on generated districts it lowers the share shortfall more in 10 s than the neighbourhood
search does in 30 s (benchmarks/README.md, session 11).

Where people are short (a positive bound) a min-cost flow over the whole district and week
(:mod:`scheduler.cpsat.flow`) first fills the seats that chains of moves can fill, in about 2 s
where the local search takes a roster per gap; it runs again wherever the local search stalls
above the bound.

Its lower bound is the aggregated relaxation's LP with the shortfall alone as objective
(:mod:`scheduler.cpsat.bound`): people counted per unit and role, within their daily and weekly
caps; rounded up, since the shortfall is a whole number. A roster that meets it has the fewest
gaps these people allow, and the stage stops there.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scheduler.cpsat import RosterModel
from scheduler.cpsat.bound import RelaxationLP
from scheduler.cpsat.flow import flow_roster, flow_shortfall_bound
from scheduler.cpsat.model import COVERAGE_RULES, integer_weights
from scheduler.cpsat.solver import Progress, Status, run
from scheduler.duties import Problem
from scheduler.greedy import fill_free_seats

log = logging.getLogger("schoolpost")

#: CP-SAT parameters of the coverage stage: its violation local search alone, on one worker (a
#: deterministic search), without presolve (see the module docstring), with the "alternative" pool
#: empty: CP-SAT would keep every roster found there (2.5 MB each, 1.5 GB on a district's search;
#: benchmarks/README.md)
COVERAGE_SEARCH = {"use_ls_only": True, "cp_model_presolve": False, "solution_pool_size": 1,
                   "alternative_pool_size": 0}


def roster_shortfall(problem: Problem, pairs: list[tuple[int, int]]) -> int:
    """The ``shortfall`` term of a roster: people missing below ``min``, summed over the duties."""
    staffed = Counter(d for _, d in pairs)
    return sum(max(0, d.min - staffed[d.index]) for d in problem.duties if d.kind != "context")


def shortfall_floor(problem: Problem) -> int:
    """People missing below ``min`` that no roster can avoid, duty by duty: a duty with fewer
    eligible people than its ``min`` misses at least the difference."""
    may = problem.candidates
    return sum(max(0, d.min - len(may[d.index])) for d in problem.duties if d.kind != "context")


def shortfall_bound(problem: Problem) -> int:
    """A proven lower bound on the ``shortfall`` term of every roster of ``problem``: the largest
    of the relaxation's LP optimum (rounded up), the maximum flow's
    (:func:`scheduler.cpsat.flow.flow_shortfall_bound`) and :func:`shortfall_floor`."""
    floor = max(shortfall_floor(problem), flow_shortfall_bound(problem))
    lp = RelaxationLP(problem, weights={"shortfall": 1})
    value = lp.bound()
    if value is None:
        return floor
    return max(floor, math.ceil(value - 1e-6))


def _flow_fill(problem: Problem, pairs: list[tuple[int, int]], short: int) -> tuple[list[tuple[int, int]], int]:
    """The roster of :func:`scheduler.cpsat.flow.flow_roster` from ``pairs``, anyone free then
    taking a seat below ``min``, and its shortfall if it has fewer people missing than ``short``
    (``pairs``' shortfall); else ``pairs`` and ``short``."""
    t = time.monotonic()
    flowed = fill_free_seats(problem, flow_roster(problem, pairs))
    flowed_short = roster_shortfall(problem, flowed)
    log.info("coverage flow: %d -> %d missing in %.1f s", short, flowed_short, time.monotonic() - t)
    return (flowed, flowed_short) if flowed_short < short else (pairs, short)


@dataclass
class CoverageOutcome:
    pairs: list[tuple[int, int]]  # the roster: the search's if it has fewer people missing, else the start's
    shortfall: int  # people missing below min in ``pairs``
    start_shortfall: int
    status: Status  # OPTIMAL (the bound is met) | WORK_LIMIT | TIME_LIMIT | INTERRUPTED
    work: float  # CP-SAT deterministic seconds used
    clock_cut: bool  # the wall clock, not the work budget, ended the search
    runs: int = 0  # CP-SAT runs (each loads its model): one a phase
    rosters: int = 0  # rosters the runs found (each costs a pass over the model)
    second_work: float = 0.0  # of ``work``, the second phase's
    flows: int = 0  # runs of the flow (scheduler.cpsat.flow), where people are short or the search stalled


#: the rules whose gaps are real (gaps.csv severity ``gap``): the second phase's objective where
#: seats are left to fill
GAP_RULES = ("shortfall", "police_shortfall", "skill_shortfall", "leader_missing")


#: without a work budget: the first phase's share of the stage's time limit
FIRST_OF_CLOCK = 0.8


def cover(problem: Problem, pairs: list[tuple[int, int]], bound: int, *,
          work: tuple[float, float, float] | None, time_limit: float, seed: int = 0, workers: int = 1,
          carry: float = 1.0, on_progress: Callable[[Progress], None] | None = None) -> CoverageOutcome:
    """From the valid roster ``pairs``: first minimise the people missing below ``min`` until
    ``bound`` is met or the first phase's ``work`` budget (``work[0]`` deterministic seconds;
    None: the clock alone) is spent; where the bound is not met, neighbourhoods on the shortfall
    alone for ``work[2]`` modelled seconds (:mod:`scheduler.lns`); then, with that shortfall held,
    the other :data:`~scheduler.cpsat.model.COVERAGE_RULES` by their weights (police, skills,
    share, leaders; the share only where every seat can be filled, a ``bound`` of 0, and is) for
    ``work[1]`` plus ``carry`` times what the first phase left of ``work[0]`` (it meets its bound
    early wherever the staff suffices; ``carry`` converts its deterministic seconds into the second
    phase's, which run at another rate). ``time_limit`` caps the whole stage in seconds (without a
    work budget the first phase takes :data:`FIRST_OF_CLOCK` of it). ``on_progress`` gets the
    shortfall (people) of each better roster of the first phase."""
    t0 = time.monotonic()
    start_short = roster_shortfall(problem, pairs)
    weights, weight_scale = integer_weights(problem.instance.policy.weights.model_dump())
    scale = weights["shortfall"] * weight_scale  # the objective's units per person missing
    report = None
    if on_progress is not None:
        def report(p: Progress) -> None:
            on_progress(Progress(p.elapsed, p.objective / scale, bound, "coverage"))

    runs = rosters = 0

    def search(values: list[int], budget: float | None, seconds: float, **options):
        """CP-SAT's local search from ``values`` (a complete solution vector) for ``budget``
        deterministic seconds (None: the clock alone) and at most ``seconds``."""
        nonlocal runs, rosters
        rm.add_hint(values)
        params: dict[str, Any] = dict(COVERAGE_SEARCH)
        if budget is not None:
            params["max_deterministic_time"] = max(0.01, budget)
        t = time.monotonic()
        raw = run(rm.model, time_limit=max(0.1, seconds), workers=1, seed=seed, extra=params, **options)
        runs, rosters = runs + 1, rosters + len(raw.trace)
        log.info("coverage run %d: %.2f of %s deterministic s in %.1f s, %d rosters, %s", runs,
                 raw.deterministic_time, budget, time.monotonic() - t, len(raw.trace), raw.status)
        cut = raw.status not in (Status.OPTIMAL, Status.INTERRUPTED, Status.INFEASIBLE) and (
            budget is None or raw.deterministic_time < 0.99 * budget)
        return raw, cut

    short, assigned, used, clock_cut, status = start_short, list(pairs), 0.0, False, Status.OPTIMAL
    flows = 0  # flow_roster runs
    if bound > 0:
        # people are short: the gaps the greedy roster left that chains of moves can fill, by a
        # flow, before the local search (which fills them one roster at a time)
        assigned, short = _flow_fill(problem, assigned, short)
        flows += 1
    # one model for both phases. Where people are short (a positive bound) it has the real gaps'
    # rules only, and the second phase lowers police, skills and leaders: the share stays out while
    # seats can still be filled (short-staffed seed 7777 at 60 s: 459 police missing with the share,
    # 373 without). Tried and not kept: a first phase on a model of the shortfall alone (1,406
    # missing against 1,408, but 304 police and 132 skills missing against 250 and 67)
    rm = RosterModel(problem, rules=COVERAGE_RULES if bound == 0 else GAP_RULES, with_cuts=False)
    if short > bound:
        rm.model.minimize(rm.coverage_expr(("shortfall",)))
        # with no work budget (the clock alone) the first phase keeps a part of the time for the second
        raw, clock_cut = search(rm.values_of(assigned), None if work is None else work[0],
                                time_limit * (FIRST_OF_CLOCK if work is None else 1.0),
                                on_progress=report, stop_at=bound * scale)
        used += raw.deterministic_time
        status = (Status.INTERRUPTED if raw.status == Status.INTERRUPTED else Status.TIME_LIMIT if clock_cut
                  else Status.WORK_LIMIT)
        if raw.values is not None:
            found = rm.assignments(raw.values)
            found_short = roster_shortfall(problem, found)
            if found_short < short:
                assigned, short = found, found_short
        if short <= bound:
            status = Status.OPTIMAL
    if short > bound and status != Status.INTERRUPTED and not clock_cut and work is not None and work[2] > 0:
        # the local search has stalled short of the bound: neighbourhoods on the shortfall alone
        # (the people who could fill a gap with all their duties; schools over the whole week)
        from scheduler.lns import improve

        moved, stats = improve(problem, assigned, deadline=t0 + time_limit, workers=workers,
                               seed=seed, seconds=work[2], hold=(),
                               kinds=("gap_people", "schools_week"), rules=("shortfall",))
        if stats.improved:
            assigned = moved
            short = roster_shortfall(problem, assigned)
        if stats.stopped_by == "interrupted":
            status = Status.INTERRUPTED
        elif stats.stopped_by == "time_limit":
            status, clock_cut = Status.TIME_LIMIT, True
        if short <= bound:
            status = Status.OPTIMAL
    if short > bound and status != Status.INTERRUPTED:
        # the search has stalled short of the bound: the flow from its roster, kept if it fills more
        assigned, short = _flow_fill(problem, assigned, short)
        flows += 1
        if short <= bound:
            status = Status.OPTIMAL
    second_work = 0.0
    if status != Status.INTERRUPTED and (work is None or not clock_cut):
        # second phase: the other coverage rules, the shortfall held where the first phase left it
        rules = COVERAGE_RULES if short <= bound and bound == 0 else GAP_RULES
        rm.hold(("shortfall",), short)
        rm.model.minimize(rm.coverage_expr(rules))
        values = rm.values_of(assigned)
        before = rm.evaluate(values)[0]
        left = time_limit - (time.monotonic() - t0)
        # without a work budget it takes its share of the clock, not all that is left: the
        # neighbourhood search gets the rest
        budget = None if work is None else work[1] + carry * max(0.0, work[0] - used)
        raw, cut = search(values, budget,
                          left if work is not None else min(left, (1 - FIRST_OF_CLOCK) * time_limit))
        used += raw.deterministic_time
        second_work = raw.deterministic_time
        clock_cut |= cut
        if raw.status == Status.INTERRUPTED:
            status = Status.INTERRUPTED
        elif cut:
            status = Status.TIME_LIMIT
        if raw.values is not None:
            found = rm.assignments(raw.values)
            if rm.evaluate(rm.values_of(found))[0] < before:
                assigned = found
    if short > bound:  # a search ended by its budget may leave a seat that someone free could take
        assigned = fill_free_seats(problem, assigned)
        short = roster_shortfall(problem, assigned)
        if short <= bound and status != Status.INTERRUPTED:
            status = Status.OPTIMAL
    return CoverageOutcome(sorted(assigned), short, start_short, status, used, clock_cut, runs, rosters, second_work,
                           flows)
