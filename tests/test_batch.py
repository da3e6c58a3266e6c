"""``schoolpost batch``: split, solve, merge, resume, survive a kill, run on a real Dask cluster."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from models import instance_from_data, load_instance
from scheduler.batch import PART_FILES, run_batch
from scheduler.check import check_roster
from scheduler.commands import main
from scheduler.generate import generate

OPTIONS = {"time_limit": 2.0, "workers": 1, "seed": 0, "strategy": "auto"}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """A small generated city: 12 schools in several districts."""
    path = tmp_path_factory.mktemp("city") / "city.json"
    path.write_text(json.dumps(generate("city", 0, schools=12)))
    return path


def _districts(path: Path) -> set[str]:
    return {s["district"] for s in json.loads(path.read_text())["schools"]}


def _check_city(city: Path, out: Path) -> None:
    """The merged roster, checked by the validator against the whole city."""
    report = check_roster(load_instance(city), out)
    assert report.ok, [str(v) for v in report.violations[:5]]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(report.objective)
    # no unit spans two districts here, so the city's objective is the sum of the districts'
    assert summary["objective"] == pytest.approx(summary["objective_sum_of_districts"])


def test_batch_merges_valid_districts_and_resumes(city, tmp_path):
    out = tmp_path / "out"
    lines: list[str] = []
    summary, report = run_batch(city, out, options=OPTIONS, processes=2, echo=lines.append,
                                outputs=("xlsx", "report"))
    assert report.ok
    # the human outputs are of the merged city roster
    roster_rows = (out / "roster.csv").read_text().count("\n") - 1
    assert load_workbook(out / "roster.xlsx")["Roster"].max_row == roster_rows + 1
    assert "Roster report" in (out / "report.html").read_text() and not (out / "calendars").exists()
    names = _districts(city)
    assert summary["districts"] == len(names) >= 3
    assert {p.name for p in (out / "districts").iterdir()} == names
    for d in names:
        assert all((out / "districts" / d / f).is_file() for f in (*PART_FILES, "batch.json"))
        assert check_roster(load_instance(city), out / "districts" / d).ok  # each district's rows alone
    rows = (out / "districts.csv").read_text().splitlines()
    assert len(rows) == 1 + len(names)
    _check_city(city, out)
    roster = (out / "roster.csv").read_bytes()

    # the same command again: every district reused, nothing solved, same merged roster
    again: list[str] = []
    summary2, _ = run_batch(city, out, options=OPTIONS, processes=2, echo=again.append)
    assert all(r["reused"] for r in summary2["per_district"])
    assert sum("reused" in line for line in again) == len(names)
    assert (out / "roster.csv").read_bytes() == roster

    # other options: solved again
    summary3, _ = run_batch(city, out, options={**OPTIONS, "seed": 1}, processes=2)
    assert not any(r["reused"] for r in summary3["per_district"])
    _check_city(city, out)


def test_a_killed_batch_keeps_finished_districts(city, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "scheduler", "batch", str(city), "-o", str(out), "--time-limit", "2",
           "--jobs", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    root = out / "districts"
    while time.monotonic() < deadline:
        finished = [p for p in root.iterdir() if not p.name.startswith(".")] if root.exists() else []
        if len(finished) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished = {p.name for p in root.iterdir() if not p.name.startswith(".")}
    assert 2 <= len(finished) < len(_districts(city))
    assert not (out / "roster.csv").exists()  # the merge never ran
    for d in finished:  # every district folder there is complete
        assert all((root / d / f).is_file() for f in (*PART_FILES, "batch.json"))
        json.loads((root / d / "summary.json").read_text())
    lines: list[str] = []
    # the options the command gave its districts (--time-limit 2 is also the nominal time of each)
    options = {**OPTIONS, "strategy": "auto", "nominal_time": OPTIONS["time_limit"]}
    summary, report = run_batch(city, out, options=options, processes=1, echo=lines.append)
    reused = {r["district"] for r in summary["per_district"] if r["reused"]}
    assert reused == finished
    assert report.ok
    _check_city(city, out)


def test_sigterm_stops_the_batch_and_keeps_finished_districts(city, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "scheduler", "batch", str(city), "-o", str(out), "--time-limit", "3", "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = out / "districts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (root.exists() and any(not p.name.startswith(".") for p in root.iterdir())):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again" in err and "Traceback" not in err
    finished = [p for p in root.iterdir() if not p.name.startswith(".")]
    assert finished and all((p / "batch.json").is_file() for p in finished)
    assert not (out / "roster.csv").exists()


def test_batch_on_a_real_local_dask_cluster(city, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = tmp_path / "out"
        result = CliRunner().invoke(main, ["batch", str(city), "-o", str(out), "--time-limit", "2", "--executor",
                                           "dask", "--scheduler", cluster.scheduler_address])
        assert result.exit_code == 0, result.output
        with distributed.Client(cluster.scheduler_address) as client:
            assert len(client.scheduler_info()["workers"]) == 2
    _check_city(city, out)
    assert "districts" in result.output and "valid True" in result.output


def test_unreachable_scheduler_is_one_line_exit_2(city, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(city), "-o", str(out), "--executor", "dask",
                                       "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "--scheduler" in result.output
    assert not (out / "roster.csv").exists()


@pytest.mark.parametrize("address, words", [
    ("notaurl", "'notaurl' is not a scheduler address like tcp://"),
    ("inproc://x", "'inproc://x' is not a scheduler address like tcp://10.0.0.5:8786 (the scheme is inproc, "),
    ("tcp://127.0.0.1:99999", "(the port 99999 is not 1-65535)"),
    ("http", "no Dask scheduler answered at tcp://127.0.0.1:"),
    ("junk", ", but not as a Dask scheduler does ("),
    ("no-worker", "has no worker after 2 s"),
])
def test_a_scheduler_that_cannot_serve_is_given_up_in_one_line(city, tmp_path, address, words):
    """No hang and no traceback: an address that is no address (or of a scheme or port no scheduler
    has), a port that answers HTTP (the Dask client waited on it forever, ignoring Ctrl-C), one that
    answers bytes the client read as a 3 EiB frame, and a scheduler without a worker ("waiting for
    Dask workers", then given up) each end the batch after --dask-wait with one error line."""
    import http.server

    distributed = pytest.importorskip("distributed")
    with contextlib.ExitStack() as stack:
        if address == "http":
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            stack.callback(server.shutdown)
            address = f"tcp://127.0.0.1:{server.server_address[1]}"
        elif address == "junk":  # bytes the Dask client reads as a frame length of exabytes
            junk = socket.create_server(("127.0.0.1", 0))
            stack.callback(junk.close)

            def answer() -> None:
                with contextlib.suppress(OSError):
                    while True:
                        conn, _ = junk.accept()
                        conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n" * 4)

            threading.Thread(target=answer, daemon=True).start()
            address = f"tcp://127.0.0.1:{junk.getsockname()[1]}"
        elif address == "no-worker":
            cluster = stack.enter_context(distributed.LocalCluster(n_workers=0, processes=True,
                                                                   dashboard_address=None))
            address = cluster.scheduler_address
        out = tmp_path / "out"
        cmd = [sys.executable, "-m", "scheduler", "batch", str(city), "-o", str(out), "--executor", "dask",
               "--scheduler", address, "--dask-wait", "2"]
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert time.monotonic() - started < 30
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: --scheduler: ") and words in lines[-1], proc.stderr
    assert "Traceback" not in proc.stderr and len(lines) <= 2, proc.stderr
    if "no worker" in words:
        assert lines[0].startswith("waiting for Dask workers at ")
    assert not (out / "roster.csv").exists()


CLUSTER = """
import time
from distributed import LocalCluster
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    print(cluster.scheduler_address, flush=True)
    while True:
        time.sleep(1)
"""


def test_a_scheduler_killed_mid_batch_is_one_line_and_keeps_the_finished_parts(city, tmp_path):
    """kill -9 of the Dask cluster once a district is done: the batch ends with one error line (not
    the 88-line traceback of the Dask client), exit 2, the finished districts kept for the rerun."""
    pytest.importorskip("distributed")
    script = tmp_path / "cluster.py"
    script.write_text(CLUSTER)
    cluster = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True)
    try:
        address = cluster.stdout.readline().strip()
        out = tmp_path / "out"
        batch = subprocess.Popen([sys.executable, "-m", "scheduler", "batch", str(city), "-o", str(out), "--executor",
                                  "dask", "--scheduler", address, "--time-limit", "4"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        root = out / "districts"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (root.exists() and any(not p.name.startswith(".")
                                                                         for p in root.iterdir())):
            time.sleep(0.1)
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)
    _, err = batch.communicate(timeout=120)
    assert batch.returncode == 2, err
    finished = [p for p in root.iterdir() if not p.name.startswith(".")]
    total = len(_districts(city))
    line = (f"error: --scheduler: lost the Dask scheduler at {address} (the connection was lost); {total - len(finished)} "
            f"of {total} districts did not finish (")
    assert len(err.strip().splitlines()) == 1 and err.startswith(line), err
    assert err.strip().endswith(f"); the finished ones are kept in {root}: run the same command again to go on"), err
    assert finished and all((p / "batch.json").is_file() for p in finished)
    assert not (out / "roster.csv").exists()


def test_kill_9_of_a_batch_ends_its_pool_workers(city, tmp_path):
    """kill -9 runs no clean-up in the batch: its pool workers end with it all the same (they
    went on solving for over a minute)."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "scheduler", "batch", str(city), "-o", str(out), "--time-limit", "30", "--jobs", "2",
           "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children() -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False).stdout.split()
        return [int(pid) for pid in found]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(children()) < 2:
        time.sleep(0.1)
    workers = children()
    assert workers, "no pool worker started"
    time.sleep(1.0)  # the workers are solving
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
                 and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]]
    assert not alive, f"pool workers {alive} outlived the batch"


def test_a_unit_in_two_districts_joins_them_and_no_one_is_booked_twice(tmp_path):
    """A unit serving schools in two districts, and a route with stops in two others: each pair is
    planned as one part (its people once), the route is kept, the planner is told why, and the
    merged roster passes the validator (it once booked the unit's people in both districts)."""
    data = generate("city", 0, schools=16)
    by_district: dict[str, list[str]] = {}
    for s in data["schools"]:
        by_district.setdefault(s["district"], []).append(s["id"])
    assert len(by_district) >= 4
    a, b, c, d = list(by_district)[:4]
    unit = next(u for u in data["units"] if set(u["schools"]) & set(by_district[a]))
    unit["schools"] = sorted(set(unit["schools"]) | set(by_district[b]))  # every school of b: its people work
    route = next(r for r in data["routes"] if set(r["stops"]) <= set(by_district[c]))
    route["stops"] = [*route["stops"], by_district[d][0]]
    path = tmp_path / "city.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(path), "-o", str(out), "--time-limit", "2", "--jobs", "2",
                                       "--outputs", "none"])
    assert result.exit_code == 0, result.output
    assert f"unit {unit['id']} serves schools in 2 districts" in result.output
    assert f"route {route['id']} has stops in 2 districts" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cross_district"]["units"][unit["id"]] == sorted([a, b])
    assert summary["cross_district"]["routes"] == {route["id"]: sorted([c, d])}
    names = [row["district"] for row in csv.DictReader(io.StringIO((out / "districts.csv").read_text(encoding="utf-8")))]
    assert f"{a}+{b}" in names and f"{c}+{d}" in names and a not in names and d not in names
    report = check_roster(load_instance(path), out)
    assert report.ok, [str(v) for v in report.violations][:5]
    rows = list(csv.DictReader(io.StringIO((out / "roster.csv").read_text(encoding="utf-8"))))
    assert any(r["route_id"] == route["id"] for r in rows)  # the route is planned, not left out
    assert any(r["person_id"] in {p["id"] for p in data["persons"] if p["unit"] == unit["id"]}
               and r["school_id"] in by_district[b] for r in rows)


