"""The second probe (issue 16), program side: a Ctrl-C in the first moments of a run, and the CSV
formula guard of every table the project writes besides roster.csv and gaps.csv."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from models import load_instance
from scheduler.commands import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "instances" / "small-school.yaml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# ------------------------------------------------------------------------------------------------
# Ctrl-C in the first 0.15 s
# ------------------------------------------------------------------------------------------------

#: a frame of the project's own code in a traceback
PROJECT_FRAME = re.compile(r'File "[^"]*[/\\](?:scheduler|models)[/\\][^"]*\.py"')


@pytest.mark.parametrize("launcher", ["module", "script"])
def test_ctrl_c_in_the_first_moments_never_shows_a_traceback_of_the_program(tmp_path, launcher):
    """SIGINT sent to a real process 0.02 to 0.15 s after its start (the interpreter starting, the
    program importing its libraries). ``import signal`` used to come before the program's handler:
    a Ctrl-C then raised KeyboardInterrupt inside it, a traceback through scheduler/entry.py. Now
    the run ends with "interrupted" and exit code 130, or by the signal itself, or finishes; the
    only tracebacks left are the interpreter's own while it starts ("Fatal Python error: init_...",
    or with ``-m`` "Could not import runpy module" and a KeyboardInterrupt in its frozen importer:
    seen once in CI at 20 ms), before any line of the program runs, never one through the
    program's code."""
    if launcher == "module":
        command = [sys.executable, "-m", "scheduler"]
    else:
        script = Path(sys.executable).parent / "schoolpost"
        if not script.is_file():
            pytest.skip("no schoolpost script beside this interpreter")
        command = [str(script)]
    for k in range(14):
        out = tmp_path / f"out{k}"
        proc = subprocess.Popen([*command, "solve", str(SMALL), "-o", str(out), "--time-limit", "5", "--quiet",
                                 "--outputs", "none"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.02 + 0.01 * k)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert not PROJECT_FRAME.search(err), (k, err)
        assert proc.returncode in (0, 1, 130, -signal.SIGINT), (k, proc.returncode, err)
        if proc.returncode == 130:
            assert err.strip().splitlines()[-1] == "interrupted", (k, err)
        if proc.returncode == 1:  # only the interpreter failing to start, never the program: in its
            # initialisation, or (python -m) while it imports runpy, the module that runs -m
            assert ("Fatal Python error: init_" in err or err.startswith("Could not import runpy module")), (k, err)
        if proc.returncode == 0:  # the signal came before the interpreter listened, or the search kept its roster
            from scheduler.check import check_roster

            assert check_roster(load_instance(SMALL), out).ok


# ------------------------------------------------------------------------------------------------
# the CSV formula guard in changes.csv and staffing.csv, and reading guarded rosters back
# ------------------------------------------------------------------------------------------------


def _formula_ids(tmp_path: Path) -> Path:
    """small-school with a school id starting with '=', person ids with '-' and a unit with '@'."""
    text = json.dumps(yaml.safe_load(SMALL.read_text(encoding="utf-8")))
    text = text.replace('"liuzhuang-ps', '"=liuzhuang-ps').replace('"LZ-', '"-LZ-')
    text = text.replace('"bincheng-west-station"', '"@station"')
    path = tmp_path / "guard.json"
    path.write_text(text, encoding="utf-8")
    return path


def _cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))[1:]


def test_changes_and_staffing_tables_guard_formula_cells_and_guarded_rosters_read_back(tmp_path):
    """repair reads a published roster whose ids are guarded ('=liuzhuang-ps), mends it, and its
    changes.csv guards the same cells; staffing.csv guards a unit id starting with '@'. No cell of
    either starts a formula, and the project's reader gives the ids back exactly."""
    from scheduler.check import check_roster
    from scheduler.output import csv_rows

    instance = _formula_ids(tmp_path)
    inst = load_instance(instance)
    published, repaired, staffing = tmp_path / "published", tmp_path / "repaired", tmp_path / "staffing"
    r = run("solve", instance, "-o", published, "--time-limit", "3", "--workers", "1", "--quiet", "--outputs", "none")
    assert r.exit_code == 0, r.output
    assert check_roster(inst, published).ok
    r = run("repair", instance, published, "--absent=-LZ-G1", "-o", repaired, "--time-limit", "3", "--workers", "1",
            "--outputs", "none")
    assert r.exit_code == 0, r.output
    assert check_roster(inst, repaired).ok
    changes = _cells(repaired / "changes.csv")
    assert changes and all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for row in changes for c in row)
    rows = csv_rows((repaired / "changes.csv").read_text(encoding="utf-8"))
    assert {row["school_id"] for row in rows} <= {"=liuzhuang-ps", ""}
    assert {row["person_id"] for row in rows if row["action"] == "removed"} == {"-LZ-G1"}
    r = run("staffing", instance, "--role", "police", "-o", staffing, "--time-limit", "3", "--quiet")
    assert r.exit_code == 0, r.output
    cells = _cells(staffing / "staffing.csv")
    assert [row[0] for row in cells] == ["'@station"]
    assert [row["unit"] for row in csv_rows((staffing / "staffing.csv").read_text(encoding="utf-8"))] == ["@station"]


@pytest.mark.parametrize(("where", "words"), [
    ("file/x.yaml", "is a file"),
    ("/proc/self/x.yaml", "cannot write /proc/self/x.yaml"),
    ("", "is empty"),
])
def test_generate_refuses_a_file_it_cannot_write_in_one_line(tmp_path, monkeypatch, where, words):
    """generate -o under a file, in /proc/self or empty gave tracebacks (FileExistsError,
    FileNotFoundError, 'Device or resource busy' renaming onto '.'): one line naming -o/--output,
    exit 2, nothing written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("a file\n", encoding="utf-8")
    r = run("generate", "--preset", "school", "-o", where)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: -o/--output: ") and words in lines[0], r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
