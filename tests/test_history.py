"""Earlier published weeks in the instance (``history``, extension): loads count in fairness, last
week's posts in continuity, both switchable in the policy. Every roster here is checked by the
validator against the model's own terms (``solve_checked``)."""

from __future__ import annotations

from conftest import doc, person, school, solve_checked, with_history

from scheduler.generate import generate

GUARDS = [person("g1", "security_guard", "s1"), person("g2", "security_guard", "s1")]


def _one_gate(history=None, **policy):
    data = doc([school("s1", posts=[{"id": "s1/gate", "demand": {"default": {"min": 1}}}])], GUARDS,
               policy={"leader_on_duty": False, "min_professional_share": 0, **policy})
    if history is not None:
        data["history"] = history
    return data


def test_the_guard_with_fewer_duties_in_earlier_weeks_takes_the_gate(tmp_path):
    history = {"weeks": 4, "loads": {"g1": 10, "g2": 3}}
    s = solve_checked(_one_gate(history), tmp_path / "h")
    assert s.people_on("s1/gate") == ["g2"]
    assert s.summary["terms"]["fairness"] == 10  # g1's 10 earlier duties; g2: 3 + 1
    history = {"weeks": 4, "loads": {"g1": 3, "g2": 10}}
    assert solve_checked(_one_gate(history), tmp_path / "h2").people_on("s1/gate") == ["g1"]
    off = solve_checked(_one_gate(history, history_fairness=False), tmp_path / "off")
    assert off.summary["terms"]["fairness"] == 1  # switched off: this week alone


def test_last_weeks_faces_stay_at_their_gates(tmp_path):
    posts = [{"id": "s1/north", "demand": {"default": {"min": 1, "target": 1}}},
             {"id": "s1/south", "demand": {"default": {"min": 1, "target": 1}}}]
    peaks = [{"name": "arrival", "start": "07:20", "end": "08:00"}]
    history = {"weeks": 1, "last_week": {"g1": {"posts": ["s1/south"]}, "g2": {"posts": ["s1/north"]}}}
    data = doc([school("s1", peaks=peaks, posts=posts)], GUARDS, days=("mon", "tue"),
               policy={"leader_on_duty": False, "min_professional_share": 0})
    data["history"] = history
    s = solve_checked(data, tmp_path / "h")
    assert s.people_on("s1/south") == ["g1", "g1"] and s.people_on("s1/north") == ["g2", "g2"]
    assert s.summary["terms"]["continuity"] == 0
    # the other way round, the other way round
    data["history"]["last_week"] = {"g1": {"posts": ["s1/north"]}, "g2": {"posts": ["s1/south"]}}
    s = solve_checked(data, tmp_path / "h2")
    assert s.people_on("s1/north") == ["g1", "g1"] and s.people_on("s1/south") == ["g2", "g2"]


def test_a_district_with_a_history_agrees_with_the_validator(tmp_path):
    """The neighbourhood search (fairness floors of the people outside a sub-problem carry their
    earlier weeks) and the exchange pass: the objective they report is the validator's."""
    data = with_history(generate("district", 23, schools=6), 3, 25, 0.8, 0.6)
    s = solve_checked(data, tmp_path, expect_optimal=False, strategy="lns", time_limit=30, workers=2)
    assert s.summary["terms"]["fairness"] >= max(data["history"]["loads"].values())
