"""The shared search loop (scheduler/search.py) on a toy problem: budgets end it where they say,
a change ``apply`` refuses is not counted, the wheel learns, and two workers solve two
neighbourhoods at once only when they do not conflict."""

from __future__ import annotations

import random
import threading

from scheduler.search import Budget, Outcome, Wheel, run_search


class _Toy:
    """Minimise the sum of a vector by sub-solves that lower one entry ("one") or two ("two")."""

    def __init__(self, seed: int = 0):
        self.values = [5] * 10
        self.wheel = Wheel(("one", "two"), random.Random(seed), first_size=2, min_size=1, max_size=8)
        self.picks: list[tuple[str, tuple[int, ...]]] = []

    def pick(self, context):
        kind = self.wheel.draw()
        k = 1 if kind == "one" else 2
        hood = tuple(self.wheel.rng.sample(range(10), k))
        self.picks.append((kind, hood))
        return kind, hood

    def putback(self, kind, hood):
        pass


def _attempt(toy: _Toy, work_each: float = 1.0):
    def attempt(hood, seed, left, work_left, seconds_left):
        delta = -sum(1 for i in hood if toy.values[i] > 0)
        return Outcome(float(delta), min(work_each, work_left), 0.5, proved=True, change=hood)
    return attempt


def _apply(toy: _Toy):
    def apply(kind, out):
        for i in out.change:
            toy.values[i] = max(0, toy.values[i] - 1)
        return out.delta
    return apply


def test_work_budget_ends_the_search_and_repeats():
    runs = []
    for _ in range(2):
        toy = _Toy(3)
        stats = run_search(toy, _attempt(toy), _apply(toy), budget=Budget(work=7.0), workers=1, seed=1)
        assert stats.stopped_by == "work_limit" and stats.reproducible
        assert stats.solved == 7 and abs(stats.work - 7.0) < 1e-9
        assert sum(toy.values) == 50 + stats.delta
        runs.append((toy.values, toy.picks))
    assert runs[0] == runs[1]


def test_seconds_budget_and_patience():
    toy = _Toy()
    stats = run_search(toy, _attempt(toy), _apply(toy), budget=Budget(seconds=3.0), workers=1)
    assert stats.stopped_by == "work_limit" and stats.seconds == 3.0
    toy = _Toy()
    stats = run_search(toy, _attempt(toy), _apply(toy), budget=Budget(patience=5), workers=1)
    assert stats.stopped_by == "converged" and sum(toy.values) == 0  # it ran until nothing improved, 5 more


def test_a_refused_change_is_not_counted():
    toy = _Toy()
    stats = run_search(toy, _attempt(toy), lambda kind, out: None, budget=Budget(work=6.0), workers=1)
    assert stats.improved == 0 and stats.delta == 0 and sum(toy.values) == 50


def test_the_wheel_learns_and_sizes_stay_in_bounds():
    wheel = Wheel(("a", "b"), random.Random(0), first_size=4, min_size=2, max_size=6)
    for _ in range(20):
        wheel.reward("a", improved=True, proved=True)
        wheel.reward("b", improved=False, proved=False)
    assert wheel.weights["a"] > 0.9 and wheel.weights["b"] < 0.07  # towards the reward of nothing found
    assert wheel.size["a"] == 6 and wheel.size["b"] == 2
    draws = [wheel.draw() for _ in range(200)]
    assert draws.count("a") > 150


def test_two_workers_solve_two_at_once_only_without_conflict():
    threads: set[str] = set()
    toy = _Toy()
    inner = _attempt(toy)

    def attempt(*args):
        threads.add(threading.current_thread().name)
        return inner(*args)

    stats = run_search(toy, attempt, _apply(toy), budget=Budget(work=10.0), workers=2,
                       conflict=lambda a, b: bool(set(a) & set(b)))
    assert stats.stopped_by == "work_limit"
    assert any(name.startswith("ThreadPoolExecutor") for name in threads)  # some pairs ran in the pool
    toy2 = _Toy()
    threads.clear()
    inner = _attempt(toy2)
    run_search(toy2, attempt, _apply(toy2), budget=Budget(work=10.0), workers=2, conflict=lambda a, b: True)
    assert threads == {threading.current_thread().name}  # always conflicting: one at a time, here
