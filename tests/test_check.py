"""Tests of the independent validator (scheduler/check/) on tiny hand-made instances and rosters.

Each hard rule has a roster that breaks it and a twin where it must not bite; each soft term is
computed by hand. Geometry: the primary ``pri`` and the kindergarten ``kg`` are 3.0 km apart, so
at the default 30 km/h x 1.3 the drive takes ceil(7.8) = 8 minutes.
"""

from __future__ import annotations

import ast
import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from models import ASSIGNMENT_COLUMNS, Instance, InstanceError, format_hhmm, instance_from_data
from scheduler.check import CheckReport, check_roster, check_rows, expand_duties, read_roster
from scheduler.commands.check import check_command

PRI = {"lat": 37.3835, "lon": 117.9710}
KG = {"lat": 37.3835 + 0.02698, "lon": 117.9710}  # 3.0 km north of PRI
MON, TUE = "2026-12-07", "2026-12-08"
NO_LIMITS: dict[str, Any] = {}


def base_data() -> dict[str, Any]:
    """Two schools 3 km apart, a police station serving both, a route, and a school without duties
    served by another station; no limits, no leader rule."""
    return {
        "format": "schoolpost/1",
        "name": "tiny",
        "week_start": MON,
        "days": ["mon", "tue"],
        "policy": {"leader_on_duty": False, "limits": {}},
        "units": [
            {"id": "stn", "kind": "police", "schools": ["pri", "kg"]},
            {"id": "other-stn", "kind": "police", "schools": ["far"]},
            {"id": "comm", "kind": "community", "schools": ["pri"]},
        ],
        "schools": [
            {
                "id": "pri",
                "type": "primary",
                "location": PRI,
                "peaks": [
                    {"name": "arrival", "start": "07:20", "end": "08:00"},
                    {"name": "dismissal", "start": "16:30", "end": "17:15"},
                ],
                "posts": [
                    {"id": "pri/gate", "demand": {"default": {"min": 1, "target": 2}}},
                    {"id": "pri/pickup", "kind": "pickup_area", "demand": {"default": {"min": 1}}},
                ],
            },
            {
                "id": "kg",
                "type": "kindergarten",
                "location": KG,
                "peaks": [{"name": "arrival", "start": "08:10", "end": "08:50"}],
                "posts": [{"id": "kg/gate", "demand": {"default": {"min": 1, "target": 2}}}],
            },
            # served by other-stn only; no peaks, so no duties: other-stn's officer may serve none here
            {"id": "far", "type": "primary", "location": {"lat": 37.5, "lon": 118.1}},
        ],
        "routes": [
            {
                "id": "r1",
                "unit": "stn",
                "stops": ["pri", "kg"],
                "crew": {"min": 1, "max": 2},
                "runs": [{"name": "morning", "start": "06:30", "end": "07:00"}],
            }
        ],
        "persons": [
            {"id": "P1", "name": "Li Wei", "role": "police", "unit": "stn", "skills": ["traffic"]},
            {"id": "P2", "name": "Wang Fang", "role": "auxiliary_police", "unit": "stn"},
            {"id": "P3", "name": "Zhang Min", "role": "police", "unit": "stn"},
            {"id": "G1", "name": "Zhao Gang", "role": "security_guard", "unit": "pri"},
            {"id": "C1", "name": "Chen Jie", "role": "community_worker", "unit": "comm"},
            {"id": "X1", "name": "Sun Li", "role": "police", "unit": "other-stn"},
        ],
    }


def build(data: dict[str, Any]) -> Instance:
    return instance_from_data(data)


def person_of(inst: Instance, pid: str):
    return next(p for p in inst.persons if p.id == pid)


def post_row(inst: Instance, pid: str, post_id: str, peak: str, day: str = "mon") -> dict[str, str]:
    """A correct roster row for a post duty."""
    school = next(s for s in inst.schools if any(p.id == post_id for p in s.posts))
    window = next(k for k in school.peaks if k.name == peak and (k.days is None or day in k.days))
    person = person_of(inst, pid)
    return {
        "date": inst.date_of(day).isoformat(),
        "weekday": day,
        "peak": peak,
        "school_id": school.id,
        "post_id": post_id,
        "route_id": "",
        "person_id": pid,
        "person_name": person.name or "",
        "role": person.role,
        "start": format_hhmm(window.start),
        "end": format_hhmm(window.end),
    }


def route_row(inst: Instance, pid: str, route_id: str, run_name: str, day: str = "mon") -> dict[str, str]:
    """A correct roster row for a route duty."""
    route = next(r for r in inst.routes if r.id == route_id)
    run = next(r for r in route.runs if r.name == run_name)
    person = person_of(inst, pid)
    return {
        "date": inst.date_of(day).isoformat(),
        "weekday": day,
        "peak": run_name,
        "school_id": "",
        "post_id": "",
        "route_id": route_id,
        "person_id": pid,
        "person_name": person.name or "",
        "role": person.role,
        "start": format_hhmm(run.start),
        "end": format_hhmm(run.end),
    }


