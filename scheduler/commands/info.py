"""``schoolpost info``: sizes, and supply against demand per unit and peak, before solving."""

from __future__ import annotations

import json
from collections import Counter

import click

from models import load_instance
from scheduler.check.pins import require_pins_possible
from scheduler.duties import expand
from scheduler.pipeline import supply_demand


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def info_command(instance, as_json):
    """Sizes of INSTANCE, and supply against demand per unit and peak, before solving."""
    inst = load_instance(instance)
    require_pins_possible(inst)
    problem = expand(inst)
    roles = Counter(p.role for p in inst.persons)
    sizes = {
        "name": inst.name,
        "days": len(inst.days),
        "schools": len(inst.schools),
        "posts": sum(len(s.posts) for s in inst.schools),
        "routes": len(inst.routes),
        "units": len(inst.units),
        "persons": len(inst.persons),
        "persons_by_role": dict(sorted(roles.items())),
        "duties": len(problem.duties),
        "demand_min": sum(d.min for d in problem.duties),
        "demand_target": sum(d.target for d in problem.duties),
        "eligible_pairs": problem.pairs,
    }
    sd = supply_demand(problem)
    if as_json:
        click.echo(json.dumps({"sizes": sizes, **sd}, indent=2, default=str))
        return
    for k, v in sizes.items():
        click.echo(f"{k:>16}: {v}")
    click.echo("\nper unit and peak: demand at its schools (worst day) and people free by role (worst day)")
    click.echo(f"{'unit':<28} {'peak':<12} {'min':>5} {'police':>6}  free")
    for e in sd["units"]:
        free = ", ".join(f"{r} {n}" for r, n in e["free_worst_day"].items())
        click.echo(f"{e['unit']:<28} {e['peak']:<12} {e['school_min']:>5} {e['school_police']:>6}  {free}")
    if sd["short"]:
        click.echo(f"\n{len(sd['short'])} school peaks where fewer people (or police) may serve than min demands:")
        for s in sd["short"][:50]:
            click.echo(f"  {s['date']} {s['peak']:<10} {s['where']:<28} min {s['min']} (free {s['people_free']}), "
                       f"police {s['min_police']} (free {s['police_free']})")
        if len(sd["short"]) > 50:
            click.echo(f"  ... and {len(sd['short']) - 50} more (use --json)")
    else:
        click.echo("\nevery school peak has at least as many people (and police) who may serve as min demands")
