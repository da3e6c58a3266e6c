"""``schoolpost calibrate``: this machine's speed, stored for reproducible work budgets."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--runs", type=click.IntRange(1, 9), default=3, show_default=True,
              help="Times the workload is run; the median counts.")
@click.option("--show", is_flag=True, help="Print the stored calibration and change nothing.")
@click.option("--reset", is_flag=True, help="Remove the stored calibration (auto budgets use the reference rates).")
def calibrate_command(runs, show, reset):
    """Measure this machine's speed once and store it, so that --work-limit auto gives budgets the
    machine finishes before the clock (the same roster on a rerun). About 10 s."""
    from scheduler.calibrate import calibrate, factor, path, store

    where = path()
    if show:
        value, source = factor()
        click.echo(f"factor {value:g} ({source})")
        return
    try:
        if reset:
            if where.exists():
                where.unlink()
            click.echo(f"removed {where}; auto budgets use the reference machine's rates (factor 1)")
            return
        record = calibrate(runs)
        store(record)
    except OSError as exc:  # an unwritable config folder: one line, not a traceback
        click.echo(f"error: {where}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo(f"speed {record['speed']:g} deterministic s/s (reference {record['reference_speed']:g}); "
               f"factor {record['factor']:g} -> {where}")
