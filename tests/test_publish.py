"""Publishing an output folder whole (issue 16, item 1): a run's files appear all together or not
at all, a crash or kill -9 at any moment leaves the old folder whole, staging folders a dead
process left are cleaned up, an earlier roster's outputs go with it, other files stay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from scheduler import output
from scheduler.output import ROSTER_OUTPUTS, write_files

OLD = {"roster.csv": "old roster\n", "summary.json": '{"objective": 1}\n', "calendars/P1.ics": "old cal\n",
       "report.html": "old report\n"}
NEW = {"roster.csv": "new roster\n", "summary.json": '{"objective": 2}\n'}


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _staging(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if output.STAGING in p.name)


def test_a_publish_replaces_the_roster_keeps_other_files_and_drops_the_old_rosters_outputs(tmp_path):
    out = tmp_path / "out"
    write_files(out, OLD)
    (out / "notes.txt").write_text("the planner's own notes\n", encoding="utf-8")
    write_files(out, NEW, replaces=ROSTER_OUTPUTS)
    assert _tree(out) == {**NEW, "notes.txt": "the planner's own notes\n"}  # no old calendars or report
    assert _staging(tmp_path) == [] and _staging(out) == []
    # without ``replaces`` (the report command adding human outputs) the roster files stay
    write_files(out, {"report.html": "new report\n"})
    assert _tree(out) == {**NEW, "notes.txt": "the planner's own notes\n", "report.html": "new report\n"}


def test_an_error_while_building_leaves_the_old_folder_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_files(out, OLD)

    def broken(a, b):
        raise KeyboardInterrupt  # Ctrl-C at the worst moment: everything built, nothing swapped yet

    monkeypatch.setattr(output, "_exchange", broken)
    with pytest.raises(KeyboardInterrupt):
        write_files(out, NEW, replaces=ROSTER_OUTPUTS)
    assert _tree(out) == OLD and _staging(tmp_path) == []


@pytest.mark.parametrize("moment", ["before_swap", "after_swap"])
def test_kill_9_leaves_one_whole_folder_and_the_next_run_cleans_up(tmp_path, moment):
    """A process killed with SIGKILL just before or just after the swap: the folder holds one run's
    files whole (the old or the new), ``check`` would see a consistent roster; the staging folder
    it left is removed by the next publish."""
    out = tmp_path / "out"
    write_files(out, OLD)
    script = textwrap.dedent(f"""
        import os, signal, json
        from scheduler import output
        real = output._exchange
        def exchange(a, b):
            if {moment!r} == "after_swap":
                real(a, b)
            os.kill(os.getpid(), signal.SIGKILL)
        output._exchange = exchange
        output.write_files({str(out)!r}, json.loads({json.dumps(json.dumps(NEW))}),
                           replaces=output.ROSTER_OUTPUTS)
    """)
    r = subprocess.run([sys.executable, "-c", script], check=False, cwd=Path(__file__).resolve().parents[1],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == -9, r.stderr
    assert _tree(out) == (OLD if moment == "before_swap" else NEW)
    assert len(_staging(tmp_path)) == 1  # what the killed process left
    write_files(out, {"roster.csv": "third\n"}, replaces=ROSTER_OUTPUTS)
    assert _tree(out) == {"roster.csv": "third\n"} and _staging(tmp_path) == []


def test_a_staging_folder_of_a_live_process_is_left_alone(tmp_path):
    out = tmp_path / "out"
    live = tmp_path / f".out{output.STAGING}{os.getpid()}-busy"
    live.mkdir()
    write_files(out, NEW)
    assert live.is_dir()


def test_a_link_given_as_the_output_folder_publishes_the_folder_it_points_to(tmp_path):
    real = tmp_path / "real"
    write_files(real, OLD)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    write_files(link, NEW, replaces=ROSTER_OUTPUTS)
    assert link.is_symlink() and _tree(real) == NEW


def test_the_folder_keeps_its_permissions(tmp_path):
    out = tmp_path / "out"
    out.mkdir(mode=0o750)
    os.chmod(out, 0o750)
    write_files(out, NEW)
    assert (out.stat().st_mode & 0o777) == 0o750


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [
    ["solve", str(ROOT / "instances" / "small-school.yaml"), "--time-limit", "5"],
    ["batch", str(ROOT / "instances" / "small-school.yaml"), "--time-limit", "5"],
])
@pytest.mark.parametrize("where, words", [
    ("", "is empty"),
    (".", "current folder"),
    ("file/under", "is a file"),
    ("dangling", "link to nothing"),
])
def test_an_output_folder_that_cannot_be_is_refused_before_any_work(tmp_path, monkeypatch, command, where, words):
    """One line naming -o/--output and exit 2, before anything is solved (issue 16)."""
    from click.testing import CliRunner

    from scheduler.commands import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("a file\n", encoding="utf-8")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    before = sorted(p.name for p in tmp_path.iterdir())
    r = CliRunner().invoke(main, [*command, "-o", where])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: -o/--output: ") and words in lines[0], r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made


def _tmpfs(tmp_path, size: str):
    """A tmpfs of ``size`` mounted at ``tmp_path/mnt`` (root only; the test is skipped elsewhere)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True,
                          check=False)
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def small_mount(tmp_path):
    """A 2 MiB tmpfs as an output folder's disk."""
    yield from _tmpfs(tmp_path, "2m")


