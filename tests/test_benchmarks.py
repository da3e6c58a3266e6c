"""The benchmark ladder's smoke run (10-school rung, 10 s) writes complete results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RUNG_KEYS = {"rung", "source", "time_limit", "workers", "seed", "date", "machine", "sizes", "solver", "greedy",
             "advantage", "parts"}
MACHINE_KEYS = {"nproc", "python", "ortools", "commit"}
SIZE_KEYS = {"schools", "persons", "duties", "eligible_pairs"}
SOLVER_KEYS = {"status", "strategy", "build_time", "first_solution_time", "solve_time", "solver_wall_time",
               "wall_time", "objective", "best_bound", "gap", "shortfall", "police_shortfall", "share_compliance",
               "fairness", "load_spread", "terms", "kpis", "validator_ok", "peak_rss_mb", "model", "ortools_version",
               "parameters"}
GREEDY_KEYS = {"objective", "shortfall", "police_shortfall", "share_compliance", "fairness", "load_spread", "terms",
               "kpis", "validator_ok", "run_time", "expand_time", "greedy_time", "peak_rss_mb"}
ADVANTAGE_KEYS = {"shortfall_reduction", "police_shortfall_reduction", "share_compliance_gain", "fairness_reduction",
                  "objective_reduction", "run_time_ratio"}


def test_smoke_ladder_writes_every_figure_and_both_rosters_are_valid(tmp_path):
    """`python -m benchmarks.ladder --smoke`: ten.json has every key; CP-SAT and greedy rosters pass the validator."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.ladder", "--smoke", "--out", str(tmp_path)],
                          check=False, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "ten.json").read_text())
    assert not res["failed_parts"], res["parts"]
    assert RUNG_KEYS <= res.keys()
    assert MACHINE_KEYS <= res["machine"].keys()
    assert SIZE_KEYS <= res["sizes"].keys()
    assert SOLVER_KEYS <= res["solver"].keys(), SOLVER_KEYS - res["solver"].keys()
    assert GREEDY_KEYS <= res["greedy"].keys(), GREEDY_KEYS - res["greedy"].keys()
    assert ADVANTAGE_KEYS <= res["advantage"].keys()
    assert res["time_limit"] == 10
    assert res["sizes"]["schools"] == 10
    assert res["solver"]["validator_ok"] is True
    assert res["greedy"]["validator_ok"] is True
    assert "| ten | cp-sat |" in (tmp_path / "ladder.md").read_text()


def test_the_professional_flow_floor_holds_for_every_roster():
    """benchmarks/professional_flow.py: ``need - flow`` never exceeds ``share_shortfall + shortfall``
    of a roster (the validator's), on small generated districts' greedy rosters with and without
    assignments taken away; a floor above a real roster would be a wrong diagnosis."""
    import random

    from benchmarks.professional_flow import professional_flow
    from models import instance_from_data
    from scheduler.check import check_rows
    from scheduler.duties import expand
    from scheduler.generate import generate
    from scheduler.greedy import greedy_roster
    from scheduler.output import roster_rows

    for seed in (11, 12, 13):
        inst = instance_from_data(generate("district", seed, schools=6))
        problem = expand(inst)
        floor = professional_flow(problem)["share_shortfall_floor"]
        pairs = greedy_roster(problem)
        rng = random.Random(seed)
        for kept in (pairs, [pair for pair in pairs if rng.random() < 0.6]):
            terms = check_rows(inst, roster_rows(problem, kept)).terms
            assert floor <= terms["share_shortfall"] + terms["shortfall"], seed
        assert floor > 0  # the staff of these districts cannot meet every share: the floor says something


def test_reference_run_ends_by_its_work_and_repeats(tmp_path):
    """benchmarks.reference_run ignores the stored calibration: with a factor of 0.05 stored and
    with one of 1.0 it takes the same budgets and gives the same valid roster (sha256), ended by
    its work budget."""
    import os

    import yaml

    from scheduler.generate import generate

    instance = tmp_path / "school.yaml"
    instance.write_text(yaml.safe_dump(generate("school", 3)), encoding="utf-8")
    records = []
    for factor in (0.05, 1.0):
        calibration = tmp_path / f"calibration-{factor}.json"
        calibration.write_text(json.dumps({"factor": factor}), encoding="utf-8")
        env = {**os.environ, "SCHOOLPOST_CALIBRATION": str(calibration)}
        out = subprocess.run([sys.executable, "-m", "benchmarks.reference_run", str(instance), "--nominal-time", "4"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        records.append(json.loads(out.stdout.strip().splitlines()[-1]))
    a, b = records
    assert a["valid"] and a["reproducible"] and a["status"] in ("work_limit", "optimal")
    assert a["work_budgets"] == b["work_budgets"] and a["work_budgets"]
    assert a["roster_sha256"] == b["roster_sha256"] and a["objective"] == b["objective"]
