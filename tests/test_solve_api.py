"""solve()'s surface (issue 15 item 6): one typed options object, statuses as an enum that reads
and writes as its text, the user's time limit in summary.json, and the stages in order."""

from __future__ import annotations

import json

import pytest

from models import instance_from_data
from scheduler.check import check_rows
from scheduler.cpsat.solver import Status
from scheduler.generate import generate
from scheduler.output import roster_rows
from scheduler.solve import SolveOptions, solve


@pytest.mark.parametrize("bad", [{"strategy": "greedy"}, {"workers": 0}, {"work_limit": "soon"},
                                 {"work_limit": -1.0}, {"polish": 2.0}, {"time_limit": float("nan")}])
def test_a_wrong_option_is_refused_by_name(bad):
    with pytest.raises(ValueError) as err:
        SolveOptions(**bad)
    assert next(iter(bad)) in str(err.value)


def test_an_unknown_option_is_refused():
    with pytest.raises(TypeError):
        SolveOptions(time_limt=5)  # type: ignore[call-arg]


def test_status_is_its_text():
    assert Status.WORK_LIMIT == "work_limit" and f"{Status.OPTIMAL}" == "optimal"
    assert json.dumps({"status": Status.TIME_LIMIT}) == '{"status": "time_limit"}'


def test_stages_report_in_order_and_result_is_typed(tmp_path):
    """A district by the lns strategy: the greedy roster, then coverage, then the neighbourhood
    search, each on the progress feed in that order; the result carries its options and budgets."""
    data = generate("district", 12, schools=6)
    data["persons"] = [p for i, p in enumerate(data["persons"]) if (i * 7919) % 100 < 75]  # gaps to fill
    inst = instance_from_data(data)
    seen: list[str] = []
    bounds: list[tuple[str, float]] = []

    def progress(p):
        seen.append(p.stage)
        bounds.append((p.stage, p.bound))

    # the budgets derive from nominal_time; the clock (time_limit) stays out of the way on a busy machine
    options = SolveOptions(time_limit=60, workers=1, seed=3, strategy="lns", nominal_time=9)
    result = solve(inst, options, on_progress=progress)
    # the live line's bound is the report's once the LP with its cuts is solved (milliseconds here,
    # beside an exchange pass of seconds), not the weaker plan LP's of the first roster
    searched = [b for stage, b in bounds if stage == "lns"]
    assert all(b <= result.best_bound + 1e-6 for b in searched)
    if searched and result.status != Status.OPTIMAL:
        assert searched[-1] == pytest.approx(result.best_bound)
    assert isinstance(result.status, Status) and result.options is options and result.strategy == "lns"
    assert result.options.user_time_limit == 9
    order = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert set(order) <= {"coverage", "greedy", "lns"}
    assert order.index("greedy") < (order.index("lns") if "lns" in order else len(order))
    if "coverage" in order:
        assert order.index("coverage") < order.index("greedy")  # coverage reports before the search starts
    assert result.coverage is not None and result.coverage["shortfall"] <= result.coverage["start_shortfall"]
    assert result.lns is not None and result.work_budgets is not None
    # the coverage stage filled the greedy roster's gaps down to its bound early: the work its first
    # phase left went on to its second (the other coverage rules over the whole district), at the
    # two phases' rates; what the stage as a whole left, if anything, went to the neighbourhood search
    assert result.coverage["start_shortfall"] > result.coverage["shortfall"] == result.shortfall_bound
    assert result.coverage["status"] == "optimal"
    budgets = result.work_budgets
    left = budgets["coverage_first"] + budgets["coverage_second"] - result.coverage["work"]
    assert abs(left) < 0.1 * (budgets["coverage_first"] + budgets["coverage_second"]), (left, budgets)
    assert budgets.get("from_coverage", 0.0) == pytest.approx(max(0.0, left), abs=2e-3)
    report = check_rows(inst, roster_rows(result.problem, result.assignments))
    assert report.ok, [str(v) for v in report.violations]
    assert report.objective == pytest.approx(result.objective)