def write_roster(folder: Path, rows: list[dict[str, str]]) -> Path:
    with (folder / "roster.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=ASSIGNMENT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def check(tmp_path: Path, inst: Instance, rows: list[dict[str, str]]) -> CheckReport:
    """Write rows to roster.csv and check the file."""
    return check_roster(inst, write_roster(tmp_path, rows))


def found(report: CheckReport) -> list[tuple[str, str, str]]:
    return [(v.rule, v.person_id, v.duty) for v in report.violations]


# --------------------------------------------------------------------------------------------
# Duty expansion
# --------------------------------------------------------------------------------------------


def test_expansion_counts_posts_peaks_days_and_runs():
    """Duties are (post, date, peak) for peaks on that weekday and (route, date, run); demand resolves."""
    data = base_data()
    data["schools"][0]["peaks"].append({"name": "noon_out", "start": "11:30", "end": "12:00", "days": ["tue"]})
    data["schools"][0]["posts"][0]["demand"]["noon_out"] = {"min": 2, "skills": {"traffic": 1}}
    table = expand_duties(build(data))
    keys = [d.key for d in table.duties]
    # pri: 2 posts x (2 peaks x 2 days + noon_out on tue) = 10; kg: 1 x 2 = 2; r1: 2 runs
    assert len(keys) == 14
    assert "2026-12-08 noon_out pri/gate" in keys and "2026-12-07 noon_out pri/gate" not in keys
    assert "2026-12-07 morning route r1" in keys
    noon = table.by_ident[("post", TUE, "noon_out", "pri/gate")]
    assert (noon.min, noon.target, noon.cap, dict(noon.skills)) == (2, 2, 2, {"traffic": 1})
    route = table.by_ident[("route", MON, "morning", "r1")]
    assert (route.min, route.cap, route.start_place.school_id, route.end_place.school_id) == (1, 2, "pri", "kg")


# --------------------------------------------------------------------------------------------
# Hard rule: one_place (with travel)
# --------------------------------------------------------------------------------------------


def test_one_place_allows_kindergarten_after_primary_when_travel_fits(tmp_path):
    """Primary 07:20-08:00 then kindergarten 08:10-08:50, 3 km apart: 8 min travel fits the 10 min gap."""
    inst = build(base_data())
    report = check(
        tmp_path, inst, [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "kg/gate", "arrival")]
    )
    assert report.violations == []
    assert report.ok


def test_one_place_catches_travel_longer_than_the_gap(tmp_path):
    """At 15 km/h the same 3 km takes 16 min > 10 min gap: one_place names the person and the later duty."""
    data = base_data()
    data["travel"] = {"speed_kmh": 15}
    inst = build(data)
    report = check(
        tmp_path, inst, [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "kg/gate", "arrival")]
    )
    assert found(report) == [("one_place", "P1", "2026-12-07 arrival kg/gate")]
    assert "16 min" in report.violations[0].detail


@pytest.mark.parametrize(("minutes", "bites"), [(10, False), (11, True)])
def test_one_place_uses_the_travel_matrix_at_the_boundary(tmp_path, minutes, bites):
    """travel.matrix minutes replace haversine; arriving exactly at the start is allowed."""
    data = base_data()
    data["travel"] = {"matrix": {"pri": {"kg": minutes}}}
    inst = build(data)
    report = check(
        tmp_path, inst, [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "kg/gate", "arrival")]
    )
    assert [v.rule for v in report.violations] == (["one_place"] if bites else [])


def test_one_place_catches_two_posts_at_the_same_peak(tmp_path):
    """Two posts of one school at one peak overlap: one_place; the same posts on different dates do not."""
    inst = build(base_data())
    clash = [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "pri/pickup", "arrival")]
    assert [(v.rule, v.person_id) for v in check(tmp_path, inst, clash).violations] == [("one_place", "P1")]
    apart = [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "pri/pickup", "arrival", "tue")]
    assert check(tmp_path, inst, apart).violations == []


# --------------------------------------------------------------------------------------------
# Hard rule: eligibility
# --------------------------------------------------------------------------------------------


def test_eligibility_catches_a_person_of_another_unit(tmp_path):
    """An officer whose station does not list the school may not serve it."""
    inst = build(base_data())
    report = check(tmp_path, inst, [post_row(inst, "X1", "pri/gate", "arrival")])
    assert found(report) == [("eligibility", "X1", "2026-12-07 arrival pri/gate")]


def test_eligibility_allows_unit_schools_own_staff_and_community(tmp_path):
    """Station officers serve listed schools, a school's guard its own school, a community worker its schools."""
    inst = build(base_data())
    rows = [
        post_row(inst, "P1", "kg/gate", "arrival"),
        post_row(inst, "G1", "pri/gate", "arrival"),
        post_row(inst, "C1", "pri/pickup", "arrival"),
    ]
    assert check(tmp_path, inst, rows).violations == []


def test_eligibility_catches_school_staff_at_another_school(tmp_path):
    """A school's own guard may not serve another school; a community worker only its listed schools."""
    inst = build(base_data())
    rows = [post_row(inst, "G1", "kg/gate", "arrival"), post_row(inst, "C1", "kg/gate", "arrival", "tue")]
    assert [(v.rule, v.person_id) for v in check(tmp_path, inst, rows).violations] == [
        ("eligibility", "G1"),
        ("eligibility", "C1"),
    ]


def test_route_eligibility_is_by_the_routes_unit(tmp_path):
    """A route is served by its unit's people only: stn officers yes, other-stn officers and school guards no."""
    inst = build(base_data())
    ok = check(tmp_path, inst, [route_row(inst, "P1", "r1", "morning"), route_row(inst, "P2", "r1", "morning")])
    assert ok.violations == []
    bad = check(tmp_path, inst, [route_row(inst, "X1", "r1", "morning"), route_row(inst, "G1", "r1", "morning")])
    assert found(bad) == [
        ("eligibility", "X1", "2026-12-07 morning route r1"),
        ("eligibility", "G1", "2026-12-07 morning route r1"),
    ]


