"""The shift benchmark on the neighbourhood search: sub-models are exact (their change is the
roster's, as the independent evaluator counts it), the first roster is valid, the tracked
objective is the evaluator's, and a run on a modelled budget repeats itself."""

from __future__ import annotations

import random

import pytest

from benchmarks.nrp import lns
from benchmarks.nrp.evaluate import evaluate
from benchmarks.nrp.model import NrpModel
from benchmarks.nrp.reader import instance_path, parse_instance, read_instance
from scheduler.cpsat.solver import run


@pytest.fixture(scope="module")
def inst2():
    return read_instance(instance_path(2))


@pytest.fixture(scope="module")
def first2(inst2):
    rows, modelled = lns.first_roster(inst2)
    assert rows is not None and modelled > 0
    return rows


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_first_roster_is_valid(number):
    inst = read_instance(instance_path(number))
    rows, _ = lns.first_roster(inst)
    ev = evaluate(inst, rows)
    assert ev.violations == []
    assert lns.Roster(inst, rows).objective == ev.objective


def _random_free(inst, rng: random.Random) -> dict[str, set[int]]:
    kind = rng.choice(["staff", "days", "block", "scatter"])
    H, staff = inst.horizon, [p.id for p in inst.staff]
    if kind == "staff":
        return {p: set(range(H)) for p in rng.sample(staff, 2)}
    a = rng.randrange(H - 3)
    if kind == "days":
        return {p: set(range(a, a + 4)) for p in staff}
    if kind == "block":
        return {p: set(range(a, min(a + 6, H))) for p in rng.sample(staff, 4)}
    return {p: set(rng.sample(range(H), 5)) for p in rng.sample(staff, 5)}


@pytest.mark.parametrize("reading", ["open-ends", "strict"])
def test_sub_models_are_exact(inst2, reading):
    """On random free cells of a valid roster: the sub-model's hint is the roster (same objective
    change 0), every solution the sub-model finds is a valid roster, and its objective change is
    the evaluator's."""
    rows, _ = lns.first_roster(inst2, reading)
    base = evaluate(inst2, rows, reading)
    assert base.violations == []
    rng = random.Random(7)
    changed = 0
    for k in range(12):
        free = _random_free(inst2, rng)
        nm = NrpModel(inst2, reading, free=free, base=rows)
        before = nm.exact_objective(nm.values_of(rows))
        nm.add_hint(rows)
        raw = run(nm.model, time_limit=20, workers=1, seed=k, extra={"max_deterministic_time": 1.0})
        assert raw.values is not None
        after = nm.exact_objective(list(raw.values))
        assert raw.objective >= after  # CP-SAT's value bounds the exact one
        new = nm.solution_from_values(list(raw.values))
        ev = evaluate(inst2, new, reading)
        assert ev.violations == [], (free, ev.violations)
        assert ev.objective - base.objective == after - before
        # cells outside the neighbourhood kept their shifts
        assert all(new[p][d] == rows[p][d] for p in rows for d in range(inst2.horizon) if d not in free.get(p, ()))
        changed += new != rows
    assert changed  # the test saw sub-models that changed the roster


def test_roster_delta_is_the_evaluators(inst2, first2):
    roster = lns.Roster(inst2, first2)
    rng = random.Random(3)
    types = [None, *inst2.shift_ids]
    for _ in range(50):
        change = {(rng.choice(inst2.staff_ids), rng.randrange(inst2.horizon)): rng.choice(types) for _ in range(4)}
        new = {p: list(r) for p, r in roster.rows.items()}
        for (p, d), t in change.items():
            new[p][d] = t
        expected = evaluate(inst2, new).objective - evaluate(inst2, roster.rows).objective
        assert roster.delta(change) == expected
        if rng.random() < 0.5:
            roster.apply(change)
            assert roster.objective == evaluate(inst2, roster.rows).objective


