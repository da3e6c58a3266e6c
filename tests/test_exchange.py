"""Exchanges between people (scheduler.exchange): every move keeps the hard rules, no coverage
rule rises, and the change it reports is the validator's change of the objective, term by term."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import NEAR2, doc, person, school, with_history

from models import instance_from_data
from scheduler.check import check_rows
from scheduler.duties import expand
from scheduler.exchange import exchange
from scheduler.generate import generate
from scheduler.greedy import greedy_roster
from scheduler.output import roster_rows

#: no exchange raises one of these (SPEC: coverage before every other term)
COVERAGE_TERMS = ("shortfall", "police_shortfall", "skill_shortfall", "share_shortfall", "leader_missing")


@pytest.fixture(scope="module")
def district():
    inst = instance_from_data(generate("district", 11, schools=12))
    problem = expand(inst)
    return inst, problem, greedy_roster(problem)


def test_the_exchange_is_valid_exact_and_keeps_coverage(district):
    inst, problem, start = district
    before = check_rows(inst, roster_rows(problem, start))
    pairs, stats = exchange(problem, start)
    after = check_rows(inst, roster_rows(problem, pairs))
    assert before.ok and after.ok, after.violations[:3]
    assert stats.swaps and stats.transfers and stats.additions and stats.delta < 0
    # exact: the validator's objective moved by the reported change, term by term
    assert after.objective == pytest.approx(before.objective + stats.delta)
    for term in before.terms:
        assert after.terms[term] - before.terms[term] == stats.by_term.get(term, 0), term
    for term in COVERAGE_TERMS:
        assert after.terms[term] <= before.terms[term], term
    # a function of the roster: the same input gives the same roster
    assert exchange(problem, start)[0] == pairs


def test_the_exchange_is_exact_with_a_history():
    """Earlier weeks' loads count in fairness and last week's posts in continuity: the moves the
    pass makes and the change it reports agree with the validator's, term by term."""
    data = with_history(generate("district", 11, schools=12), 5, 20, 0.7, 0.5)
    inst = instance_from_data(data)
    problem = expand(inst)
    start = greedy_roster(problem)
    before = check_rows(inst, roster_rows(problem, start))
    pairs, stats = exchange(problem, start)
    after = check_rows(inst, roster_rows(problem, pairs))
    assert before.ok and after.ok and stats.delta < 0
    assert after.objective == pytest.approx(before.objective + stats.delta)
    for term in before.terms:
        assert after.terms[term] - before.terms[term] == stats.by_term.get(term, 0), term
    plain = check_rows(instance_from_data({k: v for k, v in data.items() if k != "history"}),
                       roster_rows(problem, start))
    assert before.terms["fairness"] > plain.terms["fairness"]  # the history counts