@pytest.mark.parametrize("limit,planned", [(0.1, True), (0.02, False)])
def test_a_district_time_limit_shorter_than_its_set_up_returns_the_first_roster_and_says_so(limit, planned,
                                                                                           monkeypatch):
    """A time limit below a district's set-up (SETUP_PER_PAIR per eligible pair) skips the search:
    the first roster comes back valid, exact, with a note naming the limit the search needs; below
    FIRST_ROSTER_PER_PAIR even the LP plan is skipped (the greedy roster alone). The choice depends
    on the limit and the size only, so the run stays reproducible."""
    from scheduler import solve as engine

    plans: list[int] = []
    plan = engine.RelaxationLP.plan

    def counted(self):
        plans.append(1)
        return plan(self)

    monkeypatch.setattr(engine.RelaxationLP, "plan", counted)
    inst = instance_from_data(generate("district", 41, schools=5))
    result = solve(inst, SolveOptions(time_limit=limit, workers=1, strategy="lns"))
    pairs = result.size["eligible_pairs"]
    assert engine.FIRST_ROSTER_PER_PAIR * pairs < 0.1 < engine.SETUP_PER_PAIR * pairs  # the two cases hold here
    assert len(plans) == planned
    assert result.status == Status.TIME_LIMIT and result.source == "greedy" and result.reproducible
    assert result.coverage is None and result.lns is None
    assert result.note is not None and "--time-limit" in result.note and f"{pairs:,} eligible pairs" in result.note
    report = check_rows(inst, roster_rows(result.problem, result.assignments))
    assert report.ok, [str(v) for v in report.violations]
    assert report.objective == pytest.approx(result.objective)
    assert result.best_bound <= result.objective
    # with time for the search, no note and the search runs
    full = solve(inst, SolveOptions(time_limit=engine.SETUP_PER_PAIR * pairs + 5, workers=1, strategy="lns"))
    assert full.note is None and full.lns is not None


def test_a_district_exchange_pass_ends_by_its_budget_when_the_coverage_stage_left_little(monkeypatch):
    """Under ``auto``, once the coverage stage is over, the exchange pass gets its planned time
    (and what the coverage stage left, if it needs more) as moves weighed: here the coverage stage
    is modelled as having taken everything and the plan as tiny, so the pass ends by its budget
    (not the clock: the run stays reproducible) and the neighbourhoods get nothing."""
    from scheduler import solve as engine
    from scheduler.exchange import SECONDS_PER_OPTION

    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", "/nonexistent/calibration.json")  # factor 1
    monkeypatch.setattr(engine, "EXCHANGE_PER_PAIR", 2e-7)
    monkeypatch.setattr(engine, "coverage_seconds", lambda problem, coverage: 1e6)
    inst = instance_from_data(generate("district", 12, schools=6))
    result = solve(inst, SolveOptions(time_limit=300, workers=1, seed=3, strategy="lns", nominal_time=30))
    budgets, ex = result.work_budgets, result.exchange
    assert budgets is not None and ex is not None
    pairs = result.size["eligible_pairs"]
    assert budgets["exchange_planned"] == pytest.approx(2e-7 * pairs, abs=1e-3)
    assert budgets["exchange_seconds"] == budgets["exchange_planned"]  # nothing left beside the plan
    assert ex["budget_cut"] and not ex["clock_cut"] and ex["options"] * SECONDS_PER_OPTION >= budgets["exchange_seconds"]
    assert budgets["lns_seconds"] == 0 and result.lns is not None and result.lns["solved"] == 0
    assert result.reproducible and result.status == Status.WORK_LIMIT and result.clock_cut_stages == []
    report = check_rows(inst, roster_rows(result.problem, result.assignments))
    assert report.ok and report.objective == pytest.approx(result.objective)