def test_search_improves_and_repeats(inst2):
    """A few modelled seconds: the roster is valid, the tracked objective is the evaluator's, below
    the first roster's, and a second run with the same seed gives the same roster."""
    a = lns.solve(inst2, time_limit=300, workers=2, seed=5, seconds=4.0)
    ev = evaluate(inst2, a.solution)
    assert ev.violations == [] and ev.objective == a.objective
    assert a.objective < a.first_objective
    assert a.stats.stopped_by in ("work_limit", "converged") and a.stats.reproducible
    # the second run in another interpreter, with another string hashing (a set of names iterated
    # in its own order once made the same command give another roster)
    import json
    import os
    import subprocess
    import sys

    code = ("import json; from benchmarks.nrp import lns; from benchmarks.nrp.reader import instance_path, "
            "read_instance; r = lns.solve(read_instance(instance_path(2)), time_limit=300, workers=2, seed=5, "
            "seconds=4.0); print(json.dumps([r.solution, r.stats.solved]))")
    for hashseed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": hashseed})
        assert json.loads(out.stdout) == [a.solution, a.stats.solved], hashseed


def test_instance_one_reaches_its_optimum():
    inst = read_instance(instance_path(1))
    res = lns.solve(inst, time_limit=300, workers=1, seed=0, seconds=20.0)
    assert res.objective == 607 == evaluate(inst, res.solution).objective


def test_infeasible_person_gives_no_roster():
    """A person whose minimum minutes cannot be worked: no first roster, said as such."""
    text = """SECTION_HORIZON
7
SECTION_SHIFTS
D,60,
SECTION_STAFF
A,D=7,420,0,7,1,1,1
B,D=2,600,500,7,1,1,1
SECTION_COVER
0,D,1,100,1
"""
    inst = parse_instance(text, "infeasible.txt")
    res = lns.solve(inst, time_limit=60, workers=1, seconds=2.0)
    assert res.solution is None and res.stats.stopped_by == "infeasible"


@pytest.mark.parametrize("reading", ["open-ends", "strict"])
@pytest.mark.parametrize("seed", range(6))
def test_dense_pattern_works_the_most_days(reading, seed):
    """On random small one-person instances, the dynamic programme's pattern is valid and works as
    many days as the best of all 2^12 rows the evaluator accepts."""
    import dataclasses

    rng = random.Random(seed)
    H = 14
    maxc, minc, mindo, weekends = rng.randint(2, 5), rng.randint(1, 3), rng.randint(1, 3), rng.randint(0, 2)
    off = sorted(rng.sample(range(H), rng.randint(0, 3)))
    text = (f"SECTION_HORIZON\n{H}\nSECTION_SHIFTS\nD,60,\nSECTION_STAFF\n"
            f"A,D={H},{60 * H},0,{maxc},{minc},{mindo},{weekends}\n"
            + ("SECTION_DAYS_OFF\nA," + ",".join(map(str, off)) + "\n" if off else "")
            + "SECTION_COVER\n0,D,1,1,1\n")
    inst = parse_instance(text, "dense.txt")
    person = inst.staff[0]
    alone = dataclasses.replace(inst, on_requests=(), off_requests=(), cover=())
    best = max((mask.bit_count() for mask in range(1 << H)
                if evaluate(alone, {"A": ["D" if mask >> d & 1 else None for d in range(H)]}, reading).feasible),
               default=None)
    pattern = lns.dense_pattern(inst, person, reading)
    assert pattern is not None and best is not None
    row = ["D" if on else None for on in pattern]
    assert evaluate(alone, {"A": row}, reading).violations == []
    assert sum(pattern) == best


@pytest.mark.skipif(not instance_path(22).exists(), reason="Instance22 is not beside the repository")
def test_first_roster_of_a_year_with_tight_minutes():
    """Instance22 (a year, 50 people): some people must work nearly every day they can; the walk
    misses them and the densest pattern places them. The first roster is valid."""
    inst = read_instance(instance_path(22))
    rows, _ = lns.first_roster(inst)
    assert rows is not None
    assert evaluate(inst, rows).violations == []


def test_the_runner_writes_the_table(tmp_path):
    """`python -m benchmarks.nrp.run` on Instance1: the record's roster is the evaluator's, the
    bound (column generation's) is at most the optimum, and results.md has the row."""
    import json

    from benchmarks.nrp.run import main

    assert main(["--instances", "1", "--time-limit", "20", "--bound-time", "10", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "Instance1.json").read_text())
    assert record["objective"] == 607 and record["evaluator_agrees"] is True
    assert record["bound"] is not None and record["bound"] <= 607 and record["bound_source"] == "column generation"
    assert record["reproducible"] is True and record["first_solution_s"] is not None
    assert "| 1 | 607 | 607 | 0 |" in (tmp_path / "results.md").read_text()
