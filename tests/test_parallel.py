"""The local process pool behind ``batch`` and ``whatif`` (:mod:`scheduler.parallel`): results come
back as each job ends; a stop ends the workers even when they would take SIGTERM as "send back
what you have" (the solver does), and even while one is sending a large result back."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from scheduler.parallel import Stopped, run_jobs


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
