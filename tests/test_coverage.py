"""Coverage first (scheduler.coverage): the shortfall bound is a true lower bound, the coverage
stage reaches the proven minimum on small instances, the neighbourhood search never gives back a
settled shortfall, and the summary and the command line say when the gaps left are unavoidable."""

from __future__ import annotations

import time

import pytest
from conftest import solve_checked

from models import instance_from_data
from scheduler.check import check_rows
from scheduler.cpsat import RosterModel
from scheduler.cpsat.bound import RelaxationLP
from scheduler.cpsat.flow import flow_shortfall_bound
from scheduler.cpsat.solver import run
from scheduler.duties import expand
from scheduler.generate import generate
from scheduler.greedy import greedy_roster
from scheduler.output import roster_rows


def _short_staffed(seed: int, schools: int, keep: float) -> dict:
    """A generated district with only ``keep`` of its people: some gaps cannot be avoided."""
    data = generate("district", seed, schools=schools)
    people = data["persons"]
    data["persons"] = [p for i, p in enumerate(people) if (i * 7919) % 100 < keep * 100]
    return data


def _proven_minimum(problem) -> int:
    """The fewest people missing below min, proven by CP-SAT's tree search on the shortfall alone."""
    rm = RosterModel(problem, rules=("shortfall",), with_cuts=False)
    rm.model.minimize(rm.coverage_expr(("shortfall",)))
    raw = run(rm.model, time_limit=120, workers=2, seed=0)
    assert raw.status == "optimal", raw.status
    return rm.evaluate(list(raw.values))[1]["shortfall"]


@pytest.mark.parametrize("seed,schools,keep", [(11, 3, 0.5), (12, 4, 0.6), (13, 3, 0.4)])
def test_bound_is_below_the_proven_minimum_and_the_stage_reaches_it(seed, schools, keep):
    from scheduler.coverage import cover, shortfall_bound

    problem = expand(instance_from_data(_short_staffed(seed, schools, keep)))
    best = _proven_minimum(problem)
    bound = shortfall_bound(problem)
    assert 0 <= bound <= best
    assert flow_shortfall_bound(problem) <= best  # each of the bounds it takes the largest of
    greedy = greedy_roster(problem)
    out = cover(problem, greedy, bound, work=(4.0, 1.0, 4.0), time_limit=60, seed=0)
    report = check_rows(problem.instance, roster_rows(problem, out.pairs))
    assert report.ok, [str(v) for v in report.violations]
    assert report.terms["shortfall"] == out.shortfall
    assert out.shortfall == best  # the stage finds the proven minimum on these small instances
    assert out.shortfall <= out.start_shortfall
    assert best > 0  # the instances are short of people: the test is not about zero gaps


def test_the_flow_bound_proves_a_minimum_the_lp_does_not():
    """Two schools with a third of their people: the relaxation's LP allows 182 people missing, the
    maximum flow (people by name, their days and time blocks) 183; the coverage stage finds a
    roster with 183, which is therefore the minimum (CP-SAT's own search does not prove it in 20 s)."""
    import math

    from scheduler.coverage import cover, shortfall_bound

    problem = expand(instance_from_data(_short_staffed(26, 2, 0.35)))
    lp = math.ceil(RelaxationLP(problem, weights={"shortfall": 1}).bound() - 1e-6)
    assert flow_shortfall_bound(problem) == shortfall_bound(problem) == 183 > lp
    out = cover(problem, greedy_roster(problem), 183, work=(4.0, 1.0, 4.0), time_limit=60, seed=0)
    report = check_rows(problem.instance, roster_rows(problem, out.pairs))
    assert report.ok, [str(v) for v in report.violations]
    assert report.terms["shortfall"] == out.shortfall == 183


def test_neighbourhood_search_never_gives_back_a_settled_shortfall():
    """Every sub-model holds its shortfall (``hold``): the weighted search may trade police,
    share and the rest, never a seat below min."""
    from scheduler.coverage import cover, shortfall_bound
    from scheduler.lns import improve

    problem = expand(instance_from_data(_short_staffed(14, 6, 0.55)))
    greedy = greedy_roster(problem)
    settled = cover(problem, greedy, shortfall_bound(problem), work=(2.0, 1.0, 2.0), time_limit=60, seed=0)
    before = check_rows(problem.instance, roster_rows(problem, settled.pairs))
    pairs, stats = improve(problem, settled.pairs, deadline=time.monotonic() + 120, workers=2, seed=0, seconds=8.0)
    after = check_rows(problem.instance, roster_rows(problem, pairs))
    assert after.ok, [str(v) for v in after.violations]
    assert stats.solved > 0
    assert after.terms["shortfall"] <= before.terms["shortfall"]
    assert after.objective == pytest.approx(before.objective + stats.delta)


