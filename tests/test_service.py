"""``schoolpost serve``'s REST API and page, on SQLite, with real solve processes (issue 19).

Every roster a run publishes is read back from its downloaded roster.csv and checked by the
validator. Database tests on a real PostgreSQL server are in tests/test_service_pg.py; the
browser test in tests/test_service_browser.py.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from models import load_instance
from scheduler.check import check_rows
from scheduler.service.app import Settings, create_app

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "instances" / "small-school.yaml"


@pytest.fixture
def client(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "data"))
    with TestClient(app) as c:
        yield c


def wait_final(client, run_id: int, timeout: float = 240.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in ("done", "cancelled", "failed"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not end in {timeout} s: {run}")


def upload(client, path: Path, name: str | None = None):
    return client.post("/api/instances", files={"file": (name or path.name, path.read_bytes())})


def roster_of(client, run_id: int) -> list[dict]:
    text = client.get(f"/api/runs/{run_id}/files/roster.csv").text
    return list(csv.DictReader(io.StringIO(text)))


def cli_error(path: Path) -> str:
    """The command line's one-line message for a bad file (exit code 2)."""
    done = subprocess.run([sys.executable, "-m", "scheduler", "solve", str(path), "-o", str(path.parent / "cli-out")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    return done.stderr.strip()


def test_a_bad_yaml_upload_gets_422_with_the_command_lines_message(client, tmp_path):
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["schools"][0]["posts"][0]["demand"]["default"]["min"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    r = upload(client, bad)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "schools[0].posts[0].demand" in detail
    assert cli_error(bad) == f"error: {detail}"
    assert client.get("/api/instances").json() == []  # nothing stored


def test_a_bad_workbook_upload_names_sheet_row_and_column(client, tmp_path):
    from openpyxl import load_workbook

    book = tmp_path / "plan.xlsx"
    subprocess.run([sys.executable, "-m", "scheduler", "template", str(book), "--from", str(SMALL)], check=True,
                   capture_output=True, timeout=120)
    wb = load_workbook(book)
    ws = wb["persons"]
    header = [c.value for c in ws[1]]
    col = header.index("role") + 1
    row = next(r for r in range(2, ws.max_row + 1)
               if ws.cell(r, 1).value and not str(ws.cell(r, 1).value).startswith("#"))
    ws.cell(row, col).value = "astronaut"
    wb.save(book)
    r = upload(client, book)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "persons" in detail and re.search(r"row \d+", detail), detail
    assert cli_error(book) == f"error: {detail}"


def test_not_an_instance_file_and_too_large_are_refused(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "data", max_upload=1000, run_jobs=False))
    with TestClient(app) as c:
        r = c.post("/api/instances", files={"file": ("notes.txt", b"hello")})
        assert r.status_code == 422 and ".yaml" in r.json()["detail"]
        r = c.post("/api/instances", files={"file": ("big.yaml", b"#" * 1001)})
        assert r.status_code == 413


def test_upload_solve_read_download_publish_and_history(client, tmp_path):
    r = upload(client, SMALL)
    assert r.status_code == 201, r.text
    inst = r.json()
    assert inst["name"] == load_instance(SMALL).name and inst["schools"] >= 1
    run = client.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 10}).json()
    assert run["status"] in ("queued", "running")
    run = wait_final(client, run["id"])
    assert run["status"] == "done", run
    assert {"roster.csv", "gaps.csv", "summary.json", "roster.json", "report.html", "roster.xlsx"} <= set(run["files"])
    rows = roster_of(client, run["id"])
    report = check_rows(load_instance(SMALL), rows)
    assert report.ok, [str(v) for v in report.violations]
    assert run["result"]["valid"] and run["result"]["assignments"] == len(rows)
    # the heat-map counts every assignment of the roster, school by date
    heat = client.get(f"/api/runs/{run['id']}/roster").json()["heatmap"]
    assert sum(c["assigned"] for c in heat["cells"]) == sum(1 for r in rows if r["school_id"])
    assert set(heat["dates"]) == {r["date"] for r in rows if r["school_id"]}
    # downloads are looked up by name among the published files, never as a path
    assert client.get(f"/api/runs/{run['id']}/files/calendars%2F..%2Fsummary.json").status_code == 404
    assert client.get(f"/api/runs/{run['id']}/files/..%2F..%2Fschoolpost.db").status_code == 404
    # publish twice: versions 1 and 2; history reads the newest version of the week
    p1 = client.post(f"/api/runs/{run['id']}/publish")
    p2 = client.post(f"/api/runs/{run['id']}/publish")
    assert (p1.status_code, p2.status_code) == (201, 201)
    assert (p1.json()["version"], p2.json()["version"]) == (1, 2)
    assert p2.json()["assignments"] == len(rows)
    someone = rows[0]["person_id"]
    hist = client.get(f"/api/history/persons/{someone}").json()
    assert len(hist) == sum(1 for r in rows if r["person_id"] == someone)
    assert {h["version"] for h in hist} == {2}
    school = next(r["school_id"] for r in rows if r["school_id"])
    assert len(client.get(f"/api/history/schools/{school}").json()) == sum(1 for r in rows if r["school_id"] == school)
    # the command line reads the same history from the same database
    import json

    cli = subprocess.run([sys.executable, "-m", "scheduler", "history", "--person", someone, "--json",
                          "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(cli.stdout) == hist
    text = subprocess.run([sys.executable, "-m", "scheduler", "history", "--school", school,
                           "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120,
                          check=True).stdout
    assert len(text.splitlines()) == sum(1 for r in rows if r["school_id"] == school)
    bad = subprocess.run([sys.executable, "-m", "scheduler", "history", "--data-dir", str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error:")
    # who can cover a duty: the command line's answer, through the API and on the page
    duty = next(r for r in rows if r["post_id"])
    query = {"date": duty["date"], "peak": duty["peak"], "post": duty["post_id"]}
    answer = client.get(f"/api/runs/{run['id']}/recommend", params=query).json()
    assert duty["person_id"] in answer["on_duty"]
    cli_answer = subprocess.run([sys.executable, "-m", "scheduler", "recommend", str(SMALL),
                                 str(tmp_path / "data" / "runs" / str(run["id"]) / "out"), "--date", duty["date"],
                                 "--peak", duty["peak"], "--post", duty["post_id"], "--json"],
                                capture_output=True, text=True, timeout=120, check=True).stdout
    assert json.loads(cli_answer) == answer
    cover = client.get(f"/runs/{run['id']}/cover", params=query)
    assert cover.status_code == 200 and 'id="cover"' in cover.text
    bad = client.get(f"/api/runs/{run['id']}/recommend", params={**query, "post": "nowhere"})
    assert bad.status_code == 422 and "nowhere" in bad.json()["detail"]
    # the page shows the heat-map, the gaps and the downloads
    page = client.get(f"/runs/{run['id']}")
    assert page.status_code == 200 and 'id="heatmap"' in page.text and "roster.csv" in page.text
    assert "Published as version 2" in page.text


def test_cancel_keeps_the_best_roster(client, tmp_path):
    from scheduler.generate import generate

    data = generate("district", 41, schools=12)
    path = tmp_path / "twelve.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    inst = upload(client, path).json()
    run = client.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 300}).json()
    end = time.monotonic() + 120
    while time.monotonic() < end:  # wait for a roster in the search (a progress line with a score)
        state = client.get(f"/api/runs/{run['id']}").json()
        if state["status"] == "running" and (state["progress"] or {}).get("objective") is not None:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"no progress: {state}")
    client.post(f"/api/runs/{run['id']}/cancel")
    final = wait_final(client, run["id"], timeout=120)
    assert final["status"] == "cancelled", final
    assert "best roster" in final["note"]
    rows = roster_of(client, run["id"])
    assert rows and check_rows(load_instance(path), rows).ok


def test_runs_queue_behind_one_slot(client, tmp_path):
    inst = upload(client, SMALL).json()
    a = client.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 5}).json()
    b = client.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 5}).json()
    time.sleep(1.0)
    states = {r["id"]: r["status"] for r in client.get("/api/runs").json()}
    assert not (states[a["id"]] == "running" and states[b["id"]] == "running")
    assert wait_final(client, a["id"])["status"] == "done"
    assert wait_final(client, b["id"])["status"] == "done"


