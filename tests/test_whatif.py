"""``schoolpost whatif``: the operations, the scenario file's errors, and a full comparison run."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import NEAR2, doc, person, school

from models import InstanceError, instance_from_data
from scheduler.check import check_roster
from scheduler.commands import main
from scheduler.scenarios import Scenario, apply_operations, load_scenarios


def base_doc() -> dict:
    units = [{"id": "st1", "kind": "police", "schools": ["s1", "s2"]}]
    peaks = [{"name": "arrival", "start": "07:20", "end": "08:00"},
             {"name": "dismissal", "start": "16:30", "end": "17:10"}]
    posts1 = [{"id": "s1/gate", "demand": {"default": {"min": 2, "target": 3, "min_police": 1}}}]
    posts2 = [{"id": "s2/gate", "demand": {"default": {"min": 1, "target": 2}, "dismissal": {"min": 2}}}]
    persons = [person(f"p{i}", "police", "st1") for i in range(1, 4)]
    persons += [person(f"a{i}", "auxiliary_police", "st1") for i in range(1, 6)]
    persons += [person("g1", "security_guard", "s1"), person("g2", "security_guard", "s2")]
    return doc([school("s1", peaks=peaks, posts=posts1), school("s2", NEAR2, peaks=peaks, posts=posts2)], persons,
               units=units, days=("mon", "tue", "wed"))


def scenario(*ops, name="v") -> Scenario:
    return Scenario.model_validate({"name": name, "operations": list(ops)})


def test_remove_people_by_seeded_fraction_is_repeatable_and_sized():
    d = base_doc()
    out = apply_operations(d, scenario({"remove_people": {"role": "auxiliary_police", "fraction": 0.4, "seed": 3}}))
    gone = {p["id"] for p in d["persons"]} - {p["id"] for p in out["persons"]}
    assert len(gone) == 2 and all(g.startswith("a") for g in gone)
    again = apply_operations(d, scenario({"remove_people": {"role": "auxiliary_police", "fraction": 0.4, "seed": 3}}))
    assert again == out
    assert d == base_doc()  # the input is not changed


def test_remove_people_on_days_is_leave_on_those_dates():
    out = apply_operations(base_doc(), scenario({"remove_people": {"ids": ["p1", "a2"], "days": ["wed"]}}))
    leave = {p["id"]: p.get("leave", []) for p in out["persons"]}
    assert leave["p1"] == ["2026-12-09"] and leave["a2"] == ["2026-12-09"] and leave["p2"] == []
    instance_from_data(out)


def test_add_people_and_leave_window():
    out = apply_operations(base_doc(), scenario({"add_people": {"role": "police", "unit": "st1", "count": 2}},
                                                {"leave": {"ids": ["p1"], "days": ["mon"], "start": "07:00",
                                                           "end": "09:00"}}, name="more"))
    ids = [p["id"] for p in out["persons"]]
    assert "more-police-1" in ids and "more-police-2" in ids
    p1 = next(p for p in out["persons"] if p["id"] == "p1")
    assert p1["leave"] == [{"date": "2026-12-07", "start": "07:00", "end": "09:00"}]
    instance_from_data(out)


def test_scale_demand_on_one_day_splits_the_peak_and_rounds_up():
    out = apply_operations(base_doc(), scenario({"scale_demand": {"factor": 1.5, "days": ["mon"], "schools": ["s2"]}}))
    s2 = next(s for s in out["schools"] if s["id"] == "s2")
    names = {(p["name"], tuple(p["days"])) for p in s2["peaks"]}
    assert ("arrival@mon", ("mon",)) in names and ("arrival", ("tue", "wed")) in names
    gate = s2["posts"][0]["demand"]
    assert gate["arrival@mon"] == {"min": 2, "target": 3}  # ceil(1.5), ceil(3)
    assert gate["dismissal@mon"] == {"min": 3, "target": 3}  # min 2 -> 3, target 2 -> 3, raised to min
    s1 = next(s for s in out["schools"] if s["id"] == "s1")
    assert s1 == next(s for s in base_doc()["schools"] if s["id"] == "s1")
    inst = instance_from_data(out)
    from scheduler.duties import expand

    mon = [d for d in expand(inst).duties if d.school_id == "s2" and d.weekday == "mon"]
    assert sorted((d.peak, d.min) for d in mon) == [("arrival@mon", 2), ("dismissal@mon", 3)]


def test_scale_demand_by_date_is_the_same_as_by_weekday():
    by_day = apply_operations(base_doc(), scenario({"scale_demand": {"factor": 2, "days": ["tue"]}}))
    by_date = apply_operations(base_doc(), scenario({"scale_demand": {"factor": 2, "dates": ["2026-12-08"]}}))
    assert by_day == by_date
    with pytest.raises(InstanceError, match=r"operations\[0\]\.scale_demand\.dates"):
        apply_operations(base_doc(), scenario({"scale_demand": {"factor": 2, "dates": ["2026-12-12"]}}))


def test_policy_merge_close_and_add_schools():
    new = school("s3", NEAR2, posts=[{"id": "s3/gate", "demand": {"default": {"min": 1}}}])
    out = apply_operations(base_doc(), scenario(
        {"policy": {"min_professional_share": 0.5, "weights": {"fairness": 99}}},
        {"close_schools": {"ids": ["s2"]}},
        {"add_schools": {"schools": [new], "served_by": {"st1": ["s3"]}}}))
    assert out["policy"] == {"leader_on_duty": False, "min_professional_share": 0.5, "weights": {"fairness": 99}}
    assert [s["id"] for s in out["schools"]] == ["s1", "s3"]
    assert out["units"][0]["schools"] == ["s1", "s3"]
    assert "g2" not in {p["id"] for p in out["persons"]}  # s2's own guard went with it
    instance_from_data(out)


@pytest.mark.parametrize("text, field", [
    ("scenarios: [{name: a, operations: [{explode: {}}]}]", "scenarios[0].operations[0]"),
    ("scenarios: [{name: a, operations: [{remove_people: {role: police, fraction: 1.5}}]}]",
     "scenarios[0].operations[0].remove_people.fraction"),
    ("scenarios: [{name: a, operations: []}]", "scenarios[0].operations"),
    ("scenarios: [{name: baseline, operations: [{policy: {}}]}]", "scenarios"),
    ("scenarios: [{name: 'a b', operations: [{policy: {}}]}]", "scenarios[0].name"),
])
def test_scenario_file_errors_name_the_field(tmp_path, text, field):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InstanceError) as err:
        load_scenarios(path)
    assert str(err.value).startswith(field), str(err.value)


def test_a_variant_that_is_not_an_instance_exits_2(tmp_path):
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps(base_doc()))
    sc = tmp_path / "s.yaml"
    sc.write_text("scenarios: [{name: bad, operations: [{remove_people: {ids: [nobody]}}]}]")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["whatif", str(inst), str(sc), "-o", str(out)])
    assert r.exit_code == 2 and "scenarios[0].operations[0].remove_people.ids" in r.output
    assert r.output.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("operation, words", [
    ("{leave: {ids: [p1], dates: ['2030-01-01']}}",
     "scenarios[0].operations[0].leave.dates: 2030-01-01 is not a school day of this week"),
    ("{leave: {ids: [p1], days: [sat]}}", "scenarios[0].operations[0].leave.days: sat is not a school day"),
    ("{remove_people: {ids: [p1], dates: ['2030-01-01']}}",
     "scenarios[0].operations[0].remove_people.dates: 2030-01-01 is not a school day"),
])
def test_a_leave_outside_the_week_is_refused_not_ignored(tmp_path, operation, words):
    """A leave on a date or weekday with no school day in the horizon would change nothing: one
    line naming the field, exit 2, nothing written."""
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps(base_doc()))
    sc = tmp_path / "s.yaml"
    sc.write_text(f"scenarios: [{{name: away, operations: [{operation}]}}]")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["whatif", str(inst), str(sc), "-o", str(out)])
    assert r.exit_code == 2 and words in r.output, r.output
    assert r.output.count("\n") == 1
    assert not out.exists()


def test_whatif_runs_baseline_and_variants_and_explains(tmp_path):
    data = base_doc()
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps(data))
    spec = {"scenarios": [
        {"name": "no-aux", "operations": [{"remove_people": {"role": "auxiliary_police"}},
                                           {"remove_people": {"ids": ["p2", "p3"]}}]},
        {"name": "rain", "operations": [{"scale_demand": {"factor": 2, "days": ["mon"]}}]},
    ]}
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["whatif", str(inst), str(sc), "-o", str(out), "--time-limit", "5", "--jobs", "2"])
    assert r.exit_code == 0, r.output
    report = json.loads((out / "whatif.json").read_text())
    for i, name in enumerate(["baseline", "no-aux", "rain"]):  # each roster valid on its own variant
        variant = data if name == "baseline" else apply_operations(data, load_scenarios(sc).scenarios[i - 1], i - 1)
        check = check_roster(instance_from_data(variant), out / name)
        assert check.ok, check.violations[:3]
        assert report["valid"][name] is True
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["objective"] == pytest.approx(check.objective)
    rows = {row["kpi"]: row for row in csv.DictReader((out / "whatif.csv").open())}
    assert set(rows["objective"]) == {"kpi", "baseline", "no-aux", "no-aux delta", "rain", "rain delta"}
    for v in ("no-aux", "rain"):
        for kpi in ("objective", "shortfall", "persons"):
            assert float(rows[kpi][f"{v} delta"]) == pytest.approx(float(rows[kpi][v]) - float(rows[kpi]["baseline"]))
    assert float(rows["persons"]["no-aux delta"]) == -7
    for name in ("baseline", "no-aux", "rain"):  # as each variant's summary says; a flag has no delta
        summary = json.loads((out / name / "summary.json").read_text())
        assert rows["reproducible"][name] == str(summary["reproducible"])
    assert rows["reproducible"]["rain delta"] == ""
    # one police officer and the two guards are left for four people at dismissal: s2 loses one
    # person a day at min, and the reason is given
    words = report["explanations"]["no-aux"]
    assert "people missing at min: 0 -> 3 (+3)" in words
    assert any(line.startswith("school s2 loses 3 (missing 0 -> 3): ") for line in words), words
    assert "no-aux:" in r.output and "objective" in r.output


REPO = Path(__file__).resolve().parents[1]

def test_the_baseline_gets_the_budget_solve_gets(tmp_path):
    """The what-if baseline is solved on the same deterministic work budget as ``solve`` with the
    same options (so it is the same roster whenever both end by their budget, as on an idle
    machine): the budgets in the two summaries are equal. Only the budgets are compared, which
    depend on the options and the instance alone, not on the machine's speed."""
    path = REPO / "instances" / "rural-primary.yaml"
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump({"scenarios": [{"name": "rain", "operations": [{"scale_demand": {"factor": 1.2}}]}]}))
    limit = "8"
    r = CliRunner().invoke(main, ["whatif", str(path), str(sc), "-o", str(tmp_path / "w"), "--time-limit", limit,
                                  "--jobs", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    # solve in a process of its own, as a planner runs it (its --time-limit counts from the start)
    r = subprocess.run([sys.executable, "-m", "scheduler", "solve", str(path), "-o", str(tmp_path / "s"), "--time-limit",
                        limit, "--workers", "1", "--outputs", "none", "--quiet"], capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    for folder in ("w/baseline", "s"):  # both rosters pass the validator
        assert check_roster(instance_from_data(yaml.safe_load(path.read_text())), tmp_path / folder).ok
    budgets = [json.loads((tmp_path / folder / "summary.json").read_text())["work_budgets"]
               for folder in ("w/baseline", "s")]
    assert budgets[0] == budgets[1] and budgets[0]
