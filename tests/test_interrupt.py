"""Ctrl-C or SIGTERM during a solve writes the best roster found so far, complete and valid,
with status ``interrupted``."""

from __future__ import annotations

import itertools
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
    # lns mid-search; full in its coverage stage (about 6-13 s of 20) and in its last stage; the
    # search runs until the clock (--work-limit none), so the signal always lands mid-search
    [("lns", signal.SIGINT, 6.0), ("full", signal.SIGINT, 9.0), ("full", signal.SIGTERM, 14.0)],
)
def test_interrupted_solve_keeps_the_best_roster(ten_file, tmp_path, strategy, sig, after):
    """A signal mid-search ends the run with exit 0, status interrupted and a roster the validator accepts."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "scheduler", "solve", str(ten_file), "-o", str(out), "--time-limit", "20",
           "--strategy", strategy, "--work-limit", "none", "--quiet"]
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


def _started(log_path, proc, timeout=30.0) -> None:
    """Wait until the solve has written its "start" line (the instance is read; signals are deferred)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if log_path.is_file() and '"start"' in log_path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError("the solve never started")


@pytest.mark.parametrize("strategy", ["full", "lns"])
def test_signal_before_the_search_keeps_the_first_roster(ten_file, tmp_path, strategy):
    """A SIGTERM as soon as the instance is read (the greedy roster and the model being built)
    skips every search stage: exit 0, status interrupted, a valid roster."""
    out, log_path = tmp_path / "out", tmp_path / "log.jsonl"
    cmd = [sys.executable, "-m", "scheduler", "solve", str(ten_file), "-o", str(out), "--time-limit", "60",
           "--strategy", strategy, "--quiet", "--log", str(log_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _started(log_path, proc)
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert time.monotonic() - began < 30  # not the 60 s of the limit: no stage searched on
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    report = check_roster(load_instance(ten_file), out)
    assert report.ok
    assert report.objective == pytest.approx(summary["objective"])


def _signal_while_writing(monkeypatch, signals: int):
    """Make ``write_files`` receive ``signals`` SIGTERMs just before it writes."""
    import os

    from scheduler import output

    real = output.write_files

    def write_files(outdir, files, **options):
        for _ in range(signals):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs in the main thread at the next bytecode
        return real(outdir, files, **options)

    monkeypatch.setattr(output, "write_files", write_files)


def _solve_one_school(tmp_path, monkeypatch, signals: int):
    """``schoolpost solve`` in this process on a one-school instance, with ``signals`` SIGTERMs
    just before the files are written; returns (CLI result, instance path, output folder)."""
    from click.testing import CliRunner

    from scheduler.commands import main

    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(generate("district", 3, schools=1), sort_keys=False))
    _signal_while_writing(monkeypatch, signals)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["solve", str(path), "-o", str(out), "--time-limit", "5", "--quiet",
                                    "--outputs", "none"])
    return res, path, out


def test_signal_after_the_search_still_writes_every_file(tmp_path, monkeypatch):
    """A SIGTERM that comes when the search is over (here: as the files are written) changes
    nothing: every file is written whole, the status is the search's, the exit code 0."""
    res, path, out = _solve_one_school(tmp_path, monkeypatch, 1)
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] != "interrupted"
    assert sorted(p.name for p in out.iterdir()) == ["gaps.csv", "roster.csv", "roster.json", "summary.json"]
    report = check_roster(load_instance(path), out)
    assert report.ok and report.objective == pytest.approx(summary["objective"])
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the command's handler is gone


def test_second_signal_ends_the_run_and_leaves_no_half_written_files(tmp_path, monkeypatch):
    """Two signals: the second ends the process at once (exit code not 0), and the output folder
    holds no file and no temporary folder."""
    res, _path, out = _solve_one_school(tmp_path, monkeypatch, 2)
    assert res.exit_code != 0
    assert not out.exists() or not list(out.iterdir())


def test_a_search_asked_to_stop_before_it_begins_returns_interrupted():
    """A stop requested before a CP-SAT search starts (a signal between two stages, or between
    the search's thread starting and its solve) ends it as interrupted, never with an error."""
    import os

    from ortools.sat.python import cp_model

    from scheduler.cpsat.solver import run
    from scheduler.interrupt import deferred, requested

    model = cp_model.CpModel()
    xs = [model.new_bool_var(f"x{i}") for i in range(200)]
    for a, b in itertools.pairwise(xs):
        model.add_bool_or([a, b])
    model.minimize(sum(xs))
    with deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs in the main thread at the next bytecode
        assert requested()
        raw = run(model, time_limit=30, workers=1, seed=0)
    assert raw.status == "interrupted"
    assert raw.wall_time < 5


def test_ctrl_c_while_the_program_starts_is_one_line_never_a_traceback(tmp_path):
    """A Ctrl-C at any moment of the start (libraries loading, OR-Tools' C extension initialising,
    the command parsing its options) ends schoolpost with "interrupted" and exit code 130, or, once
    the solve runs, with the best roster so far (exit 0): never a traceback."""
    for k in range(12):
        out = tmp_path / f"out{k}"
        proc = subprocess.Popen([sys.executable, "-m", "scheduler", "solve", "instances/small-school.yaml", "-o",
                                 str(out), "--time-limit", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        time.sleep(0.15 + 0.06 * k)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err and "Aborted" not in err, (k, err)
        # 130, or ended by the signal itself (-2), which a shell reports as 130 too
        assert proc.returncode in (0, 130, -signal.SIGINT), (k, proc.returncode, err)
        if proc.returncode != 0:
            assert err.strip().splitlines()[-1] == "interrupted", err


def test_ctrl_c_while_click_parses_the_options_is_interrupted_not_aborted(monkeypatch, capsys):
    """The window the timed test above can only hit by chance: a Ctrl-C after the libraries have
    loaded, while click parses the command line (before the command sets its own handler). Click's
    standalone mode would print "Aborted!" and exit 1; the entry point says "interrupted", 130."""
    import click

    from scheduler import entry

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Command, "make_context", interrupted)
    monkeypatch.setattr(sys, "argv", ["schoolpost", "solve", "instances/small-school.yaml", "-o", "x"])
    with pytest.raises(SystemExit) as ended:
        entry.main([])
    err = capsys.readouterr().err
    assert ended.value.code == 130
    assert err.strip().splitlines()[-1] == "interrupted" and "Aborted" not in err


@pytest.mark.parametrize("argv, code", [(["--version"], 0), (["--help"], 0), (["solve", "--bogus"], 2),
                                        (["nosuch"], 2)])
def test_entry_exit_codes_as_click_gives_them(monkeypatch, capsys, argv, code):
    """Outside click's standalone mode the entry point still ends --help and --version with 0 and a
    bad option or command with 2 and one line."""
    from scheduler import entry

    monkeypatch.setattr(sys, "argv", ["schoolpost", *argv])
    with pytest.raises(SystemExit) as ended:
        entry.main([])
    assert ended.value.code == code
    if code == 2:
        assert capsys.readouterr().err.startswith("error: ")
