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

from .reader import Instance

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


#: how runs of working days that touch day 0 or the last day meet ``MinConsecutiveShifts``:
#: ``format`` as the shared FORMAT.md says (they must be long enough too), ``open-ends`` exempt
#: (the reading of some published validators; see benchmarks/nrp/FORMAT.md)
READINGS = ("format", "open-ends")


class NrpModel:
    def __init__(self, instance: Instance, reading: str = "format"):
        if reading not in READINGS:
            raise ValueError(f"reading must be one of {READINGS}, not {reading!r}")
        self.reading = reading
        self.instance = inst = instance
        self.model = m = cp_model.CpModel()
        self.book = TermBook(m)
        H = inst.horizon
        shifts = inst.shifts
        self.x: dict[tuple[str, int, str], cp_model.IntVar] = {}
        self.work: dict[tuple[str, int], cp_model.IntVar] = {}
        #: linear part of the objective: var index -> coefficient, plus a constant
        self.coef: dict[int, int] = {}
        self.var_of: dict[int, cp_model.IntVar] = {}
        self.const = 0

        for p in inst.staff:
            off = inst.days_off[p.id]
            types = [t for t in shifts if p.max_shifts.get(t.id, H) > 0]
            for d in range(H):
                if d in off:
                    day = []
                else:
                    day = [self._x(p.id, d, t.id) for t in types]
                w = m.new_bool_var(f"w[{p.id},{d}]")
                self.work[p.id, d] = w
                m.add(sum(day) == w) if day else m.add(w == 0)
            work = [self.work[p.id, d] for d in range(H)]
            # forbidden successions: x[d, a] + sum_{b forbidden after a} x[d+1, b] <= 1
            for a in shifts:
                for d in range(H - 1):
                    xa = self.x.get((p.id, d, a.id))
                    nxt = [self.x[p.id, d + 1, b] for b in a.forbidden_next if (p.id, d + 1, b) in self.x]
                    if xa is not None and nxt:
                        m.add(xa + sum(nxt) <= 1)
            # max shifts per type
            for t in types:
                limit = p.max_shifts.get(t.id)
                row = [self.x[p.id, d, t.id] for d in range(H) if (p.id, d, t.id) in self.x]
                if limit is not None and limit < len(row):
                    m.add(sum(row) <= limit)
            # total minutes
            mins = [(v, inst.shift_by_id[t].minutes) for (pid, _, t), v in self.x.items() if pid == p.id]
            total = cp_model.LinearExpr.weighted_sum([v for v, _ in mins], [c for _, c in mins])
            m.add_linear_constraint(total, p.min_total_minutes, p.max_total_minutes)
            # max consecutive shifts
            k = p.max_consecutive_shifts
            if k < H:
                for d in range(H - k):
                    m.add(sum(work[d:d + k + 1]) <= k)
            # min consecutive shifts: no run of l < min working days; outside the horizon is off
            # ("format"), or runs touching either end are exempt ("open-ends")
            for length in range(1, min(p.min_consecutive_shifts, H + 1)):
                for d in range(H - length + 1):
                    if reading == "open-ends" and (d == 0 or d + length == H):
                        continue
                    clause = [work[e].Not() for e in range(d, d + length)]
                    if d > 0:
                        clause.append(work[d - 1])
                    if d + length < H:
                        clause.append(work[d + length])
                    m.add_bool_or(clause)
            # min consecutive days off: only runs between two working days
            for length in range(1, p.min_consecutive_days_off):
                for d in range(1, H - length):
                    clause = [work[e] for e in range(d, d + length)]
                    clause += [work[d - 1].Not(), work[d + length].Not()]
                    m.add_bool_or(clause)
            # weekends (days 7w+5, 7w+6)
            weekends = []
            for wk in range(H // 7):
                sat, sun = work[7 * wk + 5], work[7 * wk + 6]
                b = m.new_bool_var(f"wk[{p.id},{wk}]")
                m.add_implication(sat, b)
                m.add_implication(sun, b)
                m.add_bool_or([sat, sun, b.Not()])
                weekends.append(b)
            if p.max_weekends < len(weekends):
                m.add(sum(weekends) <= p.max_weekends)

        # requests: linear terms
        for r in inst.on_requests:  # w * (1 - x)
            self.const += r.weight
            v = self.x.get((r.staff, r.day, r.shift))
            if v is not None:
                self._add(v, -r.weight)
        for r in inst.off_requests:  # w * x
            v = self.x.get((r.staff, r.day, r.shift))
            if v is not None:
                self._add(v, r.weight)
        # cover: hinge penalties from the project's TermBook
        for c in inst.cover:
            lits = [self.x[p.id, c.day, c.shift] for p in inst.staff if (p.id, c.day, c.shift) in self.x]
            if c.under_weight:
                u = self.book.hinge("under", (c.day, c.shift), lits, [-1] * len(lits), c.requirement,
                                    c.requirement)
                if u is not None:  # None only when the requirement is 0
                    self._add(u, c.under_weight)
            if c.over_weight:
                o = self.book.hinge("over", (c.day, c.shift), lits, [1] * len(lits), -c.requirement,
                                    len(lits) - c.requirement)
                if o is not None:
                    self._add(o, c.over_weight)
        items = sorted(self.coef.items())
        m.minimize(cp_model.LinearExpr.weighted_sum([self.var_of[i] for i, _ in items], [c for _, c in items])
                   + self.const)

    def _x(self, pid: str, d: int, t: str) -> cp_model.IntVar:
        v = self.model.new_bool_var(f"x[{pid},{d},{t}]")
        self.x[pid, d, t] = v
        return v

    def _add(self, var: cp_model.IntVar, coef: int) -> None:
        self.var_of[var.index] = var
        self.coef[var.index] = self.coef.get(var.index, 0) + coef

    # ---- reading a solution back --------------------------------------------------------------
    def solution_from_values(self, values: list[int]) -> Solution:
        H = self.instance.horizon
        out: Solution = {p.id: [None] * H for p in self.instance.staff}
        for (pid, d, t), v in self.x.items():
            if values[v.index]:
                out[pid][d] = t
        return out

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


def solve(instance: Instance, *, time_limit: float, workers: int = 2, seed: int = 0,
          extra: dict | None = None, reading: str = "format") -> NrpResult:
    return NrpModel(instance, reading).solve(time_limit=time_limit, workers=workers, seed=seed, extra=extra)