def test_summary_carries_the_bound_and_the_line_says_proven(tmp_path):
    from scheduler.pipeline import shortfall_line

    data = _short_staffed(15, 3, 0.45)
    s = solve_checked(data, tmp_path, expect_optimal=False, strategy="lns", time_limit=30, workers=2)
    bound, short = s.summary["shortfall_bound"], s.summary["shortfall"]
    assert bound is not None and 0 < bound <= short
    assert short == s.report.terms["shortfall"]
    line = shortfall_line(s.summary)
    if short == bound:
        assert line == f"the {short} remaining gaps cannot be filled with these people (proven)"
    else:
        assert line is not None and f"fewer than {bound}" in line
    from scheduler.human.report import _kpi_section

    html = _kpi_section(instance_from_data(data), s.rows, s.report, s.gaps, s.summary)
    assert "Seats below min" in html and (f"the {short:,} remaining gaps cannot be filled" in html if short == bound
                                          else f"fewer than {bound:,}" in html)
    assert shortfall_line({"shortfall": 0, "shortfall_bound": 0}) is None
    assert "(proven)" in shortfall_line({"shortfall": 4, "shortfall_bound": 4})


def test_lexicographic_on_the_neighbourhood_search_is_not_worse_on_coverage(tmp_path):
    """--lexicographic runs through the same search at every size (strategy lns here) and keeps
    at least the weighted run's coverage: both share the coverage stage, and it holds every
    coverage rule where the weighted run holds the shortfall only."""
    data = _short_staffed(16, 4, 0.5)
    # a fixed work budget (the clock only a far cap): a busy machine cannot cut one run short
    weighted = solve_checked(data, tmp_path / "w", expect_optimal=False, strategy="lns", time_limit=120, workers=2,
                             work_limit=3.0)
    lex = solve_checked(data, tmp_path / "l", expect_optimal=False, strategy="lns", time_limit=120, workers=2,
                        lexicographic=True, work_limit=3.0)
    assert weighted.summary["reproducible"] and lex.summary["reproducible"]
    assert lex.summary["lexicographic"] is True and lex.summary["strategy"] == "lns"
    assert lex.summary["shortfall"] <= weighted.summary["shortfall"], (lex.summary["shortfall"], weighted.summary["shortfall"])
    assert lex.summary["source"] == "lns"


def _apply_move(problem, pairs: list[tuple[int, int]], gap: dict) -> list[tuple[int, int]]:
    """The roster after the move a gaps.csv row names (``add P ... [to POST]`` or ``put P ... in
    place of Q at POST``)."""
    import re

    index = {p.id: i for i, p in enumerate(problem.persons)}
    text = gap["reason"].split("; move: ", 1)[1]
    put = re.match(r"put (\S+) .* in place of (\S+) at (\S+)$", text)
    add = re.match(r"add (\S+) \(.*\)(?: to (\S+))?, who is free$", text)
    assert put or add, text
    post = put.group(3) if put else (add.group(2) or gap["post_id"])
    duty = next(d.index for d in problem.duties if d.date.isoformat() == gap["date"] and d.peak == gap["peak"]
                and (d.post_id == post if post else d.route_id == gap["route_id"]))
    out = [pair for pair in pairs if not (put and pair == (index[put.group(2)], duty))]
    assert len(out) == len(pairs) - (1 if put else 0)
    return out + [(index[(put or add).group(1)], duty)]


@pytest.mark.parametrize("seed", [21, 22])
def test_avoidable_yes_names_a_move_that_is_valid_and_lowers_its_rule(seed):
    """Every gaps.csv row marked avoidable ``yes`` names one move; made on the roster it keeps
    every hard rule (the validator) and lowers the row's own rule; ``no`` rows are below the
    proven bound or have fewer people who may serve than needed."""
    from scheduler.coverage import shortfall_bound
    from scheduler.explain import gap_rows

    problem = expand(instance_from_data(_short_staffed(seed, 4, 0.7)))
    greedy = greedy_roster(problem)
    thinned = [pair for i, pair in enumerate(greedy) if i % 3]  # a roster with seats someone could take
    rows = roster_rows(problem, thinned)
    report = check_rows(problem.instance, rows)
    assert report.ok
    gaps = [g.model_dump() for g in gap_rows(problem, thinned, report, shortfall_bound(problem))]
    severities = [g["severity"] for g in gaps]
    assert severities == sorted(severities, key=lambda s: s != "gap")  # real gaps first
    yes = [g for g in gaps if g["avoidable"] == "yes"]
    assert len(yes) >= 5 and {g["rule"].split(":")[0] for g in yes} >= {"shortfall", "below_target"}
    for g in yes:
        after = check_rows(problem.instance, roster_rows(problem, _apply_move(problem, thinned, g)))
        assert after.ok, (g, [str(v) for v in after.violations])
        rule = g["rule"].split(":")[0]
        assert after.terms[rule] < report.terms[rule], g
    for g in gaps:
        if g["avoidable"] == "no":
            assert g["severity"] == "gap"


