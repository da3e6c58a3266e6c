"""``schoolpost staffing``: how many people of a role each unit needs."""

from __future__ import annotations

import sys
import time

import click

from models import ROLES
from scheduler.commands.options import MAX_PAIRS_OPTION, WORK_LIMIT_OPTION, FiniteFloat, calibrate_once, time_limit_type
from scheduler.names import safe_name
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
@click.option("--neighbours", type=click.Choice(["busy", "free"]), default="busy", show_default=True,
              help="busy: other units' people keep their duties elsewhere in the district's roster (the answer "
                   "agrees with solve); free: they help the unit as much as they can (what it needs at best).")
@click.option("--roster", "roster", default=None, type=click.Path(),
              help="The district's roster (a solve output folder, roster.csv or roster.xlsx) "
                   "[default: solved first, as 'schoolpost solve' does; with --neighbours free: none].")
@click.option("--district-time-limit", type=time_limit_type(0.1), default=60.0, show_default=True,
              help="Seconds for solving the district's roster when no --roster is given (solve's default).")
@click.option("--quiet", is_flag=True)
def staffing_command(instance, role, unit, fill_rate, outdir, time_limit, workers, seed, work_limit, quiet,
                     max_pairs, neighbours, roster, district_time_limit):
    """The smallest number of people of ROLE per unit with which every duty is met at min, each
    answer shown by a roster with that many people, checked by the validator."""
    from scheduler.output import csv_text, json_text, output_folder, write_files

    started = time.monotonic()
    if outdir is not None:
        output_folder(outdir)  # refused before any work
    calibrate_once(work_limit, quiet)  # a machine's first run with an auto budget: its speed, stored
    options = {"time_limit": time_limit, "workers": workers, "seed": seed, "work_limit": work_limit,
               "district_time_limit": district_time_limit}
    try:
        with stop_on_signals() as stop:
            results = run_staffing(instance, role, unit=unit, fill_rate=fill_rate, options=options, stop=stop,
                                   max_pairs=max_pairs, neighbours=neighbours, roster=roster,
                                   echo=None if quiet else (lambda line: click.echo(line, err=True)))
    except KeyboardInterrupt:
        click.echo("interrupted: nothing written", err=True)
        sys.exit(130)
    files: dict[str, str | bytes] = {}
    taken: set[str] = set()
    for res in results:
        r = res["row"]
        if outdir is not None and res["files"]:
            folder = safe_name(f"{r['unit']}-{role}", taken)
            r["witness"] = folder
            files.update({f"{folder}/{name}": text for name, text in res["files"].items()})
    rows = [r["row"] for r in results]
    import pandas as pd

    shown = ["have", "needed", "existing_used", "to_add", "proven", "lower_bound", "status", "witness_valid",
             "whole_instance_gaps"]
    table = pd.DataFrame(rows, columns=list(COLUMNS)).set_index("unit")[shown]
    click.echo(table.to_string())
    for res in results:
        r = res["row"]
        click.echo(f"{r['unit']}: {r['drivers']}")
        for line in agreement_lines(res, role):
            click.echo(f"  {line}")
    total_add = sum(r["to_add"] or 0 for r in rows)
    click.echo(f"{role}: {sum(r['have'] for r in rows)} now, {sum(r['needed'] or 0 for r in rows)} needed, "
               f"{total_add} to add at fill rate {fill_rate:.0%}; {time.monotonic() - started:.1f}s")
    reproducible = all(r["reproducible"] for r in results)
    if not reproducible and work_limit is not None and not quiet:
        click.echo(clock_note("a unit's search or the district's roster", "may answer differently"), err=True)
    if outdir is not None:
        units = [{k: v for k, v in res.items() if k != "files"} for res in results]
        files.update({"staffing.csv": csv_text(rows, COLUMNS),
                      "staffing.json": json_text({"instance": str(instance), "role": role, "fill_rate": fill_rate,
                                                  "work_limit": work_limit, "neighbours": neighbours,
                                                  "roster": roster, "reproducible": reproducible,
                                                  "units": units})})
        write_files(outdir, files)


def agreement_lines(res: dict, role: str) -> list[str]:
    """What the answer assumes of the neighbours, what the district's roster leaves at the unit's
    schools and why, and whether the witness roster holds, in words."""
    r = res["row"]
    shared = r["shared_units"] or "none"
    lines = []
    gaps = r["whole_instance_gaps"]
    source = res.get("district_roster", "")
    if r["reading"] == "busy":
        lines.append(f"reading: {role} of other units ({shared}) keep their duties elsewhere in the district's roster "
                     f"({source}); the unit's duties are staffed anew around them")
    else:
        lines.append(f"reading: {role} of other units ({shared}) help the unit as much as they can; their duties "
                     f"elsewhere are not counted, so this is what the unit needs at best")
    what = ("police gap" if role == "police" else "gap below min") + ("" if gaps == 1 else "s")
    if gaps and r["reading"] == "busy" and r["to_add"] == 0 and r["witness_valid"]:
        because = f"the unit's present {role} can fill them (the witness does): the roster left them, not a lack of {role}"
    elif gaps and r["reading"] == "busy" and r["to_add"]:
        because = (f"{r['to_add']} more {role} close them, the {role} shared with other units ({shared}) kept at "
                   f"their duties elsewhere")
    elif gaps and r["shared_units"]:
        because = (f"this answer counts the {role} shared with other units ({shared}) as free for the unit, the "
                   f"district's roster gives them duties elsewhere (--neighbours busy answers given that roster)")
    else:
        because = "the roster left them, though the unit's people suffice at best"
    if gaps:
        lines.append(f"the district's roster ({source}) leaves {gaps} {what} at its schools: {because}")
    elif gaps == 0:
        lines.append(f"the district's roster ({source}) leaves no {what} at its schools")
    else:
        lines.append("not checked against a district roster: solve's roster may leave gaps at its schools where "
                     "shared people are busy elsewhere (give --roster DIR, or --neighbours busy)")
    w = res.get("witness")
    if w is not None:
        scope = "the district roster with the unit's duties re-staffed" if r["reading"] == "busy" else "the unit's part"
        verdict = "valid" if r["witness_valid"] else "NOT valid"
        lines.append(f"witness ({scope}, {r['needed']} {role} of the unit, {r['to_add']} new): {verdict} by the "
                     f"validator, {w['violations']} hard violations, {w['shortfall']} below min, "
                     f"{w['police_shortfall']} police missing at its duties"
                     + (f" -> {r['witness']}/roster.csv" if r["witness"] else ""))
    return lines
