"""Issue 16 (the second probe), batch items: people shared across districts are planned in one
part and never lost, a roster that fails the validator is never published for staff, and every way
a run can go wrong (a pool worker killed, a Dask worker gone, a bad address) ends in one line."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from models import instance_from_data, load_instance
from scheduler.check import check_roster
from scheduler.commands import main
from scheduler.districts import split_by_district
from scheduler.generate import generate


def _by_district(data: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for s in data["schools"]:
        found.setdefault(s["district"], []).append(s["id"])
    return found


def _assert_partition(data: dict, parts: dict[str, dict]) -> None:
    """Every school, route and person of the city is in exactly one part, and each person's part
    holds every school and route their unit serves (so no duty of theirs is planned elsewhere)."""
    for key in ("schools", "routes", "persons"):
        ids = sorted(item["id"] for part in parts.values() for item in part[key])
        assert ids == sorted(item["id"] for item in data[key]), key
    units = {u["id"]: u for u in data["units"]}
    for part in parts.values():
        schools = {s["id"] for s in part["schools"]}
        routes = {r["id"] for r in part["routes"]}
        for p in part["persons"]:
            if p["unit"] in units:
                assert set(units[p["unit"]]["schools"]) <= schools, p["id"]
                assert {r["id"] for r in data["routes"] if r["unit"] == p["unit"]} <= routes, p["id"]
            else:
                assert p["unit"] in schools, p["id"]


def _city_with_named_districts(names: list[str]) -> dict:
    """A small generated city whose first districts are renamed to ``names``."""
    data = generate("city", 0, schools=8)
    rename = dict(zip(list(_by_district(data)), names, strict=False))
    for s in data["schools"]:
        s["district"] = rename.get(s["district"], s["district"])
    return data


def test_a_joined_part_never_hides_a_district_of_the_same_name(tmp_path):
    """Districts x, y and x+y, and a unit serving x and y: the joined part was named x+y and
    replaced the district x+y, whose schools were then never planned (a valid roster, silently
    short of a whole district)."""
    data = _city_with_named_districts(["x", "y", "x+y"])
    by = _by_district(data)
    unit = next(u for u in data["units"] if set(u["schools"]) & set(by["x"]))
    unit["schools"] = sorted({*unit["schools"], by["y"][0]})
    parts = split_by_district(data)
    _assert_partition(data, parts)
    assert "x+y" in parts and "x+y (2)" in parts
    assert {s["district"] for s in parts["x+y (2)"]["schools"]} == {"x", "y"}
    assert {s["district"] for s in parts["x+y"]["schools"]} == {"x+y"}

    path = tmp_path / "city.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(path), "-o", str(out), "--time-limit", "1", "--jobs", "1",
                                  "--outputs", "none", "--quiet"])
    assert r.exit_code == 0, r.output
    report = check_roster(load_instance(path), out)
    assert report.ok, [str(v) for v in report.violations[:5]]
    rows = list(csv.DictReader(io.StringIO((out / "districts.csv").read_text(encoding="utf-8"))))
    assert sorted(row["district"] for row in rows) == sorted(parts)
    planned = {row["school_id"] for row in csv.DictReader(io.StringIO((out / "roster.csv").read_text()))}
    assert planned & set(by["x+y"])  # the district of that name is planned


@pytest.mark.parametrize("case", ["unit", "route", "chain", "route-only unit", "school staff"])
def test_every_way_people_are_shared_keeps_them_in_one_part(case):
    """A unit's schools, its routes' stops, a chain of such links (a-b, b-c) and a school's own
    staff: whatever reaches two districts puts them in one part; nothing is left out or doubled."""
    data = generate("city", 0, schools=10)
    by = _by_district(data)
    a, b, c = list(by)[:3]
    units = [u for u in data["units"] if u.get("schools")]
    unit_of = {d: next(u for u in units if set(u["schools"]) <= set(by[d])) for d in (a, b, c)}
    if case in ("unit", "chain"):
        unit_of[a]["schools"].append(by[b][0])
    if case == "chain":
        unit_of[b]["schools"].append(by[c][0])
    if case in ("route", "route-only unit"):
        owner = unit_of[a]
        if case == "route-only unit":  # a unit with no school, reaching two districts by its route alone
            owner = {"id": "patrol-x", "kind": "police", "schools": []}
            data["units"].append(owner)
            data["persons"].append({**data["persons"][0], "id": "PX1", "unit": "patrol-x"})
        data["routes"].append({"id": "r-x", "unit": owner["id"], "stops": [by[a][0], by[b][0]],
                               "crew": {"min": 1, "max": 1}, "runs": [{"name": "morning", "start": "07:00", "end": "07:40"}]})
    if case == "school staff":  # staff of a school in a, with the school's unit spanning a and b
        school = next(s for s in by[a] if s in unit_of[a]["schools"])
        data["persons"].append({**data["persons"][0], "id": "G-X", "role": "security_guard", "unit": school})
        unit_of[a]["schools"].append(by[b][0])
    instance_from_data(data)  # a valid city
    parts = split_by_district(data)
    _assert_partition(data, parts)
    joined = {name for name, part in parts.items() if len({s["district"] for s in part["schools"]}) > 1}
    expect = {"chain": f"{a}+{b}+{c}"}.get(case, f"{a}+{b}")
    assert joined == {expect}


def _pinned_elsewhere(data: dict) -> tuple[int, dict]:
    """A person pinned to a post of another district's school (their unit does not serve it)."""
    by = _by_district(data)
    b, a = list(by)[:2]  # a person of the second district: their index in the city is not in the part
    units = {u["id"] for u in data["units"] if set(u.get("schools", [])) <= set(by[a])}
    i, person = next((i, p) for i, p in enumerate(data["persons"]) if p["unit"] in units)
    school = next(s for s in data["schools"] if s["id"] == by[b][0])
    peak = school["peaks"][0]["name"]
    person["pins"] = [{"date": data["week_start"], "peak": peak, "post": school["posts"][0]["id"]}]
    person.pop("availability", None)
    return i, person


