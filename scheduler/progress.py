"""Live progress of a solve: a status line on a terminal, JSON lines in a log file.

``schoolpost solve`` shows, while it searches, one line that refreshes four times a second: the
stage, a bar of the time limit, seconds elapsed, the best roster's objective, the bound and the
gap. It shows nothing when stderr is not a terminal (a pipe, a batch job) or with ``--quiet``.
``--log FILE`` writes one JSON object per line, flushed as it happens::

    {"event": "start", "time": 0.0, "instance": "...", "time_limit": 60.0, "workers": 2, "seed": 0}
    {"event": "progress", "time": 2.91, "stage": "greedy", "objective": 1713145.0, "bound": 508686.0, "gap": 0.703}
    {"event": "done", "time": 59.4, "status": "time_limit", "objective": ..., "bound": ..., "gap": ..., "output": "out"}

``time`` is seconds since the command started. Stages: ``greedy`` (the first valid roster),
``polish`` and ``lns`` (neighbourhood search), ``coverage`` (CP-SAT on the coverage rules alone;
its ``objective`` is the cost of those rules only, and it has no bound), ``search`` (the full
model).
"""

from __future__ import annotations

import json
import threading
import time
from typing import IO, Self

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from scheduler.cpsat.solver import Progress
from scheduler.solve import relative_gap

STAGE_LABELS = {
    "start": "loading",
    "greedy": "first roster",
    "polish": "neighbourhoods",
    "lns": "neighbourhoods",
    "coverage": "coverage first",
    "search": "full model",
}


def gap_of(objective: float | None, bound: float | None) -> float | None:
    """:func:`scheduler.solve.relative_gap`, or None before both are known."""
    return None if objective is None or bound is None else relative_gap(objective, bound)


class SolveProgress:
    """Context manager fed with :class:`Progress` events (``update``); thread-safe."""

    def __init__(self, *, time_limit: float, show: bool, log: IO[str] | None = None, started: float | None = None,
                 console: Console | None = None):
        self.time_limit = time_limit
        self.started = time.monotonic() if started is None else started
        self.log = log
        self.show = show
        self.console = console or Console(stderr=True)
        self.stage = "start"
        self.objective: float | None = None
        self.bound: float | None = None
        self.coverage: float | None = None
        self._lock = threading.Lock()
        self._live: Live | None = None

    # -- the log ------------------------------------------------------------------------

    def _write(self, event: dict) -> None:
        if self.log is None:
            return
        line = {"event": event.pop("event"), "time": round(time.monotonic() - self.started, 3), **event}
        self.log.write(json.dumps(line, allow_nan=False, default=str) + "\n")
        self.log.flush()

    # -- events -------------------------------------------------------------------------

    def begin(self, **info) -> None:
        with self._lock:
            self._write({"event": "start", **info})

    def update(self, p: Progress) -> None:
        with self._lock:
            self.stage = p.stage
            event: dict = {"event": "progress", "stage": p.stage}
            if p.stage == "coverage":
                self.coverage = p.objective
                event["coverage_cost"] = round(p.objective, 6)
            else:
                self.objective = p.objective
                self.bound = p.bound
                gap = gap_of(p.objective, p.bound)
                event.update(objective=round(p.objective, 6), bound=round(p.bound, 6),
                             gap=None if gap is None else round(gap, 6))
            self._write(event)

    def finish(self, **info) -> None:
        with self._lock:
            self._write({"event": "done", **info})

    # -- the terminal line --------------------------------------------------------------

    def _render(self):
        with self._lock:
            elapsed = time.monotonic() - self.started
            grid = Table.grid(padding=(0, 1))
            grid.add_column(width=14)
            grid.add_column(width=12)
            grid.add_column()
            figures = Text(f"{elapsed:5.1f}/{self.time_limit:.0f}s")
            if self.objective is not None:
                figures.append(f"  objective {self.objective:,.0f}")
            if self.bound is not None:
                figures.append(f"  bound {self.bound:,.0f}")
            gap = gap_of(self.objective, self.bound)
            if gap is not None:
                figures.append(f"  gap {gap:.1%}")
            if self.stage == "coverage" and self.coverage is not None:
                figures.append(f"  coverage {self.coverage:,.0f}", style="dim")
            bar = ProgressBar(total=max(self.time_limit, 1e-9), completed=min(elapsed, self.time_limit), width=12)
            grid.add_row(Text(STAGE_LABELS.get(self.stage, self.stage), style="bold"), bar, figures)
            return Group(grid)

    def __enter__(self) -> Self:
        if self.show:
            self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4,
                              transient=True)
            self._live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
