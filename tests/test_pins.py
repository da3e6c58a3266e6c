"""Pins (extension, issue 6 item 5): forced duties are kept by every strategy and checked by the
validator; pins that no roster can keep are refused with the rules and data that conflict."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import FAR, NEAR, doc, person, school, solve_checked

from models import InstanceError, instance_from_data
from scheduler.check import check_rows
from scheduler.check.pins import pin_conflicts
from scheduler.commands import main
from scheduler.duties import expand
from scheduler.generate import generate

MON = "2026-12-07"


def two_posts() -> dict:
    """One school with two gates at the same peak, a police station serving it and a far school."""
    posts = [{"id": "s1/north", "demand": {"default": {"min": 1, "target": 2}}},
             {"id": "s1/south", "demand": {"default": {"min": 1}}}]
    units = [{"id": "st1", "kind": "police", "schools": ["s1"]}, {"id": "st2", "kind": "police", "schools": ["s2"]}]
    persons = [person("p1", "police", "st1"), person("p2", "police", "st1"), person("v1", "volunteer", "s1"),
               person("q1", "police", "st2")]
    return doc([school("s1", NEAR, posts=posts), school("s2", FAR)], persons, units=units, days=("mon", "tue"))


def pin(data: dict, pid: str, post: str, date: str = MON, peak: str = "arrival") -> None:
    who = next(p for p in data["persons"] if p["id"] == pid)
    who.setdefault("pins", []).append({"date": date, "peak": peak, "post": post})


def test_a_pin_is_kept_even_when_the_objective_would_not_choose_it(tmp_path):
    data = two_posts()
    pin(data, "v1", "s1/south")  # a volunteer costs burden; without the pin police cover everything
    solved = solve_checked(data, tmp_path)
    assert "v1" in solved.people_on("s1/south", MON, "arrival")
    free = solve_checked(two_posts(), tmp_path / "free")
    assert "v1" not in free.people_on("s1/south", MON, "arrival")
    assert solved.summary["objective"] > free.summary["objective"]


def test_the_validator_reports_a_missing_pin(tmp_path):
    data = two_posts()
    pin(data, "v1", "s1/south")
    solved = solve_checked(data, tmp_path)
    inst = instance_from_data(data)
    without = [r for r in solved.rows if r["person_id"] != "v1"]
    report = check_rows(inst, without)
    assert [(v.rule, v.person_id) for v in report.violations] == [("pinned", "v1")]
    assert "pinned here but not on the roster" in report.violations[0].detail


@pytest.mark.parametrize("strategy", ["full", "lns"])
def test_pins_hold_in_both_strategies_on_a_larger_instance(strategy, tmp_path):
    data = generate("district", 0, schools=6)
    # pin three teachers, each to a Tuesday duty they may take (found by the expansion)
    problem = expand(instance_from_data(data))
    pinned = []
    for p, who in enumerate(problem.persons):
        tuesday = [problem.duties[d] for d in problem.eligible[p] if problem.duties[d].weekday == "tue"]
        if who.role == "teacher" and tuesday and len(pinned) < 3:
            duty = tuesday[0]
            data["persons"][p]["pins"] = [{"date": "2026-12-08", "peak": duty.peak, "post": duty.post_id}]
            pinned.append((who.id, duty.post_id, duty.peak))
    assert len(pinned) == 3
    solved = solve_checked(data, tmp_path, expect_optimal=False, time_limit=6, workers=2, strategy=strategy)
    for pid, post, peak in pinned:
        assert pid in solved.people_on(post, "2026-12-08", peak)


def _impossible(data: dict, tmp_path) -> str:
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(path), "-o", str(out), "--time-limit", "3"])
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and r.output.startswith("error: persons[")
    assert "Traceback" not in r.output and not out.exists()
    return r.output


def test_two_places_at_once_is_explained(tmp_path):
    data = two_posts()
    pin(data, "p1", "s1/north")
    pin(data, "p1", "s1/south")
    line = _impossible(data, tmp_path)
    assert "persons[0].pins: impossible" in line
    assert "one_place: p1 is pinned to 2026-12-07 arrival s1/" in line


def test_a_pin_on_leave_outside_the_unit_and_beyond_limits(tmp_path):
    data = two_posts()
    data["persons"][1]["leave"] = [MON]
    pin(data, "p2", "s1/north")  # on leave that day
    line = _impossible(data, tmp_path)
    assert "availability: p2 is pinned to 2026-12-07 arrival s1/north" in line and "leave" in line

    data = two_posts()
    pin(data, "q1", "s1/north")  # st2 serves s2 only
    assert "eligibility: q1 is pinned to 2026-12-07 arrival s1/north: unit st2 does not serve school s1" in (
        _impossible(data, tmp_path))

    data = two_posts()
    data["policy"]["limits"] = {"police": {"max_per_week": 1}}
    pin(data, "p1", "s1/north")
    pin(data, "p1", "s1/north", date="2026-12-08")
    assert "limits: p1" in _impossible(data, tmp_path)


def test_more_pinned_people_than_the_cap(tmp_path):
    data = two_posts()
    for pid in ("p1", "p2", "v1"):
        pin(data, pid, "s1/south")  # cap = target = min = 1
    line = _impossible(data, tmp_path)
    assert ("cap: p1, p2, v1 are pinned to 2026-12-07 arrival s1/south: 3 people on a duty that takes at "
            "most 1 (target)") in line
    inst = instance_from_data(data)
    assert len(pin_conflicts(inst)) == 1


def test_a_pin_to_a_duty_that_does_not_exist_is_a_field_error():
    data = two_posts()
    pin(data, "p1", "s1/north", peak="noon")
    with pytest.raises(InstanceError, match=r"^persons\[0\]\.pins\[0\]\.peak: school 's1' has no peak 'noon' on mon"):
        instance_from_data(data)
    data = two_posts()
    pin(data, "p1", "s1/north", date="2026-12-12")
    with pytest.raises(InstanceError, match=r"^persons\[0\]\.pins\[0\]\.date: 2026-12-12 is not a school day"):
        instance_from_data(data)
    data = two_posts()
    data["persons"][0]["pins"] = [{"date": MON, "peak": "arrival", "post": "s1/north", "route": "r"}]
    with pytest.raises(InstanceError, match=r"^persons\[0\]\.pins\[0\]: give exactly one of post and route"):
        instance_from_data(data)
