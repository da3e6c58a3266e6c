"""The valid inequalities of scheduler.cpsat.cuts (and their copy in the aggregated relaxation)
cut no roster: every roster's exact penalties satisfy them, and optima with and without them are
equal. And they do their job: the coverage rules of one school are proven optimal."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from test_agreement import random_instance

REPO = Path(__file__).resolve().parents[1]


def _rosters(problem, seed: int):
    """The greedy roster and random parts of it: removing assignments keeps every hard rule."""
    from scheduler.greedy import greedy_roster

    rng = random.Random(seed)
    full = greedy_roster(problem)
    yield full
    for _ in range(6):
        yield [pair for pair in full if rng.random() < rng.choice([0.2, 0.5, 0.8])]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**9))
def test_share_floor_holds_on_every_roster(seed):
    from models import instance_from_data
    from scheduler.check import check_rows
    from scheduler.cpsat.model import RosterModel
    from scheduler.duties import expand
    from scheduler.output import roster_rows

    inst = instance_from_data(random_instance(seed))
    problem = expand(inst)
    rm = RosterModel(problem)
    for pairs in _rosters(problem, seed):
        assert check_rows(inst, roster_rows(problem, pairs)).ok
        values = rm.values_of(pairs)
        for lits, rhs in rm.cuts:
            assert sum(values[v.index] for v in lits) >= rhs, (seed, rhs, pairs)


def _optimum(problem, with_cuts: bool, monkeypatch) -> tuple[int, float] | None:
    from scheduler.cpsat import cuts
    from scheduler.cpsat.model import RosterModel

    with monkeypatch.context() as m:
        if not with_cuts:
            m.setattr(cuts, "share_floor", lambda *a: [])
        rm = RosterModel(problem)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = 10
    status = solver.solve(rm.model)
    if status != cp_model.OPTIMAL:
        return None
    return len(rm.cuts), solver.objective_value


def test_optima_equal_with_and_without_cuts(monkeypatch):
    """On random instances that both models prove optimal, the optimum is the same."""
    from models import instance_from_data
    from scheduler.duties import expand

    compared = with_cuts = 0
    for seed in range(40):
        problem = expand(instance_from_data(random_instance(seed)))
        a = _optimum(problem, True, monkeypatch)
        b = _optimum(problem, False, monkeypatch)
        if a is None or b is None:
            continue
        assert a[1] == pytest.approx(b[1], abs=1e-6), seed  # CP-SAT's float of an integer objective
        compared += 1
        with_cuts += a[0] > 0
    assert compared >= 30 and with_cuts >= 10, (compared, with_cuts)


def test_relaxation_share_floor_lifts_district_bound():
    """The aggregated relaxation's bound with its share floor rises above the bound without it on
    the shipped district, and stays under its rosters (greedy, and the plan-guided greedy)."""
    from models.loader import load_instance
    from scheduler.check import check_rows
    from scheduler.cpsat.bound import RelaxationLP
    from scheduler.duties import expand
    from scheduler.greedy import greedy_roster
    from scheduler.output import roster_rows

    inst = load_instance(REPO / "instances" / "district-bincheng.yaml")
    problem = expand(inst)
    lp = RelaxationLP(problem)
    plain, plan = lp.plan()
    with_cuts = lp.bound()
    assert plan and plain is not None and with_cuts is not None
    assert with_cuts > 1.15 * plain  # 893,892 -> 1,071,655 (before the person caps: 508,686 -> 655,372)
    # each person's own caps (days and hours they are free) lifted it from 655,372
    assert with_cuts > 1_000_000
    for roster in (greedy_roster(problem), greedy_roster(problem, plan)):
        report = check_rows(inst, roster_rows(problem, roster))
        assert report.ok and with_cuts <= report.objective


def test_school_coverage_proven_optimal():
    """The coverage rules of the one-school rung (shortfall, police, skills, share, leader) are
    proven optimal: the share floor gives CP-SAT the bound (without it the bound stays at 0 while
    every roster found has a share shortfall of 2)."""
    from models import instance_from_data
    from scheduler.cpsat.model import COVERAGE_RULES, RosterModel
    from scheduler.duties import expand
    from scheduler.generate import generate

    problem = expand(instance_from_data(generate("school", 0)))
    rm = RosterModel(problem, rules=COVERAGE_RULES)
    assert len(rm.cuts) == 24  # one per school peak
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = 120
    assert solver.solve(rm.model) == cp_model.OPTIMAL
    assert solver.objective_value == pytest.approx(600 * rm.weight_scale)


def test_relaxation_counts_each_persons_own_caps(tmp_path):
    """The relaxation caps a class by what each member can do: a guard whose week is capped at 3
    and a guard free only on Monday morning cover 4 of the 10 peaks, not 10 (the class's summed
    ``max_per_week`` of 13 would allow all 10). The bound (6 shortfalls) is the optimum's."""
    from conftest import doc, person, school, solve_checked

    from models import instance_from_data
    from scheduler.cpsat.bound import _person_caps, relaxation_bound
    from scheduler.duties import expand

    peaks = [{"name": "arrival", "start": "07:20", "end": "08:00"},
             {"name": "dismissal", "start": "16:30", "end": "17:10"}]
    days = ("mon", "tue", "wed", "thu", "fri")
    data = doc([school("s1", peaks=peaks)],
               [person("capped", "security_guard", "s1", limits={"max_per_week": 3}),
                person("monday", "security_guard", "s1",
                       availability=[{"days": ["mon"], "start": "07:00", "end": "09:00"}])],
               days=days, policy={"leader_on_duty": False,
                                  "limits": {"default": {"max_per_day": 2, "max_per_week": 10}}})
    problem = expand(instance_from_data(data))
    day_cap, week_cap = _person_caps(problem)
    ids = [p.id for p in problem.persons]
    assert week_cap[ids.index("capped")] == 3 and set(day_cap[ids.index("capped")].values()) == {2}
    assert week_cap[ids.index("monday")] == 1 and list(day_cap[ids.index("monday")].values()) == [1]
    bound = relaxation_bound(problem)
    assert bound is not None and bound >= 6 * 1000
    solved = solve_checked(data, tmp_path)
    assert solved.report.terms["shortfall"] == 6
    assert bound <= solved.summary["objective"] + 1e-6


