"""``schoolpost repair``: a published roster mended after an absence or a closed school.

Flow: the instance and the published roster -> the changed instance (absent people on leave from
``--from`` on, closed schools removed) -> the published assignments that can no longer stand are
dropped (**forced** changes) -> the duties the repair may change (the free duties), in up to three
rounds, each starting from the last one's roster: the duties that lost someone; those plus the
duties holding the people who could step in (one swap); their areas and dates
(:mod:`scheduler.neighbourhoods`). Every other duty keeps its people, as do duties before
``--from`` (already past) and pinned schools, dates and people -> CP-SAT stages on each round's
sub-problem (stage 2 in the last round only), the second keeping the first's result as constraints:

1. coverage, then changes, as one lexicographic objective: first the coverage lost (people at
   ``min``, police at ``min_police``, skills: the weighted ``shortfall``, ``police_shortfall`` and
   ``skill_shortfall`` of the free duties) above the published roster's level on those duties,
   then the number of changed assignments (removed or added against the published roster); the
   search starts from the published roster less the forced removals (in a later round, from the
   last round's roster);
2. the full objective, with both held.

So coverage comes first, the change count right after it, and the rest last. Reading chosen:
the repair mends the hole the absence made; it does not chase gaps the published roster already
had (that is a new ``solve``), nor the share and leader rules (left to stage 2), so a planner gets
the few changes the absence calls for. A stage ended by its budget before proving its optimum
keeps its best value as the constraint (still a roster it found). The result is
checked by the validator against the changed instance, and written with ``changes.csv``
(``action`` removed/added, the duty, the person, and why), and the human outputs ``solve`` writes
(``outputs``). Its calendars update the published ones (:mod:`scheduler.human.calendars`): read
from the published folder's ``calendars/`` (else rebuilt from the published roster), each kept duty
keeps its UID (SEQUENCE raised where the event changed) and each duty taken from a person stays in
their file as ``STATUS:CANCELLED`` with a higher SEQUENCE.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models import Instance, InstanceError, instance_from_data, load_document
from models.instance import Peak, Run
from scheduler.duties import MAX_PAIRS, Problem, check_size, expand

#: the share of ``--time-limit`` the rounds' work budgets are derived from (reading, checking and
#: writing take the rest); each stage's budget is its share at :func:`scheduler.solve.auto_rate`'s rates
REPAIR_SEARCH_SHARE = 0.7

CHANGE_COLUMNS = ("action", "reason", "date", "weekday", "peak", "school_id", "post_id", "route_id", "person_id",
                  "person_name", "role", "start", "end")


def parse_keep(keep: list[str]) -> dict[str, set[str]]:
    """``school:ID``, ``person:ID``, ``date:YYYY-MM-DD`` -> {kind: ids}."""
    out: dict[str, set[str]] = {"school": set(), "person": set(), "date": set()}
    for item in keep:
        kind, _, value = item.partition(":")
        if kind not in out or not value:
            raise InstanceError("--keep", f"{item!r}: use school:ID, person:ID or date:YYYY-MM-DD")
        if kind == "date":
            try:
                value = dt.date.fromisoformat(value).isoformat()
            except ValueError:
                raise InstanceError("--keep", f"{item!r}: not a date YYYY-MM-DD") from None
        out[kind].add(value)
    return out


def duty_dates(inst: Instance) -> set[dt.date]:
    """The dates of the horizon on which some duty falls (a peak of a school with posts, a run of
    a route); a peak or run without ``days`` holds every day of the horizon."""
    windows: list[Peak | Run] = [peak for school in inst.schools if school.posts for peak in school.peaks]
    windows += [run for route in inst.routes for run in route.runs]
    return {inst.date_of(day) for window in windows for day in inst.days
            if window.days is None or day in window.days}


def changed_document(doc: dict, absent: list[str], start: dt.date, close: list[str]) -> dict:
    """The (valid) instance document with ``absent`` on leave every horizon date from ``start``
    and ``close`` schools removed (the input is not changed)."""
    from models import Instance
    from scheduler.scenarios import CloseSchools, add_leave, close_schools, dates_of

    doc = copy.deepcopy(doc)
    days = doc.get("days") or Instance.model_fields["days"].get_default(call_default_factory=True)
    dates = [d for d in dates_of(doc, days, None) if d >= start.isoformat()]
    by_id = {p["id"]: p for p in doc.get("persons", [])}
    for pid in absent:
        if pid not in by_id:
            raise InstanceError("--absent", f"no person {pid!r} in the instance")
        add_leave(by_id[pid], dates)
    if close:
        close_schools(doc, CloseSchools(ids=close), "--close-school")
    return doc


def _duty_key(row: dict) -> tuple:
    return (row["date"], row["peak"], row["post_id"], row["route_id"])


def published_calendars(roster: str | Path) -> dict[str, bytes]:
    """``{name: .ics bytes}`` of the ``calendars/`` folder published with ``roster`` (a roster folder,
    or a file in it such as ``roster.csv``); empty when there is none."""
    folder = Path(roster)
    folder = folder if folder.is_dir() else folder.parent
    cals = folder / "calendars"
    if not cals.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(cals.iterdir()) if p.suffix == ".ics" and p.is_file()}


def published_roster(instance: str | Path, roster: str | Path,
                     max_pairs: int = MAX_PAIRS) -> tuple[Any, Instance, list[dict]]:
    """The instance (its document as read, and validated) and the rows of a published ``roster`` of it (a folder, its roster.csv or
    roster.xlsx), refused in one line (``ROSTER``) when the roster breaks a hard rule of it; a
    too-large instance is refused before it is validated or the roster read."""
    from scheduler.check import check_rows, read_roster

    doc = load_document(instance)
    check_size(doc, max_pairs)  # before validating or reading the roster: too large for one solve, refused in seconds
    inst = instance_from_data(doc)
    rows = read_roster(roster)
    published = check_rows(inst, rows)
    if not published.ok:
        v = published.violations[0]
        raise InstanceError("ROSTER", f"the published roster breaks the hard rules of this instance "
                                      f"({len(published.violations)} violation(s); first: {v.rule} {v.person_id}: {v.detail})")
    return doc, inst, rows


def run_repair(instance: str | Path, roster: str | Path, outdir: str | Path, *, absent: list[str],
               start: dt.date | None = None, close: Sequence[str] = (), keep: Sequence[str] = (),
               time_limit: float = 30.0, workers: int = 2, seed: int = 0, outputs: tuple[str, ...] = (),
               published_at: dt.datetime | None = None, reminder: int | None = None,
               max_pairs: int = MAX_PAIRS) -> dict:
    """Repair; writes the roster files, ``changes.csv``, ``summary.json`` and the human ``outputs``
    (:data:`scheduler.human.HUMAN_OUTPUTS`; none by default here, all from the command), the
    calendars stamped ``published_at`` and with a ``reminder`` (minutes) if given; returns the
    summary. The outputs take clock time from the search, never work: they do not change the roster."""
    from scheduler.check import check_rows
    from scheduler.check.pins import require_pins_possible
    from scheduler.explain import gap_rows
    from scheduler.human import human_files
    from scheduler.human.calendars import previous_events
    from scheduler.output import ROSTER_OUTPUTS, csv_text, output_folder, roster_files, roster_rows, write_files
    from scheduler.pipeline import human_reserve

    t0 = time.monotonic()
    output_folder(outdir)  # refused before any work
    doc, inst0, rows0 = published_roster(instance, roster, max_pairs)
    horizon = sorted(inst0.date_of(d) for d in inst0.days)
    busy = duty_dates(inst0)
    start = start or horizon[0]
    if start > horizon[-1]:
        raise InstanceError("--from", f"{start} is after the last date of the horizon ({horizon[-1]})")
    if not any(day >= start for day in busy):
        raise InstanceError("--from", f"no duty falls on {start} or after (no peak or run holds then); the "
                                      f"absence would change nothing")
    if not absent and not close:
        raise InstanceError("--absent", "name at least one absent person (--absent) or closed school (--close-school)")
    kept = parse_keep(list(keep))
    clash = kept["person"] & set(absent)
    if clash:
        raise InstanceError("--keep", f"person {min(clash)} is both kept as published and absent")
    known_schools = {s.id for s in inst0.schools}
    for sid in list(close) + sorted(kept["school"]):
        if sid not in known_schools:
            raise InstanceError("--close-school" if sid in close else "--keep", f"no school {sid!r}")
    known_people = {p.id for p in inst0.persons}
    for pid in sorted(kept["person"]):
        if pid not in known_people:
            raise InstanceError("--keep", f"no person {pid!r} in the instance")
    for day in sorted(kept["date"]):
        if dt.date.fromisoformat(day) not in horizon:
            raise InstanceError("--keep", f"date:{day} is not a school day of this week ({horizon[0]} to "
                                          f"{horizon[-1]}); keeping it would change nothing")
        if dt.date.fromisoformat(day) not in busy:
            raise InstanceError("--keep", f"no duty falls on date:{day} (no peak or run holds then); keeping it "
                                          f"would change nothing")
    inst = instance_from_data(changed_document(doc, list(absent), start, list(close)))
    # the previous publication, read before anything is written (-o may be the published folder)
    previous = previous_events(inst0, rows0, published_calendars(roster), reminder=reminder) \
        if "calendars" in outputs else None
    reserve = human_reserve(inst, outputs) if outputs else 0.0
    require_pins_possible(inst)
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

    lost = [duty_of[_duty_key(r)] for r, _ in forced if _duty_key(r) in duty_of]
    free = _free_duties(problem, lost, start, kept)
    # round 1: only the duties that lost someone (most absences: a free colleague steps in);
    # round 2: also the duties that hold, at those times, the people who could step in (one swap);
    # round 3: their areas and dates. Each round starts from the last one's roster.
    first = free & set(lost)
    rounds = [(sorted(first), 0.2), (sorted(first | _swaps(problem, first, standing) & free), 0.3), (sorted(free), 1.0)]
    new_pairs, stages = sorted(standing), []
    done_sets: list[list[int]] = []
    # each round's work budget comes from the nominal time limit, not the clock (reproducible)
    nominal_left = REPAIR_SEARCH_SHARE * time_limit
    for k, (duties, share) in enumerate(rounds):
        if not duties or duties in done_sets:
            continue
        done_sets.append(duties)
        left = max(0.5, time_limit - reserve - (time.monotonic() - t0))
        nominal = share * nominal_left
        nominal_left -= nominal
        new_pairs, done = _mend(problem, standing, set(duties), kept,
                                _coverage_of(problem, inst0, rows0, set(duties), duty_of), start=new_pairs,
                                last=k == len(rounds) - 1, time_limit=share * left, workers=workers, seed=seed,
                                work_seconds=nominal)
        stages += [{"round": k + 1, "free_duties": len(duties), **st} for st in done]
        if done and done[-1]["status"] == "interrupted":
            break

    rows = roster_rows(problem, new_pairs)
    report = check_rows(inst, rows)
    gaps = gap_rows(problem, new_pairs, report)
    old_keys = {(r["person_id"],) + _duty_key(r) for r in rows0}
    new_keys = {(r["person_id"],) + _duty_key(r) for r in rows}
    forced_keys = {(r["person_id"],) + _duty_key(r): why for r, why in forced}
    changes = []
    for r in rows0:
        row_key = (r["person_id"],) + _duty_key(r)
        if row_key not in new_keys:
            changes.append({"action": "removed", "reason": forced_keys.get(row_key, "moved to cover a gap"),
                            **{c: r[c] for c in CHANGE_COLUMNS[2:]}})
    for r in rows:
        row_key = (r["person_id"],) + _duty_key(r)
        if row_key not in old_keys:
            changes.append({"action": "added", "reason": "replacement", **{c: r[c] for c in CHANGE_COLUMNS[2:]}})
    changes.sort(key=lambda c: (c["date"], c["start"], c["school_id"], c["post_id"], c["route_id"], c["action"],
                                c["person_id"]))
    weights = inst.policy.weights.model_dump()
    before = check_rows(inst, roster_rows(problem, standing))
    summary = {
        "instance": inst.name,
        "status": stages[-1]["status"] if stages else "optimal",
        # every stage ended by its work budget or proved its optimum: the same input, seed and
        # workers give the same files
        "reproducible": not any(st["clock_cut"] or st["status"] == "interrupted" for st in stages),
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
            "keep": sorted(keep),
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
    if outputs and report.ok:  # as solve: a roster that fails the check is never written for staff
        files.update(human_files(inst, rows, report, gaps, summary, outputs, previous=previous,
                                 published_at=published_at, reminder=reminder))
    write_files(outdir, files, replaces=ROSTER_OUTPUTS)  # the old roster's calendars and sheets go with it
    return summary


def _free_duties(problem: Problem, lost: list[int], start: dt.date, kept: dict[str, set[str]]) -> set[int]:
    """The duties the repair may change: the areas and dates of the duties that lost someone, from
    ``start`` on, except pinned schools and dates."""
    from scheduler.neighbourhoods import neighbourhoods

    if not lost:
        return set()
    lost_set = set(lost)
    out: set[int] = set()
    for hood in neighbourhoods(problem):
        if lost_set.isdisjoint(hood.duties):
            continue
        for d in hood.duties:
            duty = problem.duties[d]
            if duty.date < start or duty.school_id in kept["school"] or duty.date.isoformat() in kept["date"]:
                continue
            out.add(d)
    return out


def _swaps(problem: Problem, lost: set[int], roster: list[tuple[int, int]]) -> set[int]:
    """Duties that, at the time of a lost duty, hold someone who could take the lost duty."""
    may: dict[int, set[int]] = {}
    for p, el in enumerate(problem.eligible):
        for d in el:
            if d in lost:
                may.setdefault(p, set()).add(d)
    out: set[int] = set()
    duties = problem.duties
    for p, d in roster:
        for lost_d in may.get(p, ()):
            if duties[d].date == duties[lost_d].date and not problem.compatible(duties[d], duties[lost_d]):
                out.add(d)
    return out


def _coverage_of(problem: Problem, inst0, rows0: list[dict], free: set[int], duty_of: dict) -> dict[str, int]:
    """Shortfall, police and skill shortfall of the published roster (absent people still in it)
    on the free duties: the level a repair brings coverage back to."""
    people = {p.id: p for p in inst0.persons}
    staff: dict[int, list] = {}
    for r in rows0:
        d = duty_of.get(_duty_key(r))
        if d in free and r["person_id"] in people:
            staff.setdefault(d, []).append(people[r["person_id"]])
    out = {"shortfall": 0, "police_shortfall": 0, "skill_shortfall": 0}
    for d in free:
        duty, there = problem.duties[d], staff.get(d, [])
        out["shortfall"] += max(0, duty.min - len(there))
        out["police_shortfall"] += max(0, duty.min_police - sum(p.role == "police" for p in there))
        for skill, k in duty.skills.items():
            out["skill_shortfall"] += max(0, k - sum(skill in p.skills for p in there))
    return out


def _mend(problem: Problem, standing: list[tuple[int, int]], free: set[int], kept: dict[str, set[str]],
          published: dict[str, int], *, start: list[tuple[int, int]], last: bool,
          time_limit: float, workers: int, seed: int, work_seconds: float) -> tuple[list[tuple[int, int]], list[dict]]:
    """The stages on the sub-problem of ``free`` (changes counted against ``standing``, the search
    starting from ``start``; the full-objective stage only when ``last``); returns the whole
    roster's pairs and a record per stage. Each stage is :func:`scheduler.solve.search_on_budget`
    with budgets from ``work_seconds`` (nominal seconds, shared by the stages as the time is)."""
    if not free:
        return sorted(start), []
    from scheduler.cpsat.repair import RepairModel
    from scheduler.neighbourhoods import restrict
    from scheduler.solve import auto_rate, search_on_budget

    roster: dict[int, set[int]] = {}
    for p, d in standing:
        roster.setdefault(p, set()).add(d)
    context: dict[int, set[int]] = {}
    for p, d in start:  # outside ``free``, the roster as it now stands
        context.setdefault(p, set()).add(d)
    sub = restrict(problem, free, context)
    local_d = {g: i for i, g in enumerate(sub.duties)}
    was = {(lp, local_d[d]) for lp, gp in enumerate(sub.persons) for d in roster.get(gp, ()) if d in local_d}
    begin: dict[int, set[int]] = {}
    for p, d in start:
        begin.setdefault(p, set()).add(d)
    current = [(lp, local_d[d]) for lp, gp in enumerate(sub.persons) for d in begin.get(gp, ()) if d in local_d]
    # people kept as published keep exactly their published duties among the free ones
    people_kept = {lp for lp, gp in enumerate(sub.persons) if problem.persons[gp].id in kept["person"]}
    model = RepairModel(sub.problem, sub.free, was, people_kept)
    rm, value = model.rm, model.value

    def key(stage: str, values: list[int]) -> tuple:
        if stage == "objective":
            return (value("objective", values),)
        return (max(0, value("coverage", values) - level), value("changes", values))

    hint = rm.values_of(current)
    stages = []
    deadline = time.monotonic() + time_limit
    level = sum(rm.weights.get(rule, 0) * v for rule, v in published.items())  # coverage as published
    # stage 1: coverage above the published level, then changes, as one lexicographic objective
    # from the roster with only the forced changes (a local search moves in small steps from there)
    first = model.coverage_then_changes(level, value("coverage", hint) - level)
    plan: tuple[tuple[str, Any, float], ...] = (("coverage_then_changes", first, 0.5),
                                                ("objective", rm.objective.expr(), 1.0))
    if not last:
        plan = (("coverage_then_changes", first, 1.0),)
    for name, expr, share in plan:
        rm.add_hint(hint + [max(0, value("coverage", hint) - level)])  # the excess variable last
        rm.model.minimize(expr)
        limit = max(0.2, share * (deadline - time.monotonic()))
        seconds = share * work_seconds
        raw, clock_cut = search_on_budget(rm, limit, workers, seed, None, auto_rate("local_search") * seconds,
                                          auto_rate("tree_search") * seconds, None)
        if raw.values is not None:  # else no roster in time: the hint (valid) stands for this stage
            found = rm.values_of(rm.assignments(raw.values))[:len(hint)]
            if key(name, found) <= key(name, hint):
                hint = found
        record = {"stage": name, "status": raw.status, "seconds": round(raw.wall_time, 3), "clock_cut": clock_cut}
        if name == "objective":
            record["value"] = value("objective", hint)
        else:
            record.update(coverage=value("coverage", hint), published_coverage=level,
                          changes=value("changes", hint))
        stages.append(record)
        if raw.status == "interrupted":
            break
        if name != "objective":  # hold both for the last stage
            model.hold(max(level, value("coverage", hint)), value("changes", hint))
    local = rm.assignments(hint)
    chosen = {(sub.persons[lp], sub.duties[ld]) for lp, ld in local if ld in sub.free}
    kept_pairs = [(p, d) for p, d in start if d not in free]
    return sorted(set(kept_pairs) | chosen), stages