def test_the_coverage_search_is_one_run_a_phase_without_cp_sats_pool_of_rosters(monkeypatch):
    """CP-SAT keeps every roster its local search finds in its alternative pool unless the pool is
    empty (1.5 GB on a 150-school district): each phase of the coverage stage is one CP-SAT run
    with that pool empty; twice the same roster, valid, at the proven minimum here."""
    from scheduler import coverage

    problem = expand(instance_from_data(_short_staffed(21, 4, 0.55)))
    bound = coverage.shortfall_bound(problem)
    greedy = greedy_roster(problem)
    runs: list[dict] = []

    def counted(*args, **kwargs):
        runs.append(kwargs["extra"])
        return run(*args, **kwargs)

    monkeypatch.setattr(coverage, "run", counted)
    # the flow alone meets the bound here (the next test): without it, both phases run
    monkeypatch.setattr(coverage, "_flow_fill", lambda problem, pairs, short: (pairs, short))
    outs = [coverage.cover(problem, greedy, bound, work=(4.0, 1.0, 0.0), time_limit=60, seed=0) for _ in range(2)]
    assert len(runs) == 4 and all(o.runs == 2 for o in outs), runs  # first and second phase, twice
    assert all(extra["alternative_pool_size"] == 0 and extra["use_ls_only"] for extra in runs)
    assert outs[0].pairs == outs[1].pairs and outs[0].shortfall == outs[1].shortfall
    for out in outs:
        report = check_rows(problem.instance, roster_rows(problem, out.pairs))
        assert report.ok, [str(v) for v in report.violations]
        assert report.terms["shortfall"] == out.shortfall
    assert outs[0].start_shortfall > outs[0].shortfall == _proven_minimum(problem)


def test_where_people_are_short_the_flow_fills_seats_before_the_local_search():
    """A positive bound (people are short): the flow (scheduler.cpsat.flow) runs first; here its roster
    already meets the proven minimum, so only the second phase's CP-SAT run follows."""
    from scheduler import coverage

    problem = expand(instance_from_data(_short_staffed(21, 4, 0.55)))
    bound = coverage.shortfall_bound(problem)
    greedy = greedy_roster(problem)
    out = coverage.cover(problem, greedy, bound, work=(4.0, 1.0, 0.0), time_limit=60, seed=0)
    assert bound > 0 and out.flows == 1 and out.runs == 1
    assert out.start_shortfall > out.shortfall == _proven_minimum(problem) == bound
    assert check_rows(problem.instance, roster_rows(problem, out.pairs)).ok


def test_the_second_phase_lowers_the_professional_share_over_the_whole_district(monkeypatch):
    """Once the shortfall meets its bound, the second phase's objective is every coverage rule,
    the professional share included (it moves professionals between schools and days anywhere in
    the district), with the shortfall held; it also gets what the first phase left of its budget
    (``carry``). While the shortfall is above its bound, the share is left to the later search."""
    from scheduler import coverage

    problem = expand(instance_from_data(generate("district", 31, schools=8)))
    bound = coverage.shortfall_bound(problem)
    greedy = greedy_roster(problem)
    budgets: list[float] = []

    def counted(*args, **kwargs):
        budgets.append(kwargs["extra"]["max_deterministic_time"])
        return run(*args, **kwargs)

    monkeypatch.setattr(coverage, "run", counted)
    first_only = coverage.cover(problem, greedy, bound, work=(4.0, 0.01, 0.0), time_limit=60, seed=0, carry=0.0)
    assert first_only.shortfall == bound == 0  # a well-staffed district: the first phase meets its bound
    both = coverage.cover(problem, greedy, bound, work=(4.0, 0.01, 0.0), time_limit=60, seed=0, carry=0.5)
    first_used = both.work - both.second_work
    assert budgets[-1] == pytest.approx(0.01 + 0.5 * (4.0 - first_used))  # the carried budget
    reports = [check_rows(problem.instance, roster_rows(problem, out.pairs)) for out in (first_only, both)]
    for report in reports:
        assert report.ok, [str(v) for v in report.violations]
    assert reports[1].terms["shortfall"] == 0
    assert reports[1].terms["share_shortfall"] < reports[0].terms["share_shortfall"]
    # the second phase never raises the coverage rules' weighted total
    w = problem.instance.policy.weights

    def coverage_cost(terms: dict) -> float:
        return sum(getattr(w, rule) * terms[rule] for rule in
                   ("shortfall", "police_shortfall", "skill_shortfall", "share_shortfall", "leader_missing"))

    assert coverage_cost(reports[1].terms) <= coverage_cost(reports[0].terms)
