"""Shared helpers: tiny instances built in code, and a solve that is always checked."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from models import instance_from_data, load_instance

# The tests' auto budgets use the reference machine's rates, whatever a developer's `schoolpost
# calibrate` stored (child processes inherit this too).
os.environ["SCHOOLPOST_CALIBRATION"] = os.devnull

# Two schools 1.1 km apart (about 3 minutes at 30 km/h x 1.3), and one 9 km away.
NEAR = {"lat": 37.3800, "lon": 117.9700}
NEAR2 = {"lat": 37.3900, "lon": 117.9700}
FAR = {"lat": 37.4600, "lon": 117.9700}


def school(sid: str, loc=NEAR, peaks=None, posts=None, type_="primary") -> dict:
    return {
        "id": sid,
        "type": type_,
        "location": dict(loc),
        "peaks": peaks or [{"name": "arrival", "start": "07:20", "end": "08:00"}],
        "posts": posts if posts is not None else [{"id": f"{sid}/gate", "demand": {"default": {"min": 1}}}],
    }


def person(pid: str, role: str, unit: str, **extra) -> dict:
    return {"id": pid, "name": f"Person {pid}", "role": role, "unit": unit, **extra}


def doc(schools, persons, units=(), routes=(), days=("mon",), policy=None, travel=None) -> dict:
    d = {
        "format": "schoolpost/1",
        "name": "micro",
        "week_start": "2026-12-07",
        "days": list(days),
        "policy": policy or {"leader_on_duty": False},
        "units": list(units),
        "schools": list(schools),
        "routes": list(routes),
        "persons": list(persons),
    }
    if travel:
        d["travel"] = travel
    return copy.deepcopy(d)


def with_history(data: dict, seed: int, most: int, p_load: float, p_face: float) -> dict:
    """``data`` with a seeded ``history``: earlier loads of up to ``most`` duties for a share
    ``p_load`` of the people, and one of last week's posts for a share ``p_face``."""
    import random

    rng = random.Random(seed)
    posts = [p["id"] for s in data["schools"] for p in s.get("posts", [])]
    data["history"] = {"weeks": 4,
                       "loads": {p["id"]: rng.randint(0, most) for p in data["persons"] if rng.random() < p_load},
                       "last_week": {p["id"]: {"posts": rng.sample(posts, 1)} for p in data["persons"]
                                     if rng.random() < p_face}}
    return data


@dataclass
class Solved:
    rows: list[dict]
    summary: dict
    gaps: list
    report: object
    result: object

    def people_on(self, post_or_route: str, date: str | None = None, peak: str | None = None) -> list[str]:
        return sorted(
            r["person_id"]
            for r in self.rows
            if post_or_route in (r["post_id"], r["route_id"])
            and (date is None or r["date"] == date)
            and (peak is None or r["peak"] == peak)
        )


def solve_checked(data: dict, tmp_path: Path, *, expect_optimal: bool = True, **options) -> Solved:
    """Solve through the same path as the CLI, then re-check the written files with the validator."""
    from scheduler.check import check_roster, read_roster
    from scheduler.pipeline import solve_to_folder

    inst = instance_from_data(data)
    out = tmp_path / "out"
    options = {"time_limit": 20, "workers": 1, "seed": 0, **options}
    result, summary, _, gaps = solve_to_folder(inst, out, **options)
    (tmp_path / "instance.json").write_text(json.dumps(data))
    report = check_roster(load_instance(tmp_path / "instance.json"), out)
    assert report.ok, [str(v) for v in report.violations]
    assert report.objective == pytest.approx(summary["objective"], rel=1e-9, abs=1e-6), (report.terms, summary["terms"])
    for rule, value in summary["terms"].items():
        assert report.terms[rule] == value, (rule, report.terms, summary["terms"])
    # the bound is a bound: never above the roster, and equal to it when the roster is proven optimal
    if summary["best_bound"] is not None and summary["best_bound"] == summary["best_bound"]:
        assert summary["best_bound"] <= summary["objective"] + 1e-6, summary
        if summary["status"] == "optimal":
            assert summary["best_bound"] == pytest.approx(summary["objective"], abs=1e-6), summary
            assert summary["gap"] == pytest.approx(0.0, abs=1e-9), summary
    if expect_optimal:
        assert summary["status"] == "optimal", summary["status"]
    return Solved(read_roster(out), summary, gaps, report, result)

