"""Issue 16 (the second probe), batch items: people shared across districts are planned in one
part and never lost, a roster that fails the validator is never published for staff, and every way
a run can go wrong (a pool worker killed, a Dask worker gone, a bad address) ends in one line."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from models import instance_from_data, load_instance
from scheduler.check import check_roster
from scheduler.commands import main
from scheduler.districts import split_by_district
from scheduler.generate import generate


def _by_district(data: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for s in data["schools"]:
        found.setdefault(s["district"], []).append(s["id"])
    return found


def _assert_partition(data: dict, parts: dict[str, dict]) -> None:
    """Every school, route and person of the city is in exactly one part, and each person's part
    holds every school and route their unit serves (so no duty of theirs is planned elsewhere)."""
    for key in ("schools", "routes", "persons"):
        ids = sorted(item["id"] for part in parts.values() for item in part[key])
        assert ids == sorted(item["id"] for item in data[key]), key
    units = {u["id"]: u for u in data["units"]}
    for part in parts.values():
        schools = {s["id"] for s in part["schools"]}
        routes = {r["id"] for r in part["routes"]}
        for p in part["persons"]:
            if p["unit"] in units:
                assert set(units[p["unit"]]["schools"]) <= schools, p["id"]
                assert {r["id"] for r in data["routes"] if r["unit"] == p["unit"]} <= routes, p["id"]
            else:
                assert p["unit"] in schools, p["id"]


def _city_with_named_districts(names: list[str]) -> dict:
    """A small generated city whose first districts are renamed to ``names``."""
    data = generate("city", 0, schools=8)
    rename = dict(zip(list(_by_district(data)), names, strict=False))
    for s in data["schools"]:
        s["district"] = rename.get(s["district"], s["district"])
    return data


def test_a_joined_part_never_hides_a_district_of_the_same_name(tmp_path):
    """Districts x, y and x+y, and a unit serving x and y: the joined part was named x+y and
    replaced the district x+y, whose schools were then never planned (a valid roster, silently
    short of a whole district)."""
    data = _city_with_named_districts(["x", "y", "x+y"])
    by = _by_district(data)
    unit = next(u for u in data["units"] if set(u["schools"]) & set(by["x"]))
    unit["schools"] = sorted({*unit["schools"], by["y"][0]})
    parts = split_by_district(data)
    _assert_partition(data, parts)
    assert "x+y" in parts and "x+y (2)" in parts
    assert {s["district"] for s in parts["x+y (2)"]["schools"]} == {"x", "y"}
    assert {s["district"] for s in parts["x+y"]["schools"]} == {"x+y"}

    path = tmp_path / "city.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(path), "-o", str(out), "--time-limit", "1", "--jobs", "1",
                                  "--outputs", "none", "--quiet"])
    assert r.exit_code == 0, r.output
    report = check_roster(load_instance(path), out)
    assert report.ok, [str(v) for v in report.violations[:5]]
    rows = list(csv.DictReader(io.StringIO((out / "districts.csv").read_text(encoding="utf-8"))))
    assert sorted(row["district"] for row in rows) == sorted(parts)
    planned = {row["school_id"] for row in csv.DictReader(io.StringIO((out / "roster.csv").read_text()))}
    assert planned & set(by["x+y"])  # the district of that name is planned


@pytest.mark.parametrize("case", ["unit", "route", "chain", "route-only unit", "school staff"])
def test_every_way_people_are_shared_keeps_them_in_one_part(case):
    """A unit's schools, its routes' stops, a chain of such links (a-b, b-c) and a school's own
    staff: whatever reaches two districts puts them in one part; nothing is left out or doubled."""
    data = generate("city", 0, schools=10)
    by = _by_district(data)
    a, b, c = list(by)[:3]
    units = [u for u in data["units"] if u.get("schools")]
    unit_of = {d: next(u for u in units if set(u["schools"]) <= set(by[d])) for d in (a, b, c)}
    if case in ("unit", "chain"):
        unit_of[a]["schools"].append(by[b][0])
    if case == "chain":
        unit_of[b]["schools"].append(by[c][0])
    if case in ("route", "route-only unit"):
        owner = unit_of[a]
        if case == "route-only unit":  # a unit with no school, reaching two districts by its route alone
            owner = {"id": "patrol-x", "kind": "police", "schools": []}
            data["units"].append(owner)
            data["persons"].append({**data["persons"][0], "id": "PX1", "unit": "patrol-x"})
        data["routes"].append({"id": "r-x", "unit": owner["id"], "stops": [by[a][0], by[b][0]],
                               "crew": {"min": 1, "max": 1}, "runs": [{"name": "morning", "start": "07:00", "end": "07:40"}]})
    if case == "school staff":  # staff of a school in a, with the school's unit spanning a and b
        school = next(s for s in by[a] if s in unit_of[a]["schools"])
        data["persons"].append({**data["persons"][0], "id": "G-X", "role": "security_guard", "unit": school})
        unit_of[a]["schools"].append(by[b][0])
    instance_from_data(data)  # a valid city
    parts = split_by_district(data)
    _assert_partition(data, parts)
    joined = {name for name, part in parts.items() if len({s["district"] for s in part["schools"]}) > 1}
    expect = {"chain": f"{a}+{b}+{c}"}.get(case, f"{a}+{b}")
    assert joined == {expect}


def _pinned_elsewhere(data: dict) -> tuple[int, dict]:
    """A person pinned to a post of another district's school (their unit does not serve it)."""
    by = _by_district(data)
    b, a = list(by)[:2]  # a person of the second district: their index in the city is not in the part
    units = {u["id"] for u in data["units"] if set(u.get("schools", [])) <= set(by[a])}
    i, person = next((i, p) for i, p in enumerate(data["persons"]) if p["unit"] in units)
    school = next(s for s in data["schools"] if s["id"] == by[b][0])
    peak = school["peaks"][0]["name"]
    person["pins"] = [{"date": data["week_start"], "peak": peak, "post": school["posts"][0]["id"]}]
    person.pop("availability", None)
    return i, person