def test_pinned_duties_stay_with_their_person(district):
    inst, problem, start = district
    free, _ = exchange(problem, start)
    moved = sorted(set(start) - set(free))
    assert moved, "the exchange moved nothing, so the pins below would prove nothing"
    pinned = frozenset(moved[: len(moved) // 2])
    held, _ = exchange(dataclasses.replace(problem, pinned=pinned), start)
    assert pinned <= set(held)
    assert check_rows(inst, roster_rows(problem, held)).ok


def test_two_guards_each_keep_one_gate():
    """Greedy-like start: each guard stands at both gates on alternate days; the exchange gives
    each guard one gate for the week (continuity 2 -> 0), loads and coverage unchanged."""
    schools = [school("a", posts=[{"id": "a/gate", "demand": {"default": {"min": 1}}}]),
               school("b", posts=[{"id": "b/gate", "demand": {"default": {"min": 1}}}])]
    persons = [person("g1", "security_guard", "u"), person("g2", "security_guard", "u")]
    units = [{"id": "u", "kind": "community", "schools": ["a", "b"]}]
    inst = instance_from_data(doc(schools, persons, units=units, days=("mon", "tue")))
    problem = expand(inst)
    by_key = {(d.post_id, d.date.isoformat()): d.index for d in problem.duties}
    g1, g2 = (next(i for i, p in enumerate(problem.persons) if p.id == pid) for pid in ("g1", "g2"))
    start = sorted([(g1, by_key[("a/gate", "2026-12-07")]), (g1, by_key[("b/gate", "2026-12-08")]),
                    (g2, by_key[("b/gate", "2026-12-07")]), (g2, by_key[("a/gate", "2026-12-08")])])
    before = check_rows(inst, roster_rows(problem, start))
    pairs, stats = exchange(problem, start)
    after = check_rows(inst, roster_rows(problem, pairs))
    assert before.terms["continuity"] == 2 and after.terms["continuity"] == 0
    assert after.ok and stats.delta == after.objective - before.objective < 0
    posts = {p: {problem.duties[d].post_id for pp, d in pairs if pp == p} for p in (g1, g2)}
    assert all(len(v) == 1 for v in posts.values()) and posts[g1] != posts[g2]


def test_a_free_guard_stands_in_for_a_volunteer_where_the_share_is_short():
    """One gate (min 1, target 2) held by a volunteer: the school peak is short of professionals
    (1 of 1 should be). The guard on the unit's list stands in for the volunteer (share and burden
    fall); adding the guard beside the volunteer instead would leave the share short."""
    schools = [school("a", posts=[{"id": "a/gate", "demand": {"default": {"min": 1, "target": 2}}}])]
    persons = [person("v", "volunteer", "u"), person("g", "security_guard", "u")]
    units = [{"id": "u", "kind": "community", "schools": ["a"]}]
    inst = instance_from_data(doc(schools, persons, units=units))
    problem = expand(inst)
    v, g = (next(i for i, p in enumerate(problem.persons) if p.id == pid) for pid in ("v", "g"))
    start = [(v, 0)]
    before = check_rows(inst, roster_rows(problem, start))
    pairs, stats = exchange(problem, start)
    after = check_rows(inst, roster_rows(problem, pairs))
    assert before.terms["share_shortfall"] == 1 and after.terms["share_shortfall"] == 0
    assert pairs == [(g, 0)] and stats.replacements == 1
    assert after.ok and stats.delta == after.objective - before.objective < 0


def test_a_guard_leaves_a_seat_that_can_spare_them_to_stand_in_for_a_volunteer():
    """School a's gate (min 1) is held by its volunteer: its peak is short of professionals. No
    guard is free then, but gate b (min 1, target 3) has three: one leaves b (still at its
    share: ceil(0.8 x 2) = 2 guards) and takes the volunteer's place, who leaves (share and
    burden fall, b's target is one short). The volunteer may serve school a only, so no swap
    can do it, and the guards are busy at b, so no plain stand-in can."""
    schools = [school("a", posts=[{"id": "a/gate", "demand": {"default": {"min": 1}}}]),
               school("b", loc=NEAR2, posts=[{"id": "b/gate", "demand": {"default": {"min": 1, "target": 3}}}])]
    persons = [person("v", "volunteer", "ua"), person("g1", "security_guard", "u"),
               person("g2", "security_guard", "u"), person("g3", "security_guard", "u")]
    units = [{"id": "ua", "kind": "community", "schools": ["a"]},
             {"id": "u", "kind": "community", "schools": ["a", "b"]}]
    inst = instance_from_data(doc(schools, persons, units=units))
    problem = expand(inst)
    v, g1, g2, g3 = (next(i for i, p in enumerate(problem.persons) if p.id == pid) for pid in ("v", "g1", "g2", "g3"))
    a = next(d.index for d in problem.duties if d.post_id == "a/gate")
    b = next(d.index for d in problem.duties if d.post_id == "b/gate")
    start = sorted([(v, a), (g1, b), (g2, b), (g3, b)])
    before = check_rows(inst, roster_rows(problem, start))
    pairs, stats = exchange(problem, start)
    after = check_rows(inst, roster_rows(problem, pairs))
    assert before.ok and before.terms["share_shortfall"] == 1 and after.terms["share_shortfall"] == 0
    assert pairs == sorted([(g1, a), (g2, b), (g3, b)]) and stats.replacements == 1
    assert after.terms["below_target"] == 1 and after.terms["burden"] == 0
    assert after.ok and stats.delta == after.objective - before.objective < 0
    for term in before.terms:
        assert after.terms[term] - before.terms[term] == stats.by_term.get(term, 0), term


def test_a_seat_below_target_is_filled_by_a_professional_with_room():
    schools = [school("a", posts=[{"id": "a/gate", "demand": {"default": {"min": 1, "target": 2}}}])]
    persons = [person("g1", "security_guard", "u"), person("g2", "security_guard", "u")]
    units = [{"id": "u", "kind": "community", "schools": ["a"]}]
    inst = instance_from_data(doc(schools, persons, units=units, days=("mon", "tue")))
    problem = expand(inst)
    start = sorted((0, d.index) for d in problem.duties)  # g1 on both days, g2 on none
    before = check_rows(inst, roster_rows(problem, start))
    pairs, stats = exchange(problem, start)
    after = check_rows(inst, roster_rows(problem, pairs))
    assert before.terms["below_target"] == 2 and after.terms["below_target"] == 0
    assert stats.additions == 2 and after.ok and stats.delta == after.objective - before.objective < 0


def test_someone_a_seat_can_spare_moves_to_a_gate_left_empty():
    """Gate a holds two guards (min 1, target 2), gate b none (min 1): one guard moves to b, the
    shortfall falls to 0 (the other terms counted exactly too)."""
    gate = {"demand": {"default": {"min": 1, "target": 2}}}
    schools = [school("a", posts=[{"id": "a/gate", **gate}]), school("b", loc=NEAR2, posts=[{"id": "b/gate", **gate}])]
    persons = [person("g1", "security_guard", "u"), person("g2", "security_guard", "u")]
    units = [{"id": "u", "kind": "community", "schools": ["a", "b"]}]
    inst = instance_from_data(doc(schools, persons, units=units))
    problem = expand(inst)
    a = next(d.index for d in problem.duties if d.post_id == "a/gate")
    start = [(0, a), (1, a)]
    before = check_rows(inst, roster_rows(problem, start))
    pairs, stats = exchange(problem, start)
    after = check_rows(inst, roster_rows(problem, pairs))
    assert before.terms["shortfall"] == 1 and after.terms["shortfall"] == 0
    assert stats.moves == 1 and after.ok and stats.delta == after.objective - before.objective < 0


def test_the_pass_ends_at_its_deadline_with_a_valid_roster(district):
    """A deadline already past ends the pass before its first seat: nothing moves, the stats say
    the clock cut it (not a Ctrl-C); a deadline far off changes nothing of the full pass."""
    import time

    inst, problem, start = district
    cut, stats = exchange(problem, start, deadline=time.monotonic() - 1)
    assert cut == sorted(start) and stats.clock_cut and not stats.stopped and stats.delta == 0
    full, whole = exchange(problem, start)
    late, stats = exchange(problem, start, deadline=time.monotonic() + 3600)
    assert late == full and not stats.clock_cut and stats.delta == whole.delta < 0
    assert check_rows(inst, roster_rows(problem, cut)).ok


def test_the_pass_ends_at_its_budget_at_the_same_move_every_time(district):
    """A budget of modelled seconds (moves weighed) ends the pass part-way, at the same move on
    every run: the same roster twice, valid and exact, not marked as cut by the clock; a budget
    the pass never reaches changes nothing."""
    from scheduler.exchange import SECONDS_PER_OPTION

    inst, problem, start = district
    full, whole = exchange(problem, start, passes=1)
    budget = whole.options * SECONDS_PER_OPTION / 3
    part, stats = exchange(problem, start, passes=1, budget=budget)
    again, _ = exchange(problem, start, passes=1, budget=budget)
    assert stats.budget_cut and not stats.clock_cut and not stats.stopped
    assert part == again != full
    assert budget <= stats.options * SECONDS_PER_OPTION < whole.options * SECONDS_PER_OPTION
    assert whole.delta < stats.delta < 0
    before, after = check_rows(inst, roster_rows(problem, start)), check_rows(inst, roster_rows(problem, part))
    assert after.ok and after.objective == pytest.approx(before.objective + stats.delta)
    roomy, same = exchange(problem, start, passes=1, budget=2 * whole.options * SECONDS_PER_OPTION)
    assert roomy == full and not same.budget_cut and same.delta == whole.delta
