"""Options and helpers shared by the commands: numbers that are numbers, work budgets, outputs, output folders, logs."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import click

from models import InstanceError
from scheduler.duties import MAX_PAIRS


def output_dir(path: str) -> Path:
    from scheduler.output import output_folder

    return output_folder(path)


def open_log(path: str | None):
    if path is None:
        return None
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise InstanceError("--log", f"cannot write {path}: {exc.strerror}") from None


def work_limit_value(ctx, param, value: str) -> float | str | None:
    """``--work-limit``: ``auto`` (solve's default), ``none`` (None) or a positive number."""
    text = value.strip().lower()
    if text in ("auto", "none"):
        return None if text == "none" else "auto"
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not (0.01 <= number <= 1e9):
        raise click.BadParameter(f"{value!r} is not auto, none or a number of deterministic seconds (0.01 or more)")
    return number


def calibrate_once(work_limit, quiet: bool = False) -> float:
    """On a machine never calibrated, before the first run with an ``auto`` work budget: measure its
    speed now, as ``schoolpost calibrate`` does, and store it, so that this run and every later one
    get budgets this machine finishes before the clock, and the same roster on a rerun (the
    reference machine's rates, the default, overrun a slower machine). Says so on stderr; returns
    the seconds it took, which ``solve`` keeps out of ``--time-limit``. Nothing when a calibration
    is stored (or ``SCHOOLPOST_CALIBRATION`` names a file that exists) or the budget is not
    ``auto``; a folder it cannot write to gives a note and the default."""
    from scheduler.calibrate import calibrate, path, store
    from scheduler.interrupt import requested

    where = path()
    if work_limit != "auto" or where.exists() or requested():
        return 0.0
    began = time.monotonic()
    record = calibrate()
    spent = time.monotonic() - began
    if requested():  # a Ctrl-C cut the measurement short: its speed is not this machine's
        return spent
    try:
        store(record)
    except OSError as exc:
        if not quiet:
            click.echo(f"note: this machine's speed could not be stored ({where}: {exc.strerror or exc}); auto "
                       f"budgets use the reference machine's rates", err=True)
        return spent
    if not quiet:
        click.echo(f"note: first run on this machine: its speed measured once ({spent:.1f} s, not counted in the "
                   f"time limit; factor {record['factor']:g}) and stored in {where}; `schoolpost calibrate` "
                   f"measures it again", err=True)
    return spent


class FiniteFloat(click.FloatRange):
    """A number in a range that is a number: click's FloatRange lets ``nan`` (every comparison
    false) and ``inf`` through."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def time_limit_type(least: float) -> FiniteFloat:
    """``--time-limit`` of every command: seconds, at least ``least``, at most ten million."""
    return FiniteFloat(min=least, max=1e7)


#: ``--work-limit`` of solve, batch and whatif
WORK_LIMIT_OPTION = click.option(
    "--work-limit", default="auto", show_default=True, callback=work_limit_value,
    help="Search budget in CP-SAT deterministic seconds (machine-independent work) per solve. auto: derived "
         "from --time-limit, so that on a 2-core machine like the reference one the budget ends the search "
         "and the same instance, seed and workers give the same roster; a number: that budget; none: search "
         "until --time-limit (every second used, not reproducible). --time-limit is always a cap.")


#: ``--max-pairs`` of every command that solves (solve, whatif, staffing, repair)
MAX_PAIRS_OPTION = click.option(
    "--max-pairs", type=click.IntRange(1, 10**9), default=MAX_PAIRS, show_default=True,
    help="Refuse an instance (or a what-if variant) with more eligible (person, duty) pairs (about 2.7 KB of "
         "memory each).")


OUTPUTS_HELP = ("Human outputs besides the CSV/JSON files: all (default), none, or a comma list of xlsx "
                "(roster.xlsx), sheets (duty-sheets.html), calendars (calendars/*.ics), report (report.html).")

#: ``--outputs`` (parsed by :func:`scheduler.pipeline.parse_outputs`), shared with repair
OUTPUTS_OPTION = click.option("--outputs", "outputs_text", default="all", show_default=True, help=OUTPUTS_HELP)


def exit_if_invalid(report, what: str = "the roster") -> None:
    """A roster that breaks a hard rule: its first violations, what was (not) written, exit 1."""
    if report.ok:
        return
    for v in report.violations[:20]:
        click.echo(f"VIOLATION {v.rule} person={v.person_id} duty={v.duty}: {v.detail}", err=True)
    click.echo(f"{what} breaks {len(report.violations)} hard rule(s): roster.csv, gaps.csv and summary.json are "
               f"written to inspect it, no workbook, duty sheets, calendars or report", err=True)
    sys.exit(1)
