"""Neighbourhood search: every sub-model is exact, so the tracked objective equals the
validator's on the final roster, and a run never ends worse than the greedy roster it starts from."""

from __future__ import annotations

import pytest
from conftest import solve_checked

from scheduler.generate import generate


@pytest.fixture(scope="module")
def ten_schools() -> dict:
    return generate("district", 3, schools=10)


def test_lns_roster_is_valid_and_its_objective_exact(ten_schools, tmp_path):
    """strategy lns: valid roster; tracked objective == validator objective; no worse than greedy."""
    s = solve_checked(ten_schools, tmp_path, expect_optimal=False, strategy="lns", time_limit=40, workers=2)
    assert s.summary["strategy"] == "lns"
    assert s.summary["objective"] <= s.summary["greedy_objective"]
    assert s.summary["best_bound"] <= s.summary["objective"]
    assert s.summary["lns"]["solved"] > 0


def test_full_model_on_the_same_instance_is_valid(ten_schools, tmp_path):
    """strategy full on the 10-school district: valid, model terms equal the validator's."""
    s = solve_checked(ten_schools, tmp_path, expect_optimal=False, strategy="full", time_limit=20, workers=2)
    assert s.summary["strategy"] == "full"
    assert s.summary["objective"] <= s.summary["greedy_objective"]
