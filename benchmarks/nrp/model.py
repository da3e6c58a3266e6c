"""CP-SAT model of a Curtois & Qu instance, built from the project's building blocks.

* decision booleans ``x[p, d, t]`` (person ``p`` works shift ``t`` on day ``d``), created only where
  the person may work: not on a day off, not for a type whose MaxShifts is 0 (days off enter as
  availability, as in the project);
* ``work[p, d] = sum_t x[p, d, t]`` (at most one shift a day);
* hard rules as constraints: forbidden successions, MaxShifts per type, total minutes, max
  consecutive shifts (every window of k+1 days holds at most k working days), min consecutive
  shifts and min consecutive days off (short runs forbidden pattern by pattern, with the boundary
  readings of ``benchmarks/nrp/FORMAT.md``), weekends through helper booleans;
* soft terms: requests are linear in ``x`` (as the project's linear parts); cover under and over are
  :meth:`TermBook.hinge` penalties, recomputed exactly by :func:`exact_values`.

Solving goes through :func:`scheduler.cpsat.solver.run` (time limit, workers, seed, Ctrl-C handling).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from scheduler.cpsat.solver import Progress, new_solver, run
from scheduler.cpsat.terms import TermBook, exact_values

from .reader import Instance, Staff

Solution = dict[str, list[str | None]]

#: CP-SAT parameters used when the caller gives none: the full linearisation finds far better
#: rosters within a minute on two workers (Instance2 in 15 s: 833 against 929 with the default)
DEFAULT_EXTRA = {"linearization_level": 2}


@dataclass
class NrpResult:
    status: str
    solution: Solution | None
    #: the objective recomputed exactly from the roster by the model's own terms
    objective: int | None
    #: CP-SAT's objective value (>= ``objective``; equal unless a penalty variable was left slack)
    solver_objective: float | None
    bound: float
    wall_time: float
    first_solution_time: float | None = None
    trace: list[Progress] = field(default_factory=list)


#: how runs of working days and of days off that touch day 0 or the last day meet the minimum-length
#: rules: ``open-ends`` exempt, as the shared FORMAT.md states (the benchmark's reading, under which
#: the best-known values were found), or ``strict``: a run of working days at either end must be
#: long enough too, the days outside the horizon counting as days off (benchmarks/nrp/FORMAT.md)
READINGS = ("open-ends", "strict")
DEFAULT_READING = "open-ends"

#: free cells of a sub-model: staff id -> the days whose shift the model may choose
Free = dict[str, set[int]]


def _fold(terms: list[tuple[object, int]]) -> tuple[list, list[int], int]:
    """Split ``(variable or int, coefficient)`` terms into variables, their coefficients and a constant."""
    vs: list = []
    cs: list[int] = []
    const = 0
    for v, c in terms:
        if isinstance(v, int):  # bool included
            const += v * c
        else:
            vs.append(v)
            cs.append(c)
    return vs, cs, const


class NrpModel:
    """The whole instance (``free`` None), or a **sub-model**: only the ``free`` cells (staff, day)
    are variables, every other cell keeps its shift in ``base``. A sub-model posts each hard rule
    of a person with a free cell, the other days entering as constants, and the objective's terms
    that a free cell can change (its requests, the cover of its day), so its objective differs from
    the whole roster's by a constant: a better sub-model solution is a better roster by the same
    amount, and the hard rules hold for the whole roster (they are all per person).

    ``cover=False`` leaves the cover terms out; ``extra_costs`` adds a cost per (staff, day, shift)
    (column generation's pricing, :mod:`benchmarks.nrp.bound`); ``counts``: the base roster's
    people per (day, shift), if the caller keeps them (saves counting them again)."""

    def __init__(self, instance: Instance, reading: str = DEFAULT_READING, *, free: Free | None = None,
                 base: Solution | None = None, cover: bool = True,
                 extra_costs: dict[tuple[str, int, str], int] | None = None,
                 counts: dict[tuple[int, str], int] | None = None):
        if reading not in READINGS:
            raise ValueError(f"reading must be one of {READINGS}, not {reading!r}")
        if free is not None and base is None:
            raise ValueError("a sub-model (free cells) needs the base roster")
        self.reading = reading
        self.instance = inst = instance
        self.free = free
        self.base = base
        self.model = m = cp_model.CpModel()
        self.book = TermBook(m)
        H = inst.horizon
        self.x: dict[tuple[str, int, str], cp_model.IntVar] = {}
        self.work: dict[tuple[str, int], object] = {}
        #: linear part of the objective: var index -> coefficient, plus a constant
        self.coef: dict[int, int] = {}
        self.var_of: dict[int, cp_model.IntVar] = {}
        self.const = 0
        everything = set(range(H))

        for p in inst.staff:
            days = everything if free is None else free.get(p.id, set())
            if days:
                self._person(p, days, base[p.id] if base is not None else None)

        def is_free(pid: str, d: int) -> bool:
            return free is None or d in free.get(pid, ())

        # requests: linear terms on free cells (the others are constants of a sub-model)
        for r in inst.on_requests:  # w * (1 - x)
            if not is_free(r.staff, r.day):
                continue
            self.const += r.weight
            v = self.x.get((r.staff, r.day, r.shift))
            if v is not None:
                self._add(v, -r.weight)
        for r in inst.off_requests:  # w * x
            if not is_free(r.staff, r.day):
                continue
            v = self.x.get((r.staff, r.day, r.shift))
            if v is not None:
                self._add(v, r.weight)
        for (pid, d, t), c in (extra_costs or {}).items():
            v = self.x.get((pid, d, t))
            if v is not None and c:
                self._add(v, c)
        # cover: hinge penalties from the project's TermBook, over the free cells of the day; the
        # fixed cells' people on that shift are a constant
        if cover:
            free_days = set(range(H)) if free is None else {d for ds in free.values() for d in ds}
            fixed = _fixed_counts(inst, base, free, counts) if free is not None else None
            on_cell: dict[tuple[int, str], list] = {}
            for (_, d, t), v in self.x.items():  # staff order, as created
                on_cell.setdefault((d, t), []).append(v)
            for c in inst.cover:
                if c.day not in free_days:
                    continue
                lits = on_cell.get((c.day, c.shift), [])
                k = fixed.get((c.day, c.shift), 0) if fixed is not None else 0
                if not lits:
                    continue
                if len(lits) == 1:  # one free cell: its cover penalty is linear in it (no hinge)
                    self.const += c.under_weight * max(0, c.requirement - k) + c.over_weight * max(0, k - c.requirement)
                    self._add(lits[0], -c.under_weight if k < c.requirement else c.over_weight)
                    continue
                if c.under_weight:
                    u = self.book.hinge("under", (c.day, c.shift), lits, [-1] * len(lits), c.requirement - k,
                                        c.requirement - k)
                    if u is not None:
                        self._add(u, c.under_weight)
                if c.over_weight:
                    o = self.book.hinge("over", (c.day, c.shift), lits, [1] * len(lits), k - c.requirement,
                                        len(lits) + k - c.requirement)
                    if o is not None:
                        self._add(o, c.over_weight)
        items = sorted(self.coef.items())
        m.minimize(cp_model.LinearExpr.weighted_sum([self.var_of[i] for i, _ in items], [c for _, c in items])
                   + self.const)

    def _person(self, p: Staff, days: set[int], row: list[str | None] | None) -> None:
        """Every hard rule of one person with free ``days`` (the other days from ``row``)."""
        m, inst, free, reading = self.model, self.instance, self.free, self.reading
        H = inst.horizon
        shifts = inst.shifts

        def clause(lits: list) -> None:
            """At least one of ``lits`` (literals, or Python bools for fixed cells)."""
            if any(lit is True for lit in lits):
                return
            live = [lit for lit in lits if lit is not False]
            if live:  # (no live literal: the fixed cells alone break it, which a valid base never does)
                m.add_bool_or(live)

        def at_most(terms: list[tuple[object, int]], rhs: int, lo: int | None = None) -> None:
            vs, cs, const = _fold(terms)
            if vs:
                m.add_linear_constraint(cp_model.LinearExpr.weighted_sum(vs, cs),
                                        -_BIG if lo is None else lo - const, rhs - const)

        off = inst.days_off[p.id]
        types = [t for t in shifts if p.max_shifts.get(t.id, H) > 0]

        def cell(d: int, t: str) -> object:
            """x[p, d, t]: its variable on a free day, else 0/1 from the base roster."""
            if d in days:
                return self.x.get((p.id, d, t), 0)
            return int(row is not None and row[d] == t)

        for d in sorted(days):
            day = [] if d in off else [self._x(p.id, d, t.id) for t in types]
            w = m.new_bool_var(f"w[{p.id},{d}]")
            m.add(sum(day) == w) if day else m.add(w == 0)
            self.work[p.id, d] = w
        if free is None:
            lo, hi = 0, H
        else:  # the windowed rules need only the days near a free one
            margin = max(p.max_consecutive_shifts, p.min_consecutive_shifts, p.min_consecutive_days_off) + 2
            lo, hi = max(0, min(days) - margin), min(H, max(days) + margin + 1)

        def worked(d: int) -> object:
            if d in days:
                return self.work[p.id, d]
            return row is not None and row[d] is not None

        def lit(d: int, on: bool) -> object:
            w = worked(d)
            if isinstance(w, bool):
                return w if on else not w
            return w if on else w.Not()

        # forbidden successions: x[d, a] + sum_{b forbidden after a} x[d+1, b] <= 1
        for a in shifts:
            if not a.forbidden_next:
                continue
            for d in range(max(0, lo - 1), min(H - 1, hi)):
                if d not in days and d + 1 not in days:
                    continue
                at_most([(cell(d, a.id), 1)] + [(cell(d + 1, b), 1) for b in a.forbidden_next], 1)
        # max shifts per type and total minutes: the free days' variables plus the fixed days' shifts
        fixed_count: dict[str, int] = {}
        if row is not None:
            for d, t in enumerate(row):
                if t is not None and d not in days:
                    fixed_count[t] = fixed_count.get(t, 0) + 1
        for t in types:
            limit = p.max_shifts.get(t.id)
            if limit is not None:
                at_most([(self.x[p.id, d, t.id], 1) for d in days if (p.id, d, t.id) in self.x]
                        + [(fixed_count.get(t.id, 0), 1)], limit)
        at_most([(self.x[p.id, d, t.id], t.minutes) for d in days for t in types if (p.id, d, t.id) in self.x]
                + [(n * inst.shift_by_id[t].minutes, 1) for t, n in fixed_count.items()],
                p.max_total_minutes, p.min_total_minutes)
        # max consecutive shifts: every k+1 consecutive days hold at most k working days
        k = p.max_consecutive_shifts
        if k < H:
            for d in range(max(0, lo - k), min(H - k, hi)):
                if any(e in days for e in range(d, d + k + 1)):
                    at_most([(worked(e), 1) for e in range(d, d + k + 1)], k)
        # min consecutive shifts: no maximal run of l < min working days (strict: outside the
        # horizon is off; open-ends: runs touching either end are exempt)
        for length in range(1, min(p.min_consecutive_shifts, H + 1)):
            for d in range(max(0, lo - length), min(H - length + 1, hi)):
                if reading == "open-ends" and (d == 0 or d + length == H):
                    continue
                if not any(e in days for e in range(max(0, d - 1), min(H, d + length + 1))):
                    continue
                lits = [lit(e, False) for e in range(d, d + length)]
                if d > 0:
                    lits.append(lit(d - 1, True))
                if d + length < H:
                    lits.append(lit(d + length, True))
                clause(lits)
        # min consecutive days off: only runs between two working days (both readings)
        for length in range(1, p.min_consecutive_days_off):
            for d in range(max(1, lo - length), min(H - length, hi)):
                if not any(e in days for e in range(d - 1, d + length + 1)):
                    continue
                clause([lit(e, True) for e in range(d, d + length)] + [lit(d - 1, False), lit(d + length, False)])
        # weekends (days 7w+5, 7w+6): worked if either day is
        weekends: list[tuple[object, int]] = []
        for wk in range(H // 7):
            sat, sun = worked(7 * wk + 5), worked(7 * wk + 6)
            if isinstance(sat, bool) and isinstance(sun, bool):
                weekends.append((int(sat or sun), 1))
                continue
            b = m.new_bool_var(f"wk[{p.id},{wk}]")
            for day_lit in (sat, sun):
                if day_lit is True:
                    m.add(b == 1)
                elif day_lit is not False:
                    m.add_implication(day_lit, b)
            clause([sat, sun, b.Not()])
            weekends.append((b, 1))
        if p.max_weekends < len(weekends):
            at_most(weekends, p.max_weekends)


    def _x(self, pid: str, d: int, t: str) -> cp_model.IntVar:
        v = self.model.new_bool_var(f"x[{pid},{d},{t}]")
        self.x[pid, d, t] = v
        return v

    def _add(self, var: cp_model.IntVar, coef: int) -> None:
        self.var_of[var.index] = var
        self.coef[var.index] = self.coef.get(var.index, 0) + coef

    # ---- reading a solution back --------------------------------------------------------------
    def solution_from_values(self, values: list[int]) -> Solution:
        """The whole roster: the base roster's fixed cells, the free cells from ``values``."""
        H = self.instance.horizon
        out: Solution = {p.id: [None] * H for p in self.instance.staff}
        if self.base is not None:
            out = {pid: list(row) for pid, row in self.base.items()}
        if self.free is not None:
            for pid, days in self.free.items():
                for d in days:
                    out[pid][d] = None
        for (pid, d, t), v in self.x.items():
            if values[v.index]:
                out[pid][d] = t
        return out

    def values_of(self, solution: Solution) -> list[int]:
        """Values of every variable for a roster (the penalties and helpers recomputed): the
        ``values`` of :meth:`exact_objective` and of a hint."""
        values = [0] * len(self.model.proto.variables)
        for (pid, d, t), v in self.x.items():
            values[v.index] = int(solution[pid][d] == t)
        for (pid, d), w in self.work.items():
            if not isinstance(w, bool):
                values[w.index] = int(solution[pid][d] is not None)
        exact_values(self.book.penalties, values)
        return values

    def exact_objective(self, values: list[int]) -> int:
        """The objective recomputed from the ``x`` values alone (penalties via ``exact_values``)."""
        values = list(values)
        exact_values(self.book.penalties, values)
        return self.const + sum(c * values[i] for i, c in self.coef.items())

    def add_hint(self, solution: Solution) -> None:
        for (pid, d, t), v in self.x.items():
            self.model.add_hint(v, solution[pid][d] == t)

    # ---- solving -------------------------------------------------------------------------------
    def solve(self, *, time_limit: float, workers: int = 2, seed: int = 0, extra: dict | None = None,
              on_progress=None) -> NrpResult:
        extra = DEFAULT_EXTRA if extra is None else extra
        raw = run(self.model, time_limit=time_limit, workers=workers, seed=seed, extra=extra,
                  on_progress=on_progress)
        if raw.values is None:
            return NrpResult(raw.status, None, None, None, raw.bound, raw.wall_time, None, raw.trace)
        return NrpResult(raw.status, self.solution_from_values(raw.values), self.exact_objective(raw.values),
                         raw.objective, raw.bound, raw.wall_time, raw.first_solution_time, raw.trace)

    def collect(self, *, time_limit: float, workers: int = 2, seed: int = 0, limit: int = 20,
                extra: dict | None = None) -> list[tuple[Solution, int, float]]:
        """Every improving solution of one search (up to ``limit``): (roster, exact objective,
        CP-SAT objective). For agreement tests."""
        solver = new_solver(time_limit, workers, seed, **(DEFAULT_EXTRA if extra is None else extra))
        found: list[tuple[Solution, int, float]] = []
        owner = self

        class _Collect(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                values = list(self.response_proto.solution)
                found.append((owner.solution_from_values(values), owner.exact_objective(values),
                              self.objective_value))
                if len(found) >= limit:
                    self.stop_search()

        solver.solve(self.model, _Collect())
        return found


def _fixed_counts(inst: Instance, base: Solution | None, free: Free,
                  counts: dict[tuple[int, str], int] | None = None) -> dict[tuple[int, str], int]:
    """(day, shift) -> people on it in ``base`` outside the free cells (from ``counts``, the whole
    base roster's, when given)."""
    out: dict[tuple[int, str], int] = {}
    if base is None:
        return out
    if counts is not None:
        out = dict(counts)
        for pid, days in free.items():
            for d in days:
                t = base[pid][d]
                if t is not None:
                    out[d, t] -= 1
        return out
    for pid, row in base.items():
        days = free.get(pid, ())
        for d, t in enumerate(row):
            if t is not None and d not in days:
                out[d, t] = out.get((d, t), 0) + 1
    return out


_BIG = 1 << 40


def solve(instance: Instance, *, time_limit: float, workers: int = 2, seed: int = 0,
          extra: dict | None = None, reading: str = DEFAULT_READING) -> NrpResult:
    return NrpModel(instance, reading).solve(time_limit=time_limit, workers=workers, seed=seed, extra=extra)