# --------------------------------------------------------------------------------------------
# Hard rule: availability
# --------------------------------------------------------------------------------------------


def _with_person(data: dict[str, Any], pid: str, **fields: Any) -> Instance:
    data = copy.deepcopy(data)
    person = next(p for p in data["persons"] if p["id"] == pid)
    person.update(fields)
    return build(data)


def test_availability_window_must_contain_the_duty(tmp_path):
    """A window 07:00-08:00 on mon holds arrival 07:20-08:00 on mon (ends may touch), not on tue."""
    inst = _with_person(base_data(), "P1", availability=[{"days": ["mon"], "start": "07:00", "end": "08:00"}])
    assert check(tmp_path, inst, [post_row(inst, "P1", "pri/gate", "arrival")]).violations == []
    report = check(tmp_path, inst, [post_row(inst, "P1", "pri/gate", "arrival", "tue")])
    assert found(report) == [("availability", "P1", "2026-12-08 arrival pri/gate")]


def test_availability_catches_a_window_that_starts_too_late(tmp_path):
    """A window 07:30-18:00 does not hold arrival 07:20-08:00."""
    inst = _with_person(base_data(), "P1", availability=[{"start": "07:30", "end": "18:00"}])
    assert [v.rule for v in check(tmp_path, inst, [post_row(inst, "P1", "pri/gate", "arrival")]).violations] == [
        "availability"
    ]


def test_availability_leave_date_removes_that_day_only(tmp_path):
    """A leave date removes every duty of that date and none of another date."""
    inst = _with_person(base_data(), "P1", leave=[MON])
    report = check(
        tmp_path,
        inst,
        [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "pri/gate", "arrival", "tue")],
    )
    assert found(report) == [("availability", "P1", "2026-12-07 arrival pri/gate")]


@pytest.mark.parametrize(
    ("leave", "bites"),
    [
        ({"date": MON, "start": "08:00", "end": "09:00"}, False),  # touches the end 08:00: fine
        ({"date": MON, "start": "06:00", "end": "07:20"}, False),  # touches the start 07:20: fine
        ({"date": MON, "start": "07:59", "end": "09:00"}, True),  # overlaps one minute
        ({"date": TUE, "start": "07:00", "end": "09:00"}, False),  # another date
    ],
)
def test_availability_leave_window_is_half_open(tmp_path, leave, bites):
    """A leave window removes duties it overlaps; one that only touches the duty leaves it alone."""
    inst = _with_person(base_data(), "P1", leave=[leave])
    report = check(tmp_path, inst, [post_row(inst, "P1", "pri/gate", "arrival")])
    assert [v.rule for v in report.violations] == (["availability"] if bites else [])


# --------------------------------------------------------------------------------------------
# Hard rule: limits
# --------------------------------------------------------------------------------------------


def _limits(limits: dict[str, Any], person_limits: dict[str, Any] | None = None) -> Instance:
    data = base_data()
    data["policy"]["limits"] = limits
    if person_limits is not None:
        data["persons"][0]["limits"] = person_limits
    return build(data)


def test_limits_max_per_day(tmp_path):
    """max_per_day 1 bites at two duties on one date (naming the second) and not at one duty on each of two dates."""
    inst = _limits({"default": {"max_per_day": 1}})
    same_day = [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "pri/gate", "dismissal")]
    assert found(check(tmp_path, inst, same_day)) == [("limits", "P1", "2026-12-07 dismissal pri/gate")]
    two_days = [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "pri/gate", "arrival", "tue")]
    assert check(tmp_path, inst, two_days).violations == []


def test_limits_layer_role_then_person_key_by_key(tmp_path):
    """The role entry overrides default, the person's limits override the role's, key by key."""

    def rows_for(inst: Instance) -> list[dict[str, str]]:
        return [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "pri/gate", "dismissal")]

    role_allows = _limits({"default": {"max_per_day": 1}, "police": {"max_per_day": 2}})
    assert check(tmp_path, role_allows, rows_for(role_allows)).violations == []
    person_forbids = _limits({"default": {"max_per_day": 1}, "police": {"max_per_day": 2}}, {"max_per_day": 1})
    assert [v.rule for v in check(tmp_path, person_forbids, rows_for(person_forbids)).violations] == ["limits"]
    other_key = _limits({"default": {"max_per_day": 1}}, {"max_per_week": 5})  # default's max_per_day stays
    assert [v.rule for v in check(tmp_path, other_key, rows_for(other_key)).violations] == ["limits"]


@pytest.mark.parametrize(("max_per_week", "bites"), [(1, True), (2, False)])
def test_limits_max_per_week(tmp_path, max_per_week, bites):
    """max_per_week counts duties over the whole horizon."""
    inst = _limits({"default": {"max_per_week": max_per_week}})
    rows = [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "pri/gate", "arrival", "tue")]
    assert found(check(tmp_path, inst, rows)) == ([("limits", "P1", "2026-12-08 arrival pri/gate")] if bites else [])


