"""The loader: strict models, exact error paths, YAML and JSON read alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import doc, person, school

from models import InstanceError, instance_from_data, load_instance

CORPUS_ALIASES = Path(__file__).parent


def _base():
    units = [{"id": "st1", "kind": "police", "schools": ["s1"]}]
    posts = [{"id": "s1/gate", "demand": {"default": {"min": 2, "target": 3}, "arrival": {"min": 1}}}]
    return doc([school("s1", posts=posts)], [person("p1", "police", "st1")], units=units)


def _error(data) -> InstanceError:
    with pytest.raises(InstanceError) as info:
        instance_from_data(data)
    return info.value


@pytest.mark.parametrize(
    "mutate, path, words",
    [
        (lambda d: d["schools"][0]["posts"][0]["demand"]["arrival"].update(min=-1),
         "schools[0].posts[0].demand.arrival.min", "greater than or equal to 0"),
        (lambda d: d["schools"][0].update(colour="red"), "schools[0].colour", "unknown field"),
        (lambda d: d["persons"].append(dict(d["persons"][0])), "persons[1].id", "duplicate person id"),
        (lambda d: d["persons"][0].update(unit="nowhere"), "persons[0].unit", "no unit or school"),
        (lambda d: d["units"][0]["schools"].append("s9"), "units[0].schools[1]", "no school"),
        (lambda d: d["schools"][0]["posts"][0]["demand"].update(noon={"min": 1}),
         "schools[0].posts[0].demand.noon", "no peak named 'noon'"),
        (lambda d: d["schools"][0]["peaks"].append({"name": "arrival", "start": "07:00", "end": "07:30"}),
         "schools[0].peaks[1]", "defined twice"),
        (lambda d: d["schools"][0]["peaks"][0].update(end="07:00"), "schools[0].peaks[0]", "end must be after start"),
        (lambda d: d["schools"][0]["location"].update(lat=95), "schools[0].location.lat", "less than or equal to 90"),
        (lambda d: d["persons"][0].update(role="sheriff"), "persons[0].role", "must be"),
        (lambda d: d.update(routes=[{"id": "r", "unit": "st1", "stops": ["s1", "zz"]}]), "routes[0].stops[1]", "no school"),
        (lambda d: d["schools"][0]["posts"][0]["demand"]["default"].update(target=1),
         "schools[0].posts[0].demand.default.target", "below min"),
        (lambda d: d["persons"][0].update(leave=[{"date": "2026-12-07", "start": "09:00"}]),
         "persons[0].leave[0].end", "required"),
        (lambda d: d["policy"].update(limits={"sheriff": {"max_per_day": 1}}), "policy.limits.sheriff", "role"),
        (lambda d: d.pop("format"), "format", "required"),
    ],
)
def test_bad_field_is_named_by_path(mutate, path, words):
    """Each bad field raises InstanceError whose message starts with the exact path."""
    data = _base()
    mutate(data)
    err = _error(data)
    assert err.path == path, str(err)
    assert words in str(err)
    assert "\n" not in str(err)


def test_yaml_and_json_read_the_same(tmp_path):
    """The same document as YAML (unquoted times too) and as JSON gives the same instance."""
    data = _base()
    (tmp_path / "a.json").write_text(json.dumps(data))
    text = yaml.safe_dump(data, sort_keys=False).replace("'07:20'", "07:20").replace("'08:00'", "08:00")
    (tmp_path / "a.yaml").write_text(text)
    assert load_instance(tmp_path / "a.yaml") == load_instance(tmp_path / "a.json")


def test_yaml_anchors_aliases_and_merge_keys_read_as_the_written_out_document(tmp_path):
    """SPEC: YAML anchors and aliases are allowed (planners copy blocks with them): a post's
    demand given once and aliased, a person merged from another (<<), read the same as the same
    document written out in full."""
    text = (CORPUS_ALIASES / "aliases.yaml").read_text(encoding="utf-8")
    assert "&" in text and "*" in text and "<<:" in text
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    full = yaml.safe_load(text)
    (tmp_path / "full.json").write_text(json.dumps(full), encoding="utf-8")
    inst = load_instance(tmp_path / "a.yaml")
    assert inst == load_instance(tmp_path / "full.json")
    assert [p.id for p in inst.persons] == ["p1", "p2", "g1"]
    assert inst.persons[1].role == "police" and inst.persons[1].unit == "st1"
    assert inst.schools[1].posts[0].demand == inst.schools[0].posts[0].demand


@pytest.mark.parametrize("text, words", [
    ("a: &a [1, *a]\nformat: schoolpost/1\n", "a[1]: a YAML alias refers to a block that holds it"),
    ("".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else '1, 2, 3, 4, 5, 6, 7, 8, 9'}]\n" for i in range(8))
     + "format: schoolpost/1\n", "YAML aliases expand the document to 54,481,015 values; the limit is 1,000,000"),
])
def test_alias_bombs_and_cycles_are_refused(tmp_path, text, words):
    """The expansion of aliases is bounded (an "alias bomb" of nine aliases of nine aliases...
    would expand to billions of values): refused before anything is built, as is an alias inside
    the block it names."""
    (tmp_path / "bomb.yaml").write_text(text)
    with pytest.raises(InstanceError) as err:
        load_instance(tmp_path / "bomb.yaml")
    assert words in str(err.value)


def test_empty_and_binary_files(tmp_path):
    """An empty file and a binary file are input errors, not tracebacks."""
    (tmp_path / "e.yaml").write_text("")
    (tmp_path / "b.yaml").write_bytes(b"\x00\x01\x02")
    for name in ("e.yaml", "b.yaml"):
        with pytest.raises(InstanceError):
            load_instance(tmp_path / name)


def test_demand_override_key_by_key():
    """Demand: a per-peak entry overrides default key by key; skills as a whole; target defaults to min."""
    posts = [{"id": "g", "demand": {"default": {"min": 2, "target": 4, "min_police": 1, "skills": {"traffic": 1}},
                                    "arrival": {"min": 3, "skills": {"first_aid": 1}}}}]
    inst = instance_from_data(doc([school("s1", posts=posts)], []))
    d = inst.schools[0].posts[0].demand_at("arrival")
    assert (d.min, d.target, d.min_police, d.skills) == (3, 4, 1, {"first_aid": 1})
    posts2 = [{"id": "g", "demand": {"default": {"min": 2}}}]
    d2 = instance_from_data(doc([school("s1", posts=posts2)], [])).schools[0].posts[0].demand_at("arrival")
    assert (d2.min, d2.target, d2.min_police, d2.skills) == (2, 2, 0, {})


def test_travel_minutes_haversine_and_matrix():
    """Travel: haversine x road_factor / speed, rounded up; the matrix wins for the pairs it lists."""
    data = doc([school("a"), school("b", {"lat": 37.39, "lon": 117.97})], [],
               travel={"speed_kmh": 30, "road_factor": 1.3, "matrix": {"a": {"b": 11}}})
    inst = instance_from_data(data)
    la, lb = inst.schools[0].location, inst.schools[1].location
    assert inst.travel_minutes("a", la, "b", lb) == 11
    assert inst.travel_minutes("b", lb, "a", la) == 3  # 1.112 km * 1.3 / 30 * 60 = 2.89 -> 3


def test_a_peak_at_a_local_time_the_clocks_skip_is_refused(tmp_path):
    """With a time zone, 02:30 on the spring day the clocks go forward is no time at all: the
    calendars would carry a time no clock shows. Refused naming the field; the same time on the
    other days of the week, or without a time zone, is fine."""
    data = doc(schools=[school("s1")], persons=[person("g1", "security_guard", "s1")])
    data.update(timezone="America/New_York", week_start="2027-03-08", days=["sun", "mon"])
    data["schools"][0]["peaks"] = [{"name": "night", "start": "02:30", "end": "03:30"}]
    with pytest.raises(InstanceError) as err:
        instance_from_data(data)
    assert str(err.value) == ("schools[0].peaks[0].start: 02:30 does not exist on 2027-03-14 in America/New_York "
                              "(the clocks go forward then)")
    instance_from_data({**data, "days": ["mon", "tue"]})
    instance_from_data({**data, "timezone": "Asia/Shanghai"})
