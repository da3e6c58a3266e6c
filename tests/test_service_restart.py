"""A server killed in the middle of a solve (SIGKILL: no shutdown at all) and started again on the
same data loses nothing (issue 19, item 5): the published roster is intact, and the run that was
solving is either cancelled with its best roster kept (the solve process got SIGTERM when the
server died and published what it had) or queued again and solved; no solve process is left
behind. Real processes: ``schoolpost serve`` and its ``schoolpost solve`` children."""

from __future__ import annotations

import csv
import io
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

httpx = pytest.importorskip("httpx2")

from models import load_instance
from scheduler.check import check_rows

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "instances" / "small-school.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data: Path, host: str = "127.0.0.1"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "scheduler", "serve", "--port", str(self.port),
                                         "--data-dir", str(data), "--host", host], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, cwd=ROOT)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                httpx.get(self.base + "/api/runs", timeout=2)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    raise AssertionError(self.process.stderr.read().decode()) from None
                time.sleep(0.2)
        raise AssertionError("the server did not answer in 60 s")

    def api(self, method: str, path: str, **kw):
        return httpx.request(method, self.base + path, timeout=30, **kw)

    def wait_final(self, run_id: int, timeout: float = 300) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            run = self.api("GET", f"/api/runs/{run_id}").json()
            if run["status"] in ("done", "cancelled", "failed"):
                return run
            time.sleep(0.3)
        raise AssertionError(f"run {run_id} did not end: {run}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def solve_children(data: Path) -> list[int]:
    """Live ``schoolpost solve`` processes working in ``data``."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"solve" in cmd and str(data).encode() in cmd:
                found.append(int(proc.name))
    return found


def rows_of(server: Server, run_id: int) -> list[dict]:
    return list(csv.DictReader(io.StringIO(server.api("GET", f"/api/runs/{run_id}/files/roster.csv").text)))


def test_a_killed_server_restarts_with_nothing_lost(tmp_path):
    from scheduler.generate import generate

    data = tmp_path / "data"
    big = tmp_path / "twelve.yaml"
    big.write_text(yaml.safe_dump(generate("district", 43, schools=12), sort_keys=False), encoding="utf-8")
    server = Server(data)
    try:
        small = server.api("POST", "/api/instances", files={"file": ("small.yaml", SMALL.read_bytes())}).json()
        first = server.api("POST", f"/api/instances/{small['id']}/runs", json={"time_limit": 10}).json()
        assert server.wait_final(first["id"])["status"] == "done"
        published = server.api("POST", f"/api/runs/{first['id']}/publish").json()
        inst = server.api("POST", "/api/instances", files={"file": ("twelve.yaml", big.read_bytes())}).json()
        run = server.api("POST", f"/api/instances/{inst['id']}/runs", json={"time_limit": 120}).json()
        end = time.monotonic() + 120
        while time.monotonic() < end:
            state = server.api("GET", f"/api/runs/{run['id']}").json()
            if state["status"] == "running" and (state["progress"] or {}).get("objective") is not None:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the solve did not start: {state}")
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
    finally:
        server.stop()

    again = Server(data)
    try:
        pubs = again.api("GET", "/api/publications").json()
        assert [(p["id"], p["version"], p["assignments"]) for p in pubs] == [
            (published["id"], 1, published["assignments"])]
        assert len(again.api("GET", f"/api/history/persons/{rows_of(again, first['id'])[0]['person_id']}").json()) > 0
        final = again.wait_final(run["id"], timeout=400)
        assert final["status"] in ("cancelled", "done"), final
        assert "server stopped" in (final["note"] or ""), final
        rows = rows_of(again, run["id"])
        assert rows and check_rows(load_instance(big), rows).ok
    finally:
        again.stop()
    assert solve_children(data) == []


def test_another_address_needs_a_planners_token_first(tmp_path):
    """``serve --host 0.0.0.0`` (reachable from other machines) is refused in one line (exit 2)
    until a planner's token exists; then it starts and every request needs the token."""
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "scheduler"]
    refused = subprocess.run([*cmd, "serve", "--host", "0.0.0.0", "--port", str(free_port()), "--data-dir", str(data)],
                             capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert refused.returncode == 2 and refused.stderr.startswith("error: --host: 0.0.0.0")
    assert len(refused.stderr.strip().splitlines()) == 1
    viewer = subprocess.run([*cmd, "token", "add", "reader", "--role", "viewer", "--data-dir", str(data)],
                            capture_output=True, text=True, timeout=60, check=True, cwd=ROOT).stdout.strip()
    again = subprocess.run([*cmd, "serve", "--host", "0.0.0.0", "--port", str(free_port()), "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert again.returncode == 2  # a viewer's token is not enough to open it up
    planner = subprocess.run([*cmd, "token", "add", "Li", "--role", "planner", "--data-dir", str(data)],
                             capture_output=True, text=True, timeout=60, check=True, cwd=ROOT).stdout.strip()
    listed = subprocess.run([*cmd, "token", "list", "--data-dir", str(data)], capture_output=True, text=True,
                            timeout=60, check=True, cwd=ROOT).stdout
    assert "Li\tplanner" in listed and planner not in listed and viewer not in listed
    server = Server(data, host="0.0.0.0")
    try:
        assert server.api("GET", "/api/runs").status_code == 401
        assert server.api("GET", "/api/runs", headers={"Authorization": f"Bearer {viewer}"}).status_code == 200
        r = server.api("POST", "/api/instances", files={"file": ("s.yaml", SMALL.read_bytes())},
                       headers={"Authorization": f"Bearer {planner}"})
        assert r.status_code == 201, r.text
    finally:
        server.stop()
