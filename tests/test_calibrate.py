"""schoolpost calibrate: a measured speed factor, stored per user, scales every auto budget; no
file, a bad file or an absurd factor means the reference machine's rates (factor 1)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from scheduler.commands import main


def test_auto_budgets_scale_with_the_stored_factor(tmp_path, monkeypatch):
    from scheduler.solve import _work_budgets

    target = tmp_path / "calibration.json"
    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", str(target))
    base = {k: _work_budgets("auto", 60.0, s, False, 1 / 3, 0.5) for k, s in (("full", "full"), ("lns", "lns"))}
    target.write_text(json.dumps({"factor": 0.5}))
    half = {k: _work_budgets("auto", 60.0, s, False, 1 / 3, 0.5) for k, s in (("full", "full"), ("lns", "lns"))}
    for kind, budgets in base.items():
        for stage, value in budgets.items():
            # seconds of the clock and a count of passes, not work
            if value is not None and stage not in ("search_seconds", "exchange_passes"):
                assert abs(half[kind][stage] - value / 2) <= 0.002, (kind, stage)
    # a fixed --work-limit is not scaled
    fixed = [_work_budgets(30.0, 60.0, s, False, 1 / 3, 0.5) for s in ("full", "lns")]
    target.unlink()
    assert fixed == [_work_budgets(30.0, 60.0, s, False, 1 / 3, 0.5) for s in ("full", "lns")]


def test_a_missing_broken_or_absurd_file_means_factor_one(tmp_path, monkeypatch):
    from scheduler.calibrate import factor

    target = tmp_path / "c.json"
    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", str(target))
    assert factor() == (1.0, "default")
    for text in ("not json", json.dumps({"speed": 1}), json.dumps({"factor": "fast"}), json.dumps({"factor": 50}),
                 json.dumps({"factor": -1}), json.dumps([1, 2])):
        target.write_text(text)
        assert factor() == (1.0, "default"), text
    target.write_text(json.dumps({"factor": 0.7}))
    assert factor() == (0.7, str(target))


def test_the_command_measures_stores_shows_and_resets(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "calibration.json"
    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", str(target))
    runner = CliRunner()
    out = runner.invoke(main, ["calibrate", "--runs", "1"])
    assert out.exit_code == 0, out.output
    record = json.loads(target.read_text())
    assert 0 < record["factor"] <= 2.0 and record["speed"] > 0
    shown = runner.invoke(main, ["calibrate", "--show"])
    assert shown.exit_code == 0 and f"factor {record['factor']:g}" in shown.output
    gone = runner.invoke(main, ["calibrate", "--reset"])
    assert gone.exit_code == 0 and not target.exists()
    assert "factor 1 (default)" in runner.invoke(main, ["calibrate", "--show"]).output


def test_an_unwritable_place_is_one_line_and_exit_2(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", str(blocker / "calibration.json"))
    out = CliRunner().invoke(main, ["calibrate", "--runs", "1"])
    assert out.exit_code == 2
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "calibration.json" in lines[0], out.output


def test_the_first_auto_run_on_a_machine_measures_it_once_and_says_so(tmp_path, monkeypatch):
    """A machine never calibrated: the first solve with an auto budget measures and stores its
    speed (a note on stderr), the next one finds it stored; a run without an auto budget does not
    measure. The roster is written and checked either way."""
    from models import load_instance
    from scheduler.check import check_roster

    target = tmp_path / "cal" / "calibration.json"
    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", str(target))
    runner = CliRunner()
    args = ["solve", "instances/small-school.yaml", "--time-limit", "5", "--outputs", "none"]
    first = runner.invoke(main, [*args, "-o", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    assert "first run on this machine" in first.stderr and target.is_file()
    assert 0.01 <= json.loads(target.read_text())["factor"] <= 2.0
    assert check_roster(load_instance("instances/small-school.yaml"), tmp_path / "a").ok
    again = runner.invoke(main, [*args, "-o", str(tmp_path / "b")])
    assert again.exit_code == 0 and "first run on this machine" not in again.stderr
    other = tmp_path / "other.json"
    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", str(other))
    fixed = runner.invoke(main, [*args, "-o", str(tmp_path / "c"), "--work-limit", "none"])
    assert fixed.exit_code == 0 and not other.exists() and "first run" not in fixed.stderr


def test_a_first_roster_slower_than_the_calibration_predicts_gives_a_note():
    """Figures of this project's own runs (benchmarks/README.md, session 15): a district whose first
    roster took 4.7 s where the stored factor 1.54 predicts 3.0 s gets the note (that run's
    neighbourhoods were cut by the clock); 3.9 s, a calibrated machine, a small instance or a
    budget other than auto do not."""
    from scheduler.pipeline import stale_calibration_note

    def summary(first, factor=1.5432, pairs=276_193, work_limit="auto"):
        return {"first_solution_time": first, "work_rate_factor": factor, "work_limit": work_limit,
                "model": {"eligible_pairs": pairs}}

    note = stale_calibration_note(summary(4.676))
    assert note is not None and note.startswith("note: the first roster took 4.7 s, 54% longer")
    assert "schoolpost calibrate" in note
    assert stale_calibration_note(summary(3.869)) is None
    assert stale_calibration_note(summary(5.454, factor=0.9442)) is None
    assert stale_calibration_note(summary(4.676, pairs=20_000)) is None
    assert stale_calibration_note(summary(4.676, factor=None, work_limit=None)) is None


def test_a_measurement_cut_by_a_signal_is_not_stored(tmp_path, monkeypatch):
    """A Ctrl-C while the first run measures the machine stops the measurement (CP-SAT honours the
    deferred signal): that speed is not the machine's, so nothing is stored."""
    import os
    import signal
    import threading

    from scheduler.commands.options import calibrate_once
    from scheduler.interrupt import deferred

    target = tmp_path / "calibration.json"
    monkeypatch.setenv("SCHOOLPOST_CALIBRATION", str(target))
    with deferred():
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
        spent = calibrate_once("auto", quiet=True)
    assert spent > 0 and not target.exists()
