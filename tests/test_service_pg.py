"""``schoolpost serve``'s database on a real PostgreSQL server (issue 19): the migrations from an
empty database, the whole flow through the API (upload, solve, download, publish twice, history)
and a restart on the same database.

The server is started by a fixture (tests/pgserver.py: a throwaway data directory, a Unix socket
only, the ``postgres`` superuser), once per session; each module gets its own database. Without
the PostgreSQL server binaries the tests are skipped, unless SCHOOLPOST_REQUIRE_POSTGRES=1 (CI),
which makes that a failure. The SQLite versions of these tests are in tests/test_service.py.
"""

from __future__ import annotations

import csv
import importlib
import io
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from pgserver import REQUIRE_ENV, PostgresServer, Unavailable, postgres_server, required


def _need(*alternatives: str) -> None:
    """One of these modules, else skip the module (CI, SCHOOLPOST_REQUIRE_POSTGRES=1: fail)."""
    for name in alternatives:
        try:
            importlib.import_module(name)
            return
        except ImportError:
            pass
    message = f"not installed: {' or '.join(alternatives)}"
    if required():
        raise ImportError(f"{REQUIRE_ENV}=1 but {message}")
    pytest.skip(message, allow_module_level=True)


for _modules in (("fastapi",), ("httpx2", "httpx"), ("sqlalchemy",), ("alembic",), ("psycopg",)):
    _need(*_modules)

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from models import load_instance
from scheduler.check import check_rows
from scheduler.service.app import Settings, create_app
from scheduler.service.db import MIGRATIONS, Base, InstanceRow, engine_for, migrate, sessions

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "instances" / "small-school.yaml"
TABLES = {"instances", "runs", "publications", "assignments", "absences", "tokens", "feeds"}
FINAL = ("done", "cancelled", "failed")
#: the columns that identify one duty of a roster row (roster.csv) or of a published assignment
DUTY = ("person_id", "date", "peak", "start", "end", "school_id", "post_id", "route_id")


# -- the server and the databases ---------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server():
    try:
        with postgres_server() as server:
            yield server
        return
    except Unavailable as exc:
        reason = str(exc)
    if required():
        pytest.fail(f"{REQUIRE_ENV}=1 but no PostgreSQL server can run here: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL: {reason}")


@pytest.fixture(scope="module")
def pg_url(pg_server: PostgresServer) -> str:
    """This module's database (empty until the first app migrates it)."""
    return pg_server.url(pg_server.create_database("schoolpost_service"))


@pytest.fixture
def engine_of():
    """Engines made by a test, disposed of at its end."""
    engines = []

    def make(url: str):
        engine = engine_for(url)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


# -- helpers (as in tests/test_service.py) ------------------------------------------------------


def wait_final(client, run_id: int, timeout: float = 240.0) -> dict:
    end = time.monotonic() + timeout
    run: dict = {}
    while time.monotonic() < end:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in FINAL:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not end in {timeout} s: {run}")


def upload(client, path: Path, name: str | None = None):
    return client.post("/api/instances", files={"file": (name or path.name, path.read_bytes())})


def parse_roster(text_: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text_)))


def duties(rows) -> Counter:
    """The duties of roster rows or history entries, as a multiset (nothing lost, nothing doubled)."""
    return Counter(tuple(str(r.get(k) or "") for k in DUTY) for r in rows)


def head_revision() -> str:
    """The newest migration (read from migrations/, so a new migration needs no change here)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]


def schema(engine) -> dict:
    """Tables, their columns (name, type, nullable, default), indexes and constraints, comparable."""
    insp = inspect(engine)
    return {t: ([(c["name"], str(c["type"]), c["nullable"], c["default"]) for c in insp.get_columns(t)],
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
                sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(t)),
                sorted((f["referred_table"], tuple(f["constrained_columns"])) for f in insp.get_foreign_keys(t)))
            for t in insp.get_table_names()}


def versions_in(engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]


# -- 1. the migrations ----------------------------------------------------------------------------


def test_migrations_build_the_schema_on_an_empty_database_and_a_second_run_changes_nothing(pg_server, engine_of):
    engine = engine_of(pg_server.url(pg_server.create_database("schoolpost_migrate")))
    assert engine.dialect.name == "postgresql"
    assert inspect(engine).get_table_names() == []  # really empty
    head = head_revision()

    migrate(engine)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    assert versions_in(engine) == [head]
    # the migrated tables have the models' columns
    insp = inspect(engine)
    for table in TABLES:
        assert {c["name"] for c in insp.get_columns(table)} == set(Base.metadata.tables[table].columns.keys()), table

    # a row written now survives a second migrate, which is a no-op
    Sessions = sessions(engine)
    with Sessions.begin() as s:
        s.add(InstanceRow(name="kept", filename="kept.yaml", kind="yaml", content=b"\x00\xffbytes",
                          sha256="0" * 64, week_start=load_instance(SMALL).week_start, schools=1, persons=2))
    schema_before = schema(engine)
    migrate(engine)
    assert versions_in(engine) == [head]
    assert schema(engine) == schema_before
    with Sessions() as s:
        kept = s.scalars(select(InstanceRow)).all()
    assert [(r.name, r.content) for r in kept] == [("kept", b"\x00\xffbytes")]


def test_the_migrated_schema_is_the_models_schema(pg_server, engine_of):
    """What ``alembic revision --autogenerate`` would see: no difference between the migrated
    database and the models (else the next autogenerated migration would undo part of the schema)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = engine_of(pg_server.url(pg_server.create_database("schoolpost_models")))
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


