"""``schoolpost check``: the validator on a roster folder."""

from __future__ import annotations

import json
from pathlib import Path

import click

from models import load_instance
from scheduler.check import check_roster, format_report, number_text, objective_matches, summary_objective


@click.command()
@click.argument("instance", type=click.Path(path_type=Path))
@click.argument("outdir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_command(instance: Path, outdir: Path, as_json: bool) -> None:
    """Check OUTDIR/roster.csv against INSTANCE: hard rules, soft terms, objective and KPIs.

    OUTDIR may also be a roster.csv, or a roster.xlsx written by solve (perhaps edited since; also
    a folder's roster.xlsx when it has no roster.csv): its Roster sheet is checked; a cell it
    cannot read exits 2 naming sheet, row and column.

    Exits 1 when a hard rule is broken or the objective recomputed differs from summary.json's
    (files of two runs mixed, or edited by hand), 0 otherwise (2 on bad input, via the command group).
    """
    inst = load_instance(instance)
    report = check_roster(inst, outdir)
    reported = summary_objective(outdir)
    matches = None if reported is None else objective_matches(report.objective, reported)
    if as_json:
        data = report.to_dict()
        data["summary_objective"] = reported
        data["objective_matches_summary"] = matches
        click.echo(json.dumps(data, indent=2))
    else:
        for line in format_report(report):
            click.echo(line)
        if reported is not None:
            if matches:
                click.echo(f"objective matches summary.json ({number_text(reported)})")
            else:
                click.echo(f"MISMATCH objective recomputed={report.objective!r} summary.json={reported!r}")
        if report.ok:
            click.echo("OK: no hard violations")
        else:
            counts = ", ".join(f"{rule} {n}" for rule, n in report.violations_by_rule().items())
            click.echo(f"FAIL: {len(report.violations)} hard violation(s) ({counts})")
        if matches is False:
            click.echo("FAIL: roster.csv and summary.json do not belong to the same roster")
    if not report.ok or matches is False:
        raise SystemExit(1)
