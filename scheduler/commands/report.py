"""``schoolpost report``: the human outputs of a roster folder, after checking it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from models import InstanceError, load_instance
from scheduler.commands.options import OUTPUTS_HELP, output_dir
from scheduler.pipeline import parse_outputs


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("roster", type=click.Path(file_okay=False))
@click.option("-o", "--output", "outdir", type=click.Path(), default=None,
              help="Folder for the files (default: the ROSTER folder).")
@click.option("--outputs", "outputs_text", default="all", show_default=True, help=OUTPUTS_HELP)
def report_command(instance, roster, outdir, outputs_text):
    """Make the human outputs (roster.xlsx, duty sheets, calendars, report.html) of the roster in
    the folder ROSTER (roster.csv, and gaps.csv and summary.json when present), e.g. the merged
    city roster of ``batch`` or a roster mended by ``repair``. The roster is checked first: one
    that breaks a hard rule is refused (exit 1)."""
    from scheduler.check import check_rows, read_roster
    from scheduler.human import human_files
    from scheduler.output import csv_rows, gaps_from_rows, write_files

    outputs = parse_outputs(outputs_text)
    inst = load_instance(instance)
    folder = Path(roster)
    rows = read_roster(folder)
    report = check_rows(inst, rows)
    if not report.ok:
        for v in report.violations[:20]:
            click.echo(str(v), err=True)
        click.echo(f"the roster breaks {len(report.violations)} hard rule(s); no outputs made", err=True)
        sys.exit(1)
    gaps = []
    if (folder / "gaps.csv").is_file():
        try:
            gaps = gaps_from_rows(csv_rows((folder / "gaps.csv").read_text(encoding="utf-8")))
        except (ValueError, TypeError, KeyError) as exc:  # UnicodeDecodeError is a ValueError
            raise InstanceError(str(folder / "gaps.csv"), f"not a gaps.csv of schoolpost ({exc})") from None
    summary = {"status": "unknown", "objective": report.objective}
    if (folder / "summary.json").is_file():
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InstanceError(str(folder / "summary.json"), f"not valid JSON ({exc})") from None
        if not isinstance(summary, dict):
            raise InstanceError(str(folder / "summary.json"), "not a summary.json of schoolpost")
    files = human_files(inst, [dict(r) for r in rows], report, gaps, summary, outputs)
    out = output_dir(outdir) if outdir else folder
    write_files(out, files)
    click.echo(f"{', '.join(sorted({n.split('/')[0] for n in files}))} -> {out}")
