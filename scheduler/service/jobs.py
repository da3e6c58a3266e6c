"""Solves as background jobs: each run is a ``schoolpost solve`` process of its own.

Why a process per run, not a thread: the page stays responsive while CP-SAT uses the cores; a run
that crashes takes nothing else with it; and the run behaves exactly as at the command line (its
messages, its JSON-lines progress log, its files published whole or not at all, a Ctrl-C that
keeps the best roster). The runner:

- starts queued runs in the order they came, at most ``slots`` at once (the rest wait, the page
  does not);
- reads each run's progress log and stores its last line in the database, for the page;
- a cancel sends the process Ctrl-C: it stops its search and publishes the best roster so far;
- a process gets SIGTERM if the server dies (``PR_SET_PDEATHSIG``), which also keeps its roster;
  a restarted server marks a run whose files were published as cancelled (roster kept), and queues
  the others again (resumable: they start over).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from scheduler.service.db import CANCELLED, DONE, FAILED, QUEUED, REPAIR, RUNNING, WHATIF, InstanceRow, RunRow, now

log = logging.getLogger(__name__)

#: seconds between two looks at the queue and the running processes
POLL = 0.25
#: the instance file of a run, in its folder (the upload's own name never reaches the file system)
SUFFIX = {"yaml": ".yaml", "json": ".json", "xlsx": ".xlsx"}


def run_folder(data_dir: Path, run_id: int) -> Path:
    return data_dir / "runs" / str(int(run_id))


def output_folder(data_dir: Path, run_id: int) -> Path:
    return run_folder(data_dir, run_id) / "out"


try:  # loaded here, in the server: the child between fork and exec only makes the call
    import ctypes

    _LIBC: object | None = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _LIBC = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """The solve process gets SIGTERM when the server (the runner's thread) ends, even by
    ``kill -9`` (Linux ``PR_SET_PDEATHSIG``): it publishes its best roster and ends. No import,
    no lock: only a C call, as code between fork and exec in a threaded process must be."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # type: ignore[attr-defined]


@dataclass
class _Live:
    #: a local ``subprocess.Popen``, or a run on Dask (:class:`scheduler.service.remote.DaskProcess`)
    process: Any
    log: Path
    stderr: Path
    offset: int = 0
    last: dict | None = field(default=None)
    #: Ctrl-C was sent (a cancel, or the server stopping)
    cancelled: bool = False


class JobRunner:
    """Runs queued solves in worker processes; :meth:`start` once, :meth:`stop` at shutdown."""

    def __init__(self, session_factory: sessionmaker, data_dir: Path, *, slots: int = 1,
                 command: list[str] | None = None, env: dict[str, str] | None = None, history_weeks: int = 4,
                 scheduler: str | None = None, dask_wait: float = 30.0):
        self.sessions = session_factory
        self.data_dir = data_dir
        self.slots = max(1, slots)
        #: the program to run: this interpreter's ``python -m scheduler``
        self.command = command or [sys.executable, "-m", "scheduler"]
        self.env = env
        #: published weeks before an instance's week that count in its fairness (0: none); the week
        #: just before gives continuity its faces
        self.history_weeks = history_weeks
        #: the Dask scheduler's address (``--executor dask``): runs go to its workers
        self.scheduler, self.dask_wait = scheduler, dask_wait
        self.client: Any = None
        self.live: dict[int, _Live] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------

    def connect(self) -> None:
        """With a Dask scheduler: connect to it now (an address that does not answer is one line
        naming ``--scheduler``, before the page starts)."""
        if self.scheduler is not None and self.client is None:
            from scheduler.parallel import _connect

            self.client = _connect(self.scheduler, threading.Event(), self.dask_wait)

    def start(self) -> None:
        self.connect()
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="schoolpost-jobs", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 180.0) -> None:
        """Stop taking runs; running ones are sent Ctrl-C (their best roster is kept) and waited for.

        The runner's thread started the processes and outlives them: a process gets SIGTERM when
        the thread that started it ends (``PR_SET_PDEATHSIG``), which would be a second signal,
        and a second Ctrl-C stops a solve without publishing its roster."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=wait)
        if self.client is not None:
            self.client.close()
            self.client = None

    def wake(self) -> None:
        """A run was queued or cancelled: look now, not at the next poll."""
        self._wake.set()

    def recover(self) -> None:
        """After a restart: a run left ``running`` by a server that stopped is cancelled with its
        roster kept when its files were published, else queued again (it starts over)."""
        with self.sessions.begin() as s:
            for run in s.scalars(select(RunRow).where(RunRow.status == RUNNING)):
                if run.pid:
                    _end(run.pid, run_folder(self.data_dir, run.id))
                out = output_folder(self.data_dir, run.id)
                summary = _read_summary(out, run.kind)
                if summary is not None:
                    run.status, run.summary, run.finished_at = CANCELLED, summary, now()
                    run.note = "the server stopped during this solve; the best roster found by then was kept"
                else:
                    run.status, run.started_at, run.pid, run.progress = QUEUED, None, None, None
                    run.note = "the server stopped during this solve; it was queued again and starts over"

    # -- the loop ----------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # pragma: no cover - a database hiccup must not end the runner
                log.exception("job runner")
            self._wake.wait(POLL)
            self._wake.clear()
        # stopping: each running solve gets one Ctrl-C, publishes its best roster and ends; this
        # thread waits for them (see stop)
        for live in self.live.values():
            if live.process.poll() is None and not live.cancelled:
                live.process.send_signal(signal.SIGINT)
                live.cancelled = True
        while self.live:
            for run_id, live in list(self.live.items()):
                self._read_progress(run_id, live)
                if live.process.poll() is not None:
                    self._finish(run_id, live)
            time.sleep(POLL)

    def _tick(self) -> None:
        for run_id, live in list(self.live.items()):
            self._read_progress(run_id, live)
            if live.process.poll() is not None:
                self._finish(run_id, live)
        with self.sessions.begin() as s:
            for run in s.scalars(select(RunRow).where(RunRow.status == RUNNING, RunRow.cancel_requested)):
                solving = self.live.get(run.id)
                if solving is not None and not solving.cancelled and solving.process.poll() is None:
                    # once: a second Ctrl-C would stop the process without publishing its roster
                    solving.process.send_signal(signal.SIGINT)
                    solving.cancelled = True
        while len(self.live) < self.slots and not self._stop.is_set():
            if not self._start_next():
                break

    def _start_next(self) -> bool:
        with self.sessions.begin() as s:
            run = s.scalars(select(RunRow).where(RunRow.status == QUEUED).order_by(RunRow.id).limit(1)).first()
            if run is None:
                return False
            if run.cancel_requested:  # cancelled before it started: nothing to keep
                run.status, run.finished_at, run.note = CANCELLED, now(), "cancelled before it started"
                return True
            inst = s.get(InstanceRow, run.instance_id)
            assert inst is not None
            folder = run_folder(self.data_dir, run.id)
            if folder.exists():
                shutil.rmtree(folder)  # a run queued again after a restart starts clean
            folder.mkdir(parents=True)
            source = folder / ("instance" + SUFFIX[inst.kind])
            source.write_bytes(inst.content)
            if self.history_weeks:  # a solve, a repair or a what-if: the same history of the week
                source = _with_history(s, inst, source, self.history_weeks)
            log_path, err_path = folder / "progress.jsonl", folder / "stderr.txt"
            out = output_folder(self.data_dir, run.id)
            if run.kind == WHATIF:
                (folder / "scenarios.yaml").write_text((run.params or {}).get("scenarios", ""), encoding="utf-8")
            parent = output_folder(self.data_dir, cast(int, run.parent_id)) if run.kind == REPAIR else None
            process: Any
            if self.client is not None:
                # on the Dask cluster: the same command in a folder of the worker's own, the inputs
                # sent as data under the names the command is given
                from scheduler.service.remote import DaskProcess

                inputs = {"in/" + source.name: source.read_bytes()}
                if run.kind == WHATIF:
                    inputs["in/scenarios.yaml"] = (folder / "scenarios.yaml").read_bytes()
                if parent is not None:
                    inputs.update({"parent/" + f.relative_to(parent).as_posix(): f.read_bytes()
                                   for f in sorted(parent.rglob("*")) if f.is_file()})
                tail = _command_tail(run, "in/" + source.name, "out", "progress.jsonl", "in/scenarios.yaml", "parent")
                log_path.touch()
                process = DaskProcess(self.client, tail, inputs, f"schoolpost-run-{run.id}-{os.getpid()}-{time.time_ns()}",
                                      out, log_path, err_path)
            else:
                tail = _command_tail(run, str(source), str(out), str(log_path), str(folder / "scenarios.yaml"),
                                     str(parent) if parent is not None else "")
                env = dict(os.environ if self.env is None else self.env)
                with open(err_path, "wb") as err:
                    # a session of its own: a Ctrl-C at the server's terminal reaches the server, which
                    # sends each solve exactly one (a second would stop it without its roster)
                    process = subprocess.Popen([*self.command, *tail], stdin=subprocess.DEVNULL,
                                               stdout=subprocess.DEVNULL, stderr=err, env=env,
                                               preexec_fn=_die_with_parent,  # noqa: PLW1509 - a C call only
                                               start_new_session=True)
            self.live[run.id] = _Live(process, log_path, err_path)
            run.status, run.started_at, run.pid = RUNNING, now(), process.pid
            run.progress = {"stage": {REPAIR: "repairing", WHATIF: "solving the variants"}.get(run.kind, "starting"),
                            "time": 0.0}
            return True

    def _read_progress(self, run_id: int, live: _Live) -> None:
        try:
            with open(live.log, "rb") as f:
                f.seek(live.offset)
                chunk = f.read()
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        live.offset += end + 1
        latest = None
        for line in chunk[:end].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "progress":
                latest = event
        if latest is not None and latest != live.last:
            live.last = latest
            with self.sessions.begin() as s:
                run = s.get(RunRow, run_id)
                if run is not None:
                    run.progress = {k: v for k, v in latest.items() if k != "event"}

    def _finish(self, run_id: int, live: _Live) -> None:
        self.live.pop(run_id, None)
        self._read_progress(run_id, live)
        code = live.process.returncode
        with self.sessions.begin() as s:
            run = s.get(RunRow, run_id)
            if run is None:
                return
            summary = _read_summary(output_folder(self.data_dir, run_id), run.kind)
            run.finished_at, run.pid, run.summary = now(), None, summary
            stopped = run.cancel_requested or live.cancelled or (summary or {}).get("status") == "interrupted"
            if summary is not None and code in (0, 130) and stopped:  # files published after a Ctrl-C
                run.status = CANCELLED
                run.note = "cancelled: the best roster found by then was kept"
            elif summary is not None and code == 0:
                run.status = DONE
            elif stopped:  # stopped before it had a roster to publish
                run.status = CANCELLED
                run.note = "cancelled before a roster was found: nothing was published"
            else:
                run.status = FAILED
                run.error = _error_text(live.stderr, code)


def _command_tail(run: RunRow, source: str, out: str, log: str, scenarios: str, parent: str) -> list[str]:
    """The ``schoolpost`` command of a run (after the program), given where its files are."""
    limit = ["--time-limit", repr(float(run.time_limit))]
    if run.kind == REPAIR:
        # the parent run's published roster, mended for the absences from their first date
        params = run.params or {}
        args = ["repair", source, parent, "-o", out, *limit]
        for person in params.get("absent", []):
            args += ["--absent", str(person)]
        if params.get("from"):
            args += ["--from", str(params["from"])]
        return args
    if run.kind == WHATIF:  # the instance as it is and each scenario's variant, side by side
        return ["whatif", source, scenarios, "-o", out, *limit]
    return ["solve", source, "-o", out, *limit, "--quiet", "--log", log]


def _with_history(s, inst: InstanceRow, source: Path, weeks: int) -> Path:
    """The run's instance with the published weeks before it as its ``history`` (docs/SPEC.md),
    written beside the upload as ``instance-history.yaml``; the upload as it is when it brings its
    own history, or when nothing was published before its week."""
    import yaml

    from models import load_document
    from scheduler.service.db import history_for, published_before

    if not published_before(s, inst.week_start, weeks):  # nothing to add: the file is not read
        return source
    doc = load_document(source)
    if not isinstance(doc, dict) or doc.get("history") is not None:
        return source
    ids = {str(p.get("id", "")).strip() for p in doc.get("persons") or [] if isinstance(p, dict)}
    found = history_for(s, inst.week_start, ids, weeks)
    if found is None:
        return source
    doc["history"] = found
    out = source.with_name("instance-history.yaml")
    out.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def _read_summary(out: Path, kind: str = "solve") -> dict | None:
    """The run's summary: summary.json, or a what-if's whatif.json (its variants' KPIs)."""
    try:
        return json.loads((out / ("whatif.json" if kind == WHATIF else "summary.json")).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _error_text(stderr: Path, code: int | None) -> str:
    try:
        lines = [ln for ln in stderr.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    text = "\n".join(lines[-5:]) if lines else ""
    return text or f"the solve process ended with exit code {code}"


def _end(pid: int, folder: Path, wait: float = 120.0) -> None:
    """Wait for an orphaned solve process of this run (from before a restart; its command line
    names the run's folder, so a reused pid is left alone). It got SIGTERM when the old server
    died and is publishing its best roster; another signal now would stop it without publishing,
    so it is only asked again if it has not ended after ``wait`` seconds."""
    def alive() -> bool:
        try:
            return str(folder).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    deadline = time.monotonic() + wait
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive():
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
