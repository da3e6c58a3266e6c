"""Large-neighbourhood search over areas and dates, for instances too large for one model.

Start from a valid roster (the greedy one); take each neighbourhood in turn (an area's schools on
one date, see :mod:`scheduler.decompose`), build its exact sub-model with everything else fixed,
hint it with the current roster and let CP-SAT improve it. A change is kept only when the
sub-model's exact objective drops, which is the whole roster's objective dropping by the same
amount. Rounds repeat until a round changes nothing or time runs out.

Determinism: neighbourhoods come in a fixed order and each sub-solve is single-threaded with a
deterministic time limit, so a seed fully determines the roster when the search ends by itself
(no improving round); a run cut short by the wall-clock limit returns the best roster so far.
With two or more workers, two neighbourhoods with no person in common are solved at once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from scheduler.cpsat import RosterModel
from scheduler.cpsat.solver import run
from scheduler.decompose import Neighbourhood, SubProblem, neighbourhoods, restrict
from scheduler.duties import Problem
from scheduler.interrupt import on_signal, requested

log = logging.getLogger("schoolpost")

#: CP-SAT parameters of one sub-solve: its local search from the hint (measured far better than
#: tree search on these sub-models, see benchmarks/README.md), for a fixed deterministic time
SUB_PARAMETERS = {"use_ls_only": True, "max_deterministic_time": 0.75}
#: the same for the first stage of a sub-solve, on the coverage rules alone
COVER_PARAMETERS = {"use_ls_only": True, "max_deterministic_time": 0.75}
#: sub-models up to this many free variables are solved by the default search instead, which
#: usually proves them optimal well within the same deterministic time
SMALL_SUB_MODEL = 2_000
#: a model of one sub-solve's wall time from deterministic quantities only (its CP-SAT
#: deterministic seconds and its model's variables), fitted on this 2-core machine (ten schools
#: and district-bincheng, one worker: wall = 0.05 + 1.8 x deterministic s + 26 us x variables). A
#: budget in these modelled seconds (``improve(seconds=)``) stops the search at the same point on
#: every run, near the same wall time as the clock would
ATTEMPT_SECONDS, SECONDS_PER_WORK, SECONDS_PER_VARIABLE = 0.05, 1.8, 26e-6


@dataclass
class LnsStats:
    rounds: int = 0
    solved: int = 0
    improved: int = 0
    delta: float = 0.0  # sum of accepted changes of the objective (policy units)
    stopped_by: str = "converged"  # converged | max_rounds | work_limit | time_limit | interrupted
    history: list[tuple[float, float]] = field(default_factory=list)  # (elapsed, cumulative delta)
    #: deterministic time of the sub-solves (CP-SAT's count of work, about seconds)
    work: float = 0.0
    #: modelled seconds of the sub-solves (two at once count the longer)
    seconds: float = 0.0

    @property
    def reproducible(self) -> bool:
        """The search ended by itself or by its work budget, not by the clock or a signal: the
        same problem, roster, seed and workers give the same result."""
        return self.stopped_by in ("converged", "max_rounds", "work_limit")


def _attempt(problem: Problem, hood: Neighbourhood, roster: dict[int, set[int]], seed: int,
             time_left: float, work_left: float = math.inf, seconds_left: float = math.inf,
             ) -> tuple[SubProblem, list[tuple[int, int]], float, bool, float, float] | None:
    """Solve one neighbourhood within ``work_left`` deterministic seconds and ``seconds_left``
    modelled seconds (and ``time_left`` wall seconds); returns (sub, new local pairs on free duties,
    delta, interrupted, work used, modelled seconds)."""
    sub = restrict(problem, set(hood.duties), roster)
    if not any(sub.problem.eligible):
        return None

    def capped(params: dict) -> dict:
        return {**params, "max_deterministic_time": max(0.01, min(params["max_deterministic_time"], work_left))}

    rm = RosterModel(sub.problem, with_cuts=False)  # a local search: the bound is not its job
    size = len(rm.model.proto.variables)

    def modelled(work: float) -> float:
        return ATTEMPT_SECONDS + SECONDS_PER_WORK * work + SECONDS_PER_VARIABLE * size

    # the last sub-solve of a budget gets what is left of it, not a whole sub-solve's (one sub-solve
    # of a 6-school model is about 3.4 modelled seconds: a 1 s budget would end 2.4 s late)
    work_left = min(work_left, (seconds_left - modelled(0.0)) / SECONDS_PER_WORK)
    local_d = {g: i for i, g in enumerate(sub.duties)}
    current = [(lp, local_d[d]) for lp, gp in enumerate(sub.persons) for d in roster.get(gp, ()) if d in local_d]
    values = rm.values_of(current)
    before, _ = rm.evaluate(list(values))
    rm.add_hint(values)
    if rm.xv.count > SMALL_SUB_MODEL:
        # two local searches: on the coverage rules alone, then on the full objective from the
        # better roster of the two (district, 60 s: 1,477,940 -> 1,348,953; benchmarks/README.md)
        values, status, used = rm.coverage_search(values, time_limit=max(0.05, time_left), workers=1, seed=seed,
                                                  extra=capped(COVER_PARAMETERS))
        if status == "interrupted":
            return sub, [], 0.0, True, used, modelled(used)
        work_left -= used
        rm.add_hint(values)
        params = SUB_PARAMETERS
    else:
        used, params = 0.0, {"max_deterministic_time": 1.5}
    raw = run(rm.model, time_limit=max(0.05, time_left), workers=1, seed=seed, extra=capped(params))
    used += raw.deterministic_time
    interrupted = raw.status == "interrupted"
    final = raw.values if raw.values is not None else values
    after, _ = rm.evaluate(list(final))
    if after >= before - 1e-9:
        return sub, [], 0.0, interrupted, used, modelled(used)
    pairs = [(p, d) for p, d in rm.assignments(final) if d in sub.free]
    return sub, pairs, after - before, interrupted, used, modelled(used)


def _apply(sub: SubProblem, pairs: list[tuple[int, int]], roster: dict[int, set[int]]) -> None:
    free = {sub.duties[d] for d in sub.free}
    for gp in sub.persons:
        if gp in roster:
            roster[gp] -= free
    for lp, ld in pairs:
        roster.setdefault(sub.persons[lp], set()).add(sub.duties[ld])


def improve(problem: Problem, pairs: list[tuple[int, int]], *, deadline: float, workers: int = 1, seed: int = 0,
            max_rounds: int = 20, on_progress: Callable[[float, float], None] | None = None,
            work: float = math.inf, seconds: float = math.inf) -> tuple[list[tuple[int, int]], LnsStats]:
    """Improve a valid roster until no neighbourhood improves, ``max_rounds``, the ``work`` budget
    (deterministic seconds of the sub-solves), the ``seconds`` budget (modelled seconds: see
    :data:`SECONDS_PER_WORK`; two sub-solves at once count the longer) or the wall-clock
    ``deadline``, whichever comes first. Everything but the deadline is a function of the input,
    the seed and ``workers``: a run that ends by a budget is reproducible (``LnsStats.reproducible``)."""
    start = time.monotonic()
    roster: dict[int, set[int]] = {}
    for p, d in pairs:
        roster.setdefault(p, set()).add(d)
    hoods = neighbourhoods(problem)
    persons_of: dict[str, set] = {}
    for h in hoods:
        people = {p for p, el in enumerate(problem.eligible) if not set(h.duties).isdisjoint(el)}
        groups = {(problem.persons[p].unit, problem.persons[p].role) for p in people}
        persons_of[h.name] = people | groups  # parallel neighbourhoods share no person and no fairness group
    stats = LnsStats()
    pool = ThreadPoolExecutor(max_workers=2) if workers > 1 else None
    stop = threading.Event()
    with on_signal(stop.set):  # Ctrl-C, SIGTERM: stop; the handler chains to the command's (scheduler.interrupt)
        try:
            for rnd in range(max_rounds):
                stats.rounds = rnd + 1
                changed = 0
                i = 0
                hoods = _worst_first(problem, hoods, roster)
                while i < len(hoods):
                    if stop.is_set() or requested():
                        stats.stopped_by = "interrupted"
                        return _pairs(roster), stats
                    if stats.work >= work or stats.seconds >= seconds:
                        stats.stopped_by = "work_limit"
                        return _pairs(roster), stats
                    if time.monotonic() >= deadline:
                        stats.stopped_by = "time_limit"
                        return _pairs(roster), stats
                    batch = [hoods[i]]
                    if pool is not None and i + 1 < len(hoods) and persons_of[hoods[i].name].isdisjoint(
                            persons_of[hoods[i + 1].name]):
                        batch.append(hoods[i + 1])
                    left = deadline - time.monotonic()
                    seeds = [seed * 7919 + rnd * 104729 + i + k for k in range(len(batch))]
                    budget = (work - stats.work) / len(batch)  # shared by the batch's sub-solves
                    seconds_left = seconds - stats.seconds  # two at once count the longer: not shared
                    if len(batch) == 2:
                        futures = [pool.submit(_attempt, problem, h, roster, s, left, budget, seconds_left)
                                   for h, s in zip(batch, seeds)]
                        outcomes = [f.result() for f in futures]
                    else:
                        outcomes = [_attempt(problem, batch[0], roster, seeds[0], left, budget, seconds_left)]
                    stats.seconds += max((out[5] for out in outcomes if out is not None), default=0.0)
                    for out in outcomes:
                        if out is not None and out[3]:
                            stop.set()  # a sub-solve in this thread caught Ctrl-C or SIGTERM
                        if out is not None:
                            stats.work += out[4]
                        stats.solved += 1
                        if out is not None and out[2] < 0:
                            _apply(out[0], out[1], roster)
                            stats.improved += 1
                            stats.delta += out[2]
                            changed += 1
                    stats.history.append((time.monotonic() - start, stats.delta))
                    if on_progress is not None:
                        on_progress(time.monotonic() - start, stats.delta)
                    i += len(batch)
                log.info("LNS round %d: %d of %d neighbourhoods improved, delta %.1f", rnd + 1, changed, len(hoods),
                         stats.delta)
                if not changed:
                    stats.stopped_by = "converged"
                    break
            else:
                stats.stopped_by = "max_rounds"
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
    return _pairs(roster), stats


def _worst_first(problem: Problem, hoods: list[Neighbourhood], roster: dict[int, set[int]]) -> list[Neighbourhood]:
    """Neighbourhoods ordered by what they miss now (people and police short, weighted), so the
    time goes first where the gaps are; ties keep the fixed order."""
    w = problem.instance.policy.weights
    staff: dict[int, list[int]] = {}
    for p, ds in roster.items():
        for d in ds:
            staff.setdefault(d, []).append(p)

    def missing(h: Neighbourhood) -> float:
        total = 0.0
        for i in h.duties:
            d, people = problem.duties[i], staff.get(i, [])
            police = sum(1 for p in people if problem.persons[p].role == "police")
            total += w.shortfall * max(0, d.min - len(people)) + w.police_shortfall * max(0, d.min_police - police)
        return total

    order = {h.name: k for k, h in enumerate(hoods)}
    return sorted(hoods, key=lambda h: (-missing(h), order[h.name]))


def _pairs(roster: dict[int, set[int]]) -> list[tuple[int, int]]:
    return sorted((p, d) for p, ds in roster.items() for d in ds)