def test_forms_need_the_pages_csrf_token(client):
    r = client.post("/upload", files={"file": ("x.yaml", SMALL.read_bytes())}, data={"csrf": "forged"})
    assert r.status_code == 403
    page = client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/upload", files={"file": ("small.yaml", SMALL.read_bytes())}, data={"csrf": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/instances/")


def test_the_page_shows_an_upload_error_by_field(client, tmp_path):
    page = client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/upload", files={"file": ("bad.yaml", b"format: schoolpost/1\nname: x\n")}, data={"csrf": token})
    assert r.status_code == 422 and 'id="upload-error"' in r.text


def test_openapi_documents_the_api(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/instances", "/api/instances/{instance_id}/runs", "/api/runs/{run_id}",
                 "/api/runs/{run_id}/cancel", "/api/runs/{run_id}/publish", "/api/history/persons/{person_id}"):
        assert path in spec["paths"], path


def test_mark_an_absence_repair_then_publish_the_new_version_with_its_changes(client):
    inst = upload(client, SMALL).json()
    run = wait_final(client, client.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 10}).json()["id"])
    assert client.post(f"/api/runs/{run['id']}/publish").json()["version"] == 1
    rows = roster_of(client, run["id"])
    dates = sorted({r["date"] for r in rows})
    # the busiest person is absent from the second day on
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["person_id"]] = counts.get(r["person_id"], 0) + 1
    absent = max(sorted(counts), key=lambda p: counts[p])
    assert client.post(f"/api/runs/{run['id']}/repair", json={"absent": ["nobody-here"]}).status_code == 422
    repair = client.post(f"/api/runs/{run['id']}/repair",
                         json={"absent": [absent], "from": dates[1], "time_limit": 10})
    assert repair.status_code == 202, repair.text
    assert repair.json()["kind"] == "repair" and repair.json()["parent_id"] == run["id"]
    done = wait_final(client, repair.json()["id"])
    assert done["status"] == "done", done
    mended = roster_of(client, done["id"])
    assert check_rows(load_instance(SMALL), mended).ok
    assert not [r for r in mended if r["person_id"] == absent and r["date"] >= dates[1]]
    # duties before the absence never change
    assert sorted(tuple(sorted(r.items())) for r in mended if r["date"] < dates[1]) == \
        sorted(tuple(sorted(r.items())) for r in rows if r["date"] < dates[1])
    changes = client.get(f"/api/runs/{done['id']}/changes").json()
    assert changes and {c["action"] for c in changes} <= {"added", "removed"}
    assert any(c["action"] == "removed" and c["person_id"] == absent for c in changes)
    page = client.get(f"/runs/{done['id']}")
    assert 'id="changes"' in page.text
    pub = client.post(f"/api/runs/{done['id']}/publish").json()
    assert (pub["version"], pub["changes"]) == (2, len(changes))
    hist = client.get(f"/api/history/persons/{absent}").json()
    assert hist and all(h["version"] == 2 and h["date"] < dates[1] for h in hist)


