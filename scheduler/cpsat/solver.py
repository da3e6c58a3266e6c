"""Running CP-SAT: parameters, progress callback, interruption, and the raw outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import ortools
from ortools.sat.python import cp_model

from scheduler.interrupt import on_signal, requested


class Status(StrEnum):
    """How a search ended: a CP-SAT run's, a stage's, a whole solve's (``status`` in summary.json).
    A ``str``: compares equal to its value and is written as it."""

    OPTIMAL = "optimal"  # the roster meets a proven lower bound (CP-SAT's own, or the caller's floor)
    FEASIBLE = "feasible"  # the search stopped by itself: nothing more improved it (converged)
    WORK_LIMIT = "work_limit"  # its work budget ended it: reproducible
    TIME_LIMIT = "time_limit"  # the clock ended it: another run may differ
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM; the best roster so far is kept
    INFEASIBLE = "infeasible"
    MODEL_INVALID = "model_invalid"
    UNKNOWN = "unknown"  # no roster found, and the clock did not end it (a budget or another search did)


@dataclass
class Progress:
    """A search's news: seconds since its start, the objective of its best roster, its bound.

    ``stage`` names the part of a solve that found it (``greedy``, ``polish``, ``coverage``,
    ``search``, ``lns``); in the ``coverage`` stage ``objective`` is the cost of the coverage rules
    alone (``RosterModel.coverage_expr``), not the full objective."""

    elapsed: float
    objective: float
    bound: float
    stage: str = "search"


@dataclass
class RawOutcome:
    status: Status
    values: list[int] | None
    objective: float | None
    bound: float
    wall_time: float
    first_solution_time: float | None
    trace: list[Progress] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    #: the search's deterministic time (CP-SAT's count of work, about seconds; machine-independent)
    deterministic_time: float = 0.0


ORTOOLS_VERSION = ortools.__version__  # type: ignore[attr-defined]  # ortools' partial typing omits it


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, start: float, on_progress: Callable[[Progress], None] | None, stop_at: float | None = None):
        super().__init__()
        self.start = start
        self.on_progress = on_progress
        self.stop_at = stop_at
        self.reached = False
        self.trace: list[Progress] = []

    def on_solution_callback(self) -> None:
        p = Progress(time.monotonic() - self.start, self.objective_value, self.best_objective_bound)
        self.trace.append(p)
        if self.on_progress is not None:
            self.on_progress(p)
        if self.stop_at is not None and self.objective_value <= self.stop_at + 1e-9:
            self.reached = True  # the caller's proven floor: nothing better exists
            self.stop_search()


def new_solver(time_limit: float, workers: int, seed: int, **extra) -> cp_model.CpSolver:
    """A CP-SAT solver set up with the time limit, workers, seed and any further parameters."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = max(0.01, float(time_limit))
    prm.num_workers = max(1, int(workers))
    prm.random_seed = int(seed)
    prm.catch_sigint_signal = False  # we catch it ourselves and stop the search gracefully
    for key, value in extra.items():
        setattr(prm, key, value)
    return solver


def run(
    model: cp_model.CpModel,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    on_progress: Callable[[Progress], None] | None = None,
    extra: dict | None = None,
    stop_at: float | None = None,
) -> RawOutcome:
    """Solve; Ctrl-C or SIGTERM stops the search and keeps the best solution found.

    ``stop_at``: a proven lower bound on the objective (the caller's); a solution reaching it ends
    the search with status ``optimal``."""
    return run_parallel(model, [(workers, extra)], time_limit=time_limit, seed=seed, on_progress=on_progress,
                        stop_at=stop_at)[0]


