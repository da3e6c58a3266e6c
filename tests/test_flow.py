"""The coverage stage's flow (scheduler.cpsat.flow): a roster that keeps every hard rule, fills the
seats a chain of moves can fill, and keeps pinned duties."""

from __future__ import annotations

import dataclasses

from conftest import NEAR2, doc, person, school

from models import instance_from_data
from scheduler.check import check_rows
from scheduler.coverage import roster_shortfall
from scheduler.cpsat.flow import flow_roster, time_blocks
from scheduler.duties import expand
from scheduler.generate import generate
from scheduler.greedy import greedy_roster
from scheduler.output import roster_rows


def _two_schools(days):
    schools = [school("a"), school("b", loc=NEAR2)]
    persons = [person("g1", "security_guard", "u1", limits={"max_per_week": 1}),
               person("g2", "security_guard", "u2", limits={"max_per_week": 2})]
    units = [{"id": "u1", "kind": "community", "schools": ["a", "b"]},
             {"id": "u2", "kind": "community", "schools": ["a"]}]
    inst = instance_from_data(doc(schools, persons, units=units, days=days))
    problem = expand(inst)
    at = {(d.school_id, d.weekday): d.index for d in problem.duties}
    return inst, problem, at


def test_a_chain_of_two_moves_fills_a_gate_no_single_move_could():
    """g1 (a or b) stands at a, b is empty, g2 serves a only: g1 must move to b and g2 take a."""
    inst, problem, at = _two_schools(("mon",))
    start = [(0, at[("a", "mon")])]
    pairs = flow_roster(problem, start)
    assert roster_shortfall(problem, start) == 1 and roster_shortfall(problem, pairs) == 0
    assert sorted(pairs) == sorted([(0, at[("b", "mon")]), (1, at[("a", "mon")])])
    assert check_rows(inst, roster_rows(problem, pairs)).ok


def test_a_week_limit_is_moved_from_one_day_to_another():
    """g1 may serve once a week and serves a on Monday; b (only g1) is empty both days; g2 serves
    a on Tuesday and has room for Monday: g1's one duty goes to b, g2 takes a on both days."""
    inst, problem, at = _two_schools(("mon", "tue"))
    start = [(0, at[("a", "mon")]), (1, at[("a", "tue")])]
    pairs = flow_roster(problem, start)
    assert roster_shortfall(problem, start) == 2 and roster_shortfall(problem, pairs) == 1
    assert {(1, at[("a", "mon")]), (1, at[("a", "tue")])} <= set(pairs)
    assert check_rows(inst, roster_rows(problem, pairs)).ok


def test_blocks_hold_every_pair_of_overlapping_duties():
    problem = expand(instance_from_data(generate("district", 5, schools=6)))
    block = time_blocks(problem)
    duties = problem.duties
    by_date: dict = {}
    for d in duties:
        by_date.setdefault(d.date, []).append(d)
    for same_day in by_date.values():
        for a in same_day:
            for b in same_day:
                if a.start < b.end and b.start < a.end:
                    assert block[a.index] == block[b.index]


def test_on_a_short_staffed_district_the_flow_fills_more_seats_and_keeps_pins():
    data = generate("district", 23, schools=10)
    data["persons"] = [p for i, p in enumerate(data["persons"]) if i % 3 != 2]
    inst = instance_from_data(data)
    problem = expand(inst)
    start = greedy_roster(problem)
    pinned = frozenset(start[::7])
    problem = dataclasses.replace(problem, pinned=pinned)
    pairs = flow_roster(problem, start)
    assert check_rows(inst, roster_rows(problem, pairs)).ok
    assert pinned <= set(pairs)
    assert roster_shortfall(problem, pairs) < roster_shortfall(problem, start)
    assert flow_roster(problem, start) == pairs  # a function of the problem and the roster