def test_the_relaxation_terms_add_up_to_its_bound():
    """RelaxationLP.term_values: each weighted term in the LP's optimum; with below_target's
    constant (its weight times every duty's target) they sum to the bound, and the shortfall of a
    district generated with people to spare is 0 in it."""
    from models import instance_from_data
    from scheduler.cpsat.bound import RelaxationLP
    from scheduler.duties import expand
    from scheduler.generate import generate

    inst = instance_from_data(generate("district", 5, schools=4))
    problem = expand(inst)
    lp = RelaxationLP(problem)
    bound = lp.bound()
    terms = lp.term_values()
    assert bound is not None and {"below_target", "share_shortfall", "fairness"} <= set(terms)
    constant = inst.policy.weights.below_target * sum(d.target for d in problem.duties)
    assert sum(terms.values()) + constant == pytest.approx(bound)
    assert terms.get("shortfall", 0) == pytest.approx(0) and terms["below_target"] < 0


@settings(max_examples=200, deadline=None)
@given(pmax=st.integers(0, 12), nmax=st.integers(0, 12), hmax=st.integers(0, 20),
       share=st.sampled_from([(4, 5), (2, 3), (1, 2), (1, 1), (1, 3), (3, 4)]))
def test_share_hull_faces_hold_at_every_point(pmax, nmax, hmax, share):
    """Every face of the share's integer hull holds at every (professionals, others) point of its
    box with that point's exact share shortfall, and none is weaker than the LP's own row
    everywhere: where a face is given, some point's hull value is above the LP row's."""
    import math

    from scheduler.cpsat.cuts import share_hull

    num, den = share
    faces = share_hull(pmax, nmax, hmax, num, den)
    for p in range(pmax + 1):
        for n in range(nmax + 1):
            if p + n > hmax:
                continue
            z = max(0, math.ceil(num * (p + n) / den) - p)
            for a, b, c, rhs in faces:
                assert c > 0 and a * p + b * n + c * z >= rhs, (p, n, z, (a, b, c, rhs))


