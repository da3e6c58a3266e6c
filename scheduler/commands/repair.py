"""``schoolpost repair``: a published roster mended for absences and closed schools."""

from __future__ import annotations

import datetime as dt
import sys

import click

from scheduler.commands.options import MAX_PAIRS_OPTION, OUTPUTS_OPTION, time_limit_type
from scheduler.interrupt import deferred
from scheduler.pipeline import parse_outputs
from scheduler.repair import run_repair


def published_at_value(ctx, param, value: str | None) -> dt.datetime | None:
    """``--published-at``: an ISO date and time; without a zone it is UTC."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date and time such as 2026-12-08T18:30:00Z") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("roster", type=click.Path())
@click.option("--absent", multiple=True, help="Absent person id (repeat for several).")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First date of the absence; earlier duties are past and never change [default: first date]. "
                   "A date after the last duty is refused (nothing would change).")
@click.option("--close-school", "close", multiple=True, help="Closed school id (repeat for several).")
@click.option("--keep", "--pin", "keep", multiple=True,
              help="Keep as published: school:ID, person:ID or date:YYYY-MM-DD (--pin: the older name); a date "
                   "outside the week or without duties is refused (keeping it would change nothing).")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(), help="Folder for the repaired roster.")
@click.option("--time-limit", type=time_limit_type(0.5), default=30.0, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@OUTPUTS_OPTION
@click.option("--published-at", callback=published_at_value, default=None, metavar="DATETIME",
              help="The calendars' DTSTAMP, e.g. 2026-12-08T18:30:00Z (no zone: UTC) [default: reproducible: "
                   "SOURCE_DATE_EPOCH if set, else the later of midnight UTC of week_start and the published "
                   "calendars' DTSTAMP].")
@click.option("--reminder", type=click.IntRange(0, 7 * 24 * 60), default=None, metavar="MINUTES",
              help="Add a reminder (VALARM) this many minutes before each duty to the calendars [default: none].")
@MAX_PAIRS_OPTION
def repair_command(instance, roster, absent, start, close, keep, outdir, time_limit, workers, seed, outputs_text,
                   published_at, reminder, max_pairs):
    """Mend ROSTER (a folder, its roster.csv, or roster.xlsx as solve wrote it, perhaps edited) for absent people or closed schools, changing as little as possible.

    Writes the roster files, changes.csv and, as solve, the human outputs; the calendars update the
    ones published with ROSTER (same UIDs, SEQUENCE raised where a duty changed, a duty taken away
    as a cancelled event)."""
    outputs = parse_outputs(outputs_text)
    with deferred():  # a first Ctrl-C or SIGTERM stops the search; the mended roster so far is written
        summary = run_repair(instance, roster, outdir, absent=list(absent), start=start.date() if start else None,
                             close=list(close), keep=list(keep), time_limit=time_limit, workers=workers,
                             seed=seed, outputs=outputs, published_at=published_at, reminder=reminder,
                             max_pairs=max_pairs)
    r = summary["repair"]
    click.echo(f"{summary['status']}: {r['changes']} changes ({r['removed']} removed, of which {r['forced_removals']} "
               f"forced; {r['added']} added), {r['kept']} of {r['published_assignments']} assignments kept; "
               f"shortfall {summary['terms'].get('shortfall', 0)}, objective {summary['objective']:.1f}, "
               f"{summary['wall_time']:.1f}s -> {outdir}")
    if not summary["valid"]:
        sys.exit(1)
