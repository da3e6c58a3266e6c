"""Runs on the Dask cluster that ``schoolpost batch`` uses (``schoolpost serve --executor dask``).

A run is the same ``schoolpost`` command as in a local worker process, executed on a Dask worker
(which has schoolpost installed, as batch's workers do): its input files go to the worker as
data, its progress log comes back line by line through a Dask ``Queue``, a cancel reaches it
through a Dask ``Variable`` (one Ctrl-C to the command: it publishes its best roster), and the
files it published come back as data and are published in the run's folder on the server, all
or none. :class:`DaskProcess` gives the job runner the face of a local process (``poll``,
``send_signal``, ``returncode``), so the runner treats both alike.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: seconds between two looks at the command, its log and the stop flag, on the worker
POLL = 0.25


def run_remote(args: list[str], inputs: dict[str, bytes], key: str) -> dict[str, Any]:
    """On a Dask worker: ``python -m scheduler ARGS`` in a fresh folder holding ``inputs``
    (relative names), its log lines sent to the queue ``key``-log, stopped by one Ctrl-C when the
    variable ``key``-stop is set; returns the exit code, stderr and every file under ``out/``."""
    from distributed import Queue, Variable

    log_q, stop = Queue(f"{key}-log"), Variable(f"{key}-stop")
    with tempfile.TemporaryDirectory(prefix="schoolpost-run-") as tmp:
        root = Path(tmp)
        for name, data in inputs.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        err = root / "stderr.txt"
        with open(err, "wb") as errors:
            process = subprocess.Popen([sys.executable, "-m", "scheduler", *args], cwd=root, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
        offset, signalled = 0, False
        log = root / "progress.jsonl"
        while True:
            done = process.poll() is not None
            if log.exists():
                data = log.read_bytes()
                end = data.rfind(b"\n") + 1
                if end > offset:
                    log_q.put(data[offset:end].decode("utf-8", "replace"))
                    offset = end
            if done:
                break
            if not signalled and _is_set(stop):
                process.send_signal(signal.SIGINT)
                signalled = True
            time.sleep(POLL)
        out = root / "out"
        files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} \
            if out.is_dir() else {}
        return {"code": process.returncode, "stderr": err.read_text(encoding="utf-8", errors="replace"),
                "files": files, "worker": os.uname().nodename}


def _is_set(stop) -> bool:
    try:
        return bool(stop.get(timeout=0.01))
    except Exception:  # noqa: BLE001 - not set yet (a timeout), or the scheduler busy: not now
        return False


class DaskProcess:
    """A run on the Dask cluster, with the face of a local process for the job runner."""

    def __init__(self, client, args: list[str], inputs: dict[str, bytes], key: str, out: Path, log: Path,
                 stderr: Path):
        from distributed import Queue, Variable

        self.client, self.key, self.out, self.log, self.stderr = client, key, out, log, stderr
        self.log_q, self.stop = Queue(f"{key}-log", client=client), Variable(f"{key}-stop", client=client)
        self.future = client.submit(run_remote, args, inputs, key, key=key, pure=False)
        self.returncode: int | None = None
        self.pid = None

    def _drain(self) -> None:
        lines: list[str] = []
        try:
            while self.log_q.qsize():
                lines.append(self.log_q.get(timeout=1))
        except Exception:  # noqa: BLE001 - an empty or closed queue: nothing more now
            lines.append("")
        if lines:
            with open(self.log, "a", encoding="utf-8") as f:
                f.write("".join(lines))

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        self._drain()
        if not self.future.done():
            return None
        from scheduler.output import write_files

        try:
            answer = self.future.result()
        except Exception as exc:  # noqa: BLE001 - the worker died or the task failed: the run failed
            self.stderr.write_text(f"the Dask worker could not run it: {type(exc).__name__}: {exc}\n", encoding="utf-8")
            self.returncode = 1
            return self.returncode
        self._drain()
        if answer["files"]:
            write_files(self.out, answer["files"], replaces="all")
        self.stderr.write_text(answer["stderr"], encoding="utf-8")
        self.returncode = int(answer["code"])
        return self.returncode

    def send_signal(self, _signum: int) -> None:
        """A cancel: the worker sends the command one Ctrl-C."""
        self.stop.set(True)