@pytest.mark.parametrize("command", ["solve", "staffing", "whatif", "repair"])
@pytest.mark.parametrize("place, words", [
    ("proc", "cannot write in /proc/self"),
    ("read-only", "Read-only file system"),
    ("full", "is full"),
])
def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path, small_mount, command,
                                                                             place, words):
    """A place where nothing can be written (/proc/self), a read-only disk and a full one: one line
    naming -o/--output, exit 2, decided before the solve, not after it (issue 16)."""
    from click.testing import CliRunner

    from scheduler.commands import main

    if place == "proc":
        out = "/proc/self/roster"
    else:
        if place == "full":
            (small_mount / "filler").write_bytes(b"x" * (2 * 2**20 - 64 * 1024))
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
        out = str(small_mount / "roster")
    small = str(ROOT / "instances" / "small-school.yaml")
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios: [{name: rain, operations: [{scale_demand: {factor: 1.5}}]}]\n")
    args = {"solve": ["solve", small, "--time-limit", "30"],
            "staffing": ["staffing", small, "--role", "police"],
            "whatif": ["whatif", small, str(scenarios)],
            "repair": ["repair", small, str(tmp_path), "--absent", "x"]}[command]
    started = time.monotonic()
    r = CliRunner().invoke(main, [*args, "-o", out])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: -o/--output: ") and words in lines[0], r.output
    assert time.monotonic() - started < 10  # refused before the 30-s solve


def test_an_immutable_output_folder_is_refused_before_any_work(tmp_path):
    """An immutable folder (chattr +i) can be neither written nor replaced: refused before the
    solve, naming it (root only; skipped where chattr cannot be used)."""
    from click.testing import CliRunner

    from scheduler.commands import main

    out = tmp_path / "roster"
    out.mkdir()
    if subprocess.run(["chattr", "+i", str(out)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        r = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / "small-school.yaml"), "-o", str(out),
                                      "--time-limit", "30"])
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=False)
    assert r.exit_code == 2, r.output
    assert r.output.strip() == f"error: -o/--output: cannot write in {out}: Operation not permitted"