def test_a_run_without_a_roster_cannot_be_repaired_or_published(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "data", run_jobs=False))  # runs stay queued
    with TestClient(app) as c:
        inst = upload(c, SMALL).json()
        run = c.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 10}).json()
        assert run["status"] == "queued"
        r = c.post(f"/api/runs/{run['id']}/repair", json={"absent": ["x"]})
        assert r.status_code == 409 and "queued" in r.json()["detail"]
        assert c.post(f"/api/runs/{run['id']}/publish").status_code == 409
        assert c.post("/api/runs/999/publish").status_code == 404


def test_an_older_database_is_migrated_with_its_rows(tmp_path):
    """A database made by the first schema (0001) with a run in it: the migration to the newest
    keeps the row, and the run reads as a solve."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select, text

    from scheduler.service.db import MIGRATIONS, RunRow, engine_for, migrate, sessions

    engine = engine_for(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO instances (id, name, filename, kind, content, sha256, week_start, schools, "
                          "persons, uploaded_at) VALUES (1, 'w', 'w.yaml', 'yaml', x'00', '', '2026-12-07', 1, 1, "
                          "'2026-12-01 10:00:00')"))
        conn.execute(text("INSERT INTO runs (id, instance_id, status, time_limit, created_at, cancel_requested) "
                          "VALUES (7, 1, 'done', 60, '2026-12-01 10:00:00', 0)"))
        assert "kind" not in {c[1] for c in conn.execute(text("PRAGMA table_info(runs)"))}
    migrate(engine)
    with sessions(engine)() as s:
        run = s.scalars(select(RunRow)).one()
        assert (run.id, run.status, run.kind, run.parent_id) == (7, "done", "solve", None)


def test_access_tokens_roles_and_hashes(tmp_path):
    """With a token made, every request needs one: the API a bearer token, the page a sign-in; a
    viewer reads and may not change anything; the database keeps only the tokens' hashes."""
    from scheduler.service.access import add_token, revoke_token

    data = tmp_path / "data"
    planner = add_token(data, None, "Li Planner", "planner")
    viewer = add_token(data, None, "Wang Viewer", "viewer")
    assert planner != viewer and len(planner) >= 40
    raw = (data / "schoolpost.db").read_bytes() + b"".join(p.read_bytes() for p in data.glob("schoolpost.db-*"))
    assert planner.encode() not in raw and viewer.encode() not in raw
    app = create_app(Settings(data_dir=data, run_jobs=False))
    with TestClient(app) as c:
        assert c.get("/api/instances").status_code == 401
        assert c.post("/api/instances", files={"file": ("s.yaml", SMALL.read_bytes())}).status_code == 401
        as_viewer = {"Authorization": f"Bearer {viewer}"}
        as_planner = {"Authorization": f"Bearer {planner}"}
        assert c.get("/api/instances", headers=as_viewer).status_code == 200
        r = c.post("/api/instances", files={"file": ("s.yaml", SMALL.read_bytes())}, headers=as_viewer)
        assert r.status_code == 403 and "planner" in r.json()["detail"]
        assert c.post("/api/instances", files={"file": ("s.yaml", SMALL.read_bytes())},
                      headers=as_planner).status_code == 201
        assert c.get("/api/instances", headers={"Authorization": "Bearer wrong"}).status_code == 401
        # the page: sent to sign in; a wrong token is refused; the viewer's cookie reads but shows no forms
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        login = c.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
        assert c.post("/login", data={"token": "nope", "csrf": token}).status_code == 403
        r = c.post("/login", data={"token": viewer, "csrf": token}, follow_redirects=False)
        assert r.status_code == 303
        page = c.get("/")
        assert page.status_code == 200 and 'id="upload"' not in page.text and "Sign out (viewer)" in page.text
        # a cookie never changes anything through the API (a form from another site could send it)
        c.cookies.set("schoolpost_token", planner)
        assert c.post("/api/instances", files={"file": ("s.yaml", SMALL.read_bytes())}).status_code == 401
        assert c.get("/api/instances").status_code == 200
        revoke_token(data, None, "Li Planner")
        assert c.get("/api/instances", headers=as_planner).status_code == 401