def test_a_pin_outside_the_persons_district_is_refused_before_any_solve(tmp_path):
    """The pin was checked only inside a district, which lacks the pinned school: the line named
    the district's own person index and 'no post with id', after other districts were solved."""
    data = generate("city", 0, schools=6)
    i, person = _pinned_elsewhere(data)
    path = tmp_path / "city.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(path), "-o", str(out), "--time-limit", "1", "--jobs", "1"])
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and r.output.startswith(f"error: persons[{i}].pins: impossible: "), r.output
    assert f"eligibility: {person['id']} is pinned to " in r.output
    assert not out.exists()  # nothing solved, nothing written


def test_impossible_pins_in_a_folder_part_name_its_file(tmp_path):
    """A folder's file with a pin on a day of leave: the line names that file and its own person
    index (it named neither: the pins were checked only in the worker)."""
    parts = split_by_district(generate("city", 0, schools=4))
    first, second = list(parts)[:2]
    doc = parts[second]
    units = {u["id"]: u for u in doc["units"] if u["schools"]}
    index, person = next((i, p) for i, p in enumerate(doc["persons"]) if i and p["unit"] in units)
    school = next(s for s in doc["schools"] if s["id"] == units[person["unit"]]["schools"][0])
    person["leave"] = [doc["week_start"]]
    person["pins"] = [{"date": doc["week_start"], "peak": school["peaks"][0]["name"], "post": school["posts"][0]["id"]}]
    folder = tmp_path / "in"
    folder.mkdir()
    for name in (first, second):
        (folder / f"{name}.json").write_text(json.dumps(parts[name]))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "--time-limit", "1", "--jobs", "1"])
    assert r.exit_code == 2, r.output
    assert r.output.startswith(f"error: {second}.json: persons[{index}].pins: impossible: "), r.output
    assert "availability: " in r.output and r.output.count("\n") == 1
    assert not out.exists()