def test_a_roster_that_fails_the_check_gets_no_human_outputs(tmp_path, monkeypatch):
    """A roster that breaks a hard rule (here forced: a person put on a duty of a school they may
    not serve) is written as roster.csv, gaps.csv and summary.json to inspect it, exit 1, and never
    as a workbook, duty sheets, calendars or report that staff would follow."""
    from click.testing import CliRunner

    import scheduler.solve
    from scheduler.commands import main

    real = scheduler.solve.solve

    def broken(instance, options=None, **kwargs):
        result = real(instance, options, **kwargs)
        p, d = next((p, d) for p in range(len(result.problem.persons)) for d in range(len(result.problem.duties))
                    if d not in result.problem.eligible[p] and result.problem.duties[d].kind != "context")
        result.assignments = sorted([*result.assignments, (p, d)])
        return result

    monkeypatch.setattr(scheduler.solve, "solve", broken)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", "instances/small-school.yaml", "-o", str(out), "--time-limit", "3",
                                  "--quiet"])
    assert r.exit_code == 1, r.output
    assert "VIOLATION eligibility" in r.output and "no workbook, duty sheets, calendars or report" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["gaps.csv", "roster.csv", "roster.json", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["valid"] is False


@pytest.fixture
def mount_16m(tmp_path):
    """A 16 MiB tmpfs mounted as an output folder."""
    yield from _tmpfs(tmp_path, "16m")


def test_a_mount_point_as_the_output_folder_gets_its_files(tmp_path, mount_16m):
    """An output folder that is a mount point (a container's volume, a USB disk) cannot be swapped
    for another folder (the rename fails: 'Device or resource busy', after the whole solve, nothing
    published). Its files are built inside it and moved into place; a second run replaces them and
    keeps the planner's own files."""
    from click.testing import CliRunner

    from models import load_instance
    from scheduler.check import check_roster
    from scheduler.commands import main

    small = ROOT / "instances" / "small-school.yaml"
    (mount_16m / "notes.txt").write_text("mine\n", encoding="utf-8")
    for _ in range(2):
        r = CliRunner().invoke(main, ["solve", str(small), "-o", str(mount_16m), "--time-limit", "3", "--workers", "1",
                                      "--quiet", "--outputs", "report"])
        assert r.exit_code == 0, r.output
        assert check_roster(load_instance(small), mount_16m).ok
        assert sorted(p.name for p in mount_16m.iterdir()) == ["gaps.csv", "notes.txt", "report.html", "roster.csv",
                                                               "roster.json", "summary.json"]
    assert _staging(mount_16m) == [] and _staging(tmp_path) == []


def test_a_full_mount_point_as_the_output_folder_is_refused_before_any_work(tmp_path, small_mount):
    """The free space checked is the output folder's own disk when it is a mount point (its files
    are built inside it), not its parent's: a full one is refused before the solve."""
    from click.testing import CliRunner

    from scheduler.commands import main

    r = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / "small-school.yaml"), "-o", str(small_mount),
                                  "--time-limit", "30"])
    assert r.exit_code == 2, r.output
    assert r.output.strip() == f"error: -o/--output: the disk holding {small_mount} is full (2048 KiB free); free " \
                               f"some space or give another folder"


@pytest.mark.parametrize("command", ["solve", "staffing", "repair", "whatif"])
@pytest.mark.parametrize("where, words", [
    ("file", "exists and is not a folder"),
    ("file/under", "is a file"),
    ("dangling", "link to nothing"),
    ("", "is empty"),
    (".", "current folder"),
])
def test_every_command_refuses_an_output_folder_that_cannot_be(tmp_path, monkeypatch, command, where, words):
    """staffing -o FILE and repair -o FILE on an existing file gave tracebacks (issue 16): every
    command that writes a folder refuses it in one line naming -o/--output, exit 2, before any work,
    and leaves the file as it was."""
    from click.testing import CliRunner

    from scheduler.commands import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("a file\n", encoding="utf-8")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "s.yaml").write_text("scenarios: [{name: rain, operations: [{scale_demand: {factor: 1.5}}]}]\n")
    small = str(ROOT / "instances" / "small-school.yaml")
    args = {"solve": ["solve", small, "--time-limit", "30"],
            "staffing": ["staffing", small, "--role", "police", "--time-limit", "30"],
            "repair": ["repair", small, str(tmp_path), "--absent", "LZ-G1", "--time-limit", "30"],
            "whatif": ["whatif", small, "s.yaml", "--time-limit", "30"]}[command]
    before = sorted(p.name for p in tmp_path.iterdir())
    r = CliRunner().invoke(main, [*args, "-o", where])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: -o/--output: ") and words in lines[0], r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "file").read_text(encoding="utf-8") == "a file\n"
