"""``schoolpost solve``: an instance to its roster files, with live progress."""

from __future__ import annotations

import sys
import time

import click

from models import instance_from_data, load_document
from scheduler.commands.options import (
    MAX_PAIRS_OPTION,
    OUTPUTS_HELP,
    WORK_LIMIT_OPTION,
    calibrate_once,
    exit_if_invalid,
    open_log,
    output_dir,
    time_limit_type,
)
from scheduler.duties import check_size
from scheduler.interrupt import deferred
from scheduler.pipeline import (
    clock_cut_budget,
    clock_note,
    parse_outputs,
    process_age,
    result_lines,
    shortfall_line,
    solve_to_folder,
    stale_calibration_note,
)


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(), help="Folder for the roster files.")
@click.option("--time-limit", type=time_limit_type(0.1), default=60.0, show_default=True,
              help="Whole budget in seconds, model building and writing the files included.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="CP-SAT worker threads.")
@click.option("--seed", type=int, default=0, show_default=True, help="CP-SAT random seed.")
@click.option("--lexicographic", is_flag=True, help="Minimise shortfall first, then everything else.")
@click.option("--strategy", type=click.Choice(["auto", "full", "lns"]), default="auto", show_default=True,
              help="One model for the whole week (full), or area by area and day by day (lns); auto picks by size.")
@WORK_LIMIT_OPTION
@click.option("--outputs", "outputs_text", default="all", show_default=True, help=OUTPUTS_HELP)
@click.option("--quiet", is_flag=True, help="No live progress and no closing line.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False), default=None,
              help="Write progress as JSON lines to this file (start, progress, done).")
@MAX_PAIRS_OPTION
def solve_command(instance, outdir, time_limit, workers, seed, lexicographic, strategy, work_limit, outputs_text,
                  quiet, log_path, max_pairs):
    """Solve INSTANCE and write roster.csv, roster.json, gaps.csv, summary.json and the human
    outputs (roster.xlsx, duty-sheets.html, calendars/, report.html).

    On a terminal a live line shows the stage, elapsed time, objective, bound and gap."""
    from scheduler.progress import SolveProgress

    started = time.monotonic() - process_age()
    # from here to the last file a first Ctrl-C or SIGTERM stops the search and keeps its roster
    with deferred():
        outputs = parse_outputs(outputs_text)
        doc = load_document(instance)
        check_size(doc, max_pairs)  # before validating: a very large file is refused in seconds
        inst = instance_from_data(doc)
        out = output_dir(outdir)
        log = open_log(log_path)
        started += calibrate_once(work_limit, quiet)  # a machine's first run: its speed, not counted
        show = not quiet and sys.stderr.isatty()
        try:
            with SolveProgress(time_limit=time_limit, show=show, log=log, started=started) as view:
                view.begin(instance=inst.name, path=str(instance), time_limit=time_limit, workers=workers, seed=seed,
                           strategy=strategy, outputs=list(outputs))
                result, summary, report, gaps = solve_to_folder(
                    inst, out, outputs=outputs, time_limit=time_limit - (time.monotonic() - started), workers=workers,
                    seed=seed, lexicographic=lexicographic, strategy=strategy, work_limit=work_limit,
                    nominal_time=time_limit, on_progress=view.update, max_pairs=max_pairs)
                view.finish(status=result.status, reproducible=summary["reproducible"],
                            objective=round(result.objective, 6),
                            bound=round(result.best_bound, 6), gap=round(result.gap, 6), valid=report.ok,
                            assignments=summary["assignments"], gaps=len(gaps), output=str(out))
        finally:
            if log is not None:
                log.close()
    if not quiet:
        for line in result_lines(summary, time.monotonic() - started, out):
            click.echo(line)
    if not quiet and (line := shortfall_line(summary)):
        click.echo(line)
    if result.note and not quiet:
        click.echo(f"note: {result.note}", err=True)
    if clock_cut_budget(result, work_limit) and not quiet:
        click.echo(clock_note("the search", 'may give another roster (summary.json: "reproducible": false)'), err=True)
    if not quiet and (stale := stale_calibration_note(summary)):
        click.echo(stale, err=True)
    exit_if_invalid(report)
