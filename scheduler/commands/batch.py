"""``schoolpost batch``: a city district by district (or a folder of district files, one part
each), merged and checked, resumable."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click

from scheduler.batch import fix_text, run_batch
from scheduler.commands.options import (
    OUTPUTS_HELP,
    WORK_LIMIT_OPTION,
    FiniteFloat,
    calibrate_once,
    exit_if_invalid,
    time_limit_type,
)
from scheduler.parallel import DASK_WAIT_SECONDS, stop_on_signals
from scheduler.pipeline import clock_note, parse_outputs


@click.command()
@click.argument("instance", type=click.Path())
@click.option("--by", type=click.Choice(["district"]), default="district", show_default=True,
              help="How to split a city file (a folder's files are its parts).")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(), help="Folder for the merged and per-district files.")
@click.option("--time-limit", type=time_limit_type(0.1), default=60.0, show_default=True,
              help="Seconds per district.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="CP-SAT threads per district.")
@click.option("--jobs", type=click.IntRange(1, 1024), default=None,
              help="Districts solved at once on this machine [default: cores / workers].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--strategy", type=click.Choice(["auto", "full", "lns"]), default="auto", show_default=True)
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Local processes, or a Dask distributed cluster (extra schoolpost[distributed]).")
@click.option("--scheduler", "scheduler_address", default=None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786.")
@WORK_LIMIT_OPTION
@click.option("--outputs", "outputs_text", default="all", show_default=True, help=OUTPUTS_HELP)
@click.option("--dask-wait", type=FiniteFloat(min=1, max=86400), default=DASK_WAIT_SECONDS, show_default=True,
              help="Seconds to wait for the Dask scheduler to answer, and then for it to have a worker.")
@click.option("--quiet", is_flag=True, help="Only the final line.")
def batch_command(instance, by, outdir, time_limit, workers, jobs, seed, strategy, executor, scheduler_address,
                  work_limit, outputs_text, dask_wait, quiet):
    """Solve INSTANCE district by district and merge the rosters (resumable: run it again to go on);
    the human outputs (roster.xlsx, duty sheets, calendars, report.html) are made of the merged city.
    INSTANCE may be a folder of instance files (*.yaml, *.yml, *.json, *.xlsx; not sub-folders):
    each file is one part, named by its file name without the extension; they must agree on
    week_start, days, timezone, policy and travel, and no id may be in two files."""
    started = time.monotonic()
    outputs = parse_outputs(outputs_text)
    # nominal_time as solve sets it: a district's "auto" work budget derives from --time-limit the
    # same way, so a district gets the roster solve gives its instance with the same options
    options = {"time_limit": time_limit, "workers": workers, "seed": seed, "strategy": strategy,
               "nominal_time": time_limit}
    if work_limit != "auto":  # absent otherwise, so finished districts of earlier runs keep their keys
        options["work_limit"] = work_limit
    calibrate_once(work_limit, quiet)  # a machine's first run with an auto budget: its speed, stored
    use_bar = not quiet and sys.stderr.isatty()
    bar = None

    def progress(n: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=max(1, total), label="districts", file=sys.stderr)
            bar.__enter__()
        bar.update(n)

    echo = None if quiet or use_bar else (lambda line: click.echo(line))
    try:
        with stop_on_signals() as stop:  # Ctrl-C and SIGTERM: the batch stops at its next poll
            summary, report = run_batch(instance, outdir, by=by, options=options, executor=executor,
                                        scheduler=scheduler_address, processes=jobs, echo=echo,
                                        progress=progress if use_bar else None, stop=stop, outputs=outputs,
                                        dask_wait=dask_wait)
    except KeyboardInterrupt:
        root = Path(outdir) / "districts"
        with contextlib.suppress(OSError):
            if any(not p.name.startswith(".") for p in root.iterdir()):
                click.echo(f"\ninterrupted: finished districts are kept in {root}; run the same command again to go on",
                           err=True)
                sys.exit(130)
        click.echo("\ninterrupted: no district had finished", err=True)
        sys.exit(130)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if use_bar:
        for line in fix_text(summary["cross_district"]):
            click.echo("note: " + line, err=True)
    click.echo(f"{summary['districts']} districts ({', '.join(f'{n} {s}' for s, n in summary['statuses'].items())}): "
               f"objective {summary['objective']:.1f}, shortfall {summary['shortfall']}, "
               f"{summary['assignments']} assignments, valid {report.ok}, {time.monotonic() - started:.1f}s -> {outdir}")
    noted = [r for r in summary["per_district"] if r.get("note")]
    if noted and not quiet:
        click.echo(f"note: {len(noted)} district(s): {noted[0]['district']}: {noted[0]['note']}", err=True)
    cut = [r["district"] for r in summary["per_district"] if not r["reproducible"]]
    if cut and work_limit is not None and not quiet:
        names = f"{', '.join(cut[:5])}{', ...' if len(cut) > 5 else ''}"
        click.echo(clock_note(f"the search of {len(cut)} district(s) ({names})", "may give another roster there"),
                   err=True)
    exit_if_invalid(report, "the merged roster")
