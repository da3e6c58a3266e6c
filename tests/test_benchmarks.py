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
