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

Nothing here waits for ever or ends in a traceback: every call to the Dask scheduler runs in a
thread of its own, given up after ``dask_wait`` seconds (a port that is no scheduler, a scheduler
that stopped answering) and ended by a stop at once; a scheduler without a worker, at the start or
mid-run, is waited for (``notify`` says so) for as long. What ran the jobs lost (the scheduler, its
last worker, a local worker process killed) raises :class:`Unfinished`, one line naming the jobs
that did not finish; the results yielded before stand.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, CancelledError, wait
from functools import partial
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


@contextlib.contextmanager
def stop_at_once() -> Iterator[None]:
    """While the block runs, Ctrl-C and SIGTERM raise :class:`Stopped` where the main thread is,
    for work after the jobs that polls nothing (a batch's merge, check and human outputs: they
    took minutes on a city while a Ctrl-C was only noted)."""
    def now() -> None:
        raise Stopped

    with on_signal(now):
        yield


class Unfinished(InstanceError):
    """The run lost what ran its jobs before they all ended (the Dask scheduler gone or without a
    worker for too long, a local worker process killed): one line, ``why`` and the keys of the
    jobs that did not finish (``unfinished``, in the order given); the results yielded before
    stand."""

    def __init__(self, path: str, why: str, unfinished: list[str]):
        self.why = why
        self.unfinished = list(unfinished)
        super().__init__(path, f"{why}; not finished: {names_text(self.unfinished)}")

    def __reduce__(self):
        return (type(self), (self.path, self.why, self.unfinished))


def names_text(names: list[str], shown: int = 5) -> str:
    """``a, b, c`` or ``a, b, c, d, e and 3 more``."""
    text = ", ".join(names[:shown])
    return f"{text} and {len(names) - shown} more" if len(names) > shown else text


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

    # loky restarts a worker that grew by more than 300 MB since it started (a district's solve does:
    # its models are freed, not returned to the system) and warns of "a memory leak" on the
    # console; the restart is what we want, the warning is noise to a planner
    warnings.filterwarnings("ignore", message="A worker was restarted", category=UserWarning)
    pool = ProcessPoolExecutor(max_workers=min(processes, len(jobs)), initializer=end_with_parent,
                               initargs=(os.getpid(),))
    finished = False
    try:
        futures = {pool.submit(fn, *args): key for key, fn, args in jobs}
        pending = set(futures)
        yielded: set[str] = set()
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: f.exception() is not None):  # the results first
                try:
                    result = fut.result()
                except BrokenExecutor as exc:  # a worker killed (the OOM killer, kill -9): every job left is lost
                    raise Unfinished("", f"a worker process ended while solving ({_exit_codes(exc)}: out of memory, or killed)",
                                     [key for key in futures.values() if key not in yielded]) from None
                yielded.add(futures[fut])
                yield futures[fut], result
            if stop.is_set():
                raise Stopped
        finished = True
    finally:
        # stopped (Ctrl-C, SIGTERM, an error, the caller gone): the workers are killed, not asked
        # (a solve in a worker would take a polite SIGTERM as "stop and send back your roster")
        pool.shutdown(wait=True, kill_workers=not finished)


def _exit_codes(exc: BaseException) -> str:
    """How loky says the worker ended (``SIGKILL(-9)``), or that it ended unexpectedly."""
    found = re.search(r"exit codes of the workers are \{([^}]*)\}", str(exc))
    return found.group(1) if found else "it ended unexpectedly"


def end_with_parent(parent: int) -> None:
    """In a pool worker or a forked helper: end when the process that started it ends, even by ``kill -9`` (which
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


class _NoAnswer(Exception):
    """A call to the Dask scheduler did not return in time."""


def _in_thread(fn: Callable[[], Any], stop: threading.Event, seconds: float) -> Any:
    """``fn()`` in a thread of its own, so that a Ctrl-C (``stop``) ends the wait at once and a
    peer that never answers (the Dask client waits on some for ever) is given up after
    ``seconds`` (:class:`_NoAnswer`); ``fn``'s own error is raised here."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - raised again below, in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="dask-call", daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    while thread.is_alive():
        thread.join(0.1)
        if stop.is_set():
            raise Stopped
        if time.monotonic() > deadline:
            raise _NoAnswer
    if "error" in box:
        raise box["error"]
    return box["value"]


#: the address schemes of a Dask scheduler a client on another machine can reach
SCHEMES = ("tcp", "tls", "ws", "wss")


def _check_address(address: str) -> None:
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    def bad(why: str) -> InstanceError:
        return InstanceError("--scheduler", f"{address!r} is not a scheduler address like tcp://10.0.0.5:8786 ({why})")

    try:
        scheme, where = parse_address(address)
        if scheme not in SCHEMES:
            raise bad(f"the scheme is {scheme}, not {' or '.join(SCHEMES)}")
        host, port = parse_host_port(where)
    except ValueError as exc:
        raise bad(str(exc)) from None
    if not host:
        raise bad("no host")
    if not 1 <= int(port) <= 65535:
        raise bad(f"the port {port} is not 1-65535")


