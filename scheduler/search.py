"""Adaptive large-neighbourhood search: the loop, the budgets and the roulette wheel, shared by the
school engine (:mod:`scheduler.lns`) and the shift benchmark's engine (:mod:`benchmarks.nrp.lns`).

A search improves a valid solution by sub-solves: a *chooser* draws a neighbourhood of some kind
(the kinds are the caller's), an *attempt* solves it with everything else fixed and reports the
change of the objective, and an *apply* step keeps the change when it is an improvement. The
:class:`Wheel` picks the kind by recent success (Ropke & Pisinger's adaptive large-neighbourhood
search: a kind's weight moves towards its rewards) and sizes each kind: larger after a sub-solve
that proved its optimum, smaller after one that ran out of budget without a better solution.

The search stops at the first of: an interruption (Ctrl-C, SIGTERM), the **work** budget (the
deterministic time of the sub-solves, CP-SAT's count of work), the **seconds** budget (modelled
seconds: a caller's model of a sub-solve's wall time from deterministic quantities only), the
wall-clock **deadline**, or **patience** attempts in a row without an improvement. Everything but the
deadline and an interruption depends on the input, the seed and the number of workers only, so a
search that ends by itself or by a budget is reproducible (:attr:`SearchStats.reproducible`).

With two or more workers two neighbourhoods are solved at once when the caller's ``conflict``
says they may be; the second one's change is then applied through ``apply``, which may re-check it
against the solution the first one changed.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from scheduler.interrupt import on_signal, requested

log = logging.getLogger("schoolpost")

H = TypeVar("H")  # a neighbourhood, the caller's type


@dataclass
class SearchStats:
    rounds: int = 0
    solved: int = 0
    improved: int = 0
    delta: float = 0.0  # sum of accepted changes of the objective
    stopped_by: str = "converged"  # converged | max_rounds | work_limit | time_limit | interrupted
    history: list[tuple[float, float]] = field(default_factory=list)  # (elapsed, cumulative delta)
    #: deterministic time of the sub-solves (CP-SAT's count of work, about seconds)
    work: float = 0.0
    #: modelled seconds of the sub-solves (two at once count the longer)
    seconds: float = 0.0
    #: per neighbourhood kind: [sub-solves, improving sub-solves]
    kinds: dict[str, list[int]] = field(default_factory=dict)

    @property
    def reproducible(self) -> bool:
        """The search ended by itself or by its work budget, not by the clock or a signal: the
        same problem, solution, seed and workers give the same result."""
        return self.stopped_by in ("converged", "max_rounds", "work_limit")


@dataclass(frozen=True)
class Budget:
    """When a search stops (see the module's docstring)."""
    work: float = math.inf
    seconds: float = math.inf
    deadline: float = math.inf  # time.monotonic() value
    patience: int = 30

    def ended(self, stats: SearchStats, idle: int, stop: threading.Event) -> str | None:
        if stop.is_set() or requested():
            return "interrupted"
        if stats.work >= self.work or stats.seconds >= self.seconds:
            return "work_limit"
        if time.monotonic() >= self.deadline:
            return "time_limit"
        if idle >= self.patience:
            return "converged"
        return None


@dataclass
class Outcome:
    """What one sub-solve found: ``delta`` < 0 is an improvement of the objective by -delta."""
    delta: float
    work: float  # deterministic time used
    seconds: float  # modelled seconds used
    proved: bool  # the sub-solve proved its optimum
    interrupted: bool = False
    change: Any = None  # the caller's description of the new solution of the neighbourhood


#: a sub-solve: (neighbourhood, seed, wall seconds left, work left, modelled seconds left) -> outcome
Attempt = Callable[[H, int, float, float, float], "Outcome | None"]


class Wheel:
    """Adaptive roulette over neighbourhood kinds, with a size per kind (in the caller's unit).

    A kind's weight moves to ``decay`` x weight + (1 - ``decay``) x reward, the reward being
    ``better`` when the sub-solve improved the solution, else ``none`` (never below
    ``min_weight``); its size grows by ``grow`` after a sub-solve that proved its optimum and shrinks
    by ``shrink`` after one that found nothing, within [``min_size``, ``max_size``]. A kind of weight
    0 is never drawn."""

    def __init__(self, kinds: Sequence[str], rng: random.Random, *, first_size: float, min_size: float,
                 max_size: float, grow: float = 1.25, shrink: float = 0.85, decay: float = 0.8,
                 better: float = 1.0, none: float = 0.05, min_weight: float = 0.05):
        self.kinds = tuple(kinds)
        self.rng = rng
        self.weights = {k: 1.0 for k in self.kinds}
        self.size = {k: float(first_size) for k in self.kinds}
        self.min_size, self.max_size, self.grow, self.shrink = min_size, max_size, grow, shrink
        self.decay, self.better, self.none, self.min_weight = decay, better, none, min_weight

    def draw(self) -> str:
        kinds = [k for k in self.kinds if self.weights[k] > 0]
        return self.rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]

    def reward(self, kind: str, improved: bool, proved: bool) -> None:
        r = self.better if improved else self.none
        self.weights[kind] = max(self.min_weight, self.decay * self.weights[kind] + (1 - self.decay) * r)
        if proved:
            self.size[kind] = min(self.max_size, self.size[kind] * self.grow)
        elif not improved:
            self.size[kind] = max(self.min_size, self.size[kind] * self.shrink)