def run_parallel(
    model: cp_model.CpModel,
    searches: list[tuple[int, dict | None]],
    *,
    time_limit: float,
    seed: int,
    on_progress: Callable[[Progress], None] | None = None,
    stop_at: float | None = None,
) -> list[RawOutcome]:
    """Several independent searches of one model at once, each ``(workers, parameters)``, in
    threads (CP-SAT releases the GIL); Ctrl-C or SIGTERM stops them all.

    A search that proves the optimum (or reaches ``stop_at``) stops the searches listed after it,
    never those before, so with single-worker searches on deterministic budgets the outcome of the
    first optimal search, or of every search when none is, does not depend on timing."""
    start = time.monotonic()
    solvers = [new_solver(time_limit, w, seed, **(extra or {})) for w, extra in searches]
    callbacks = [_Callback(start, on_progress, stop_at) for _ in searches]
    boxes: list[dict] = [{} for _ in searches]
    interrupted = threading.Event()

    def work(i: int) -> None:
        try:
            boxes[i]["status"] = solvers[i].solve(model, callbacks[i])
            if boxes[i]["status"] == cp_model.OPTIMAL or callbacks[i].reached:
                for later in solvers[i + 1:]:
                    later.stop_search()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            boxes[i]["error"] = exc

    threads = [threading.Thread(target=work, args=(i,), name=f"cp-sat-{i}", daemon=True) for i in range(len(searches))]

    def stop() -> None:
        interrupted.set()
        for solver in solvers:
            solver.stop_search()

    with on_signal(stop):
        if requested():  # asked to stop before this search began (between two stages): the loop
            interrupted.set()  # below stops it as soon as it has started (a stop before solve() is lost)
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                if interrupted.is_set():  # again, for a solver whose search began after the signal
                    stop()
                thread.join(0.1)
    for box in boxes:
        if "error" in box:
            raise box["error"]
    wall = time.monotonic() - start
    return [_outcome(solver, box["status"], callback, extra, wall, time_limit, interrupted.is_set())
            for solver, box, callback, (_, extra) in zip(solvers, boxes, callbacks, searches)]


def _outcome(solver: cp_model.CpSolver, status, callback: _Callback, extra: dict | None, wall: float,
             time_limit: float, interrupted: bool) -> RawOutcome:
    has_solution = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    if status == cp_model.OPTIMAL or (has_solution and callback.reached):
        name = Status.OPTIMAL
    elif status == cp_model.INFEASIBLE:
        name = Status.INFEASIBLE
    elif status == cp_model.MODEL_INVALID:
        name = Status.MODEL_INVALID
    elif interrupted:
        name = Status.INTERRUPTED
    elif has_solution and extra is not None and "max_deterministic_time" in extra and (
            solver.response_proto.deterministic_time >= 0.99 * extra["max_deterministic_time"]):
        name = Status.WORK_LIMIT  # ended by its deterministic budget: reproducible
    elif has_solution or wall >= time_limit * 0.98:
        name = Status.TIME_LIMIT
    else:
        name = Status.UNKNOWN
    prm = solver.parameters
    return RawOutcome(
        status=name,
        values=list(solver.response_proto.solution) if has_solution else None,
        objective=solver.objective_value if has_solution else None,
        # optimal: proven by CP-SAT, or the roster reached the caller's proven floor (its own bound
        # is then lower); either way the optimum is the bound
        bound=solver.objective_value if name == "optimal" else solver.best_objective_bound,
        wall_time=wall,
        first_solution_time=callback.trace[0].elapsed if callback.trace else None,
        trace=callback.trace,
        deterministic_time=solver.response_proto.deterministic_time,
        parameters={
            "max_time_in_seconds": prm.max_time_in_seconds,
            "num_workers": prm.num_workers,
            "random_seed": prm.random_seed,
            **(extra or {}),
        },
    )


def weighted_sum(lits: list, coefs: list[int]):
    """The linear expression ``sum(coefs * lits)``, for models built outside this package."""
    return cp_model.LinearExpr.weighted_sum(lits, coefs)


def sum_le(model: cp_model.CpModel, lits: list, coefs: list[int], bound: int):
    """Post ``sum(coefs * lits) <= bound`` (used by the lexicographic second stage)."""
    return model.add(cp_model.LinearExpr.weighted_sum(lits, coefs) <= bound)
