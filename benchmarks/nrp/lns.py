"""The shift benchmark on the school engine's search: a first roster person by person, then
adaptive large-neighbourhood search (:mod:`scheduler.search`, the loop, budgets and wheel the school
engine uses) over sub-models of :class:`benchmarks.nrp.model.NrpModel`.

**First roster.** Every hard rule is a rule of one person, so a roster is valid when each row is.
The people are placed one after the other, each row valid on its own and aware of the cover the
people before left short: first by a walk over the days (:func:`greedy_row`: as densely as the
rules allow until the minimum minutes, on the types still short); for a person the walk cannot
place, by a one-person CP-SAT model whose cover terms count the people placed before; when that
finds nothing either (a year of nearly every possible day worked: Instances 22 and 23), with the
work days fixed to the densest pattern (:func:`dense_pattern`, dynamic programming) so that CP-SAT
only chooses the shifts. Instance24 (150 people, 364 days, 32 shift types) gets its first roster
in about a second.

**Neighbourhoods** (a set of free (person, day) cells; everything else fixed):

* ``staff``: a few people over the whole horizon (their weeks can move from day to day);
* ``days``: a window of days, everyone;
* ``block``: a few people over a window of days;
* ``shift``: a window of days, the cells working one shift type or off (that type's work can
  move between people and days);
* ``worst``: the cells around the worst cover penalty or the costliest request not met: the
  days near it, the people who could change it.

A sub-model's objective differs from the roster's by a constant, so its change is the roster's.
With two workers, two neighbourhoods with no cell in common are solved at once. When the first
changes the roster, the second's change is counted again on the new roster (they may share a
day's cover) and its people's rows are checked again (they may share a person, whose rules span
the horizon) by the independent evaluator; it is kept only if it is still valid and still better.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from scheduler.cpsat.solver import run
from scheduler.search import Budget, Outcome, SearchStats, Wheel, run_search

from .evaluate import evaluate
from .model import DEFAULT_READING, Free, NrpModel, Solution
from .reader import Instance, Staff

KINDS = ("staff", "days", "block", "shift", "worst")
#: sub-solves in a row without a better roster that end the search before its budget
PATIENCE = 2_000
#: draws for a second neighbourhood of a round that shares no cell with the first
TRIES = 4
#: CP-SAT parameters of a sub-solve (one worker, its default search from the hint)
SUB_PARAMETERS = {"max_deterministic_time": 0.5, "linearization_level": 2}
#: a neighbourhood's first size, its least and (times the roster's cells) largest, in free cells
FIRST_CELLS, MIN_CELLS, MAX_SHARE = 300, 30, 0.5
#: wall seconds of one sub-solve on the reference machine (scheduler/calibrate.py) modelled from
#: deterministic quantities (its CP-SAT work and its model's variables; fitted on Instances 8 and 12
#: under load, a refit on 5, 10 and 12 alone gave 1.14 s per work unit and 73e-6 s per variable on
#: this machine of calibration factor 1.3, about these constants on the reference machine), so that a budget in these seconds ends the search at the same point
#: on every run; the clock is only a guard
ATTEMPT_SECONDS, SECONDS_PER_WORK, SECONDS_PER_VARIABLE = 0.02, 1.4, 110e-6
#: share of the time limit given to the modelled budget (the rest is the clock's margin). Two
#: sub-solves at once count the longer of the two, but their models are built in one interpreter:
#: at 0.9, Instances 10 and 12 reached the clock at 60 s on two workers (benchmarks/nrp/README.md)
MARGIN = 0.75
#: a one-person model of the first roster (for a person the walk of :func:`greedy_row` does not
#: place): its deterministic time, and the same on the rules alone when it finds nothing
FIRST_PARAMETERS = {"max_deterministic_time": 0.5, "linearization_level": 2}
BARE_PARAMETERS = {"max_deterministic_time": 20.0}
#: walks of :func:`greedy_row` per person, and the modelled seconds of one person's walks
GREEDY_TRIES, GREEDY_SECONDS = 16, 0.02
#: an instance of at most this many (person, day, shift) cells gets each walked row improved by the
#: one-person model (with the walk as its hint): a far better start (Instance5: 7,149 -> about
#: 2,776; Instance12: 24,757 -> 8,818 in 2.7 s); Instance20 (39,000 cells) would take 46 s
POLISH_CELLS = 20_000


@dataclass
class Hood:
    name: str
    free: Free

    @property
    def people(self) -> set[str]:
        return {p for p, days in self.free.items() if days}

    @property
    def cells(self) -> int:
        return sum(len(days) for days in self.free.values())

    @property
    def cell_set(self) -> set[tuple[str, int]]:
        return {(p, d) for p, days in self.free.items() for d in days}


def rows_valid(inst: Instance, rows: Solution, reading: str) -> bool:
    """Every hard rule of the people in ``rows`` holds (the independent evaluator, on them alone)."""
    alone = dataclasses.replace(inst, staff=tuple(s for s in inst.staff if s.id in rows),
                                on_requests=(), off_requests=(), cover=())
    return evaluate(alone, rows, reading).violations == []


class Roster:
    """The current roster, its cover counts and its exact objective (requests and cover, as
    benchmarks/nrp/FORMAT.md counts them), kept up to date change by change."""

    def __init__(self, inst: Instance, solution: Solution):
        self.inst = inst
        self.version = 0  # changes made
        self.rows: Solution = {p.id: list(solution[p.id]) for p in inst.staff}
        self.cover = {(c.day, c.shift): c for c in inst.cover}
        self.on: dict[tuple[str, int], list[tuple[str, int]]] = {}
        self.off: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for r in inst.on_requests:
            self.on.setdefault((r.staff, r.day), []).append((r.shift, r.weight))
        for r in inst.off_requests:
            self.off.setdefault((r.staff, r.day), []).append((r.shift, r.weight))
        self.count: dict[tuple[int, str], int] = {}
        for row in self.rows.values():
            for d, t in enumerate(row):
                if t is not None:
                    self.count[d, t] = self.count.get((d, t), 0) + 1
        self.objective = sum(self._cell(p, d, self.rows[p][d]) for p, d in set(self.on) | set(self.off)) + sum(
            self._cover(key, self.count.get(key, 0)) for key in self.cover)

    def _cell(self, p: str, d: int, t: str | None) -> int:
        return (sum(w for s, w in self.on.get((p, d), ()) if s != t)
                + sum(w for s, w in self.off.get((p, d), ()) if s == t))

    def _cover(self, key: tuple[int, str], n: int) -> int:
        c = self.cover.get(key)
        if c is None:
            return 0
        return c.under_weight * max(0, c.requirement - n) + c.over_weight * max(0, n - c.requirement)

    def delta(self, change: dict[tuple[str, int], str | None]) -> int:
        """The objective's change if ``change`` ((person, day) -> new shift or None) were made."""
        total = 0
        moved: dict[tuple[int, str], int] = {}
        for (p, d), t in change.items():
            old = self.rows[p][d]
            if old == t:
                continue
            total += self._cell(p, d, t) - self._cell(p, d, old)
            if old is not None:
                moved[d, old] = moved.get((d, old), 0) - 1
            if t is not None:
                moved[d, t] = moved.get((d, t), 0) + 1
        for key, k in moved.items():
            n = self.count.get(key, 0)
            total += self._cover(key, n + k) - self._cover(key, n)
        return total

    def valid_after(self, change: dict[tuple[str, int], str | None], reading: str) -> bool:
        """Every hard rule of the people ``change`` touches holds after it (by the independent
        evaluator, on those people alone)."""
        people = {p for p, _ in change}
        rows = {p: list(self.rows[p]) for p in people}
        for (p, d), t in change.items():
            rows[p][d] = t
        return rows_valid(self.inst, rows, reading)

    def apply(self, change: dict[tuple[str, int], str | None]) -> int:
        self.version += 1
        delta = self.delta(change)
        for (p, d), t in change.items():
            old = self.rows[p][d]
            if old == t:
                continue
            if old is not None:
                self.count[d, old] -= 1
            if t is not None:
                self.count[d, t] = self.count.get((d, t), 0) + 1
            self.rows[p][d] = t
        self.objective += delta
        return delta