# -- 2. the whole flow through the API ------------------------------------------------------------


@dataclass
class Flow:
    """What the first app did and answered; the first app has stopped when the tests read this."""

    url: str
    data_dir: Path
    instance: dict
    run: dict
    roster_text: str
    publications: list[dict]
    person: str
    person_history: list[dict]
    school: str
    school_history: list[dict]

    @property
    def rows(self) -> list[dict]:
        return parse_roster(self.roster_text)


@pytest.fixture(scope="module")
def flow(pg_url, tmp_path_factory) -> Flow:
    """Upload small-school.yaml, solve it (10 s), download roster.csv, publish twice and read the
    history, through the API of an app on this module's PostgreSQL database; then stop the app."""
    data_dir = tmp_path_factory.mktemp("pg-service") / "data"
    app = create_app(Settings(data_dir=data_dir, db_url=pg_url))
    with TestClient(app) as c:
        r = upload(c, SMALL)
        assert r.status_code == 201, r.text
        instance = r.json()
        r = c.post(f"/api/instances/{instance['id']}/runs", json={"time_limit": 10})
        assert r.status_code == 202, r.text
        run = wait_final(c, r.json()["id"])
        assert run["status"] == "done", run
        roster = c.get(f"/api/runs/{run['id']}/files/roster.csv")
        assert roster.status_code == 200, roster.text
        rows = parse_roster(roster.text)
        assert rows, "the roster is empty"
        publications = [c.post(f"/api/runs/{run['id']}/publish") for _ in range(2)]
        assert [p.status_code for p in publications] == [201, 201], [p.text for p in publications]
        person = rows[0]["person_id"]
        school = next(r["school_id"] for r in rows if r["school_id"])
        person_history = c.get(f"/api/history/persons/{person}").json()
        school_history = c.get(f"/api/history/schools/{school}").json()
    return Flow(pg_url, data_dir, instance, run, roster.text, [p.json() for p in publications], person, person_history,
                school, school_history)


def test_upload_solve_download_publish_and_history_on_postgresql(flow: Flow, engine_of):
    assert flow.run["status"] == "done", flow.run
    rows = flow.rows
    report = check_rows(load_instance(SMALL), rows)
    assert report.ok, [str(v) for v in report.violations]
    assert flow.run["result"]["valid"] and flow.run["result"]["assignments"] == len(rows)

    # published twice: versions 1 and 2 of the week, each with the whole roster
    assert [p["version"] for p in flow.publications] == [1, 2]
    assert [p["assignments"] for p in flow.publications] == [len(rows), len(rows)]
    assert {p["run_id"] for p in flow.publications} == {flow.run["id"]}

    # history: exactly the person's (the school's) duties of the roster, from the newest version
    assert flow.person_history, flow.person
    assert duties(flow.person_history) == duties(r for r in rows if r["person_id"] == flow.person)
    assert {h["version"] for h in flow.person_history} == {2}
    assert flow.school_history, flow.school
    assert duties(flow.school_history) == duties(r for r in rows if r["school_id"] == flow.school)
    assert {h["version"] for h in flow.school_history} == {2}

    # and in PostgreSQL itself: two frozen copies of the roster, row for row
    engine = engine_of(flow.url)
    assert engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM assignments")).scalar_one() == 2 * len(rows)
        per_version = dict(conn.execute(text(
            "SELECT p.version, count(*) FROM assignments a JOIN publications p ON p.id = a.publication_id "
            "GROUP BY p.version")).all())
        assert per_version == {1: len(rows), 2: len(rows)}
        stored = conn.execute(text(
            "SELECT a.person_id, a.date, a.peak, a.start, a.\"end\", a.school_id, a.post_id, a.route_id "
            "FROM assignments a JOIN publications p ON p.id = a.publication_id WHERE p.version = 2")).mappings().all()
        assert duties({**r, "date": r["date"].isoformat()} for r in stored) == duties(rows)
        assert conn.execute(text("SELECT status FROM runs WHERE id = :id"), {"id": flow.run["id"]}).scalar_one() \
            == "done"


# -- 3. a restart -------------------------------------------------------------------------------


def test_everything_survives_a_restart_on_the_same_database(flow: Flow):
    app = create_app(Settings(data_dir=flow.data_dir, db_url=flow.url))
    with TestClient(app) as c:
        pubs = c.get("/api/publications").json()
        assert [(p["version"], p["run_id"]) for p in pubs] == [(2, flow.run["id"]), (1, flow.run["id"])]
        assert [p["assignments"] for p in pubs] == [len(flow.rows)] * 2
        assert [i["id"] for i in c.get("/api/instances").json()] == [flow.instance["id"]]
        run = c.get(f"/api/runs/{flow.run['id']}").json()
        assert run["status"] == "done", run
        assert run["result"] == flow.run["result"]
        assert run["files"] and run["files"] == flow.run["files"]
        r = c.get(f"/api/runs/{flow.run['id']}/files/roster.csv")
        assert r.status_code == 200 and r.text == flow.roster_text
        assert c.get(f"/api/history/persons/{flow.person}").json() == flow.person_history
