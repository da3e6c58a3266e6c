"""``schoolpost staffing``: the fewest people of a role, proven where the floor meets it, and a
roster with that many people that the validator accepts."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import doc, person, school, solve_checked

from models import InstanceError
from scheduler.commands import main
from scheduler.staffing import run_staffing


def gate_doc(police: int, *, min_police: int = 2, max_per_week: int = 3, extra_min: int = 0) -> dict:
    """One gate, one peak a day, Mon-Fri, wanting ``min_police`` officers; officers work at most
    ``max_per_week`` duties."""
    units = [{"id": "st1", "kind": "police", "schools": ["s1"]}]
    posts = [{"id": "s1/gate", "demand": {"default": {"min": min_police + extra_min, "min_police": min_police}}}]
    persons = [person(f"p{i}", "police", "st1") for i in range(1, police + 1)]
    persons += [person("g1", "security_guard", "s1")]
    policy = {"leader_on_duty": False, "limits": {"police": {"max_per_week": max_per_week}}}
    return doc([school("s1", posts=posts)], persons, units=units, days=("mon", "tue", "wed", "thu", "fri"),
               policy=policy)


def _file(tmp_path, data) -> str:
    path = tmp_path / "i.json"
    path.write_text(json.dumps(data))
    return str(path)


OPTIONS = {"time_limit": 10.0, "workers": 1, "seed": 0}


def test_weekly_volume_drives_the_count_and_new_people_fill_the_rest(tmp_path):
    # 5 days x 2 officers = 10 police duties, at most 3 each: 4 officers; the unit has 1
    [res] = run_staffing(_file(tmp_path, gate_doc(1)), "police", unit="st1", options=OPTIONS)
    row = res["row"]
    assert (row["have"], row["needed"], row["existing_used"], row["to_add"]) == (1, 4, 1, 3)
    assert row["proven"] and row["lower_bound"] == 4
    assert sorted(res["at_limit"])[:1] == ["new-police-1"] or len(res["at_limit"]) >= 3


def test_a_moment_drives_the_count_when_limits_are_loose(tmp_path):
    data = gate_doc(5, min_police=3, max_per_week=10)
    [res] = run_staffing(_file(tmp_path, data), "police", unit="st1", options=OPTIONS)
    row = res["row"]
    assert (row["needed"], row["to_add"], row["proven"]) == (3, 0, True)
    assert res["moments"] and "all 3 on duty" in row["drivers"]


def test_the_answer_is_enough_the_validator_says_so(tmp_path):
    """Hire exactly ``to_add`` officers (all days, all day) and solve: no one missing at min."""
    data = gate_doc(1)
    [res] = run_staffing(_file(tmp_path, data), "police", unit="st1", options=OPTIONS)
    k = res["row"]["to_add"]
    data["persons"] += [person(f"hire{i}", "police", "st1") for i in range(k)]
    solved = solve_checked(data, tmp_path, expect_optimal=False, time_limit=10)
    assert solved.report.terms["shortfall"] == 0 and solved.report.terms["police_shortfall"] == 0
    # and one fewer is not enough (the count is the smallest)
    data["persons"] = [p for p in data["persons"] if p["id"] != f"hire{k - 1}"]
    fewer = solve_checked(data, tmp_path / "fewer", expect_optimal=False, time_limit=10)
    assert fewer.report.terms["police_shortfall"] > 0


def test_a_lower_fill_rate_needs_fewer(tmp_path):
    [full] = run_staffing(_file(tmp_path, gate_doc(1)), "police", unit="st1", options=OPTIONS)
    [half] = run_staffing(_file(tmp_path, gate_doc(1)), "police", unit="st1", fill_rate=0.5, options=OPTIONS)
    assert half["row"]["needed"] < full["row"]["needed"]


def test_command_prints_the_table_and_writes_files(tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["staffing", _file(tmp_path, gate_doc(1)), "--role", "police", "--time-limit", "10",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "st1" in r.output and "police: 1 now, 4 needed, 3 to add" in r.output
    assert (out / "staffing.csv").read_text().splitlines()[0].startswith("unit,role,have,needed")
    assert json.loads((out / "staffing.json").read_text())["units"][0]["row"]["needed"] == 4


def test_unknown_unit_is_one_line_exit_2(tmp_path):
    r = CliRunner().invoke(main, ["staffing", _file(tmp_path, gate_doc(1)), "--role", "police", "--unit", "zz"])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "--unit" in r.output
    with pytest.raises(InstanceError):
        run_staffing(_file(tmp_path, gate_doc(1)), "teacher", options=OPTIONS)


def test_same_question_same_answer(tmp_path, monkeypatch):
    """By default (a work budget, as solve's) the same instance, seed and workers give the same
    staffing.csv, here on a generated ten-school district whose units are not all proven within the
    budget; summary says reproducible. ``--work-limit none`` searches by the clock and says it is not.
    The machine is calibrated first, as the README asks (this shared machine's speed drifts by 30 %)."""
    import yaml

    from scheduler.generate import generate

    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", str(tmp_path / "calibration.json"))
    assert CliRunner().invoke(main, ["calibrate", "--runs", "1"]).exit_code == 0
    path = tmp_path / "ten.yaml"
    path.write_text(yaml.safe_dump(generate("district", 3, schools=10), sort_keys=False))
    outs = []
    for k in range(2):
        out = tmp_path / f"o{k}"
        r = CliRunner().invoke(main, ["staffing", str(path), "--role", "police", "--time-limit", "6", "-o", str(out),
                                      "--quiet"])
        assert r.exit_code == 0, r.output
        outs.append(out)
    assert (outs[0] / "staffing.csv").read_bytes() == (outs[1] / "staffing.csv").read_bytes()
    answer = json.loads((outs[0] / "staffing.json").read_text())
    assert answer["reproducible"] is True and answer["work_limit"] == "auto"
    assert {u["row"]["status"] for u in answer["units"]} <= {"optimal", "work_limit"}
    r = CliRunner().invoke(main, ["staffing", str(path), "--role", "police", "--unit", "bincheng-st01",
                                  "--time-limit", "2", "--work-limit", "none", "-o", str(tmp_path / "clock")])
    assert r.exit_code == 0, r.output
    clock = json.loads((tmp_path / "clock" / "staffing.json").read_text())
    assert clock["work_limit"] is None
    assert clock["reproducible"] is (clock["units"][0]["row"]["status"] == "optimal")
