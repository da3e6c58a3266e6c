"""Running independent solves side by side: local processes, or a Dask distributed cluster.

``batch`` (one job per district) and ``whatif`` (one per variant) hand a list of jobs to
:func:`run_jobs` and get each job's result back as soon as it is done, so they can write it at
once (nothing finished is lost when the run is stopped later). A job is a picklable top-level
function with its arguments; its result must be picklable too (plain dicts of text and numbers).

- ``local`` (default): a ``loky`` process pool with ``processes`` workers, each a fresh
  interpreter (no OR-Tools threads inherited by a fork). Not the standard library's
  ``ProcessPoolExecutor``: stopped midway (its workers killed while one was still sending its result
  back), Python 3.11's pool can wait forever on its own shutdown; loky's is built to survive a
  worker that dies at any moment, and ``shutdown(kill_workers=True)`` ends them all.
- ``dask``: a ``distributed.Client`` connected to ``scheduler`` (``tcp://host:port``), from the
  optional extra ``schoolpost[distributed]``. Jobs return their files as text, so the workers need
  no shared file system with the machine that writes the output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, wait
from typing import Any

from models import InstanceError
from scheduler.interrupt import on_signal

Job = tuple[str, Callable[..., Any], tuple]  # (key, function, arguments)


def default_processes(threads_per_job: int) -> int:
    """One process per ``threads_per_job`` cores of this machine (at least one)."""
    return max(1, (os.cpu_count() or 1) // max(1, threads_per_job))


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event that Ctrl-C and SIGTERM set (instead of raising) while the block runs; pass it
    to :func:`run_jobs` as ``stop``. Restores the previous handlers on exit."""
    stop = threading.Event()
    with on_signal(stop.set):
        yield stop


class Stopped(KeyboardInterrupt):
    """The run was asked to stop (``stop`` set by a Ctrl-C or SIGTERM handler)."""


#: ``--dask-wait`` by default: seconds to wait for a Dask scheduler to answer, and again for it to
#: have a worker
DASK_WAIT_SECONDS = 30.0


def run_jobs(jobs: list[Job], *, executor: str = "local", scheduler: str | None = None,
             processes: int = 1, stop: threading.Event | None = None, dask_wait: float = DASK_WAIT_SECONDS,
             notify: Callable[[str], None] | None = None) -> Iterator[tuple[str, Any]]:
    """Yield ``(key, result)`` for every job in the order they finish.

    A job that raises re-raises here (the caller decides). When ``stop`` is set, the running jobs
    are ended and :class:`Stopped` is raised; the waits poll it, so a signal handler only has to
    set it (raising from a handler inside an executor's wait can leave it unable to shut down).
    Leaving the iterator early (an error, a stop) cancels the jobs not yet started and, on the
    local pool, kills the running ones."""
    if not jobs:
        return
    stop = stop or threading.Event()
    if executor == "local":
        yield from _local(jobs, processes, stop)
    elif executor == "dask":
        yield from _dask(jobs, scheduler, stop, dask_wait, notify or (lambda _line: None))
    else:
        raise InstanceError("--executor", f"unknown executor {executor!r}; use local or dask")


