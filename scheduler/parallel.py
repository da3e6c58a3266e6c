"""Running independent solves side by side: local processes, or a Dask distributed cluster.

``batch`` (one job per district) and ``whatif`` (one per variant) hand a list of jobs to
:func:`run_jobs` and get each job's result back as soon as it is done, so they can write it at
once (nothing finished is lost when the run is stopped later). A job is a picklable top-level
function with its arguments; its result must be picklable too (plain dicts of text and numbers).

- ``local`` (default): a :class:`concurrent.futures.ProcessPoolExecutor` with ``processes``
  workers started by ``spawn`` (fresh interpreters: no OR-Tools threads inherited by a fork).
- ``dask``: a ``distributed.Client`` connected to ``scheduler`` (``tcp://host:port``), from the
  optional extra ``schoolpost[distributed]``. Jobs return their files as text, so the workers need
  no shared file system with the machine that writes the output.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
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


def run_jobs(jobs: list[Job], *, executor: str = "local", scheduler: str | None = None,
             processes: int = 1, stop: threading.Event | None = None) -> Iterator[tuple[str, Any]]:
    """Yield ``(key, result)`` for every job in the order they finish.

    A job that raises re-raises here (the caller decides). When ``stop`` is set, the running jobs
    are ended and :class:`Stopped` is raised; the waits poll it, so a signal handler only has to
    set it (raising from a handler inside an executor's wait can leave it unable to shut down).
    Leaving the iterator early (an error, a stop) cancels the jobs not yet started."""
    if not jobs:
        return
    stop = stop or threading.Event()
    if executor == "local":
        yield from _local(jobs, processes, stop)
    elif executor == "dask":
        yield from _dask(jobs, scheduler, stop)
    else:
        raise InstanceError("--executor", f"unknown executor {executor!r}; use local or dask")


def _local(jobs: list[Job], processes: int, stop: threading.Event) -> Iterator[tuple[str, Any]]:
    if processes <= 1 or len(jobs) == 1:
        for key, fn, args in jobs:  # in this process: no start-up cost, Ctrl-C reaches the solver
            if stop.is_set():
                raise Stopped
            yield key, fn(*args)
        return
    pool = ProcessPoolExecutor(max_workers=min(processes, len(jobs)), mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(fn, *args): key for key, fn, args in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                yield futures[fut], fut.result()
            if stop.is_set():
                raise Stopped
    except BaseException:
        # stopped (Ctrl-C, SIGTERM, an error, the caller gone): no job may run on unseen
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(jobs: list[Job], scheduler: str | None, stop: threading.Event) -> Iterator[tuple[str, Any]]:
    if not scheduler:
        raise InstanceError("--scheduler", "--executor dask needs the scheduler's address (tcp://host:port)")
    try:
        from distributed import Client
        from distributed import wait as dask_wait
    except ImportError:
        raise InstanceError("--executor", "dask is not installed; install the extra: pip install 'schoolpost[distributed]'") from None
    try:
        client = Client(scheduler, timeout=10)
    except (OSError, TimeoutError) as exc:
        raise InstanceError("--scheduler", f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        futures = {}
        for key, fn, args in jobs:
            futures[client.submit(fn, *args, pure=False)] = key
        pending = set(futures)
        while pending:
            try:
                done, pending = dask_wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            pending = set(pending)
            for fut in done:
                yield futures[fut], fut.result()
            if stop.is_set():
                client.cancel(list(pending))
                raise Stopped
    finally:
        client.close()
