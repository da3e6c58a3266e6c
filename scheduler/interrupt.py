"""Ctrl-C and SIGTERM during a command that writes a roster: stop the search, keep the roster.

A command that solves and writes (``solve``, ``repair``) runs inside :func:`deferred`: from its
start to its last file, the first Ctrl-C or SIGTERM only *requests* a stop. The running search
stops at once and returns its best roster, the stages not yet started are skipped (so a signal
while the instance is read or the model built still gives the greedy roster), and the files are
written whole. A signal that comes after the search has ended changes nothing: the files are
written as they would have been. A second signal ends the process at once (``KeyboardInterrupt``;
the files being written are removed, never left half-written).

The searches (:func:`scheduler.cpsat.solver.run_parallel`, :func:`scheduler.lns.improve`) install
their own handlers with :func:`on_signal`, which chains to the handler they replace, and check
:func:`requested` before they start, so a request made between two stages is not lost.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_requested = threading.Event()


def requested() -> bool:
    """A stop was requested (by a signal inside :func:`deferred`)."""
    return _requested.is_set()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """While the block runs, the first Ctrl-C or SIGTERM requests a stop instead of ending the
    process; a second raises ``KeyboardInterrupt``. The previous handlers are restored on exit."""
    if not _in_main_thread():  # signals reach the main thread only: nothing to install
        yield
        return

    def handler(signum, frame):
        if _requested.is_set():
            raise KeyboardInterrupt
        _requested.set()

    _requested.clear()
    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _requested.clear()


@contextlib.contextmanager
def on_signal(callback: Callable[[], None]) -> Iterator[None]:
    """While the block runs, Ctrl-C and SIGTERM call ``callback`` (from the main thread), then the
    handler they replaced when it is a Python one (e.g. :func:`deferred`'s, or a batch's stop flag),
    so the whole run learns of the stop, not only this search. Outside the main thread nothing is
    installed (the caller polls :func:`requested`)."""
    if not _in_main_thread():
        yield
        return
    previous: dict = {}

    def handler(signum, frame):
        callback()
        outer = previous.get(signum)
        if callable(outer) and outer is not signal.default_int_handler:
            outer(signum, frame)

    for sig in SIGNALS:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
