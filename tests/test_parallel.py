"""The local process pool behind ``batch`` and ``whatif`` (:mod:`scheduler.parallel`): results come
back as each job ends; a stop ends the workers even when they would take SIGTERM as "send back
what you have" (the solver does), and even while one is sending a large result back."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from scheduler.parallel import Stopped, Unfinished, run_jobs


def _quick(n: int) -> int:
    return n * n


def _stubborn(n: int) -> dict:
    """A job like a solve: it takes SIGTERM as a request to finish and then sends back a big result."""
    signal.signal(signal.SIGTERM, lambda *_: None)
    time.sleep(30)
    return {"pid": os.getpid(), "text": "x" * 5_000_000}


def test_results_come_back_for_every_job():
    jobs = [(str(n), _quick, (n,)) for n in range(6)]
    got = dict(run_jobs(jobs, processes=2))
    assert got == {str(n): n * n for n in range(6)}


def test_a_stop_kills_workers_that_ignore_sigterm():
    stop = threading.Event()
    jobs = [("quick", _quick, (3,))] + [(f"slow{n}", _stubborn, (n,)) for n in range(3)]
    started = time.monotonic()
    seen = []
    with pytest.raises(Stopped):
        for key, result in run_jobs(jobs, processes=2, stop=stop):
            seen.append(key)
            stop.set()  # as the batch's SIGTERM handler does after the first district is written
    assert seen == ["quick"]
    assert time.monotonic() - started < 20  # the 30 s jobs were killed, not waited for


def test_an_error_in_a_job_reaches_the_caller_and_the_pool_ends():
    jobs = [("bad", _quick, ("not a number",)), ("slow", _stubborn, (0,))]
    started = time.monotonic()
    with pytest.raises(TypeError):
        dict(run_jobs(jobs, processes=2))
    assert time.monotonic() - started < 20


def _killed(n: int) -> int:
    """A job whose process is killed under it (the OOM killer, a kill -9)."""
    time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)
    return n


def test_a_killed_worker_ends_the_run_naming_the_jobs_that_did_not_finish():
    """The killed process broke the pool: it was loky's traceback; now one Unfinished error
    naming every job not yet given back (the others came back before it)."""
    jobs = [("quick", _quick, (2,)), ("killed", _killed, (1,)), ("slow", _stubborn, (0,))]
    seen = []
    started = time.monotonic()
    with pytest.raises(Unfinished) as caught:
        for key, _result in run_jobs(jobs, processes=2):
            seen.append(key)
    assert "killed" in caught.value.unfinished and "slow" in caught.value.unfinished
    assert sorted(seen + caught.value.unfinished) == ["killed", "quick", "slow"]
    assert str(caught.value).startswith("a worker process ended while solving (SIGKILL(-9): ")
    assert time.monotonic() - started < 20  # the 30 s job was not waited for


def test_dask_workers_that_die_on_a_job_end_the_run_naming_it():
    """A job that kills every Dask worker that runs it (KilledWorker): one line naming it and the
    jobs left, not the Dask client's traceback."""
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster:
        jobs = [("killed", _killed, (1,))]
        with pytest.raises(Unfinished) as caught:
            list(run_jobs(jobs, executor="dask", scheduler=cluster.scheduler_address, dask_wait=30))
    assert caught.value.unfinished == ["killed"]
    assert "died while solving killed again and again" in str(caught.value)
