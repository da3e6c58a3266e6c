"""``schoolpost generate``: a seeded, realistic instance file."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import click

from models import InstanceError
from scheduler.generate import PRESETS, generate, regenerate_command, summarize, write_instance


@click.command()
@click.option("--preset", type=click.Choice(PRESETS), default="district", show_default=True,
              help="school: one large school; district: ~150 schools; city: Binzhou's 1,056.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same file).")
@click.option("--schools", type=click.IntRange(min=1), default=None, help="Override the preset's school count.")
@click.option("--week-start", default="2026-12-07", show_default=True, help="Monday of the week (ISO date).")
@click.option("--name", default=None, help="Instance name (default from preset, week and seed).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .yaml or .json file.")
def generate_command(preset: str, seed: int, schools: int | None, week_start: str, name: str | None,
                     output: str) -> None:
    """Generate a realistic instance (schools, posts, units, routes, persons) and write it."""
    try:
        dt.date.fromisoformat(week_start)
    except ValueError:
        raise click.BadParameter(f"not an ISO date: {week_start!r}", param_hint="--week-start") from None
    if not output.strip():
        raise InstanceError("-o/--output", "is empty; name a .yaml or .json file")
    t0 = time.perf_counter()
    doc = generate(preset, seed, schools=schools, week_start=week_start, name=name)
    header = ("schoolpost/1 instance written by scheduler/generate.py; regenerate with:\n"
              + regenerate_command(preset, seed, schools, week_start, name, "FILE"))
    try:
        size = write_instance(doc, output, header)
    except OSError as exc:  # a path under a file, /proc, a read-only or full disk: one line, nothing written
        above = next((p for p in Path(os.path.abspath(output)).parents if p.exists()), None)
        why = f"{above} is a file" if above is not None and not above.is_dir() else exc.strerror or str(exc)
        raise InstanceError("-o/--output", f"cannot write {output}: {why}") from None
    s = summarize(doc)
    click.echo(
        f"{output}: {s['schools']} schools, {s['posts']} posts, {s['persons']} persons, {s['routes']} routes, "
        f"{s['duties']} duties ({s['post_duties']} post, {s['route_duties']} route), "
        f"~{s['eligible_pairs']} eligible pairs, {size / 1024:.0f} KiB, {time.perf_counter() - t0:.1f} s"
    )
