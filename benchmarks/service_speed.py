"""The web service's speed targets (issue 19): an upload is checked within 2 s, and the page shows
a district's roster within a second of its job ending.

    python -m benchmarks.service_speed [INSTANCE] [--time-limit 60] [--repeat 5] [--out FILE]

Runs the real application (FastAPI's test client: the app, its database and its job runner in
this process, the solve in its own ``schoolpost solve`` process, as under ``schoolpost serve``)
on a fresh data folder and times:

- ``upload_yaml_s``, ``upload_xlsx_s``: ``POST /api/instances`` of the instance as YAML and as the
  workbook (``schoolpost template --from``), the check included (median of ``--repeat``);
- ``ended_to_recorded_s``: from the solve process's end (its summary.json written) to the run
  being ``done`` in the database (the job runner's poll and the summary read);
- ``page_s``: ``GET /runs/{id}``, the roster page (heat-map, gaps, people, files), median of
  ``--repeat``; ``page_school_s`` the same with one school's duty table, ``roster_api_s``
  ``GET /api/runs/{id}/roster``;
- ``shown_after_end_s`` = ``ended_to_recorded_s`` + ``page_s``: the target's "within a second".
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 3)


def measure(instance: Path, time_limit: float, repeat: int) -> dict:
    from fastapi.testclient import TestClient

    from scheduler.service.app import Settings, create_app

    tmp = Path(tempfile.mkdtemp(prefix="schoolpost-speed-"))
    book = tmp / (instance.stem + ".xlsx")
    subprocess.run([sys.executable, "-m", "scheduler", "template", str(book), "--from", str(instance)],
                   check=True, capture_output=True, timeout=600)
    content, book_bytes = instance.read_bytes(), book.read_bytes()
    record: dict = {"instance": str(instance), "time_limit": time_limit, "repeat": repeat,
                    "bytes_yaml": len(content), "bytes_xlsx": len(book_bytes)}
    app = create_app(Settings(data_dir=tmp / "data"))
    with TestClient(app) as c:
        def up(name: str, data: bytes) -> dict:
            r = c.post("/api/instances", files={"file": (name, data)})
            assert r.status_code == 201, r.text
            return r.json()

        record["upload_yaml_s"] = _median_time(lambda: up(instance.name, content), repeat)
        record["upload_xlsx_s"] = _median_time(lambda: up(book.name, book_bytes), repeat)
        inst = up(instance.name, content)
        run = c.post(f"/api/instances/{inst['id']}/runs", json={"time_limit": time_limit}).json()
        summary = tmp / "data" / "runs" / str(run["id"]) / "out" / "summary.json"
        ended = None
        while True:
            state = c.get(f"/api/runs/{run['id']}").json()
            if ended is None and summary.exists():
                ended = time.perf_counter()
            if state["status"] in ("done", "cancelled", "failed"):
                recorded = time.perf_counter()
                break
            time.sleep(0.02)
        assert state["status"] == "done", state
        if ended is None:  # published between two looks: count from this one
            ended = recorded
        record["ended_to_recorded_s"] = round(recorded - ended, 3)
        record["result"] = state["result"]
        page = c.get(f"/runs/{run['id']}")
        record["page_bytes"] = len(page.content)
        record["page_s"] = _median_time(lambda: c.get(f"/runs/{run['id']}").raise_for_status(), repeat)
        school = state["result"] and c.get(f"/api/runs/{run['id']}/roster").json()["heatmap"]["schools"][0]
        record["page_school_s"] = _median_time(
            lambda: c.get(f"/runs/{run['id']}", params={"school": school}).raise_for_status(), repeat)
        record["roster_api_s"] = _median_time(lambda: c.get(f"/api/runs/{run['id']}/roster").raise_for_status(),
                                              repeat)
        record["shown_after_end_s"] = round(record["ended_to_recorded_s"] + record["page_s"], 3)
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", nargs="?", default=str(ROOT / "instances" / "district-bincheng.yaml"))
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    text = json.dumps(measure(Path(args.instance), args.time_limit, args.repeat), indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
