"""Ctrl-C or SIGTERM during a solve writes the best roster found so far, complete and valid,
with status ``interrupted``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import yaml

from models import load_instance
from scheduler.check import check_roster
from scheduler.generate import generate


@pytest.fixture(scope="module")
def ten_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("int") / "ten.yaml"
    path.write_text(yaml.safe_dump(generate("district", 5, schools=10), sort_keys=False))
    return path


@pytest.mark.parametrize(
    "strategy, sig, after",
    # lns mid-search; full in its coverage stage (about 6-13 s of 20) and in its last stage
    [("lns", signal.SIGINT, 6.0), ("full", signal.SIGINT, 9.0), ("full", signal.SIGTERM, 14.0)],
)
def test_interrupted_solve_keeps_the_best_roster(ten_file, tmp_path, strategy, sig, after):
    """A signal mid-search ends the run with exit 0, status interrupted and a roster the validator accepts."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "scheduler", "solve", str(ten_file), "-o", str(out), "--time-limit", "20",
           "--strategy", strategy, "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    proc.send_signal(sig)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted", summary["status"]
    report = check_roster(load_instance(ten_file), out)
    assert report.ok
    assert report.objective == pytest.approx(summary["objective"])
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