def test_each_person_has_a_private_feed_of_their_newest_published_duties(client):
    inst = upload(client, SMALL).json()
    run = wait_final(client, client.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 10}).json()["id"])
    assert client.get("/api/feeds").json() == []  # nothing published yet
    client.post(f"/api/runs/{run['id']}/publish")
    rows = roster_of(client, run["id"])
    feeds = {f["person_id"]: f["url"] for f in client.get("/api/feeds").json()}
    assert set(feeds) == {r["person_id"] for r in rows}
    tokens = [u.rsplit("/", 1)[1].removesuffix(".ics") for u in feeds.values()]
    assert len(set(tokens)) == len(tokens) and all(len(t) >= 32 for t in tokens)
    from icalendar import Calendar

    someone = min(feeds)
    path = "/" + feeds[someone].split("/", 3)[3]
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    events = [e for e in Calendar.from_ical(r.content).walk("VEVENT")]
    assert len(events) == sum(1 for x in rows if x["person_id"] == someone)
    assert client.get("/feeds/not-a-token.ics").status_code == 404
    # a repair that takes the person's later duties away: the feed shows them cancelled
    dates = sorted({x["date"] for x in rows})
    repair = client.post(f"/api/runs/{run['id']}/repair", json={"absent": [someone], "from": dates[1]}).json()
    done = wait_final(client, repair["id"])
    client.post(f"/api/runs/{done['id']}/publish")
    events = [e for e in Calendar.from_ical(client.get(path).content).walk("VEVENT")]
    later = [e for e in events if e.decoded("dtstart").date().isoformat() >= dates[1]]
    assert later and all(str(e.get("status")) == "CANCELLED" for e in later)