@pytest.mark.parametrize(("max_minutes", "bites"), [(84, True), (85, False)])
def test_limits_max_minutes_per_week(tmp_path, max_minutes, bites):
    """Arrival 40 min + dismissal 45 min = 85 duty minutes: a limit of 84 bites, 85 does not."""
    inst = _limits({"police": {"max_minutes_per_week": max_minutes}})
    rows = [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P1", "pri/gate", "dismissal")]
    assert found(check(tmp_path, inst, rows)) == ([("limits", "P1", "2026-12-07 dismissal pri/gate")] if bites else [])


# --------------------------------------------------------------------------------------------
# Hard rule: cap
# --------------------------------------------------------------------------------------------


def test_cap_post_target(tmp_path):
    """pri/gate has target 2: two people are fine, a third is a cap violation naming the third row's person."""
    inst = build(base_data())
    two = [post_row(inst, "P1", "pri/gate", "arrival"), post_row(inst, "P2", "pri/gate", "arrival")]
    assert check(tmp_path, inst, two).violations == []
    three = [*two, post_row(inst, "G1", "pri/gate", "arrival")]
    assert found(check(tmp_path, inst, three)) == [("cap", "G1", "2026-12-07 arrival pri/gate")]


def test_cap_is_min_when_no_target(tmp_path):
    """pri/pickup gives only min 1, so its cap is 1."""
    inst = build(base_data())
    rows = [post_row(inst, "P1", "pri/pickup", "arrival"), post_row(inst, "G1", "pri/pickup", "arrival")]
    assert [v.rule for v in check(tmp_path, inst, rows).violations] == ["cap"]


def test_cap_route_crew_max_defaults_to_crew_min(tmp_path):
    """A route crew without max takes crew.min people; with max 2 it takes two."""
    data = base_data()
    inst = build(data)
    rows = [route_row(inst, "P1", "r1", "morning"), route_row(inst, "P2", "r1", "morning")]
    assert check(tmp_path, inst, rows).violations == []
    data["routes"][0]["crew"] = {"min": 1}
    inst = build(data)
    assert found(check(tmp_path, inst, rows)) == [("cap", "P2", "2026-12-07 morning route r1")]


# --------------------------------------------------------------------------------------------
# Hard rule: roster (row consistency)
# --------------------------------------------------------------------------------------------


def test_roster_accepts_consistent_rows(tmp_path):
    """Rows that match their duty and person raise no roster violation."""
    inst = build(base_data())
    rows = [post_row(inst, "P1", "pri/gate", "arrival"), route_row(inst, "P2", "r1", "morning", "tue")]
    assert check(tmp_path, inst, rows).violations == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"person_id": "NOBODY"}, "no person"),
        ({"person_name": "Someone Else"}, "person_name"),
        ({"role": "auxiliary_police"}, "role"),
        ({"weekday": "tue"}, "weekday"),
        ({"start": "07:25"}, "start"),
        ({"end": "08:05"}, "end"),
        ({"school_id": "kg"}, "school_id"),
        ({"date": "2026-12-09"}, "not a school day"),
        ({"date": "07/12/2026"}, "not an ISO date"),
        ({"peak": "noon_out"}, "has no peak"),
        ({"post_id": "pri/nowhere"}, "no post"),
        ({"route_id": "r1"}, "both a post and a route"),
        ({"post_id": "", "school_id": ""}, "neither a post nor a route"),
    ],
)
def test_roster_catches_inconsistent_rows(tmp_path, change, words):
    """A row naming a missing duty or person, or disagreeing with them, is a roster violation."""
    inst = build(base_data())
    row = post_row(inst, "P1", "pri/gate", "arrival") | change
    report = check(tmp_path, inst, [row])
    assert [v.rule for v in report.violations] == ["roster"]
    assert words in report.violations[0].detail


def test_roster_route_row_must_leave_school_empty(tmp_path):
    """A route row with a school_id is a roster violation; a wrong run name names no duty."""
    inst = build(base_data())
    with_school = route_row(inst, "P1", "r1", "morning") | {"school_id": "pri"}
    assert [v.rule for v in check(tmp_path, inst, [with_school]).violations] == ["roster"]
    bad_run = route_row(inst, "P1", "r1", "morning") | {"peak": "evening"}
    report = check(tmp_path, inst, [bad_run])
    assert found(report) == [("roster", "P1", "2026-12-07 evening route r1")]


def test_roster_catches_a_person_twice_on_one_duty_and_counts_them_once(tmp_path):
    """The same person twice on one duty is a roster violation; the duty counts them once (no cap, no one_place)."""
    inst = build(base_data())
    row = post_row(inst, "P1", "pri/pickup", "arrival")
    report = check(tmp_path, inst, [row, dict(row)])
    assert found(report) == [("roster", "P1", "2026-12-07 arrival pri/pickup")]
    assert report.kpis["duties_by_role"]["police"] == 1


def test_roster_unresolved_rows_are_not_counted_elsewhere(tmp_path):
    """A row with an unknown person or duty is reported once, as roster, and not checked by other rules."""
    inst = build(base_data())
    rows = [post_row(inst, "P1", "pri/gate", "arrival") | {"person_id": "ZZ"}] * 3
    report = check(tmp_path, inst, rows)
    assert [v.rule for v in report.violations] == ["roster"] * 3
    assert report.terms["burden"] == 0 and report.kpis["duties_by_role"]["police"] == 0


def test_person_without_name_expects_empty_person_name(tmp_path):
    """A person with no name in the instance is written with an empty person_name."""
    data = base_data()
    del data["persons"][0]["name"]
    inst = build(data)
    row = post_row(inst, "P1", "pri/gate", "arrival")
    assert row["person_name"] == ""
    assert check(tmp_path, inst, [row]).violations == []
    assert [v.rule for v in check(tmp_path, inst, [row | {"person_name": "P1"}]).violations] == ["roster"]


