"""``schoolpost staffing``: how many people of a role each unit needs."""

from __future__ import annotations

import sys
import time

import click

from models import ROLES
from scheduler.commands.options import MAX_PAIRS_OPTION, WORK_LIMIT_OPTION, FiniteFloat, time_limit_type
from scheduler.parallel import stop_on_signals
from scheduler.pipeline import clock_note
from scheduler.staffing import COLUMNS, run_staffing


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--role", required=True, type=click.Choice(ROLES), help="The role to count.")
@click.option("--unit", default=None, help="One unit (or a school id for its own staff) [default: every unit with that role].")
@click.option("--fill-rate", type=FiniteFloat(0.0, 1.0), default=1.0, show_default=True,
              help="Share of the people demanded at min that must be there.")
@click.option("-o", "--output", "outdir", default=None, type=click.Path(), help="Also write staffing.csv and staffing.json here.")
@click.option("--time-limit", type=time_limit_type(0.1), default=20.0, show_default=True, help="Seconds per unit.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="CP-SAT threads per unit.")
@click.option("--seed", type=int, default=0, show_default=True)
@WORK_LIMIT_OPTION
@MAX_PAIRS_OPTION
@click.option("--quiet", is_flag=True)
def staffing_command(instance, role, unit, fill_rate, outdir, time_limit, workers, seed, work_limit, quiet,
                     max_pairs):
    """The smallest number of people of ROLE per unit with which every duty is met at min."""
    from scheduler.output import csv_text, json_text, output_folder, write_files

    started = time.monotonic()
    if outdir is not None:
        output_folder(outdir)  # refused before any work
    options = {"time_limit": time_limit, "workers": workers, "seed": seed, "work_limit": work_limit}
    try:
        with stop_on_signals() as stop:
            results = run_staffing(instance, role, unit=unit, fill_rate=fill_rate, options=options, stop=stop,
                                   max_pairs=max_pairs,
                                   echo=None if quiet else (lambda line: click.echo(line, err=True)))
    except KeyboardInterrupt:
        click.echo("interrupted: nothing written", err=True)
        sys.exit(130)
    rows = [r["row"] for r in results]
    import pandas as pd

    table = pd.DataFrame(rows, columns=list(COLUMNS)).drop(columns=["role", "drivers"]).set_index("unit")
    click.echo(table.to_string())
    for r in rows:
        click.echo(f"{r['unit']}: {r['drivers']}")
    total_add = sum(r["to_add"] or 0 for r in rows)
    click.echo(f"{role}: {sum(r['have'] for r in rows)} now, {sum(r['needed'] or 0 for r in rows)} needed, "
               f"{total_add} to add at fill rate {fill_rate:.0%}; {time.monotonic() - started:.1f}s")
    reproducible = all(r["reproducible"] for r in results)
    if not reproducible and work_limit is not None and not quiet:
        click.echo(clock_note("a unit's search", "may answer differently"), err=True)
    if outdir is not None:
        write_files(outdir, {"staffing.csv": csv_text(rows, COLUMNS),
                             "staffing.json": json_text({"instance": str(instance), "role": role,
                                                         "fill_rate": fill_rate, "work_limit": work_limit,
                                                         "reproducible": reproducible, "units": results})})
