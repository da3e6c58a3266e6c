"""Human outputs of a roster (issue 5): files people open, print and carry.

Everything here is made from the instance, the roster rows (SPEC columns), the validator's
:class:`scheduler.check.CheckReport`, the gap rows and summary.json, never from the model, so the
same files can be made again from a roster folder (``schoolpost report``).

| file | module |
|---|---|
| ``roster.xlsx`` | :mod:`scheduler.human.workbook` |
| ``duty-sheets.html`` | :mod:`scheduler.human.sheets` |
| ``calendars/<person>.ics`` | :mod:`scheduler.human.calendars` |
| ``report.html`` | :mod:`scheduler.human.report` |
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

#: the human outputs ``solve`` writes by default (``--outputs``), in the order they are made
HUMAN_OUTPUTS = ("xlsx", "sheets", "calendars", "report")


def parallel_outputs(outputs: tuple[str, ...]) -> bool:
    """Whether :func:`human_files` makes roster.xlsx in a second process beside the others: with
    at least two cores for this process and something else to make meanwhile, where ``fork`` is
    (Linux, macOS)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return "xlsx" in outputs and len(outputs) > 1 and cores >= 2 and hasattr(os, "fork")


def human_files(inst, rows: list[dict], report, gaps: list, summary: dict,
                outputs: tuple[str, ...] = HUMAN_OUTPUTS, *, previous=None, published_at=None,
                reminder: int | None = None) -> dict[str, str | bytes]:
    """``{file name: content}`` of the chosen human outputs (names as in the table above).

    ``previous`` (the previous publication's events, :func:`scheduler.human.calendars.previous_events`),
    ``published_at`` (DTSTAMP) and ``reminder`` (minutes) go to the calendars. The workbook, the
    slowest (openpyxl: 6 s on a district), is made in a forked process while this one makes the
    rest (:func:`parallel_outputs`); the same bytes either way, and made here if that process fails."""
    files: dict[str, str | bytes] = {}
    workbook: _Beside | None = None
    if "xlsx" in outputs:
        from scheduler.human.workbook import roster_workbook

        def make_workbook() -> bytes:
            return roster_workbook(inst, rows, report, gaps, summary)

        workbook = _Beside(make_workbook, fork=parallel_outputs(outputs))
    try:
        if "sheets" in outputs:
            from scheduler.human.sheets import duty_sheets_html

            files["duty-sheets.html"] = duty_sheets_html(inst, rows, report, gaps)
        if "calendars" in outputs:
            from scheduler.human.calendars import person_calendars

            for name, data in person_calendars(inst, rows, previous=previous, published_at=published_at,
                                               reminder=reminder).items():
                files[f"calendars/{name}"] = data
        if "report" in outputs:
            from scheduler.human.report import report_html

            files["report.html"] = report_html(inst, rows, report, gaps, summary)
        if workbook is not None:
            files = {"roster.xlsx": workbook.result(), **files}  # first, in the order of HUMAN_OUTPUTS
    finally:
        if workbook is not None:
            workbook.cancel()  # a child left behind by an error or a stop here ends now
    return files


class _Beside:
    """``make()`` started in a forked child now (``fork``), or made here when :meth:`result` is
    called. The child ignores Ctrl-C (the parent decides what a stop means) and ends with the
    parent; if it fails or dies, :meth:`result` makes the bytes in this process instead."""

    def __init__(self, make: Callable[[], bytes], *, fork: bool):
        self.make = make
        self.process = None
        if not fork:
            return
        import multiprocessing

        from scheduler.parallel import end_with_parent

        context = multiprocessing.get_context("fork")
        self.receive, send = context.Pipe(duplex=False)
        parent = os.getpid()

        def child() -> None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            end_with_parent(parent)
            try:
                send.send_bytes(make())
            except BaseException:  # noqa: BLE001 - the parent makes it instead; nothing printed here
                os._exit(1)
            os._exit(0)  # no clean-up of the parent's copy (its atexit handlers, its threads' state)

        process = context.Process(target=child, daemon=True)
        try:
            process.start()
        except OSError:  # no process to be had (limits): made here
            self.receive.close()
            return
        finally:
            send.close()
        self.process = process

    def result(self) -> bytes:
        if self.process is None:
            return self.make()
        try:
            data = self.receive.recv_bytes()
        except (EOFError, OSError):
            data = None
        self.cancel()
        return self.make() if data is None else data

    def cancel(self) -> None:
        """End the child (if still running) and wait for it; idempotent."""
        if self.process is None:
            return
        process, self.process = self.process, None
        self.receive.close()
        if process.is_alive():
            process.terminate()
        process.join()