def test_read_roster_reports_missing_file_and_column(tmp_path):
    """A missing roster.csv or a missing column is an InstanceError naming the file."""
    with pytest.raises(InstanceError, match="roster.csv: no such file"):
        read_roster(tmp_path)
    (tmp_path / "roster.csv").write_text("date,weekday,peak\n2026-12-07,mon,arrival\n", encoding="utf-8")
    with pytest.raises(InstanceError, match="missing column.*school_id"):
        read_roster(tmp_path)


def test_read_roster_reads_strings_and_empty_cells(tmp_path):
    """Cells are read as text (no number or date conversion); empty cells are empty strings."""
    inst = build(base_data())
    write_roster(tmp_path, [route_row(inst, "P1", "r1", "morning")])
    (row,) = read_roster(tmp_path)
    assert row["school_id"] == "" and row["post_id"] == "" and row["date"] == MON and row["start"] == "06:30"


# --------------------------------------------------------------------------------------------
# Soft terms, by hand
# --------------------------------------------------------------------------------------------


def one_school(posts: list[dict[str, Any]], persons: list[dict[str, Any]], **policy: Any) -> Instance:
    """School ``s`` with one peak (arrival 07:20-08:00) on one day (mon), the station ``stn`` serving it."""
    return build(
        {
            "format": "schoolpost/1",
            "week_start": MON,
            "days": ["mon"],
            "policy": {"leader_on_duty": False} | policy,
            "units": [{"id": "stn", "schools": ["s"]}],
            "schools": [
                {
                    "id": "s",
                    "type": "primary",
                    "location": PRI,
                    "peaks": [{"name": "arrival", "start": "07:20", "end": "08:00"}],
                    "posts": posts,
                }
            ],
            "persons": persons,
        }
    )


def person(pid: str, role: str, unit: str = "stn", **fields: Any) -> dict[str, Any]:
    return {"id": pid, "name": pid.lower(), "role": role, "unit": unit} | fields


def test_term_shortfall(tmp_path):
    """shortfall = sum over duties of max(0, min - assigned): a (min 3, 1 on) 2 + b (min 1, none) 1 = 3."""
    inst = one_school(
        [{"id": "a", "demand": {"default": {"min": 3}}}, {"id": "b", "demand": {"default": {"min": 1}}}],
        [person("P1", "police")],
    )
    report = check(tmp_path, inst, [post_row(inst, "P1", "a", "arrival")])
    assert report.terms["shortfall"] == 3
    assert [g.duty for g in report.gaps] == ["2026-12-07 arrival a", "2026-12-07 arrival b"]


def test_term_police_shortfall_auxiliaries_do_not_count(tmp_path):
    """min_police 2 with one police officer and one auxiliary on duty: police_shortfall 1."""
    inst = one_school(
        [{"id": "a", "demand": {"default": {"min": 2, "min_police": 2}}}],
        [person("P1", "police"), person("A1", "auxiliary_police")],
    )
    report = check(tmp_path, inst, [post_row(inst, "P1", "a", "arrival"), post_row(inst, "A1", "a", "arrival")])
    assert report.terms["police_shortfall"] == 1
    assert report.terms["shortfall"] == 0


def test_term_police_shortfall_counts_route_crews(tmp_path):
    """A route crew with min_police 1 served by an auxiliary alone has police_shortfall 1."""
    data = base_data()
    data["routes"][0]["crew"] = {"min": 1, "max": 2, "min_police": 1}
    inst = build(data)
    report = check(
        tmp_path, inst, [route_row(inst, "P2", "r1", "morning"), route_row(inst, "P1", "r1", "morning", "tue")]
    )
    assert report.terms["police_shortfall"] == 1


def test_term_skill_shortfall(tmp_path):
    """skills {traffic: 2, first_aid: 1} with one traffic officer on duty: 1 + 1 = 2."""
    inst = one_school(
        [{"id": "a", "demand": {"default": {"min": 1, "target": 3, "skills": {"traffic": 2, "first_aid": 1}}}}],
        [person("P1", "police", skills=["traffic"]), person("P2", "police")],
    )
    report = check(tmp_path, inst, [post_row(inst, "P1", "a", "arrival"), post_row(inst, "P2", "a", "arrival")])
    assert report.terms["skill_shortfall"] == 2


def test_term_skill_override_replaces_skills_as_a_whole(tmp_path):
    """A per-peak skills entry replaces default's skills whole: default traffic 1, arrival first_aid 1 -> 1 short."""
    inst = one_school(
        [
            {
                "id": "a",
                "demand": {"default": {"min": 1, "skills": {"traffic": 1}}, "arrival": {"skills": {"first_aid": 1}}},
            }
        ],
        [person("P1", "police", skills=["traffic"])],
    )
    assert check(tmp_path, inst, [post_row(inst, "P1", "a", "arrival")]).terms["skill_shortfall"] == 1


