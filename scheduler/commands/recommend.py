"""``schoolpost recommend``: who can cover this duty, ranked by what each choice costs."""

from __future__ import annotations

import json

import click

from models import InstanceError
from scheduler.commands.options import MAX_PAIRS_OPTION


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("roster", type=click.Path())
@click.option("--date", "date_", required=True, type=click.DateTime(["%Y-%m-%d"]), help="The duty's date.")
@click.option("--peak", required=True, help="The duty's peak (or a route's run).")
@click.option("--post", default=None, help="The duty's post id.")
@click.option("--route", default=None, help="The duty's route id (instead of --post).")
@click.option("--top", type=click.IntRange(1, 10000), default=15, show_default=True, help="Options shown.")
@click.option("--json", "as_json", is_flag=True, help="JSON: every option, each term's change, the reasons.")
@MAX_PAIRS_OPTION
def recommend_command(instance, roster, date_, peak, post, route, top, as_json, max_pairs):
    """Who can cover one duty of ROSTER (a folder, its roster.csv or roster.xlsx): every eligible
    person, cheapest first, each with how they would come (free to add, moving from another duty
    that day, or instead of someone on it), the exact change of the roster's score, and the
    coverage rules it would strain; then why the others cannot."""
    from scheduler.duties import expand
    from scheduler.recommend import recommend
    from scheduler.repair import published_roster

    if (post is None) == (route is None):
        raise click.UsageError("give one of --post or --route")
    _, inst, rows = published_roster(instance, roster, max_pairs)
    problem = expand(inst)
    date = date_.date().isoformat()
    key = (date, peak, post or "", route or "")
    duty_of = {(d.date.isoformat(), d.peak, d.post_id, d.route_id): d.index for d in problem.duties}
    if key not in duty_of:
        where = f"post {post}" if post else f"route {route}"
        raise InstanceError("--post" if post else "--route", f"no duty of {where} at {peak} on {date} in {inst.name}")
    person_of = {p.id: i for i, p in enumerate(problem.persons)}
    pairs = sorted({(person_of[r["person_id"]], duty_of[(r["date"], r["peak"], r["post_id"], r["route_id"])])
                    for r in rows})
    duty = problem.duties[duty_of[key]]
    rec = recommend(problem, pairs, duty.index)
    persons = problem.persons

    def leaves(o) -> dict | None:
        if o.leaves is None:
            return None
        if o.how == "move":
            e = problem.duties[o.leaves]
            return {"duty": {"date": e.date.isoformat(), "peak": e.peak, "post_id": e.post_id, "route_id": e.route_id,
                             "start": _hhmm(e.start), "end": _hhmm(e.end)}}
        return {"person_id": persons[o.leaves].id, "name": persons[o.leaves].name}

    options = [{"person_id": persons[o.person].id, "name": persons[o.person].name, "role": persons[o.person].role,
                "how": o.how, "cost": o.cost, "terms": o.terms, "strained": o.strained, "leaves": leaves(o)}
               for o in rec.options]
    if as_json:
        click.echo(json.dumps({
            "duty": {"date": date, "peak": peak, "post_id": duty.post_id, "route_id": duty.route_id,
                     "start": _hhmm(duty.start), "end": _hhmm(duty.end), "min": duty.min, "target": duty.target,
                     "min_police": duty.min_police, "skills": duty.skills},
            "on_duty": [persons[p].id for p in rec.on_duty], "options": options,
            "cannot": dict(sorted(rec.cannot.items()))}, indent=2, ensure_ascii=False))
        return
    names = ", ".join(persons[p].name or persons[p].id for p in rec.on_duty) or "nobody"
    click.echo(f"{post or route} {peak} {date} {_hhmm(duty.start)}-{_hhmm(duty.end)}: {len(rec.on_duty)} on duty "
               f"(min {duty.min}, target {duty.target}): {names}")
    for i, o in enumerate(options[:top], 1):
        how = o["how"]
        if o["leaves"] and how == "move":
            d = o["leaves"]["duty"]
            how += f" from {d['post_id'] or d['route_id']} {d['start']}-{d['end']}"
        elif o["leaves"]:
            how += f" {o['leaves']['name'] or o['leaves']['person_id']}"
        strain = f"; strains {', '.join(o['strained'])}" if o["strained"] else ""
        click.echo(f"{i:>3}. {o['person_id']} {o['name'] or ''} ({o['role']}): {how}; score {o['cost']:+,.0f}{strain}")
    if len(options) > top:
        click.echo(f"     ... {len(options) - top} more (--top, --json)")
    if rec.cannot:
        click.echo("cannot: " + "; ".join(f"{n} {why}" for why, n in sorted(rec.cannot.items())))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"



