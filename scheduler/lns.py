"""Large-neighbourhood search, for instances too large for one model.

Start from a valid roster; draw a neighbourhood (a set of duties) by an adaptive roulette wheel
among three kinds: an area's schools on one date (:mod:`scheduler.neighbourhoods`), a school and its
nearest schools over the whole week, and a duty left short with every duty of the people who
could fill it (so a person's week can move from one day or school to another, which the first kind
never allows). Build its exact sub-model with everything else fixed, hint it with the current
roster and let CP-SAT improve it; the total of the ``hold`` rules (the shortfall, once the
coverage stage has settled it) may not rise. A change is kept only when the sub-model's exact
objective drops, which is the whole roster's objective dropping by the same amount. A kind's
weight follows its recent success; its size grows after a sub-solve that proved its optimum and
shrinks after one that found nothing.

Determinism: the draws come from a generator seeded by ``seed`` and every sub-solve is
single-threaded with a deterministic time limit, so a seed fully determines the roster when the
search ends by itself or by its work budget; a run cut short by the wall-clock limit returns the
best roster so far. With two or more workers, two neighbourhoods with no person in common are
solved at once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from scheduler.cpsat import RosterModel
from scheduler.cpsat.solver import run
from scheduler.duties import Problem
from scheduler.neighbourhoods import Neighbourhood, SubProblem, neighbourhoods, restrict
from scheduler.search import Budget, Outcome, SearchStats, Wheel, disjoint, run_search

log = logging.getLogger("schoolpost")

#: CP-SAT parameters of one sub-solve: its local search from the hint (measured far better than
#: tree search on these sub-models, see benchmarks/README.md), for a fixed deterministic time
SUB_PARAMETERS = {"use_ls_only": True, "max_deterministic_time": 0.75}
#: the same for the first stage of a sub-solve, on the coverage rules alone
COVER_PARAMETERS = {"use_ls_only": True, "max_deterministic_time": 0.75}
#: sub-models up to this many (person, duty) pairs are solved by the default search instead, which
#: usually proves them optimal well within the same deterministic time
SMALL_SUB_MODEL = 2_000
#: a model of one sub-solve's wall time from deterministic quantities only (its CP-SAT
#: deterministic seconds and its model's variables), fitted on the reference 2-core machine (ten
#: schools and district-bincheng, one worker; benchmarks/README.md). A budget in these modelled
#: seconds (``improve(seconds=)``) stops the search at the same point on every run, near the same
#: wall time as the clock would
ATTEMPT_SECONDS, SECONDS_PER_WORK, SECONDS_PER_VARIABLE = 0.05, 1.8, 26e-6


#: the search's statistics (the shared search loop's)
LnsStats = SearchStats


def _attempt(problem: Problem, hood: Neighbourhood, roster: dict[int, set[int]], seed: int,
             time_left: float, work_left: float = math.inf, seconds_left: float = math.inf,
             hold: tuple[str, ...] = (), rules: tuple[str, ...] | None = None, sub_work: float | None = None,
             ) -> tuple[SubProblem, list[tuple[int, int]], float, bool, float, float, bool] | None:
    """Solve one neighbourhood within ``work_left`` deterministic seconds and ``seconds_left``
    modelled seconds (and ``time_left`` wall seconds), the total of the ``hold`` rules kept at most
    what it is; returns (sub, new local pairs on free duties, delta, interrupted, work used,
    modelled seconds, whether the sub-solve proved its optimum). ``rules``: the soft rules of the
    sub-model's objective (None: all of them); ``sub_work``: the deterministic budget of each
    CP-SAT run of the sub-solve, small sub-models included (None: the parameters' own)."""
    sub = restrict(problem, set(hood.duties), roster)
    if not any(sub.problem.eligible):
        return None

    def capped(params: dict) -> dict:
        limit = params["max_deterministic_time"] if sub_work is None else sub_work
        return {**params, "max_deterministic_time": max(0.01, min(limit, work_left))}

    rm = RosterModel(sub.problem, rules=rules, with_cuts=False)  # a local search: the bound is not its job
    size = len(rm.model.proto.variables)

    def modelled(work: float) -> float:
        return ATTEMPT_SECONDS + SECONDS_PER_WORK * work + SECONDS_PER_VARIABLE * size

    # the last sub-solve of a budget gets what is left of it, not a whole sub-solve's (one sub-solve
    # of a 6-school model is about 3.4 modelled seconds: a 1 s budget would end 2.4 s late)
    work_left = min(work_left, (seconds_left - modelled(0.0)) / SECONDS_PER_WORK)
    local_d = {g: i for i, g in enumerate(sub.duties)}
    current = [(lp, local_d[d]) for lp, gp in enumerate(sub.persons) for d in roster.get(gp, ()) if d in local_d]
    values = rm.values_of(current)
    before, terms = rm.evaluate(list(values))
    if hold:  # coverage, once settled, never gets worse (the hint meets it)
        rm.hold(hold, sum(terms[r] for r in hold))
    rm.add_hint(values)
    if rm.xv.count > SMALL_SUB_MODEL:
        # two local searches: on the coverage rules alone, then on the full objective from the
        # better roster of the two (district, 60 s: 1,477,940 -> 1,348,953; benchmarks/README.md)
        values, status, used = rm.coverage_search(values, time_limit=max(0.05, time_left), workers=1, seed=seed,
                                                  extra=capped(COVER_PARAMETERS))
        if status == "interrupted":
            return sub, [], 0.0, True, used, modelled(used), False
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
    proved = raw.status == "optimal"
    if after >= before - 1e-9:
        return sub, [], 0.0, interrupted, used, modelled(used), proved
    pairs = [(p, d) for p, d in rm.assignments(final) if d in sub.free]
    return sub, pairs, after - before, interrupted, used, modelled(used), proved


def _apply(sub: SubProblem, pairs: list[tuple[int, int]], roster: dict[int, set[int]]) -> None:
    free = {sub.duties[d] for d in sub.free}
    for gp in sub.persons:
        if gp in roster:
            roster[gp] -= free
    for lp, ld in pairs:
        roster.setdefault(sub.persons[lp], set()).add(sub.duties[ld])


#: the neighbourhood kinds (see :func:`improve`)
KINDS = ("area_day", "schools_week", "gap_people")
#: a week-spanning neighbourhood's first size, in free (person, duty) pairs; it grows by
#: ``GROW`` after a sub-solve proved its optimum and shrinks by ``SHRINK`` after one that ran out
#: of budget without a better roster, between ``MIN_PAIRS`` and ``MAX_PAIRS``
FIRST_PAIRS, MIN_PAIRS, MAX_PAIRS, GROW, SHRINK = 3_000, 800, 30_000, 1.25, 0.85
#: roulette wheel: a kind's weight moves to ``DECAY`` x weight + (1 - ``DECAY``) x reward, the
#: reward being ``REWARD_BETTER`` when the sub-solve improved the roster, else ``REWARD_NONE``
DECAY, REWARD_BETTER, REWARD_NONE, MIN_WEIGHT = 0.8, 1.0, 0.05, 0.05


class _Chooser:
    """Neighbourhoods of three kinds, drawn by the shared adaptive roulette wheel
    (:class:`scheduler.search.Wheel`): ``area_day`` (an area's schools on one date, worst
    first), ``schools_week`` (a school and its nearest schools over the whole week: a person's
    days at them can trade places) and ``gap_people`` (a duty left short, and every duty of the
    people who could fill it, so one of them can give up another duty for it). Every choice
    depends on the roster and a seeded generator only."""

    def __init__(self, problem: Problem, area_hoods: list[Neighbourhood], seed: int, shortfall_only: bool = False):
        import random

        self.problem = problem
        self.shortfall_only = shortfall_only  # gaps are seats below min only (the coverage stage)
        self.rng = random.Random(seed)
        self.wheel = Wheel(KINDS, self.rng, first_size=FIRST_PAIRS, min_size=MIN_PAIRS, max_size=MAX_PAIRS,
                           grow=GROW, shrink=SHRINK, decay=DECAY, better=REWARD_BETTER, none=REWARD_NONE,
                           min_weight=MIN_WEIGHT)
        self.area_hoods = area_hoods
        self.area_queue: list[Neighbourhood] = []
        self.eligible_on = problem.candidates
        self.count = [len(people) for people in self.eligible_on]
        self.duties_of_school: dict[str, list[int]] = {}
        for d in problem.duties:
            if d.kind == "post":
                self.duties_of_school.setdefault(d.school_id, []).append(d.index)
        self.where = {school.id: school.location for school in problem.instance.schools}
        self.schools = sorted(self.duties_of_school)
        #: a post duty -> every duty of its school peak: a neighbourhood takes whole school peaks,
        #: so its sub-model's share and leader terms are the roster's own (exact deltas)
        self.peak_of: dict[int, tuple] = {}
        self.peak_duties: dict[tuple, list[int]] = {}
        for d in problem.duties:
            if d.kind == "post":
                key = (d.school_id, d.date, d.peak)
                self.peak_of[d.index] = key
                self.peak_duties.setdefault(key, []).append(d.index)
        if not self.schools:
            self.wheel.weights["schools_week"] = 0.0

    def pick(self, context: tuple[dict[int, set[int]], dict[int, list[int]]]) -> tuple[str, Neighbourhood] | None:
        roster, staff = context
        kind = self.wheel.draw()
        hood = getattr(self, kind)(roster, staff)
        if hood is None and kind != "area_day":
            kind, hood = "area_day", self.area_day(roster, staff)
        return (kind, hood) if hood is not None else None

    def putback(self, kind: str, hood: Neighbourhood) -> None:
        if kind == "area_day":
            self.area_queue.insert(0, hood)  # its turn comes next, not never

    def area_day(self, roster, staff) -> Neighbourhood | None:
        if not self.area_queue:
            self.area_queue = _worst_first(self.problem, self.area_hoods, roster)
        return self.area_queue.pop(0) if self.area_queue else None

    def schools_week(self, roster, staff) -> Neighbourhood | None:
        from models.instance import haversine_km

        seed_school = self.schools[self.rng.randrange(len(self.schools))]
        here = self.where[seed_school]
        near = sorted(self.schools, key=lambda s: (haversine_km(here, self.where[s]), s))
        duties: list[int] = []
        pairs = 0
        for s in near:
            ds = self.duties_of_school[s]
            duties += ds
            pairs += sum(self.count[d] for d in ds)
            if pairs >= self.wheel.size["schools_week"]:
                break
        return Neighbourhood(f"week of {len(duties)} duties near {seed_school}", tuple(sorted(duties)))

    def whole_peaks(self, duties: list[int]) -> list[int]:
        """``duties`` with every other post duty of their school peaks, in order."""
        out: list[int] = []
        for d in duties:
            key = self.peak_of.get(d)
            out.extend(self.peak_duties[key] if key is not None else [d])
        return out

    def gap_people(self, roster, staff) -> Neighbourhood | None:
        short = [d.index for d in self.problem.duties if d.kind != "context" and (
            len(staff.get(d.index, [])) < d.min if self.shortfall_only else _missing(self.problem, d, staff))]
        if not short:
            return None
        gap = short[self.rng.randrange(len(short))]
        people = [p for p in self.eligible_on[gap]]
        self.rng.shuffle(people)
        duties: set[int] = set()
        pairs = 0
        for d in self.whole_peaks([gap]):
            duties.add(d)
            pairs += self.count[d]
        for p in people:
            for d in self.whole_peaks(sorted(roster.get(p, ()))):
                if d not in duties:
                    duties.add(d)
                    pairs += self.count[d]
            if pairs >= self.wheel.size["gap_people"]:
                break
        return Neighbourhood(f"people who could serve duty {gap}", tuple(sorted(duties)))


def _missing(problem: Problem, d, staff: dict[int, list[int]]) -> bool:
    """The duty misses people, police or a skill below its demand."""
    people = staff.get(d.index, [])
    if len(people) < d.min:
        return True
    if d.min_police and sum(1 for p in people if problem.persons[p].role == "police") < d.min_police:
        return True
    return any(sum(1 for p in people if skill in problem.persons[p].skills) < k for skill, k in d.skills.items())


def improve(problem: Problem, pairs: list[tuple[int, int]], *, deadline: float, workers: int = 1, seed: int = 0,
            on_progress: Callable[[float, float], None] | None = None,
            work: float = math.inf, seconds: float = math.inf, hold: tuple[str, ...] = ("shortfall",),
            kinds: tuple[str, ...] = KINDS, rules: tuple[str, ...] | None = None, sub_work: float | None = None,
            ) -> tuple[list[tuple[int, int]], LnsStats]:
    """Improve a valid roster until no neighbourhood improves (as many attempts in a row as
    there are area-by-date neighbourhoods, at least 30), the ``work`` budget
    (deterministic seconds of the sub-solves), the ``seconds`` budget (modelled seconds: see
    :data:`SECONDS_PER_WORK`; two sub-solves at once count the longer) or the wall-clock
    ``deadline``, whichever comes first. ``hold``: rules whose total never rises (each sub-model
    keeps its own total of them at most what it was: coverage, once settled, stays). ``kinds``:
    the neighbourhood kinds to draw from; ``rules``: the soft rules of the objective (None: all;
    ``("shortfall",)`` in the coverage stage); ``sub_work``: see :func:`_attempt`. Everything but
    the deadline is a function of the input, the seed and ``workers``: a run that ends by a budget
    is reproducible (``LnsStats.reproducible``)."""
    roster: dict[int, set[int]] = {}
    for p, d in pairs:
        roster.setdefault(p, set()).add(d)
    chooser = _Chooser(problem, neighbourhoods(problem), seed, shortfall_only=rules == ("shortfall",))
    for k in KINDS:
        if k not in kinds:
            chooser.wheel.weights[k] = 0.0

    def people_of(hood: Neighbourhood) -> set:
        people = {p for d in hood.duties for p in chooser.eligible_on[d]}
        groups = {(problem.persons[p].unit, problem.persons[p].role) for p in people}
        return people | groups  # parallel neighbourhoods share no person and no fairness group

    def prepare() -> tuple[dict[int, set[int]], dict[int, list[int]]]:
        staff: dict[int, list[int]] = {}
        for p, ds in roster.items():
            for d in ds:
                staff.setdefault(d, []).append(p)
        return roster, staff

    def attempt(hood: Neighbourhood, sub_seed: int, left: float, work_left: float, seconds_left: float
                ) -> Outcome | None:
        out = _attempt(problem, hood, roster, sub_seed, left, work_left, seconds_left, hold, rules, sub_work)
        if out is None:
            return None
        sub, new_pairs, delta, interrupted, used, modelled, proved = out
        return Outcome(delta, used, modelled, proved, interrupted, (sub, new_pairs))

    def apply(kind: str, out: Outcome) -> float:
        sub, new_pairs = out.change
        _apply(sub, new_pairs, roster)  # parallel neighbourhoods share no person: the deltas add up
        return out.delta

    budget = Budget(work=work, seconds=seconds, deadline=deadline, patience=max(30, len(chooser.area_hoods)))
    stats = run_search(chooser, attempt, apply, budget=budget, workers=workers, seed=seed, prepare=prepare,
                       conflict=disjoint(people_of), on_progress=on_progress)
    stats.rounds = stats.solved
    log.info("LNS: %d of %d neighbourhoods improved, delta %.1f, by kind %s", stats.improved, stats.solved,
             stats.delta, stats.kinds)
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