def test_share_hull_charges_a_whole_professional_at_small_peaks():
    """At a peak of four seats with a share of 0.8, one non-professional among three professionals
    costs a whole professional (ceil(3.2) = 4): the hull says z >= N, the LP row only 0.2."""
    from scheduler.cpsat.cuts import share_hull

    assert (0, -1, 1, 0) in share_hull(4, 4, 4, 4, 5)
    # eight seats: z >= N - 1 (two others among six professionals: ceil(6.4) - 6 = 1)
    assert (0, -1, 1, -1) in share_hull(8, 8, 8, 4, 5)
    # a large peak adds nothing to the LP's row and z >= 0
    assert set(share_hull(20, 20, 20, 4, 5)) <= {(1, -4, 5, 0), (0, 0, 1, 0)}


def test_share_hull_lifts_the_relaxation_bound(monkeypatch):
    """The hull's faces lift the relaxation's bound on a generated district (on a 150-school one,
    seed 6613: 996,964 -> 1,009,575, where CP-SAT on the relaxation as an integer program proved
    1,010,610 in 120 s) and the bound stays under its rosters."""
    from models import instance_from_data
    from scheduler.check import check_rows
    from scheduler.cpsat import bound as bound_module
    from scheduler.cpsat.bound import RelaxationLP
    from scheduler.duties import expand
    from scheduler.generate import generate
    from scheduler.greedy import greedy_roster
    from scheduler.output import roster_rows

    inst = instance_from_data(generate("district", 11, schools=12))
    problem = expand(inst)
    lifted = RelaxationLP(problem).bound()
    with monkeypatch.context() as m:
        m.setattr(bound_module, "share_hull", lambda *a: ())
        plain = RelaxationLP(problem).bound()
    assert plain is not None and lifted is not None and lifted > plain * 1.003, (plain, lifted)
    report = check_rows(inst, roster_rows(problem, greedy_roster(problem)))
    assert report.ok and lifted <= report.objective


def test_the_bound_counts_skills_nobody_can_bring(tmp_path):
    """Classes split by skills: a gate asks for one person with traffic at each of five arrivals,
    and the only one with traffic is free on Monday; the bound holds the four skill shortfalls
    (4 x 200) that every roster has, where the relaxation without the split counts none. The
    optimum is at or above it, and a group's fairness is bounded once (not once per class)."""
    from conftest import doc, person, school, solve_checked

    from models import instance_from_data
    from scheduler.cpsat.bound import RelaxationLP, relaxation_bound
    from scheduler.duties import expand

    days = ("mon", "tue", "wed", "thu", "fri")
    gate = [{"id": "s1/gate", "demand": {"default": {"min": 1, "skills": {"traffic": 1}}}}]
    data = doc([school("s1", posts=gate)],
               [person("t", "security_guard", "s1", skills=["traffic"],
                       availability=[{"days": ["mon"], "start": "07:00", "end": "09:00"}]),
                person("g1", "security_guard", "s1"), person("g2", "security_guard", "s1")],
               days=days, policy={"leader_on_duty": False})
    problem = expand(instance_from_data(data))
    plain = RelaxationLP(problem).bound()
    split = relaxation_bound(problem)
    assert plain is not None and split is not None
    assert split - plain >= 4 * 200 - 1e-6
    solved = solve_checked(data, tmp_path)
    assert solved.report.terms["skill_shortfall"] == 4
    assert split <= solved.summary["objective"] + 1e-6