def test_a_pin_outside_the_persons_district_is_refused_before_any_solve(tmp_path):
    """The pin was checked only inside a district, which lacks the pinned school: the line named
    the district's own person index and 'no post with id', after other districts were solved."""
    data = generate("city", 0, schools=6)
    i, person = _pinned_elsewhere(data)
    path = tmp_path / "city.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(path), "-o", str(out), "--time-limit", "1", "--jobs", "1"])
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and r.output.startswith(f"error: persons[{i}].pins: impossible: "), r.output
    assert f"eligibility: {person['id']} is pinned to " in r.output
    assert not out.exists()  # nothing solved, nothing written


def test_impossible_pins_in_a_folder_part_name_its_file(tmp_path):
    """A folder's file with a pin on a day of leave: the line names that file and its own person
    index (it named neither: the pins were checked only in the worker)."""
    parts = split_by_district(generate("city", 0, schools=4))
    first, second = list(parts)[:2]
    doc = parts[second]
    units = {u["id"]: u for u in doc["units"] if u["schools"]}
    index, person = next((i, p) for i, p in enumerate(doc["persons"]) if i and p["unit"] in units)
    school = next(s for s in doc["schools"] if s["id"] == units[person["unit"]]["schools"][0])
    person["leave"] = [doc["week_start"]]
    person["pins"] = [{"date": doc["week_start"], "peak": school["peaks"][0]["name"], "post": school["posts"][0]["id"]}]
    folder = tmp_path / "in"
    folder.mkdir()
    for name in (first, second):
        (folder / f"{name}.json").write_text(json.dumps(parts[name]))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "--time-limit", "1", "--jobs", "1"])
    assert r.exit_code == 2, r.output
    assert r.output.startswith(f"error: {second}.json: persons[{index}].pins: impossible: "), r.output
    assert "availability: " in r.output and r.output.count("\n") == 1
    assert not out.exists()
