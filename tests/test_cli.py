"""The command line: solve writes the four files, check accepts them, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NEAR2, doc, person, school

from scheduler.commands import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def instance_file(tmp_path):
    units = [{"id": "st1", "kind": "police", "schools": ["s1", "s2"]}]
    posts = [{"id": "s1/gate", "demand": {"default": {"min": 2, "target": 3, "min_police": 1}}}]
    data = doc([school("s1", posts=posts), school("s2", NEAR2)],
               [person("p1", "police", "st1"), person("g1", "security_guard", "s1"), person("l1", "school_leader", "s1"),
                person("t1", "teacher", "s2")],
               units=units, days=("mon", "tue"), policy={"leader_on_duty": True})
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(data))
    return path


def test_solve_then_check(instance_file, tmp_path):
    """solve writes roster.csv, roster.json, gaps.csv, summary.json; check exits 0 on them."""
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(instance_file), "-o", str(out), "--time-limit", "10", "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["calendars", "duty-sheets.html", "gaps.csv", "report.html",
                                                     "roster.csv", "roster.json", "roster.xlsx", "summary.json"]
    on_duty = {line.split(",")[6] for line in (out / "roster.csv").read_text().splitlines()[1:]}
    assert sorted(p.name for p in (out / "calendars").iterdir()) == sorted(f"{p}.ics" for p in on_duty)
    summary = json.loads((out / "summary.json").read_text())
    for key in ("status", "objective", "best_bound", "gap", "wall_time", "model", "kpis", "seed", "workers",
                "ortools_version"):
        assert key in summary
    assert summary["valid"] is True
    header = (out / "gaps.csv").read_text().splitlines()[0]
    assert header == "date,peak,school_id,post_id,route_id,rule,needed,got,reason,severity,avoidable"
    c = CliRunner().invoke(main, ["check", str(instance_file), str(out)])
    assert c.exit_code == 0, c.output


def test_check_exits_nonzero_on_a_hand_made_violation(instance_file, tmp_path):
    """check exits 1 when a row puts a school's teacher at another school."""
    out = tmp_path / "out"
    CliRunner().invoke(main, ["solve", str(instance_file), "-o", str(out), "--time-limit", "5", "--workers", "1"])
    lines = (out / "roster.csv").read_text().splitlines()
    lines.append("2026-12-07,mon,arrival,s1,s1/gate,,t1,Person t1,teacher,07:20,08:00")
    (out / "roster.csv").write_text("\n".join(lines) + "\n")
    c = CliRunner().invoke(main, ["check", str(instance_file), str(out)])
    assert c.exit_code == 1
    assert "eligibility" in c.output and "t1" in c.output


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    """A bad field gives exit code 2, one line naming the field, and no output folder."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: schoolpost/1\nweek_start: 2026-12-07\nschools: [{id: s, type: castle, location: {lat: 1, lon: 2}}]\n")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(bad), "-o", str(out)])
    assert r.exit_code == 2
    assert r.output.strip().count("\n") == 0 and "schools[0].type" in r.output
    assert not out.exists()


def test_info_shows_sizes_and_short_peaks(instance_file):
    """info prints sizes and lists the school peaks where fewer police may serve than demanded."""
    r = CliRunner().invoke(main, ["info", str(instance_file), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["sizes"]["schools"] == 2 and data["sizes"]["duties"] == 4
    assert data["short"] == []


def test_same_seed_same_files(instance_file, tmp_path):
    """Determinism: the same instance, seed and workers give byte-identical roster files."""
    outs = []
    for k in range(2):
        out = tmp_path / f"o{k}"
        CliRunner().invoke(main, ["solve", str(instance_file), "-o", str(out), "--seed", "7", "--workers", "2",
                                  "--time-limit", "10"])
        outs.append(out)
    for name in ("roster.csv", "roster.json", "gaps.csv", "roster.xlsx", "duty-sheets.html"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    calendars = [sorted((o / "calendars").iterdir()) for o in outs]
    assert [p.name for p in calendars[0]] == [p.name for p in calendars[1]] and calendars[0]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(*calendars))
    assert CliRunner().invoke(main, ["check", str(instance_file), str(outs[0])]).exit_code == 0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("command", ["solve", "batch", "whatif", "repair", "staffing", "staffing-fill-rate"])
def test_numbers_that_are_not_numbers_are_one_line_exit_2(tmp_path, command, value):
    """--time-limit nan or inf (click's FloatRange lets nan through every comparison) and
    --fill-rate nan: one error line naming the option, exit 2, nothing written (they gave tracebacks)."""
    from click.testing import CliRunner

    from scheduler.commands import main

    small = "instances/small-school.yaml"
    out = tmp_path / "out"
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios: [{name: rain, operations: [{scale_demand: {factor: 1.5}}]}]\n")
    args = {"solve": ["solve", small, "-o", str(out), "--time-limit", value],
            "batch": ["batch", small, "-o", str(out), "--time-limit", value],
            "whatif": ["whatif", small, str(scenarios), "-o", str(out), "--time-limit", value],
            "repair": ["repair", small, str(tmp_path), "--absent", "x", "-o", str(out), "--time-limit", value],
            "staffing": ["staffing", small, "--role", "police", "-o", str(out), "--time-limit", value],
            "staffing-fill-rate": ["staffing", small, "--role", "police", "-o", str(out), "--fill-rate", value]}[command]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    option = "--fill-rate" if command == "staffing-fill-rate" else "--time-limit"
    assert r.output.count("\n") == 1 and r.output.startswith(f"error: Invalid value for '{option}'"), r.output
    assert not out.exists()


def test_the_result_lines_are_in_words(tmp_path):
    """The first lines a planner reads after solve: duties assigned and where, what is missing
    (real gaps before soft ones), the score and what ended the search, in words: no status codes
    like work_limit, no strategy names like (lns), no snake_case."""
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / "rural-primary.yaml"), "-o", str(out),
                                  "--time-limit", "20", "--work-limit", "1", "--outputs", "none"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("Roster ready: ") and lines[0].endswith(f"-> {out}")
    summary = json.loads((out / "summary.json").read_text())
    assert CliRunner().invoke(main, ["check", str(ROOT / "instances" / "rural-primary.yaml"), str(out)]).exit_code == 0
    assert f"{summary['assignments']:,} duties assigned" in lines[0]
    words = "\n".join([lines[0].rsplit(" -> ", 1)[0], *lines[1:3]])
    assert "_" not in words and "(lns)" not in words and "(full)" not in words
    assert lines[1].index("below minimum") < lines[1].index("soft:")
    assert f"{summary['terms']['police_shortfall']:,} police" in lines[1]
    from scheduler.pipeline import ENDED_WORDS

    assert lines[2].endswith(ENDED_WORDS[summary["ended_by"]])  # its work budget, or the clock on a busy machine


def test_verbose_logs_the_stages_and_the_default_does_not(tmp_path):
    """Logging is set up once, by the program's group: ``schoolpost -v`` adds the engine's
    stage-by-stage lines on stderr; without it stderr has none of them."""
    import subprocess
    import sys

    def run(*flags: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "scheduler", *flags, "solve", str(ROOT / "instances" / "small-school.yaml"), "-o",
               str(tmp_path / "out"), "--time-limit", "10", "--outputs", "none", "--quiet"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    loud, calm = run("-v"), run()
    assert loud.returncode == calm.returncode == 0, loud.stderr + calm.stderr
    assert "model built in" in loud.stderr
    assert "model built in" not in calm.stderr
    instance = str(ROOT / "instances" / "small-school.yaml")
    assert CliRunner().invoke(main, ["check", instance, str(tmp_path / "out")]).exit_code == 0


def test_the_console_time_is_summary_wall_time(tmp_path):
    """Issue 18 item 3: the elapsed time solve prints is summary.json's wall_time, named as the
    solve's, beside the whole command's time (start-up, reading and writing included)."""
    import re

    out = tmp_path / "out"
    instance = str(ROOT / "instances" / "small-school.yaml")
    r = CliRunner().invoke(main, ["solve", instance, "-o", str(out), "--time-limit", "10", "--outputs", "none"])
    assert r.exit_code == 0, r.output
    assert CliRunner().invoke(main, ["check", instance, str(out)]).exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    first = r.output.splitlines()[0]
    m = re.search(r"solved in ([0-9.]+) s, ([0-9.]+) s in all -> ", first)
    assert m, first
    assert m.group(1) == f"{summary['wall_time']:.1f}"
    assert float(m.group(2)) >= float(m.group(1))