def _connect(address: str, stop: threading.Event, seconds: float):
    """A Dask client of the scheduler at ``address``, or one line naming ``--scheduler``: the
    connection is made in a thread of its own (:func:`_in_thread`), so a Ctrl-C ends the wait and
    an address that is not a Dask scheduler's (an HTTP server, which ``distributed`` waits on
    forever) is given up after ``seconds``."""
    import logging

    from distributed import Client

    _check_address(address)
    # the Dask client logs its own tracebacks when the scheduler goes away; the planner gets one
    # line from us instead
    for name in [n for n in logging.root.manager.loggerDict if n == "distributed" or n.startswith("distributed.")]:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    try:
        return _in_thread(lambda: Client(address, timeout=seconds), stop, seconds + 2)
    except _NoAnswer:
        raise InstanceError("--scheduler", f"no Dask scheduler answered at {address} within {seconds:g} s "
                                           f"(is it a Dask scheduler's address?); --dask-wait sets the time") from None
    except OSError as exc:  # refused, timed out, closed: nothing answers there
        raise InstanceError("--scheduler", f"cannot reach the Dask scheduler at {address}: {_why(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - something answered, in another protocol (it asked for 3 EiB)
        raise InstanceError("--scheduler", f"something answered at {address}, but not as a Dask scheduler does "
                                           f"({type(exc).__name__}); is it a Dask scheduler's address?") from None


def _why(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__


def _workers(client, stop: threading.Event, seconds: float) -> int:
    """How many workers the scheduler has (asked in a thread: a scheduler that stopped answering
    raises :class:`_NoAnswer` after ``seconds``)."""
    return len(_in_thread(client.nthreads, stop, seconds))


def _await_workers(client, address: str, stop: threading.Event, seconds: float, notify: Callable[[str], None]) -> None:
    """Return once the scheduler has a worker; say that it waits; give up after ``seconds``."""
    try:
        if _workers(client, stop, seconds):
            return
        notify(f"waiting for Dask workers at {address} (up to {seconds:g} s; --dask-wait sets it)")
        deadline = time.monotonic() + seconds
        while not _workers(client, stop, seconds):
            if time.monotonic() > deadline:
                raise InstanceError("--scheduler", f"the Dask scheduler at {address} has no worker after {seconds:g} s; "
                                                   f"start one (dask worker {address}) or give a longer --dask-wait")
            time.sleep(0.5)
            if stop.is_set():
                raise Stopped
    except _NoAnswer:
        raise InstanceError("--scheduler", f"the Dask scheduler at {address} stopped answering "
                                           f"(nothing within {seconds:g} s)") from None
    except OSError as exc:
        raise InstanceError("--scheduler", f"lost the Dask scheduler at {address} ({_why(exc)})") from None


#: seconds between two looks at the Dask scheduler's workers while jobs run
WORKER_CHECK_SECONDS = 2.0


def _dask(jobs: list[Job], scheduler: str | None, stop: threading.Event, seconds: float,
          notify: Callable[[str], None]) -> Iterator[tuple[str, Any]]:
    if not scheduler:
        raise InstanceError("--scheduler", "--executor dask needs the scheduler's address (tcp://host:port)")
    try:
        from distributed import wait as dask_wait
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise InstanceError("--executor", "dask is not installed; install the extra: pip install 'schoolpost[distributed]'") from None
    client = _connect(scheduler, stop, seconds)
    try:
        _await_workers(client, scheduler, stop, seconds, notify)
        futures = {}
        for key, fn, args in jobs:
            futures[client.submit(fn, *args, pure=False)] = key
        pending = set(futures)
        yielded: set[str] = set()
        checked, without = time.monotonic(), None  # the last look at the workers; since when none

        def lost(why: str) -> Unfinished:  # the client's close (below) lets the scheduler drop what is left
            return Unfinished("--scheduler", why, [key for key in futures.values() if key not in yielded])

        while pending:
            try:
                try:
                    done, pending = dask_wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                pending = set(pending)
                for fut in sorted(done, key=lambda f: f.status != "finished"):  # the results first
                    result = fut.result()
                    yielded.add(futures[fut])
                    yield futures[fut], result
                now = time.monotonic()
                if pending and now - checked > WORKER_CHECK_SECONDS:
                    checked = now
                    if _workers(client, stop, seconds):
                        without = None
                    elif without is None:
                        without = now
                        notify(f"the Dask scheduler at {scheduler} has no worker left: waiting for Dask workers "
                               f"(up to {seconds:g} s; --dask-wait sets it)")
                    elif now - without > seconds:
                        raise lost(f"the Dask scheduler at {scheduler} has had no worker for {seconds:g} s")
            except KilledWorker as exc:  # the workers died running one job, again and again
                job = next((key for fut, key in futures.items() if exc.args and fut.key == exc.args[0]), "a job")
                raise lost(f"the Dask workers at {scheduler} died while solving {job} again and again "
                           f"(out of memory, or killed)") from None
            except _NoAnswer:
                raise lost(f"the Dask scheduler at {scheduler} stopped answering (nothing within {seconds:g} s)") from None
            except (OSError, CancelledError, asyncio.CancelledError) as exc:  # the scheduler went away
                why = (exc.strerror if isinstance(exc, OSError) and exc.strerror else "the connection was lost")
                raise lost(f"lost the Dask scheduler at {scheduler} ({why})") from None
            if stop.is_set():
                left = list(pending)
                with contextlib.suppress(Exception):  # bounded: a scheduler that stopped answering cannot hold the stop
                    _in_thread(partial(client.cancel, left), threading.Event(), 5)
                raise Stopped
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)