def _local(jobs: list[Job], processes: int, stop: threading.Event) -> Iterator[tuple[str, Any]]:
    if processes <= 1 or len(jobs) == 1:
        for key, fn, args in jobs:  # in this process: no start-up cost, Ctrl-C reaches the solver
            if stop.is_set():
                raise Stopped
            yield key, fn(*args)
        return
    from loky import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=min(processes, len(jobs)), initializer=_end_with_parent,
                               initargs=(os.getpid(),))
    finished = False
    try:
        futures = {pool.submit(fn, *args): key for key, fn, args in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                yield futures[fut], fut.result()
            if stop.is_set():
                raise Stopped
        finished = True
    finally:
        # stopped (Ctrl-C, SIGTERM, an error, the caller gone): the workers are killed, not asked
        # (a solve in a worker would take a polite SIGTERM as "stop and send back your roster")
        pool.shutdown(wait=True, kill_workers=not finished)


def _end_with_parent(parent: int) -> None:
    """In a pool worker: end when the process that started it ends, even by ``kill -9`` (which
    runs no clean-up): Linux sends it SIGKILL then (``PR_SET_PDEATHSIG``); elsewhere nothing."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the call above
        os._exit(1)


def _connect(address: str, stop: threading.Event, seconds: float):
    """A Dask client of the scheduler at ``address``, or one line naming ``--scheduler``: the
    connection is made in a thread of its own, so a Ctrl-C ends the wait and an address that is
    not a Dask scheduler's (an HTTP server, which ``distributed`` waits on forever) is given up
    after ``seconds``."""
    import logging

    from distributed import Client
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, where = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(where)
    except ValueError as exc:
        raise InstanceError("--scheduler", f"{address!r} is not a scheduler address like tcp://10.0.0.5:8786 ({exc})") from None
    # the Dask client logs its own tracebacks when the scheduler goes away; the planner gets one
    # line from us instead
    for name in [n for n in logging.root.manager.loggerDict if n == "distributed" or n.startswith("distributed.")]:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = Client(address, timeout=seconds)
        except BaseException as exc:  # noqa: BLE001 - reported below as one line
            box["error"] = exc

    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds + 2
    while thread.is_alive():
        thread.join(0.1)
        if stop.is_set():
            raise Stopped
        if time.monotonic() > deadline:
            raise InstanceError("--scheduler", f"no Dask scheduler answered at {address} within {seconds:g} s "
                                               f"(is it a Dask scheduler's address?); --dask-wait sets the time")
    if "error" in box:
        error = box["error"]
        why = " ".join(str(error).split())[:160] or type(error).__name__
        raise InstanceError("--scheduler", f"cannot reach the Dask scheduler at {address}: {why}")
    return box["client"]


def _await_workers(client, address: str, stop: threading.Event, seconds: float, notify: Callable[[str], None]) -> None:
    """Return once the scheduler has a worker; say that it waits; give up after ``seconds``."""
    def workers() -> int:
        return len(client.scheduler_info().get("workers", {}))

    if workers():
        return
    notify(f"waiting for Dask workers at {address} (up to {seconds:g} s; --dask-wait sets it)")
    deadline = time.monotonic() + seconds
    while not workers():
        if stop.is_set():
            raise Stopped
        if time.monotonic() > deadline:
            raise InstanceError("--scheduler", f"the Dask scheduler at {address} has no worker after {seconds:g} s; "
                                               f"start one (dask worker {address}) or give a longer --dask-wait")
        time.sleep(0.5)


def _dask(jobs: list[Job], scheduler: str | None, stop: threading.Event, seconds: float,
          notify: Callable[[str], None]) -> Iterator[tuple[str, Any]]:
    if not scheduler:
        raise InstanceError("--scheduler", "--executor dask needs the scheduler's address (tcp://host:port)")
    try:
        from distributed import wait as dask_wait
    except ImportError:
        raise InstanceError("--executor", "dask is not installed; install the extra: pip install 'schoolpost[distributed]'") from None
    client = _connect(scheduler, stop, seconds)
    try:
        _await_workers(client, scheduler, stop, seconds, notify)
        futures = {}
        for key, fn, args in jobs:
            futures[client.submit(fn, *args, pure=False)] = key
        pending = set(futures)
        while pending:
            try:
                try:
                    done, pending = dask_wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                pending = set(pending)
                results = [(futures[fut], fut.result()) for fut in done]
            except (OSError, CancelledError, asyncio.CancelledError) as exc:  # the scheduler went away
                why = (exc.strerror if isinstance(exc, OSError) and exc.strerror else "the connection was lost")
                raise InstanceError("--scheduler", f"lost the Dask scheduler at {scheduler} ({why}); the parts "
                                                   f"finished so far are kept: run the same command again to go on") from None
            yield from results
            if stop.is_set():
                client.cancel(list(pending))
                raise Stopped
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)