def test_pin_a_duty_solve_again_and_unpin(client):
    inst = upload(client, SMALL).json()
    run = wait_final(client, client.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 10}).json()["id"])
    rows = roster_of(client, run["id"])
    # pin someone to a duty of the roster that is not theirs (or theirs, if every duty is full)
    first = next(r for r in rows if r["post_id"])
    body = {"person_id": first["person_id"], "date": first["date"], "peak": first["peak"], "post": first["post_id"]}
    pinned = client.post(f"/api/instances/{inst['id']}/pins", json=body)
    assert pinned.status_code == 201, pinned.text
    p = pinned.json()
    assert p["parent_id"] == inst["id"] and p["pins"] == [{**{k: body[k] for k in body if k != "post"},
                                                           "post": first["post_id"], "route": ""}]
    assert client.post(f"/api/instances/{inst['id']}/pins", json={**body, "person_id": "nobody"}).status_code == 422
    again = wait_final(client, client.post(f"/api/instances/{p['id']}/runs", json={"time_limit": 10}).json()["id"])
    assert again["status"] == "done"
    rows2 = roster_of(client, again["id"])
    assert (first["person_id"], first["date"], first["peak"], first["post_id"]) in \
        {(r["person_id"], r["date"], r["peak"], r["post_id"]) for r in rows2}
    assert check_rows(load_instance(SMALL), rows2).ok
    # a pin the person cannot keep (a volunteer free on Tuesday and Thursday mornings only, pinned
    # to Monday's arrival): refused in the command line's words, nothing stored
    monday = min(r["date"] for r in rows)
    count = len(client.get("/api/instances").json())
    clash = client.post(f"/api/instances/{p['id']}/pins", json={"person_id": "LZ-V1", "date": monday,
                                                               "peak": "arrival", "post": "liuzhuang-ps/gate"})
    assert clash.status_code == 422 and clash.json()["detail"].startswith("persons[5].pins"), clash.text
    assert len(client.get("/api/instances").json()) == count
    unpinned = client.post(f"/api/instances/{p['id']}/pins", json={**body, "pin": False})
    assert unpinned.status_code == 201 and unpinned.json()["pins"] == []
    assert client.post(f"/api/instances/{inst['id']}/pins", json={**body, "pin": False}).status_code == 409
    # the page: a pin form on each of a school's duties
    school = first["school_id"]
    page = client.get(f"/runs/{again['id']}", params={"school": school})
    assert 'class="inline pin"' in page.text and ">unpin</button>" in page.text


SCENARIOS = b"""scenarios:
  - name: police-off
    operations:
      - remove_people: {ids: [BW-P1]}
  - name: rain-monday
    operations:
      - scale_demand: {factor: 1.5, days: [mon]}
"""


def test_what_if_variants_side_by_side(client):
    inst = upload(client, SMALL).json()
    bad = client.post(f"/api/instances/{inst['id']}/whatif", files={"file": ("s.yaml", b"scenarios: 3\n")})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("scenarios")
    run = client.post(f"/api/instances/{inst['id']}/whatif", files={"file": ("s.yaml", SCENARIOS)},
                      data={"time_limit": "5"}).json()
    assert run["kind"] == "whatif"
    done = wait_final(client, run["id"])
    assert done["status"] == "done", done
    result = done["result"]
    assert result["valid"] and result["variants"] == ["baseline", "police-off", "rain-monday"]
    kpi = {row["kpi"]: row for row in result["kpis"]}
    assert kpi["shortfall"]["police-off"] >= kpi["shortfall"]["baseline"]
    assert "whatif.csv" in done["files"] and "police-off/roster.csv" in done["files"]
    # each variant's roster is published whole; the baseline's passes the validator on the instance
    base = list(csv.DictReader(io.StringIO(client.get(f"/api/runs/{run['id']}/files/baseline/roster.csv").text)))
    assert base and check_rows(load_instance(SMALL), base).ok
    page = client.get(f"/runs/{run['id']}")
    assert 'id="whatif"' in page.text and "police-off" in page.text
    assert client.post(f"/api/runs/{run['id']}/publish").status_code == 409
    # a scenario the command line refuses: the run fails with its one-line message
    wrong = client.post(f"/api/instances/{inst['id']}/whatif",
                        files={"file": ("s.yaml", b"scenarios:\n  - name: x\n    operations:\n      - fly: {}\n")},
                        data={"time_limit": "5"}).json()
    failed = wait_final(client, wrong["id"])
    assert failed["status"] == "failed" and failed["error"].startswith("error: scenarios[0].operations[0]")


