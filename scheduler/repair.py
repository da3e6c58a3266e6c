"""``schoolpost repair``: a published roster mended after an absence or a closed school.

Flow: the instance and the published roster -> the changed instance (absent people on leave from
``--from`` on, closed schools removed) -> the published assignments that can no longer stand are
dropped (**forced** changes) -> the duties that lost someone, widened to their area and date
(:mod:`scheduler.decompose`), become free; every other duty keeps its people, as do duties before
``--from`` (already past) and pinned schools, dates and people -> three CP-SAT stages on that
sub-problem, each keeping the previous optimum as a constraint:

1. coverage: people at ``min``, police at ``min_police``, skills (the weighted ``shortfall``,
   ``police_shortfall`` and ``skill_shortfall``; the share and leader rules are left to stage 3,
   so that a repair does not reshuffle the week to improve them);
2. the number of changed assignments (removed or added against the published roster);
3. the full objective.

So coverage comes first, the change count right after it, and the rest last. A stage stopped by
its time share keeps its best value as the constraint (still a roster it found). The result is
checked by the validator against the changed instance, and written with ``changes.csv``
(``action`` removed/added, the duty, the person, and why).
"""

from __future__ import annotations

import copy
import datetime as dt
import sys
import time
from pathlib import Path

import click

from models import InstanceError, instance_from_data, load_document
from scheduler.duties import Problem, expand

#: the first stage's rules: the duties' own demand
REPAIR_COVERAGE = ("shortfall", "police_shortfall", "skill_shortfall")

CHANGE_COLUMNS = ("action", "reason", "date", "weekday", "peak", "school_id", "post_id", "route_id", "person_id",
                  "person_name", "role", "start", "end")


def parse_pins(pins: list[str]) -> dict[str, set[str]]:
    """``school:ID``, ``person:ID``, ``date:YYYY-MM-DD`` -> {kind: ids}."""
    out: dict[str, set[str]] = {"school": set(), "person": set(), "date": set()}
    for pin in pins:
        kind, _, value = pin.partition(":")
        if kind not in out or not value:
            raise InstanceError("--pin", f"{pin!r}: use school:ID, person:ID or date:YYYY-MM-DD")
        if kind == "date":
            try:
                value = dt.date.fromisoformat(value).isoformat()
            except ValueError:
                raise InstanceError("--pin", f"{pin!r}: not a date YYYY-MM-DD") from None
        out[kind].add(value)
    return out


def changed_document(doc: dict, absent: list[str], start: dt.date, close: list[str]) -> dict:
    """The instance document with ``absent`` on leave every horizon date from ``start`` and
    ``close`` schools removed (the input is not changed)."""
    from scheduler.whatif import CloseSchools, _close_schools, _leave

    doc = copy.deepcopy(doc)
    inst = instance_from_data(doc)
    dates = sorted(inst.date_of(d).isoformat() for d in inst.days if inst.date_of(d) >= start)
    by_id = {p["id"]: p for p in doc.get("persons", [])}
    for pid in absent:
        if pid not in by_id:
            raise InstanceError("--absent", f"no person {pid!r} in the instance")
        _leave(by_id[pid], dates)
    if close:
        _close_schools(doc, CloseSchools(ids=close), "--close-school")
    return doc


def _duty_key(row: dict) -> tuple:
    return (row["date"], row["peak"], row["post_id"], row["route_id"])