def test_a_merged_roster_that_fails_the_check_is_never_published_for_staff(tmp_path, monkeypatch):
    """A district's roster that breaks a hard rule (forced here: one person's row written twice)
    makes the merged roster fail the validator: roster.csv, gaps.csv and summary.json are written
    to inspect it, exit 1, and the workbook, duty sheets, calendars and report of the earlier valid
    run are gone, never left for staff to follow."""
    import scheduler.batch

    path = tmp_path / "city.json"
    path.write_text(json.dumps(generate("city", 0, schools=4)))
    out = tmp_path / "out"
    args = ["batch", str(path), "-o", str(out), "--time-limit", "1", "--jobs", "1", "--quiet"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert check_roster(load_instance(path), out).ok
    assert {"roster.xlsx", "report.html", "duty-sheets.html", "calendars"} <= {p.name for p in out.iterdir()}

    real = scheduler.batch.solve_part

    def twice(name: str, doc: dict, options: dict) -> dict:
        result = real(name, doc, options)
        lines = result["files"]["roster.csv"].splitlines(keepends=True)
        result["files"]["roster.csv"] = "".join([*lines, lines[1]])
        return result

    monkeypatch.setattr(scheduler.batch, "solve_part", twice)
    r = CliRunner().invoke(main, [*args, "--seed", "1"])  # other options: every district solved again
    assert r.exit_code == 1, r.output
    assert "VIOLATION roster" in r.output and "no workbook, duty sheets, calendars or report" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["districts", "districts.csv", "gaps.csv", "roster.csv",
                                                     "roster.json", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["valid"] is False
    assert not check_roster(load_instance(path), out).ok


def test_a_district_folder_edited_since_is_solved_again_not_merged(tmp_path):
    """A finished district's roster.csv edited by hand (a person's row written twice) was reused
    as the batch's own on the next run, so the merged roster failed the check on every later run;
    now the district is solved again and the merged roster is valid."""
    path = tmp_path / "city.json"
    path.write_text(json.dumps(generate("city", 0, schools=4)))
    out = tmp_path / "out"
    args = ["batch", str(path), "-o", str(out), "--time-limit", "1", "--jobs", "1", "--outputs", "none"]
    assert CliRunner().invoke(main, args).exit_code == 0
    folder = min(_finished(out))
    roster = folder / "roster.csv"
    lines = roster.read_text(encoding="utf-8").splitlines(keepends=True)
    roster.write_text("".join([*lines, lines[1]]), encoding="utf-8")

    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert check_roster(load_instance(path), out).ok
    rows = {row["district"]: row for row in csv.DictReader(io.StringIO((out / "districts.csv").read_text()))}
    name = json.loads((folder / "batch.json").read_text())["district"]
    assert rows[name]["reused"] == "False"
    assert sum(row["reused"] == "True" for row in rows.values()) == len(rows) - 1
    assert roster.read_text(encoding="utf-8").splitlines(keepends=True) != [*lines, lines[1]]


# --- the run goes wrong: one line, never a hang ---------------------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("city") / "city.json"
    path.write_text(json.dumps(generate("city", 0, schools=12)))
    return path


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_batch_left():
    """A batch a failed test leaves running (it hung) is killed."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _batch(city: Path, out: Path, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "scheduler", "batch", str(city), "-o", str(out), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _STARTED.append(proc)
    return proc


def _finished(out: Path) -> list[Path]:
    root = out / "districts"
    return [p for p in root.iterdir() if not p.name.startswith(".")] if root.exists() else []


def _assert_unfinished_line(err: str, why: str, out: Path, total: int) -> None:
    """The last line says why, how many districts did not finish, and what is kept; no traceback."""
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and why in last, err
    finished = _finished(out)
    assert f"{total - len(finished)} of {total} districts did not finish (" in last, err
    assert last.endswith("run the same command again to go on")
    assert all((p / "batch.json").is_file() for p in finished)
    assert not (out / "roster.csv").exists()


def test_a_pool_worker_killed_mid_batch_is_one_line_naming_the_districts_left(city, tmp_path):
    """The OOM killer (here kill -9) ends one local pool worker: loky's 20-line traceback, exit 1;
    now one line naming the districts that did not finish, exit 2, the finished ones kept."""
    out = tmp_path / "out"
    batch = _batch(city, out, "--time-limit", "30", "--jobs", "2", "--quiet")

    def workers() -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(batch.pid)], capture_output=True, text=True, check=False)
        return [int(pid) for pid in found.stdout.split()
                if "LokyProcess" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not workers():
        time.sleep(0.1)
    os.kill(workers()[0], signal.SIGKILL)
    _, err = batch.communicate(timeout=60)
    assert batch.returncode == 2, err
    _assert_unfinished_line(err, "error: a worker process ended while solving (SIGKILL(-9): out of memory, or killed); ",
                            out, len(split_by_district(json.loads(city.read_text()))))


#: the ``dask`` program of this environment (``dask scheduler``, ``dask worker``)
DASK = [sys.executable, "-m", "dask"]


@contextlib.contextmanager
def _dask_scheduler(tmp_path: Path):
    """A real ``dask scheduler`` (its CLI) on a free port; yields its address; killed at the end."""
    pytest.importorskip("distributed")
    file = tmp_path / "scheduler.json"
    proc = subprocess.Popen([*DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                             "--scheduler-file", str(file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (file.exists() and file.read_text().strip()):
            time.sleep(0.1)
        yield json.loads(file.read_text())["address"]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _dask_worker(address: str) -> subprocess.Popen:
    """A real ``dask worker`` (its CLI), one thread, no nanny (killed, it stays dead)."""
    return subprocess.Popen([*DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def test_the_last_dask_worker_gone_mid_batch_is_waited_for_then_given_up(city, tmp_path):
    """The only worker dies after a district is done: the batch waited for ever without a word;
    now it says it waits for workers, gives up after --dask-wait, and names the districts left."""
    with _dask_scheduler(tmp_path) as address:
        worker = _dask_worker(address)
        try:
            out = tmp_path / "out"
            batch = _batch(city, out, "--executor", "dask", "--scheduler", address, "--time-limit", "4",
                           "--dask-wait", "3")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not _finished(out):
                time.sleep(0.05)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        _, err = batch.communicate(timeout=120)
    assert batch.returncode == 2, err
    assert f"the Dask scheduler at {address} has no worker left: waiting for Dask workers (up to 3 s; " in err
    _assert_unfinished_line(err, f"error: --scheduler: the Dask scheduler at {address} has had no worker for 3 s; ",
                            out, len(split_by_district(json.loads(city.read_text()))))


class _Holding(socketserver.BaseRequestHandler):
    """A port that answers in HTTP's place: it takes the connection and holds it, saying nothing."""

    def handle(self) -> None:
        self.server.reached.set()  # type: ignore[attr-defined]
        self.request.recv(1024)
        time.sleep(60)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("where", ["silent port", "no worker"])
def test_ctrl_c_and_sigterm_end_a_batch_waiting_on_dask(city, tmp_path, sig, where):
    """Waiting on a port that never answers as a scheduler, or on a scheduler without a worker (for
    up to a minute here), a Ctrl-C or SIGTERM ends the batch at once: exit 130, no traceback."""
    with contextlib.ExitStack() as stack:
        if where == "silent port":
            server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Holding)
            server.daemon_threads = True
            server.reached = threading.Event()  # type: ignore[attr-defined]
            threading.Thread(target=server.serve_forever, daemon=True).start()
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
            address = f"tcp://127.0.0.1:{server.server_address[1]}"
        else:
            address = stack.enter_context(_dask_scheduler(tmp_path))
        out = tmp_path / "out"
        batch = _batch(city, out, "--executor", "dask", "--scheduler", address, "--dask-wait", "60")
        if where == "silent port":
            assert server.reached.wait(60)
        else:
            assert batch.stderr.readline().startswith("waiting for Dask workers at ")
        batch.send_signal(sig)
        _, err = batch.communicate(timeout=30)
    assert batch.returncode == 130, err
    assert "Traceback" not in err and err.strip().endswith("interrupted: no district had finished"), err
    assert not (out / "roster.csv").exists()


def test_a_scheduler_address_with_the_local_executor_is_refused(city, tmp_path):
    """--scheduler without --executor dask solved on this machine without a word."""
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(city), "-o", str(out), "--scheduler", "tcp://10.0.0.5:8786"])
    assert r.exit_code == 2, r.output
    assert r.output == ("error: --scheduler: is for --executor dask (the executor is local): add --executor dask, "
                        "or leave --scheduler out to solve on this machine\n")
    assert not out.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_merge_ends_the_batch(tmp_path, monkeypatch, sig):
    """After the districts, the merge, its check and the human outputs (minutes for a city) only
    noted a Ctrl-C or SIGTERM and went on to exit 0; now the signal ends the batch there: exit
    130, nothing of the city published, the districts kept."""
    import scheduler.batch

    real = scheduler.batch.merge

    def merge(*args, **kwargs):
        os.kill(os.getpid(), sig)  # as if the planner pressed Ctrl-C now
        return real(*args, **kwargs)

    monkeypatch.setattr(scheduler.batch, "merge", merge)
    path = tmp_path / "city.json"
    path.write_text(json.dumps(generate("city", 0, schools=3)))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(path), "-o", str(out), "--time-limit", "1", "--jobs", "1"])
    assert r.exit_code == 130, r.output
    assert "interrupted" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["districts"]
    assert _finished(out)