@pytest.mark.parametrize(
    ("share", "pros", "others", "expected"),
    [
        (0.8, 2, 1, 1),  # ceil(0.8 * 3) = ceil(2.4) = 3, 2 professionals -> 1
        (0.8, 4, 1, 0),  # ceil(0.8 * 5) = 4 -> 0
        (0.7, 7, 3, 0),  # ceil(7/10 * 10) = 7 exactly (float 0.7 * 10 would give 8)
        (0.8, 0, 2, 2),  # ceil(1.6) = 2
    ],
)
def test_term_share_shortfall_uses_exact_ceil(tmp_path, share, pros, others, expected):
    """share_shortfall = max(0, ceil(share * total) - professionals) per school, date and peak."""
    people = [person(f"P{i}", "security_guard", "s") for i in range(pros)]
    people += [person(f"T{i}", "teacher", "s") for i in range(others)]
    inst = one_school(
        [{"id": "a", "demand": {"default": {"min": 0, "target": 20}}}], people, min_professional_share=share
    )
    report = check(tmp_path, inst, [post_row(inst, p["id"], "a", "arrival") for p in people])
    assert report.terms["share_shortfall"] == expected
    assert report.kpis["share_compliance"] == (1.0 if expected == 0 else 0.0)


def test_term_share_shortfall_pools_posts_and_ignores_routes(tmp_path):
    """The share is per school peak over all its posts; route crews and empty school peaks count nowhere."""
    data = base_data()
    data["persons"].append(person("T1", "teacher", "pri"))
    inst = build(data)
    rows = [
        post_row(inst, "G1", "pri/gate", "arrival"),  # pri mon arrival: guard + teacher: ceil(1.6) = 2 -> 1
        post_row(inst, "T1", "pri/pickup", "arrival"),
        route_row(inst, "P1", "r1", "morning"),
    ]
    assert check(tmp_path, inst, rows).terms["share_shortfall"] == 1


def _leader_data() -> dict[str, Any]:
    data = base_data()
    data["policy"]["leader_on_duty"] = True
    data["days"] = ["mon"]
    data["persons"].append(person("L1", "school_leader", "pri"))
    return data


def test_term_leader_missing_only_where_the_school_has_a_leader(tmp_path):
    """pri has a leader, kg none: with nobody assigned, leader_missing counts pri's 2 peaks only."""
    inst = build(_leader_data())
    report = check(tmp_path, inst, [])
    assert report.terms["leader_missing"] == 2
    report = check(tmp_path, inst, [post_row(inst, "L1", "pri/gate", "arrival")])
    assert report.terms["leader_missing"] == 1
    assert report.kpis["leader_compliance"] == 0.5


def test_term_leader_missing_counts_peaks_of_that_day_and_can_be_off(tmp_path):
    """A peak held only on tue counts only on tue; leader_on_duty false turns the term off."""
    data = _leader_data()
    data["days"] = ["mon", "tue"]
    data["schools"][0]["peaks"].append({"name": "noon_out", "start": "11:30", "end": "12:00", "days": ["tue"]})
    inst = build(data)
    assert check(tmp_path, inst, []).terms["leader_missing"] == 5  # mon 2 + tue 3
    data["policy"]["leader_on_duty"] = False
    inst = build(data)
    report = check(tmp_path, inst, [])
    assert report.terms["leader_missing"] == 0 and report.kpis["leader_compliance"] == 1.0


def test_term_leader_missing_leader_via_a_unit(tmp_path):
    """A school_leader of a unit that lists the school makes that school count in the leader rule."""
    data = base_data()
    data["policy"]["leader_on_duty"] = True
    data["days"] = ["mon"]
    data["persons"].append(person("L2", "school_leader", "stn"))  # stn serves pri and kg
    assert check(tmp_path, build(data), []).terms["leader_missing"] == 3


def test_term_below_target(tmp_path):
    """below_target = max(0, target - assigned): target 3 with one on duty -> 2."""
    inst = one_school([{"id": "a", "demand": {"default": {"min": 1, "target": 3}}}], [person("P1", "police")])
    report = check(tmp_path, inst, [post_row(inst, "P1", "a", "arrival")])
    assert report.terms["below_target"] == 2 and report.terms["shortfall"] == 0


def test_term_fairness_is_the_group_maximum_summed(tmp_path):
    """fairness = sum over (unit, role) groups of the largest duty count: police 2 + auxiliary 1 + guard 0 = 3."""
    inst = build(base_data())
    rows = [
        post_row(inst, "P1", "pri/gate", "arrival"),
        post_row(inst, "P1", "pri/gate", "arrival", "tue"),
        post_row(inst, "P3", "kg/gate", "arrival"),
        post_row(inst, "P2", "pri/gate", "dismissal"),
    ]
    report = check(tmp_path, inst, rows)
    assert report.violations == []
    assert report.terms["fairness"] == 3
    assert report.kpis["load_by_role"]["police"] == {"max": 2, "min": 0, "mean": 1.0, "spread": 2}  # P1 2, P3 1, X1 0


def test_term_continuity_counts_extra_posts_and_routes(tmp_path):
    """continuity = sum of max(0, distinct posts and routes - 1): same post twice 0, two posts 1, post + route 1."""
    inst = build(base_data())
    rows = [
        post_row(inst, "P1", "pri/gate", "arrival"),
        post_row(inst, "P1", "pri/gate", "arrival", "tue"),
        post_row(inst, "P2", "pri/gate", "arrival"),
        post_row(inst, "P2", "kg/gate", "arrival", "tue"),
        route_row(inst, "P3", "r1", "morning"),
        post_row(inst, "P3", "kg/gate", "arrival", "tue"),
    ]
    report = check(tmp_path, inst, rows)
    assert report.terms["continuity"] == 2
    assert report.kpis["continuity_mean_distinct_posts"] == pytest.approx(5 / 3)