def run_repair(instance: str | Path, roster: str | Path, outdir: str | Path, *, absent: list[str],
               start: dt.date | None = None, close: list[str] = (), pins: list[str] = (),
               time_limit: float = 30.0, workers: int = 2, seed: int = 0) -> dict:
    """Repair; writes the roster files, ``changes.csv`` and ``summary.json``; returns the summary."""
    from scheduler.check import check_rows, read_roster
    from scheduler.explain import gap_rows
    from scheduler.output import csv_text, roster_files, roster_rows, write_files

    t0 = time.monotonic()
    doc = load_document(instance)
    inst0 = instance_from_data(doc)
    rows0 = read_roster(roster)
    published = check_rows(inst0, rows0)
    if not published.ok:
        v = published.violations[0]
        raise InstanceError("ROSTER", f"the published roster breaks the hard rules of this instance "
                                      f"({len(published.violations)} violation(s); first: {v.rule} {v.person_id}: {v.detail})")
    horizon = sorted(inst0.date_of(d) for d in inst0.days)
    start = start or horizon[0]
    if start > horizon[-1]:
        raise InstanceError("--from", f"{start} is after the last date of the horizon ({horizon[-1]})")
    if not absent and not close:
        raise InstanceError("--absent", "name at least one absent person (--absent) or closed school (--close-school)")
    pin = parse_pins(list(pins))
    clash = pin["person"] & set(absent)
    if clash:
        raise InstanceError("--pin", f"person {min(clash)} is both pinned and absent")
    known_schools = {s.id for s in inst0.schools}
    for sid in list(close) + sorted(pin["school"]):
        if sid not in known_schools:
            raise InstanceError("--close-school" if sid in close else "--pin", f"no school {sid!r}")
    inst = instance_from_data(changed_document(doc, list(absent), start, list(close)))
    problem = expand(inst)

    # the published roster on the changed instance: what stands, what must go
    duty_of = {(d.date.isoformat(), d.peak, d.post_id, d.route_id): d.index for d in problem.duties}
    person_of = {p.id: i for i, p in enumerate(problem.persons)}
    eligible = [set(el) for el in problem.eligible]
    standing: list[tuple[int, int]] = []
    forced: list[tuple[dict, str]] = []
    for row in rows0:
        d = duty_of.get(_duty_key(row))
        p = person_of.get(row["person_id"])
        if d is None:
            forced.append((row, "school closed" if row["school_id"] in close else "duty no longer exists"))
        elif p is None:
            forced.append((row, "person removed"))
        elif d not in eligible[p]:
            forced.append((row, "absent" if row["person_id"] in absent else "no longer allowed"))
        else:
            standing.append((p, d))

    free = _free_duties(problem, [duty_of[_duty_key(r)] for r, _ in forced if _duty_key(r) in duty_of],
                        start, pin)
    new_pairs, stages = _mend(problem, standing, free, pin, time_limit=max(0.5, time_limit - (time.monotonic() - t0)),
                              workers=workers, seed=seed)

    rows = roster_rows(problem, new_pairs)
    report = check_rows(inst, rows)
    gaps = gap_rows(problem, new_pairs, report)
    old_keys = {(r["person_id"],) + _duty_key(r) for r in rows0}
    new_keys = {(r["person_id"],) + _duty_key(r) for r in rows}
    forced_keys = {(r["person_id"],) + _duty_key(r): why for r, why in forced}
    changes = []
    for r in rows0:
        k = (r["person_id"],) + _duty_key(r)
        if k not in new_keys:
            changes.append({"action": "removed", "reason": forced_keys.get(k, "moved to cover a gap"),
                            **{c: r[c] for c in CHANGE_COLUMNS[2:]}})
    for r in rows:
        k = (r["person_id"],) + _duty_key(r)
        if k not in old_keys:
            changes.append({"action": "added", "reason": "replacement", **{c: r[c] for c in CHANGE_COLUMNS[2:]}})
    changes.sort(key=lambda c: (c["date"], c["start"], c["school_id"], c["post_id"], c["route_id"], c["action"],
                                c["person_id"]))
    weights = inst.policy.weights.model_dump()
    before = check_rows(inst, roster_rows(problem, standing))
    summary = {
        "instance": inst.name,
        "status": stages[-1]["status"] if stages else "optimal",
        "valid": report.ok,
        "violations": len(report.violations),
        "objective": report.objective,
        "terms": report.terms,
        "costs": {rule: round(weights.get(rule, 0) * v, 6) for rule, v in report.terms.items()},
        "kpis": report.kpis,
        "assignments": len(rows),
        "gaps": len(gaps),
        "wall_time": round(time.monotonic() - t0, 3),
        "repair": {
            "absent": list(absent),
            "from": start.isoformat(),
            "closed_schools": list(close),
            "pins": sorted(pins),
            "published_assignments": len(rows0),
            "kept": len(old_keys & new_keys),
            "removed": sum(1 for c in changes if c["action"] == "removed"),
            "added": sum(1 for c in changes if c["action"] == "added"),
            "changes": len(changes),
            "forced_removals": len(forced),
            "free_duties": len(free),
            # the published roster without what cannot stand, on the changed instance: the start
            "before": {"objective": before.objective, "terms": before.terms},
            "stages": stages,
        },
        "time_limit": time_limit,
        "workers": workers,
        "seed": seed,
    }
    files = roster_files(rows, gaps, summary)
    files["changes.csv"] = csv_text(changes, CHANGE_COLUMNS)
    write_files(outdir, files)
    return summary


def _free_duties(problem: Problem, lost: list[int], start: dt.date, pin: dict[str, set[str]]) -> set[int]:
    """The duties the repair may change: the areas and dates of the duties that lost someone, from
    ``start`` on, except pinned schools and dates."""
    from scheduler.decompose import neighbourhoods

    if not lost:
        return set()
    lost_set = set(lost)
    out: set[int] = set()
    for hood in neighbourhoods(problem):
        if lost_set.isdisjoint(hood.duties):
            continue
        for d in hood.duties:
            duty = problem.duties[d]
            if duty.date < start or duty.school_id in pin["school"] or duty.date.isoformat() in pin["date"]:
                continue
            out.add(d)
    return out