def test_next_week_is_solved_with_the_published_weeks_as_its_history(client, tmp_path):
    """A published week counts in the next week's fairness (its loads) and continuity (its faces):
    the run solves the instance with a ``history`` block made from the database."""
    inst = upload(client, SMALL).json()
    run = wait_final(client, client.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 10}).json()["id"])
    client.post(f"/api/runs/{run['id']}/publish")
    week1 = roster_of(client, run["id"])
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["week_start"] = "2026-12-14"
    data["name"] = "small-school-week-51"
    nxt = tmp_path / "week51.yaml"
    nxt.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    inst2 = upload(client, nxt).json()
    run2 = wait_final(client, client.post(f"/api/instances/{inst2['id']}/runs", json={"time_limit": 10}).json()["id"])
    assert run2["status"] == "done", run2
    solved = tmp_path / "data" / "runs" / str(run2["id"]) / "instance-history.yaml"
    history = yaml.safe_load(solved.read_text(encoding="utf-8"))["history"]
    counts: dict[str, int] = {}
    for r in week1:
        counts[r["person_id"]] = counts.get(r["person_id"], 0) + 1
    assert history["loads"] == counts and history["weeks"] == 4
    someone = week1[0]["person_id"]
    assert history["last_week"][someone]["posts"] or history["last_week"][someone]["routes"]
    rows = roster_of(client, run2["id"])
    report = check_rows(load_instance(solved), rows)
    assert report.ok and report.objective == pytest.approx(run2["result"]["objective"])
    assert report.terms["fairness"] > check_rows(load_instance(nxt), rows).terms["fairness"]
    # the first week itself had nothing published before it: solved as uploaded
    assert not (tmp_path / "data" / "runs" / str(run["id"]) / "instance-history.yaml").exists()


def test_a_workbook_that_unpacks_to_too_much_is_refused(client, tmp_path):
    """A zip bomb dressed as a workbook: 300 MiB of zeros in a few hundred KB. Refused by the
    workbook reader's guard (the same line as the command line's), nothing stored."""
    import zipfile

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z, z.open("xl/worksheets/sheet1.xml", "w") as f:
        chunk = b"\0" * 2**20
        for _ in range(300):
            f.write(chunk)
    assert bomb.stat().st_size < 2 * 2**20
    r = upload(client, bomb)
    assert r.status_code == 422 and "unpacks to 300 MiB" in r.json()["detail"], r.text
    assert client.get("/api/instances").json() == []


def test_a_workbook_formula_without_a_value_is_refused_by_its_cell(client, tmp_path):
    """A formula (here one a program wrote without computing it) is never evaluated by the
    service: the reader refuses the cell by sheet, row and column, as at the command line."""
    from openpyxl import load_workbook

    book = tmp_path / "plan.xlsx"
    subprocess.run([sys.executable, "-m", "scheduler", "template", str(book), "--from", str(SMALL)], check=True,
                   capture_output=True, timeout=120)
    wb = load_workbook(book)
    ws = wb["persons"]
    row = next(r for r in range(2, ws.max_row + 1)
               if ws.cell(r, 1).value and not str(ws.cell(r, 1).value).startswith("#"))
    ws.cell(row, 2).value = '=HYPERLINK("http://example.invalid","x")'
    wb.save(book)
    r = upload(client, book)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "persons" in detail and f"row {row}" in detail and "formula" in detail, detail
    assert cli_error(book) == f"error: {detail}"