def greedy_row(inst: Instance, person: Staff, counts: dict[tuple[int, str], int], rng: random.Random,
               reading: str = DEFAULT_READING, jitter: float = 0.0, spare_weekends: bool = True,
               ) -> list[str | None] | None:
    """One person's row by a walk over the days: work as densely as the run rules, days off and
    weekends allow until the minimum minutes are reached, each worked day on an allowed type that
    is short there (``counts``: people per (day, shift) so far; ties broken by ``rng``). A start
    for the one-person model on instances where CP-SAT finds no row by itself (tight minutes over
    a year: Instance24); None when the walk breaks a rule (the caller tries again or without it).
    ``jitter``: the chance of ending a run or a day off early at each day it may end, and of taking
    a random allowed type (another walk for another try). ``spare_weekends``: work a weekend only
    when the weekdays left cannot give the minimum minutes (else whenever the rules allow)."""
    H, p = inst.horizon, person
    off = inst.days_off[p.id]
    types = [t for t in inst.shifts if p.max_shifts.get(t.id, H) > 0]
    if not types:
        return [None] * H
    need = {(c.day, c.shift): c.requirement for c in inst.cover}
    used = {t.id: 0 for t in types}
    row: list[str | None] = [None] * H
    minutes, weekends, run_len, working, prev = 0, set(), 0, False, None
    shortest = min(t.minutes for t in types)

    mean = sum(t.minutes for t in types) / len(types)
    #: weekdays still free to work from each day on: a weekend is worked only when they fall short
    weekdays_left = [0] * (H + 1)
    for d in range(H - 1, -1, -1):
        weekdays_left[d] = weekdays_left[d + 1] + (d % 7 < 5 and d not in off)

    def weekend_blocked(d: int) -> bool:
        if d % 7 < 5 or d // 7 in weekends:
            return False
        behind = p.min_total_minutes - minutes > weekdays_left[d] * mean * (1 - jitter)
        return len(weekends) >= p.max_weekends or (spare_weekends and not behind)

    def workable(d: int) -> bool:
        return d not in off and not weekend_blocked(d)

    for d in range(H):
        if working:
            go = run_len < p.max_consecutive_shifts and workable(d) and minutes + shortest <= p.max_total_minutes
            short = run_len < p.min_consecutive_shifts and not (reading == "open-ends" and d - run_len == 0)
            if not go and short:
                return None
            if go and not short and (minutes >= p.min_total_minutes or rng.random() < jitter):
                go = False
        else:
            gap_ok = run_len >= p.min_consecutive_days_off or d - run_len == 0
            horizon_left = min(p.min_consecutive_shifts, H - d)
            go = (gap_ok and minutes < p.min_total_minutes and rng.random() >= jitter
                  and all(workable(e) for e in range(d, d + horizon_left)))
        if not go:
            working, run_len = (False, run_len + 1) if not working else (False, 1)
            prev = None
            continue
        banned = set(inst.shift_by_id[prev].forbidden_next) if prev is not None else set()
        options = [t for t in types if used[t.id] < p.max_shifts.get(t.id, H) and t.id not in banned
                   and minutes + t.minutes <= p.max_total_minutes]
        if not options:
            if run_len < p.min_consecutive_shifts and working:
                return None
            working, run_len, prev = False, 1, None
            continue
        # short on cover first; then types that forbid few successors (the run goes on); then longer
        best = max(options, key=lambda t: (need.get((d, t.id), 0) - counts.get((d, t.id), 0),
                                           -len(t.forbidden_next), t.minutes, rng.random()))
        if rng.random() < jitter:
            best = options[rng.randrange(len(options))]
        row[d] = best.id
        used[best.id] += 1
        minutes += best.minutes
        if d % 7 >= 5:
            weekends.add(d // 7)
        run_len = run_len + 1 if working else 1
        working, prev = True, best.id
    if not p.min_total_minutes <= minutes <= p.max_total_minutes:
        return None
    return row if rows_valid(inst, {p.id: row}, reading) else None


def dense_pattern(inst: Instance, person: Staff, reading: str = DEFAULT_READING) -> list[bool] | None:
    """The work days of a row that works the most days the run rules, days off and weekends allow
    (dynamic programming over (run kind and length, weekends used, run touches day 0)), then
    shortened run by run to what the longest minutes allow: for a person whose minimum minutes
    take nearly every day they can work, where the walk of :func:`greedy_row` falls short."""
    H, p = inst.horizon, person
    off = inst.days_off[p.id]
    types = [t for t in inst.shifts if p.max_shifts.get(t.id, H) > 0]
    if not types:
        return [False] * H
    open_ends = reading == "open-ends"
    # state: (works today, run length (capped), weekends used, run started on day 0) -> worked days
    State = tuple[bool, int, int, bool]
    layers: list[dict[State, tuple[int, State | None]]] = []
    first: dict[State, tuple[int, State | None]] = {(False, 1, 0, True): (0, None)}
    if 0 not in off:
        first[(True, 1, 1 if 0 % 7 >= 5 else 0, True)] = (1, None)
    layers.append(first)
    cap_off = max(1, p.min_consecutive_days_off)
    for d in range(1, H):
        layer: dict[State, tuple[int, State | None]] = {}
        for state, (value, _) in layers[-1].items():
            working, length, wk, at_start = state
            # off today
            if not working or length >= p.min_consecutive_shifts or (open_ends and at_start):
                nxt = (False, min(cap_off, length + 1) if not working else 1, wk, at_start and not working)
                if value > layer.get(nxt, (-1, None))[0]:
                    layer[nxt] = (value, state)
            # work today
            if d in off:
                continue
            if working and length >= p.max_consecutive_shifts:
                continue
            if not working and length < p.min_consecutive_days_off and not at_start:
                continue
            new_wk = wk + (d % 7 == 5 or (d % 7 == 6 and not working))
            if new_wk > p.max_weekends:
                continue
            nxt = (True, length + 1 if working else 1, new_wk, at_start and working)
            if value + 1 > layer.get(nxt, (-1, None))[0]:
                layer[nxt] = (value + 1, state)
        layers.append(layer)
    ends = [(v, st) for st, (v, _) in layers[-1].items()
            if not st[0] or st[1] >= p.min_consecutive_shifts or open_ends]
    if not ends:
        return None
    _, state = max(ends, key=lambda e: (e[0], e[1]))
    pattern = [False] * H
    for d in range(H - 1, -1, -1):
        assert state is not None
        pattern[d] = state[0]
        state = layers[d][state][1]
    # at most as many days as the shortest shifts' minutes allow: shorten runs longer than the minimum
    most = p.max_total_minutes // min(t.minutes for t in types)
    excess = sum(pattern) - most
    d = H - 1
    while excess > 0 and d >= 0:
        if pattern[d]:
            start = d
            while start > 0 and pattern[start - 1]:
                start -= 1
            length = d - start + 1
            # cut from its end, a run no longer touches the last day; it still touches day 0 if it did
            spare = length - (1 if open_ends and start == 0 else p.min_consecutive_shifts)
            cut = min(excess, max(0, spare))
            for e in range(d - cut + 1, d + 1):  # the run's last days off (the days-off run after grows)
                pattern[e] = False
            excess -= cut
            d = start - 1
        else:
            d -= 1
    return pattern if excess <= 0 else None


def first_roster(inst: Instance, reading: str = DEFAULT_READING, *, seed: int = 0,
                 on_person: Callable[[int], None] | None = None) -> tuple[Solution | None, float]:
    """A valid roster, person by person (see the module's docstring); (roster, modelled seconds).
    None when some person has no valid row at all (the instance is infeasible)."""
    rows: Solution = {p.id: [None] * inst.horizon for p in inst.staff}
    counts: dict[tuple[int, str], int] = {}  # people per (day, shift) of the people placed
    work = 0.0

    def modelled(nm: NrpModel, used: float) -> float:
        return ATTEMPT_SECONDS + SECONDS_PER_WORK * used + SECONDS_PER_VARIABLE * len(nm.model.proto.variables)

    rng = random.Random(seed)
    # on instances of moderate size each row is then the one-person model's, from the walk's
    polish = sum(inst.horizon * sum(1 for t in inst.shifts if q.max_shifts.get(t.id, 1) > 0)
                 for q in inst.staff) <= POLISH_CELLS
    for i, p in enumerate(inst.staff):
        walk = None
        for k in range(GREEDY_TRIES):
            walk = greedy_row(inst, p, counts, rng, reading, jitter=0.05 * (k // 2), spare_weekends=k % 2 == 0)
            if walk is not None:
                break
        work += GREEDY_SECONDS
        if walk is not None and not polish:  # a valid row: taken as it is (the search improves it)
            rows[p.id] = walk
        else:
            nm = NrpModel(inst, reading, free={p.id: set(range(inst.horizon))}, base=rows, counts=counts)
            if walk is not None:
                nm.add_hint({**rows, p.id: walk})
            raw = run(nm.model, time_limit=math.inf, workers=1, seed=seed + i, extra=FIRST_PARAMETERS)
            work += modelled(nm, raw.deterministic_time)
            if raw.values is None and walk is not None:
                rows[p.id] = walk
            elif raw.values is None:
                if raw.status == "interrupted":
                    return None, work
                # not found within the budget: once more, on the rules alone, the work days those of
                # the densest pattern if there is one (CP-SAT then only chooses the shifts)
                bare = NrpModel(inst, reading, free={p.id: set(range(inst.horizon))}, base=rows, cover=False)
                bare.model.clear_objective()
                pattern = dense_pattern(inst, p, reading)
                if pattern is not None:
                    for d, on in enumerate(pattern):
                        bare.model.add(bare.work[p.id, d] == int(on))  # type: ignore[operator]
                raw = run(bare.model, time_limit=math.inf, workers=1, seed=seed + i, extra=BARE_PARAMETERS)
                work += modelled(bare, raw.deterministic_time)
                if raw.values is None and pattern is not None and raw.status != "interrupted":  # not with it
                    bare = NrpModel(inst, reading, free={p.id: set(range(inst.horizon))}, base=rows, cover=False)
                    bare.model.clear_objective()
                    raw = run(bare.model, time_limit=math.inf, workers=1, seed=seed + i, extra=BARE_PARAMETERS)
                    work += modelled(bare, raw.deterministic_time)
                if raw.values is None:
                    return None, work
                nm = bare
            if raw.values is not None:
                rows[p.id] = nm.solution_from_values(raw.values)[p.id]
        for d, t in enumerate(rows[p.id]):
            if t is not None:
                counts[d, t] = counts.get((d, t), 0) + 1
        if on_person is not None:
            on_person(i + 1)
    return rows, work


class Chooser:
    """Draws the neighbourhoods of :data:`KINDS` by the shared wheel; every draw depends on the
    roster and a seeded generator only."""

    def __init__(self, inst: Instance, roster: Roster, seed: int):
        self.inst = inst
        self.roster = roster
        self.rng = random.Random(seed)
        total = inst.horizon * len(inst.staff)
        self.wheel = Wheel(KINDS, self.rng, first_size=min(FIRST_CELLS, total), min_size=min(MIN_CELLS, total),
                           max_size=max(MIN_CELLS, MAX_SHARE * total))
        self.everyone = [p.id for p in inst.staff]
        self._round: object = None  # the round of the last pick, and the cells of its first
        self._first: set[tuple[str, int]] = set()
        self.types = [t.id for t in inst.shifts]

    def putback(self, kind: str, hood: Hood) -> None:
        pass  # every kind draws afresh

    def pick(self, context: object) -> tuple[str, Hood] | None:
        """A neighbourhood; the second of a round (the same ``context``) is drawn up to
        :data:`TRIES` times for one sharing no cell with the first, so both can be solved at once."""
        kind = self.wheel.draw()
        hood = getattr(self, "_" + kind)(self.wheel.size[kind])
        if context is self._round:
            for _ in range(TRIES - 1):
                if hood.cell_set.isdisjoint(self._first):
                    break
                hood = getattr(self, "_" + kind)(self.wheel.size[kind])
        else:
            self._round, self._first = context, hood.cell_set
        return kind, hood

    def _window(self, length: int, around: int | None = None) -> range:
        H = self.inst.horizon
        length = max(1, min(H, length))
        if around is None:
            start = self.rng.randrange(H - length + 1)
        else:
            start = min(max(0, around - length // 2), H - length)
        return range(start, start + length)

    def _staff(self, size: float) -> Hood:
        k = max(1, min(len(self.everyone), round(size / self.inst.horizon)))
        people = self.rng.sample(self.everyone, k)
        return Hood(f"{k} people", {p: set(range(self.inst.horizon)) for p in people})

    def _days(self, size: float) -> Hood:
        w = self._window(max(1, round(size / len(self.everyone))))
        return Hood(f"days {w.start}-{w.stop - 1}", {p: set(w) for p in self.everyone})

    def _block(self, size: float) -> Hood:
        side = max(1, round(math.sqrt(size)))
        k = max(1, min(len(self.everyone), round(size / min(self.inst.horizon, 2 * side))))
        w = self._window(max(1, round(size / k)))
        people = self.rng.sample(self.everyone, k)
        return Hood(f"{k} people, days {w.start}-{w.stop - 1}", {p: set(w) for p in people})

    def _shift(self, size: float) -> Hood:
        t = self.types[self.rng.randrange(len(self.types))]
        rows = self.roster.rows
        per_day = max(1, sum(1 for p in self.everyone for s in rows[p] if s in (t, None)) // self.inst.horizon)
        w = self._window(max(1, round(size / per_day)))
        free = {p: {d for d in w if rows[p][d] in (t, None)} for p in self.everyone}
        return Hood(f"shift {t}, days {w.start}-{w.stop - 1}", {p: ds for p, ds in free.items() if ds})

    def _worst(self, size: float) -> Hood:
        """The worst cover cell or unmet request (by penalty, ties broken at random), the days
        around it and the people who could change it."""
        r = self.roster
        cands: list[tuple[int, float, str, int, str | None]] = []
        for key in r.cover:
            pen = r._cover(key, r.count.get(key, 0))
            if pen:
                cands.append((pen, self.rng.random(), "cover", key[0], key[1]))
        for (p, d) in sorted(set(r.on) | set(r.off)):  # sorted: a set of strings has no fixed order
            pen = r._cell(p, d, r.rows[p][d])
            if pen:
                cands.append((pen, self.rng.random(), p, d, None))
        if not cands:
            return self._staff(size)
        cands.sort(reverse=True)
        pen, _, who, day, t = cands[min(len(cands) - 1, int(self.rng.expovariate(1 / 3)))]
        width = max(3, min(self.inst.horizon, 7))
        w = self._window(width, day)
        if who == "cover":
            people = [p for p in self.everyone if day not in self.inst.days_off[p]]
            self.rng.shuffle(people)
        else:
            others = [p for p in self.everyone if p != who]
            self.rng.shuffle(others)
            people = [who, *others]
        k = max(1, min(len(people), round(size / len(w))))
        return Hood(f"around day {day} ({'cover ' + str(t) if who == 'cover' else 'request of ' + who})",
                    {p: set(w) for p in people[:k]})


@dataclass
class LnsResult:
    solution: Solution | None
    objective: int | None
    first_objective: int | None
    first_modelled: float  # modelled seconds of the first roster
    first_seconds: float  # wall seconds to the first roster
    stats: SearchStats
    trace: list[tuple[float, int]] = field(default_factory=list)  # (wall seconds, objective)
    #: per sub-solve: (neighbourhood, free cells, model variables, deterministic time, wall seconds,
    #: proved, objective change): for fitting the model of a sub-solve's wall time
    #: (:data:`SECONDS_PER_WORK`, :data:`SECONDS_PER_VARIABLE`) and for seeing what each kind does
    timings: list[tuple[str, int, int, float, float, bool, float]] = field(default_factory=list)


def solve(inst: Instance, reading: str = DEFAULT_READING, *, time_limit: float, workers: int = 2, seed: int = 0,
          seconds: float | None = None, on_progress: Callable[[float, int], None] | None = None) -> LnsResult:
    """First roster, then the search until ``seconds`` modelled seconds in all (default: the
    ``time_limit`` times this machine's calibration factor times :data:`MARGIN`) or the clock
    (``time_limit``, a guard: a run it ends is not reproducible)."""
    from scheduler.calibrate import factor

    start = time.monotonic()
    deadline = start + time_limit
    if seconds is None:
        seconds = time_limit * factor()[0] * MARGIN
    first, first_modelled = first_roster(inst, reading, seed=seed)
    first_seconds = time.monotonic() - start
    if first is None:
        return LnsResult(None, None, None, first_modelled, first_seconds, SearchStats(stopped_by="infeasible"))
    roster = Roster(inst, first)
    trace = [(first_seconds, roster.objective)]
    chooser = Chooser(inst, roster, seed)
    timings: list[tuple[str, int, int, float, float, bool, float]] = []

    def attempt(hood: Hood, sub_seed: int, left: float, work_left: float, seconds_left: float) -> Outcome | None:
        if not hood.cells:
            return None
        t0 = time.monotonic()
        version = roster.version
        nm = NrpModel(inst, reading, free=hood.free, base=roster.rows, counts=roster.count)
        size = len(nm.model.proto.variables)
        values = nm.values_of(roster.rows)
        before = nm.exact_objective(values)
        nm.add_hint(roster.rows)
        limit = min(SUB_PARAMETERS["max_deterministic_time"], work_left,
                    (seconds_left - ATTEMPT_SECONDS - SECONDS_PER_VARIABLE * size) / SECONDS_PER_WORK)
        raw = run(nm.model, time_limit=max(0.05, left), workers=1, seed=sub_seed,
                  extra={**SUB_PARAMETERS, "max_deterministic_time": max(0.01, limit)})
        used = raw.deterministic_time
        modelled = ATTEMPT_SECONDS + SECONDS_PER_WORK * used + SECONDS_PER_VARIABLE * size
        interrupted = raw.status == "interrupted"
        if raw.values is None:
            timings.append((hood.name, hood.cells, size, used, time.monotonic() - t0, False, 0.0))
            return Outcome(0.0, used, modelled, False, interrupted)
        after = nm.exact_objective(list(raw.values))
        timings.append((hood.name, hood.cells, size, used, time.monotonic() - t0, raw.status == "optimal",
                        float(after - before)))
        new = nm.solution_from_values(list(raw.values))
        change = {(p, d): new[p][d] for p, days in hood.free.items() for d in days if new[p][d] != roster.rows[p][d]}
        return Outcome(float(after - before), used, modelled, raw.status == "optimal", interrupted, (version, change))

    def apply(kind: str, out: Outcome) -> float | None:
        version, change = out.change
        if version != roster.version and (  # the other sub-solve of the round changed the roster since
                roster.delta(change) >= 0 or not roster.valid_after(change, reading)):
            return None
        kept = roster.apply(change)
        trace.append((time.monotonic() - start, roster.objective))
        if on_progress is not None:
            on_progress(time.monotonic() - start, roster.objective)
        return float(kept)

    budget = Budget(seconds=max(0.0, seconds - first_modelled), deadline=deadline, patience=PATIENCE)
    stats = run_search(chooser, attempt, apply, budget=budget, workers=workers, seed=seed,
                       prepare=object, conflict=lambda a, b: not a.cell_set.isdisjoint(b.cell_set))
    return LnsResult(roster.rows, roster.objective, trace[0][1], first_modelled, first_seconds, stats, trace, timings)