def _mend(problem: Problem, standing: list[tuple[int, int]], free: set[int], pin: dict[str, set[str]], *,
          time_limit: float, workers: int, seed: int) -> tuple[list[tuple[int, int]], list[dict]]:
    """The three stages on the sub-problem of ``free``; returns the whole roster's pairs."""
    if not free:
        return sorted(standing), []
    from ortools.sat.python import cp_model

    from scheduler.cpsat import RosterModel
    from scheduler.cpsat.solver import run
    from scheduler.decompose import restrict

    roster: dict[int, set[int]] = {}
    for p, d in standing:
        roster.setdefault(p, set()).add(d)
    sub = restrict(problem, free, roster)
    rm = RosterModel(sub.problem)
    local_d = {g: i for i, g in enumerate(sub.duties)}
    current = [(lp, local_d[d]) for lp, gp in enumerate(sub.persons) for d in roster.get(gp, ()) if d in local_d]
    was = set(current)
    # pinned people keep exactly their published duties among the free ones
    pinned = {lp for lp, gp in enumerate(sub.persons) if problem.persons[gp].id in pin["person"]}
    lits, coefs, const = [], [], 0
    for lp, row in enumerate(rm.xv.x):
        for ld, var in row.items():
            if ld not in sub.free:
                continue
            if lp in pinned:
                rm.model.add(var == int((lp, ld) in was))
            if (lp, ld) in was:
                lits.append(var)
                coefs.append(-1)
                const += 1
            else:
                lits.append(var)
                coefs.append(1)
    changes = cp_model.LinearExpr.weighted_sum(lits, coefs) + const

    def value(stage: str, values: list[int]) -> int:
        """The stage's objective at a full solution vector (exact penalties), in model units."""
        if stage == "changes":
            return const + sum(c * values[v.index] for v, c in zip(lits, coefs))
        _, terms = rm.evaluate(values)
        rules = REPAIR_COVERAGE if stage == "coverage" else tuple(terms)
        return sum(rm.weights.get(rule, 0) * terms[rule] for rule in rules)

    hint = rm.values_of(current)
    stages = []
    deadline = time.monotonic() + time_limit
    plan = (("coverage", rm.coverage_expr(REPAIR_COVERAGE), 0.4), ("changes", changes, 0.5), ("objective", rm.objective.expr(), 1.0))
    for name, expr, share in plan:
        rm.add_hint(hint)
        rm.model.minimize(expr)
        limit = max(0.2, share * (deadline - time.monotonic()))
        raw = run(rm.model, time_limit=limit, workers=workers, seed=seed)
        if raw.values is not None:  # else no roster in time: the hint (valid) stands for this stage
            found = rm.values_of(rm.assignments(raw.values))
            if value(name, found) <= value(name, hint):
                hint = found
        best = value(name, hint)
        stages.append({"stage": name, "status": raw.status, "value": best, "seconds": round(raw.wall_time, 3)})
        if raw.status == "interrupted":
            break
        rm.model.add(expr <= best)
    local = rm.assignments(hint)
    chosen = {(sub.persons[lp], sub.duties[ld]) for lp, ld in local if ld in sub.free}
    kept = [(p, d) for p, d in standing if d not in free]
    return sorted(set(kept) | chosen), stages


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("roster", type=click.Path())
@click.option("--absent", multiple=True, help="Absent person id (repeat for several).")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First date of the absence; earlier duties are past and never change [default: first date].")
@click.option("--close-school", "close", multiple=True, help="Closed school id (repeat for several).")
@click.option("--pin", "pins", multiple=True, help="Keep as published: school:ID, person:ID or date:YYYY-MM-DD.")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(), help="Folder for the repaired roster.")
@click.option("--time-limit", type=click.FloatRange(min=0.5), default=30.0, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def repair_command(instance, roster, absent, start, close, pins, outdir, time_limit, workers, seed):
    """Mend ROSTER (a folder or roster.csv) for absent people or closed schools, changing as little as possible."""
    summary = run_repair(instance, roster, outdir, absent=list(absent), start=start.date() if start else None,
                         close=list(close), pins=list(pins), time_limit=time_limit, workers=workers, seed=seed)
    r = summary["repair"]
    click.echo(f"{summary['status']}: {r['changes']} changes ({r['removed']} removed, of which {r['forced_removals']} "
               f"forced; {r['added']} added), {r['kept']} of {r['published_assignments']} assignments kept; "
               f"shortfall {summary['terms'].get('shortfall', 0)}, objective {summary['objective']:.1f}, "
               f"{summary['wall_time']:.1f}s -> {outdir}")
    if not summary["valid"]:
        sys.exit(1)