def test_district_names_become_safe_folder_names(tmp_path):
    data = generate("city", 0, schools=4)
    for s in data["schools"]:
        s["district"] = "../" + s["district"]
    path = tmp_path / "city.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    _summary, report = run_batch(path, out, options={**OPTIONS, "time_limit": 1.0}, processes=1)
    assert report.ok
    assert all(p.parent == out / "districts" for p in (out / "districts").iterdir())
    assert not any(p.name.startswith(".") for p in (out / "districts").iterdir())
    assert {p.name for p in tmp_path.iterdir()} == {"city.json", "out"}


# --- a folder of district files (issue 18 item 6) ---------------------------------------------


@pytest.fixture(scope="module")
def district_docs() -> dict[str, dict]:
    """Two district documents of a small generated city, as a planner would keep them apart."""
    from scheduler.districts import split_by_district

    parts = split_by_district(json.loads(json.dumps(generate("city", 0, schools=6), default=str)))
    assert len(parts) >= 2
    return dict(list(parts.items())[:2])


def _write_folder(folder: Path, docs: dict[str, dict]) -> Path:
    """The first document as YAML, the others as JSON (both readers), plus files to skip."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, doc) in enumerate(docs.items()):
        if i == 0:
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        else:
            (folder / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")
    (folder / ".hidden.json").write_text("not an instance")  # hidden: skipped
    (folder / "notes.txt").write_text("not an instance")  # not an instance file: skipped
    return folder


def test_a_folder_of_district_files_is_solved_part_by_part_merged_and_resumed(district_docs, tmp_path):
    folder = _write_folder(tmp_path / "in", district_docs)
    out = tmp_path / "out"
    args = ["batch", str(folder), "-o", str(out), "--time-limit", "2", "--jobs", "2", "--outputs", "none"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "valid True" in result.output
    names = list(district_docs)
    assert {p.name for p in (out / "districts").iterdir()} == set(names)  # one folder per file, by its stem
    for name in names:
        assert all((out / "districts" / name / f).is_file() for f in (*PART_FILES, "batch.json"))
    # the merged roster, checked against the files' schools, units, routes and persons together
    first = district_docs[names[0]]
    merged = {**first, "name": "merged"}
    for key in ("units", "schools", "routes", "persons"):
        merged[key] = [item for doc in district_docs.values() for item in doc[key]]
    report = check_roster(instance_from_data(merged), out)
    assert report.ok, [str(v) for v in report.violations[:5]]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["districts"] == 2 and summary["valid"] is True
    assert summary["objective"] == pytest.approx(report.objective)
    assert summary["objective"] == pytest.approx(summary["objective_sum_of_districts"])
    rows = list(csv.DictReader(io.StringIO((out / "roster.csv").read_text(encoding="utf-8"))))
    for doc in district_docs.values():  # both files' schools are rostered
        assert {r["school_id"] for r in rows} & {s["id"] for s in doc["schools"]}
    roster = (out / "roster.csv").read_bytes()

    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert sum(f"{name}: reused" in again.output for name in names) == 2
    assert all(r["reused"] for r in json.loads((out / "summary.json").read_text())["per_district"])
    assert (out / "roster.csv").read_bytes() == roster


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output, result.output
    return result.output


def test_folder_files_that_disagree_on_week_start_are_refused_naming_the_file(district_docs, tmp_path):
    docs = json.loads(json.dumps(district_docs))
    second = list(docs)[1]
    docs[second]["week_start"] = "2030-01-07"
    folder = _write_folder(tmp_path / "in", docs)
    out = tmp_path / "out"
    line = _one_error_line(CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "--time-limit", "2"]))
    assert line.startswith(f"error: {second}.json: week_start: ") and "2030-01-07" in line
    assert not out.exists()  # nothing solved


def test_folder_files_with_the_same_person_id_are_refused_naming_both(district_docs, tmp_path):
    docs = json.loads(json.dumps(district_docs))
    first, second = list(docs)
    shared = docs[first]["persons"][0]["id"]
    docs[second]["persons"][1]["id"] = shared
    folder = _write_folder(tmp_path / "in", docs)
    out = tmp_path / "out"
    line = _one_error_line(CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "--time-limit", "2"]))
    assert f"{first}.yaml" in line and f"{second}.json" in line and repr(shared) in line
    assert "persons[1].id" in line
    assert not out.exists()


def test_a_bad_file_in_the_folder_is_one_line_naming_the_file_and_field(district_docs, tmp_path):
    docs = json.loads(json.dumps(district_docs))
    second = list(docs)[1]
    docs[second]["schools"][0]["students"] = "many"
    folder = _write_folder(tmp_path / "in", docs)
    out = tmp_path / "out"
    line = _one_error_line(CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "--time-limit", "2"]))
    assert line.startswith(f"error: {second}.json: schools[0].students: ")
    assert not out.exists()


def test_a_folder_without_an_instance_file_is_one_line(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / ".hidden.yaml").write_text("format: schoolpost/1\n")
    (folder / "readme.txt").write_text("districts go here")
    (folder / "sub").mkdir()
    (folder / "sub" / "north.yaml").write_text("format: schoolpost/1\n")  # not read: not recursive
    out = tmp_path / "out"
    for path in (folder, tmp_path / "empty"):
        path.mkdir(exist_ok=True)
        line = _one_error_line(CliRunner().invoke(main, ["batch", str(path), "-o", str(out)]))
        assert "no instance file" in line
    assert not out.exists()


def test_a_district_gets_the_budget_solve_gets_its_instance(city, tmp_path):
    """A district of a batch is solved on the same deterministic work budget as ``solve`` gives
    that district's own instance with the same options (so the same roster wherever both end by
    their budget): the budgets in the two summaries are equal. Budgets depend on the options and
    the instance alone, not on the machine's speed."""
    from scheduler.districts import split_by_district

    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(city), "-o", str(out), "--time-limit", "4", "--jobs", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    parts = split_by_district(json.loads(city.read_text()))
    name = max(parts, key=lambda n: len(parts[n]["schools"]))
    part = tmp_path / "part.json"
    part.write_text(json.dumps(parts[name]))
    r2 = subprocess.run([sys.executable, "-m", "scheduler", "solve", str(part), "-o", str(tmp_path / "s"), "--time-limit",
                         "4", "--workers", "1", "--outputs", "none", "--quiet"], capture_output=True, text=True,
                        timeout=300, check=False)
    assert r2.returncode == 0, r2.stderr
    folder = next(p for p in (out / "districts").iterdir()
                  if json.loads((p / "batch.json").read_text())["district"] == name)
    assert check_roster(instance_from_data(parts[name]), tmp_path / "s").ok  # the solve's roster is valid
    _check_city(city, out)  # and so is the batch's
    budgets = [json.loads((f / "summary.json").read_text())["work_budgets"] for f in (folder, tmp_path / "s")]
    assert budgets[0] == budgets[1] and budgets[0]