def test_term_travel_minute_counts_consecutive_pairs_within_the_chain_gap(tmp_path):
    """travel_minute: pri->kg (gap 10) 8 + kg->pri (gap 60) 8; kg->pri with gap 61 and other dates are not counted."""
    data = base_data()
    data["schools"][0]["peaks"] += [{"name": "late", "start": "09:50", "end": "10:30"}]
    data["schools"][1]["peaks"] += [{"name": "noon", "start": "11:31", "end": "12:00"}]
    inst = build(data)
    rows = [
        post_row(inst, "P1", "pri/gate", "arrival"),  # 07:20-08:00 at pri
        post_row(inst, "P1", "kg/gate", "arrival"),  # 08:10-08:50 at kg: gap 10, travel 8
        post_row(inst, "P1", "pri/gate", "late"),  # 09:50-10:30 at pri: gap 60, travel 8
        post_row(inst, "P1", "kg/gate", "noon"),  # 11:31-12:00 at kg: gap 61, not counted
        post_row(inst, "P1", "pri/gate", "dismissal"),  # 16:30 at pri: long gap, not counted
        post_row(inst, "P1", "kg/gate", "arrival", "tue"),  # another date: no pair with monday
    ]
    report = check(tmp_path, inst, rows)
    assert report.violations == []
    assert report.terms["travel_minute"] == 16
    assert report.kpis["travel_minutes"] == 16


def test_term_travel_minute_route_goes_from_last_stop(tmp_path):
    """A route duty ends at its last stop: r1 (pri -> kg) ending 07:00 then pri arrival 07:20 travels kg->pri 8."""
    inst = build(base_data())
    rows = [route_row(inst, "P1", "r1", "morning"), post_row(inst, "P1", "pri/gate", "arrival")]
    assert check(tmp_path, inst, rows).terms["travel_minute"] == 8


def test_term_burden_counts_teacher_and_volunteer_assignments(tmp_path):
    """burden = assignments of people in policy.burden_roles (default teacher, volunteer)."""
    posts = [{"id": "a", "demand": {"default": {"min": 0, "target": 5}}}]
    people = [person("T1", "teacher", "s"), person("V1", "volunteer", "s"), person("P1", "police")]
    inst = one_school(posts, people)
    rows = [post_row(inst, p["id"], "a", "arrival") for p in people]
    assert check(tmp_path, inst, rows).terms["burden"] == 2
    inst = one_school(posts, people, burden_roles=["volunteer"])
    assert check(tmp_path, inst, rows).terms["burden"] == 1


def test_objective_is_the_weighted_sum_of_terms(tmp_path):
    """One teacher on a post asking min 2, target 3, 1 police, traffic 1, leader rule on: hand-computed objective."""
    weights = {
        "shortfall": 1000,
        "police_shortfall": 500,
        "skill_shortfall": 200,
        "share_shortfall": 300,
        "leader_missing": 300,
        "below_target": 20,
        "fairness": 10,
        "continuity": 3,
        "travel_minute": 1,
        "burden": 2.5,
    }
    inst = one_school(
        [{"id": "a", "demand": {"default": {"min": 2, "target": 3, "min_police": 1, "skills": {"traffic": 1}}}}],
        [person("T1", "teacher", "s"), person("L1", "school_leader", "s"), person("P1", "police")],
        leader_on_duty=True,
        weights=weights,
    )
    report = check(tmp_path, inst, [post_row(inst, "T1", "a", "arrival")])
    assert report.terms == {
        "shortfall": 1,
        "police_shortfall": 1,
        "skill_shortfall": 1,
        "share_shortfall": 1,
        "leader_missing": 1,
        "below_target": 2,
        "fairness": 1,
        "continuity": 0,
        "travel_minute": 0,
        "burden": 1,
    }
    assert report.objective == pytest.approx(1000 + 500 + 200 + 300 + 300 + 40 + 10 + 2.5)


# --------------------------------------------------------------------------------------------
# KPIs
# --------------------------------------------------------------------------------------------


def test_kpis_by_hand(tmp_path):
    """fill rate counts people up to min per duty; duties met, police demand, duties by role."""
    inst = one_school(
        [
            {"id": "a", "demand": {"default": {"min": 1, "target": 3, "min_police": 1}}},
            {"id": "b", "demand": {"default": {"min": 2, "min_police": 1}}},
            {"id": "c", "demand": {"default": {"min": 0}}},
        ],
        [person("P1", "police"), person("P2", "police"), person("G1", "security_guard", "s")],
    )
    rows = [
        post_row(inst, "P1", "a", "arrival"),
        post_row(inst, "P2", "a", "arrival"),
        post_row(inst, "G1", "b", "arrival"),
    ]
    k = check(tmp_path, inst, rows).kpis
    assert k["fill_rate"] == pytest.approx(2 / 3)  # a: min(2, 1) = 1, b: 1 of 2, c: nothing demanded
    assert (k["duties_total"], k["duties_fully_met"]) == (3, 2)
    assert k["police_demand_met"] == 0.5
    assert k["duties_by_role"] == {"police": 2, "security_guard": 1}
    assert k["share_compliance"] == 1.0 and k["leader_compliance"] == 1.0


def test_kpis_when_nothing_is_demanded(tmp_path):
    """With no demand and no roster, rates are 1.0 and means 0."""
    inst = one_school([{"id": "a"}], [person("P1", "police")])
    k = check(tmp_path, inst, []).kpis
    assert k["fill_rate"] == 1.0 and k["police_demand_met"] == 1.0 and k["continuity_mean_distinct_posts"] == 0.0


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _files(tmp_path: Path, data: dict[str, Any], rows: list[dict[str, str]]) -> tuple[str, str]:
    (tmp_path / "inst.json").write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    write_roster(out, rows)
    return str(tmp_path / "inst.json"), str(out)


