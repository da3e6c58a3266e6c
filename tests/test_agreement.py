"""Model and validator agree: on random small instances every roster passes the validator and the
objective recomputed from the files equals the one the solver reports, term by term."""

from __future__ import annotations

import random

from conftest import doc, solve_checked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROLES = ["police", "auxiliary_police", "security_guard", "community_worker", "school_leader", "teacher", "volunteer"]


def random_instance(seed: int) -> dict:
    rng = random.Random(seed)
    n_schools = rng.randint(1, 4)
    schools = []
    for i in range(n_schools):
        sid = f"s{i}"
        peaks = []
        base = rng.choice([420, 440, 460, 480])
        peaks.append({"name": "arrival", "start": f"{base // 60:02d}:{base % 60:02d}",
                      "end": f"{(base + 40) // 60:02d}:{(base + 40) % 60:02d}"})
        if rng.random() < 0.5:
            peaks.append({"name": "noon", "start": "11:30", "end": "12:00", "days": ["mon", "wed"]})
        if rng.random() < 0.7:
            peaks.append({"name": "dismissal", "start": "16:30", "end": "17:10"})
        posts = []
        for j in range(rng.randint(0, 2)):
            dem = {"default": {"min": rng.randint(0, 3)}}
            dem["default"]["target"] = dem["default"]["min"] + rng.randint(0, 2)
            if rng.random() < 0.4:
                dem["default"]["min_police"] = rng.randint(1, 2)
            if rng.random() < 0.3:
                dem["default"]["skills"] = {"traffic": 1}
            if rng.random() < 0.3:
                dem["arrival"] = {"min": dem["default"]["min"], "target": dem["default"]["target"] + 1}
            post = {"id": f"{sid}/p{j}", "kind": rng.choice(["gate", "pickup_area"]), "demand": dem}
            if rng.random() < 0.2:
                post["location"] = {"lat": 37.38 + rng.uniform(-0.002, 0.002), "lon": 117.97}
            posts.append(post)
        schools.append({"id": sid, "type": rng.choice(["primary", "kindergarten", "junior_middle"]),
                        "location": {"lat": 37.38 + rng.uniform(-0.05, 0.05), "lon": 117.97 + rng.uniform(-0.05, 0.05)},
                        "peaks": peaks, "posts": posts})
    ids = [s["id"] for s in schools]
    units = [{"id": "st", "kind": "police", "schools": rng.sample(ids, rng.randint(1, len(ids)))},
             {"id": "cm", "kind": "community", "schools": rng.sample(ids, 1)}]
    routes = []
    if rng.random() < 0.5:
        routes.append({"id": "r1", "unit": "st", "stops": rng.sample(ids, min(2, len(ids))),
                       "crew": {"min": 2, "max": rng.choice([2, 3]), "min_police": 1},
                       "runs": [{"name": "morning", "start": "06:30", "end": "07:10"}]})
    persons = []
    for k in range(rng.randint(2, 12)):
        role = rng.choice(ROLES)
        unit = "st" if role in ("police", "auxiliary_police") else ("cm" if role == "community_worker" else rng.choice(ids))
        p = {"id": f"P{k}", "role": role, "unit": unit}
        if rng.random() < 0.5:
            p["name"] = f"Name {k}"
        if rng.random() < 0.4:
            p["skills"] = ["traffic"]
        if rng.random() < 0.2:
            p["leave"] = [rng.choice(["2026-12-07", "2026-12-08"]),
                          {"date": "2026-12-09", "start": "07:00", "end": "07:50"}]
        if rng.random() < 0.2:
            p["availability"] = [{"days": ["mon", "tue", "wed"], "start": "06:00", "end": "12:30"}]
        if rng.random() < 0.3:
            p["limits"] = {"max_per_day": rng.randint(1, 3), "max_per_week": rng.randint(1, 6)}
        persons.append(p)
    policy = {
        "leader_on_duty": rng.random() < 0.7,
        "min_professional_share": rng.choice([0, 0.5, 0.8, 2 / 3]),
        "limits": {"default": {"max_per_day": rng.randint(1, 3), "max_minutes_per_week": rng.choice([90, 300, 600])}},
        "travel_chain_gap": rng.choice([0, 30, 60, 600]),
        "weights": {"travel_minute": rng.choice([0, 1, 2.5]), "fairness": rng.choice([0, 10]),
                    "continuity": rng.choice([0, 3])},
    }
    travel = {"speed_kmh": rng.choice([15, 30]), "road_factor": 1.3}
    if rng.random() < 0.3 and len(ids) > 1:
        travel["matrix"] = {ids[0]: {ids[1]: rng.randint(0, 40)}}
    out = doc(schools, persons, units=units, routes=routes, days=("mon", "tue", "wed"), policy=policy, travel=travel)
    if rng.random() < 0.5:  # earlier published weeks: loads for fairness, last week's posts for continuity
        places = [p["id"] for s in schools for p in s["posts"]]
        out["history"] = {
            "weeks": 4,
            "loads": {p["id"]: rng.randint(0, 12) for p in persons if rng.random() < 0.6},
            "last_week": {p["id"]: {"posts": rng.sample(places, min(len(places), rng.randint(0, 2))),
                                    "routes": ["r1"] if routes and rng.random() < 0.3 else []}
                          for p in persons if rng.random() < 0.6},
        }
        out["history"]["loads"]["nobody-now"] = 30  # a person who left: not used
        out["policy"]["history_fairness"] = rng.random() < 0.8
        out["policy"]["history_continuity"] = rng.random() < 0.8
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**9))
def test_random_instances_agree(seed, tmp_path_factory):
    """Every random roster is valid and its recomputed objective equals the solver's, term by term;
    both lower bounds stay below a proven optimum."""
    from scheduler.cpsat.bound import relaxation_bound
    from scheduler.solve import peak_by_peak_bound

    s = solve_checked(random_instance(seed), tmp_path_factory.mktemp("agree"), expect_optimal=False, time_limit=5)
    if s.summary["status"] == "optimal":
        problem = s.result.problem
        assert peak_by_peak_bound(problem) <= s.summary["objective"] + 1e-6
        assert (relaxation_bound(problem) or 0.0) <= s.summary["objective"] + 1e-6


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**9))
def test_greedy_roster_is_valid(seed):
    """The greedy roster (hint, fallback and baseline) never breaks a hard rule."""
    from models import instance_from_data
    from scheduler.check import check_rows
    from scheduler.duties import expand
    from scheduler.greedy import greedy_roster
    from scheduler.output import roster_rows

    inst = instance_from_data(random_instance(seed))
    problem = expand(inst)
    report = check_rows(inst, roster_rows(problem, greedy_roster(problem)))
    assert report.ok, [str(v) for v in report.violations]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**9), drop=st.integers(0, 10**9))
def test_the_engines_roster_objective_is_the_validators(seed, drop):
    """``roster_objective`` (the district search's start value, the engine's own terms) equals the
    validator's objective of the same roster, on greedy rosters with some assignments taken away
    (so rosters with gaps, missing police and unfair loads are measured too)."""
    from models import instance_from_data
    from scheduler.check import check_rows
    from scheduler.cpsat.model import roster_objective
    from scheduler.duties import expand
    from scheduler.greedy import greedy_roster
    from scheduler.output import roster_rows

    inst = instance_from_data(random_instance(seed))
    problem = expand(inst)
    pairs = greedy_roster(problem)
    rng = random.Random(drop)
    pairs = [pair for pair in pairs if rng.random() < 0.7]
    report = check_rows(inst, roster_rows(problem, pairs))
    assert abs(roster_objective(problem, pairs) - report.objective) <= 1e-6 * max(1.0, abs(report.objective))
