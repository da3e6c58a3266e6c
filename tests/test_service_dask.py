"""``schoolpost serve --executor dask``: runs on a real Dask cluster (a local one, with worker
processes), their progress, their files published in the run's folder, and a cancel that keeps
the best roster; every roster checked by the validator."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
import yaml

distributed = pytest.importorskip("distributed")
pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from models import load_instance
from scheduler.check import check_rows
from scheduler.service.app import Settings, create_app

SMALL = Path(__file__).resolve().parents[1] / "instances" / "small-school.yaml"


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as c:
        yield c


def wait_final(c, run_id: int, timeout: float = 300.0) -> tuple[dict, list]:
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        run = c.get(f"/api/runs/{run_id}").json()
        if run["progress"] and run["progress"] not in seen:
            seen.append(run["progress"])
        if run["status"] in ("done", "cancelled", "failed"):
            return run, seen
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not end")


def rows_of(c, run_id: int) -> list[dict]:
    return list(csv.DictReader(io.StringIO(c.get(f"/api/runs/{run_id}/files/roster.csv").text)))


def test_a_solve_and_a_cancel_on_the_dask_cluster(cluster, tmp_path):
    from scheduler.generate import generate

    app = create_app(Settings(data_dir=tmp_path / "data", scheduler=cluster.scheduler_address))
    with TestClient(app) as c:
        inst = c.post("/api/instances", files={"file": ("s.yaml", SMALL.read_bytes())}).json()
        run = c.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": 10}).json()
        final, _ = wait_final(c, run["id"])
        assert final["status"] == "done", final
        assert {"roster.csv", "summary.json", "report.html"} <= set(final["files"])
        rows = rows_of(c, run["id"])
        assert rows and check_rows(load_instance(SMALL), rows).ok
        # the command's progress log came back from the worker line by line
        log = (tmp_path / "data" / "runs" / str(run["id"]) / "progress.jsonl").read_text(encoding="utf-8")
        assert '"event": "start"' in log and '"event": "done"' in log
        # a cancel reaches the command on the worker: it publishes its best roster
        data = generate("district", 41, schools=12)
        big = tmp_path / "twelve.yaml"
        big.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        inst2 = c.post("/api/instances", files={"file": ("twelve.yaml", big.read_bytes())}).json()
        run2 = c.post(f"/api/instances/{inst2['id']}/runs", json={"time_limit": 300}).json()
        end = time.monotonic() + 180
        while time.monotonic() < end:
            state = c.get(f"/api/runs/{run2['id']}").json()
            if (state["progress"] or {}).get("objective") is not None:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no progress from the worker: {state}")
        c.post(f"/api/runs/{run2['id']}/cancel")
        final2, _ = wait_final(c, run2["id"], timeout=180)
        assert final2["status"] == "cancelled", final2
        rows2 = rows_of(c, run2["id"])
        assert rows2 and check_rows(load_instance(big), rows2).ok