def test_cli_exit_0_and_tables_when_clean(tmp_path):
    """A clean roster exits 0 and prints terms, objective and KPIs."""
    data = base_data()
    inst = build(data)
    args = _files(tmp_path, data, [post_row(inst, "P1", "pri/gate", "arrival")])
    result = CliRunner().invoke(check_command, list(args))
    assert result.exit_code == 0, result.output
    assert "VIOLATION" not in result.output
    assert "objective" in result.output and "fill_rate" in result.output and "OK: no hard violations" in result.output


def test_cli_exit_1_and_one_line_per_violation(tmp_path):
    """A hard violation exits 1 and is printed as 'VIOLATION <rule> person=<id> duty=<duty>: <detail>'."""
    data = base_data()
    inst = build(data)
    args = _files(tmp_path, data, [post_row(inst, "X1", "pri/gate", "arrival")])
    result = CliRunner().invoke(check_command, list(args))
    assert result.exit_code == 1
    assert "VIOLATION eligibility person=X1 duty=2026-12-07 arrival pri/gate: " in result.output


def test_cli_json_and_summary_objective_comparison(tmp_path):
    """--json prints the report; summary.json's objective is compared, and a mismatch (files of two
    runs mixed) fails the check (issue 16), in both forms."""
    data = base_data()
    inst = build(data)
    instance_file, out = _files(tmp_path, data, [post_row(inst, "P1", "pri/gate", "arrival")])
    result = CliRunner().invoke(check_command, [instance_file, out, "--json"])
    assert result.exit_code == 0
    report = json.loads(result.output)
    objective = report["objective"]
    assert report["ok"] is True and set(report["terms"]) >= {"shortfall", "burden"} and report["gaps"]

    (Path(out) / "summary.json").write_text(json.dumps({"objective": objective * (1 + 1e-9)}), encoding="utf-8")
    result = CliRunner().invoke(check_command, [instance_file, out])
    assert result.exit_code == 0 and "MISMATCH" not in result.output and "matches summary.json" in result.output

    (Path(out) / "summary.json").write_text(json.dumps({"objective": objective + 1}), encoding="utf-8")
    result = CliRunner().invoke(check_command, [instance_file, out])
    assert result.exit_code == 1
    assert "MISMATCH objective" in result.output and "FAIL: roster.csv and summary.json" in result.output
    result = CliRunner().invoke(check_command, [instance_file, out, "--json"])
    assert result.exit_code == 1 and json.loads(result.output)["objective_matches_summary"] is False


def test_cli_missing_roster_raises_instance_error(tmp_path):
    """A missing roster.csv propagates InstanceError (the command group maps it to exit code 2)."""
    data = base_data()
    (tmp_path / "inst.json").write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(check_command, [str(tmp_path / "inst.json"), str(tmp_path / "nowhere")])
    assert isinstance(result.exception, InstanceError)


# --------------------------------------------------------------------------------------------
# Independence and speed
# --------------------------------------------------------------------------------------------


def test_check_imports_no_other_scheduler_module():
    """scheduler/check/ is independent of the model builder: it imports nothing from scheduler but
    its own modules."""
    for source in (Path(__file__).resolve().parents[1] / "scheduler" / "check").glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [m for m in modules if (m == "scheduler" or m.startswith("scheduler."))
                    and m != "scheduler.check" and not m.startswith("scheduler.check.")], source


def _district(schools: int = 120, staff: int = 16) -> tuple[Instance, list[dict[str, str]]]:
    """A district-sized instance (3,600 duties, ~2,000 persons) and a ~10,800-row roster."""
    data: dict[str, Any] = {
        "format": "schoolpost/1",
        "week_start": MON,
        "policy": {"leader_on_duty": True},
        "units": [{"id": "stn", "schools": [f"s{i}" for i in range(schools)]}],
        "schools": [],
        "persons": [],
    }
    roles = ["security_guard"] * 8 + ["teacher"] * 6 + ["school_leader", "volunteer"]
    for i in range(schools):
        sid = f"s{i}"
        data["schools"].append(
            {
                "id": sid,
                "type": "primary",
                "location": {"lat": 37.3 + i * 0.001, "lon": 117.9},
                "peaks": [
                    {"name": "arrival", "start": "07:20", "end": "08:00"},
                    {"name": "dismissal", "start": "16:30", "end": "17:15"},
                ],
                "posts": [{"id": f"{sid}/p{j}", "demand": {"default": {"min": 3, "target": 4}}} for j in range(3)],
            }
        )
        data["persons"] += [person(f"{sid}-{k}", roles[k % len(roles)], sid) for k in range(staff)]
    data["persons"] += [person(f"P{k}", "police") for k in range(80)]
    inst = build(data)
    rows = []
    for day in inst.days:
        for i in range(schools):
            for peak in ("arrival", "dismissal"):
                for j in range(3):
                    rows += [post_row(inst, f"s{i}-{3 * j + m}", f"s{i}/p{j}", peak, day) for m in range(3)]
    return inst, rows


def test_check_handles_a_district_sized_roster():
    """Checking ~10,800 rows against 3,600 duties and ~2,000 persons completes (speed lives in benchmarks/)."""
    inst, rows = _district()
    assert len(rows) == 10_800
    report = check_rows(inst, rows)
    assert report.kpis["duties_total"] == 3_600