class Chooser(Protocol[H]):
    """Draws neighbourhoods; its wheel learns from each outcome."""
    wheel: Wheel

    def pick(self, context: Any) -> tuple[str, H] | None: ...

    def putback(self, kind: str, hood: H) -> None: ...


def run_search(chooser: Chooser, attempt: Attempt, apply: Callable[[str, Outcome], float | None], *,
               budget: Budget, workers: int = 1, seed: int = 0,
               prepare: Callable[[], Any] = lambda: None,
               conflict: Callable[[H, H], bool] = lambda a, b: True,
               on_progress: Callable[[float, float], None] | None = None) -> SearchStats:
    """The search loop. Each round: ``prepare()`` gives the context of this round's picks (for
    example the solution's current cover), ``chooser.pick`` draws a neighbourhood (two with two
    workers, unless ``conflict`` says they may not be solved at once: the second goes back through
    ``chooser.putback``), ``attempt`` solves each with its own seed, and ``apply`` keeps an improving
    outcome and returns the change it made to the objective (None or >= 0: kept nothing)."""
    start = time.monotonic()
    stats = SearchStats()
    pool = ThreadPoolExecutor(max_workers=2) if workers > 1 else None
    stop = threading.Event()
    idle = 0  # attempts in a row that improved nothing
    with on_signal(stop.set):  # Ctrl-C, SIGTERM: stop; the handler chains to the command's (scheduler.interrupt)
        try:
            while True:
                ended = budget.ended(stats, idle, stop)
                if ended is not None:
                    stats.stopped_by = ended
                    break
                context = prepare()
                first = chooser.pick(context)
                if first is None:
                    stats.stopped_by = "converged"
                    break
                batch = [first]
                if pool is not None:
                    second = chooser.pick(context)
                    if second is not None and not conflict(first[1], second[1]):
                        batch.append(second)
                    elif second is not None:
                        chooser.putback(*second)
                left = budget.deadline - time.monotonic()
                n = stats.solved
                seeds = [seed * 7919 + n * 104729 + k for k in range(len(batch))]
                work_left = (budget.work - stats.work) / len(batch)  # shared by the batch's sub-solves
                seconds_left = budget.seconds - stats.seconds  # two at once count the longer: not shared
                if len(batch) == 2:
                    assert pool is not None  # a second neighbourhood is picked only with a pool
                    futures = [pool.submit(attempt, h, s, left, work_left, seconds_left)
                               for (_, h), s in zip(batch, seeds)]
                    outcomes = [f.result() for f in futures]
                else:
                    outcomes = [attempt(batch[0][1], seeds[0], left, work_left, seconds_left)]
                stats.seconds += max((out.seconds for out in outcomes if out is not None), default=0.0)
                better = False
                for (kind, _), out in zip(batch, outcomes):
                    if out is not None and out.interrupted:
                        stop.set()  # a sub-solve (in this thread or the pool's) caught Ctrl-C or SIGTERM
                    if out is not None:
                        stats.work += out.work
                    stats.solved += 1
                    stats.kinds.setdefault(kind, [0, 0])[0] += 1
                    kept = apply(kind, out) if out is not None and out.delta < 0 else None
                    improved = kept is not None and kept < 0
                    chooser.wheel.reward(kind, improved, out is not None and out.proved)
                    if improved:
                        assert kept is not None
                        stats.improved += 1
                        stats.kinds[kind][1] += 1
                        stats.delta += kept
                        better = True
                idle = 0 if better else idle + len(batch)
                stats.history.append((time.monotonic() - start, stats.delta))
                if on_progress is not None:
                    on_progress(time.monotonic() - start, stats.delta)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
    stats.rounds = stats.solved
    return stats


def disjoint(people_of: Callable[[Any], set[Hashable]]) -> Callable[[Any, Any], bool]:
    """A ``conflict`` test: two neighbourhoods conflict when ``people_of`` them intersect."""
    return lambda a, b: not people_of(a).isdisjoint(people_of(b))
