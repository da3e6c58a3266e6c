"""``schoolpost whatif``: the baseline and its variants solved side by side."""

from __future__ import annotations

import sys
import time

import click

from scheduler.commands.options import MAX_PAIRS_OPTION, WORK_LIMIT_OPTION, calibrate_once, time_limit_type
from scheduler.duties import MAX_PAIRS
from scheduler.parallel import stop_on_signals
from scheduler.whatif import format_table, run_whatif


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("scenarios", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(), help="Folder for every roster and the comparison.")
@click.option("--time-limit", type=time_limit_type(0.1), default=60.0, show_default=True, help="Seconds per variant.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="CP-SAT threads per variant.")
@click.option("--jobs", type=click.IntRange(1, 1024), default=None, help="Variants solved at once [default: cores / workers].")
@click.option("--seed", type=int, default=0, show_default=True)
@WORK_LIMIT_OPTION
@click.option("--quiet", is_flag=True, help="Only the table.")
@MAX_PAIRS_OPTION
def whatif_command(instance, scenarios, outdir, time_limit, workers, jobs, seed, work_limit, quiet, max_pairs):
    """Solve INSTANCE and each variant in SCENARIOS; compare KPIs side by side and explain them."""
    started = time.monotonic()
    # nominal_time as solve sets it: an "auto" work budget derives from the planner's --time-limit the
    # same way, so the baseline is the roster solve gives with the same options
    options = {"time_limit": time_limit, "workers": workers, "seed": seed, "nominal_time": time_limit}
    if max_pairs != MAX_PAIRS:
        options["max_pairs"] = max_pairs
    if work_limit != "auto":  # auto is solve's default
        options["work_limit"] = work_limit
    calibrate_once(work_limit, quiet)  # a machine's first run with an auto budget: its speed, stored
    echo = None if quiet else (lambda line: click.echo(line, err=True))
    try:
        with stop_on_signals() as stop:
            report = run_whatif(instance, scenarios, outdir, options=options, processes=jobs, echo=echo, stop=stop)
    except KeyboardInterrupt:
        click.echo("interrupted: no comparison written (variant folders are written only when all are done)",
                   err=True)
        sys.exit(130)
    click.echo(format_table(report["kpis"]))
    for name, lines in report["explanations"].items():
        click.echo(f"\n{name}:")
        for line in lines:
            click.echo(f"  - {line}")
    bad = [n for n, ok in report["valid"].items() if not ok]
    click.echo(f"\n{len(report['valid'])} rosters, {time.monotonic() - started:.1f}s -> {outdir}", err=True)
    if bad:
        click.echo(f"hard-rule violations in: {', '.join(bad)}", err=True)
        sys.exit(1)
