"""``schoolpost staffing``: how many people of a role each unit needs to meet every duty at ``min``.

For a unit ``U`` and a role ``R`` the question is asked of ``U``'s duties (its schools' posts and
its routes) in the whole instance, with ``K`` hypothetical new people of role ``R`` in ``U`` (ids
``new-R-1``..., available every school day all day, the role's limits). Two readings of the people
of other units who also serve ``U``'s schools (``--neighbours``):

- ``busy`` (the default): they keep the duties the **district's roster** gives them elsewhere
  (``--roster DIR``, else the roster ``schoolpost solve`` makes with its defaults, solved first):
  those duties are fixed context (one place at a time, travel, daily and weekly limits count
  them), and only ``U``'s duties are staffed anew. ``needed`` is then what ``U`` must supply given
  the district's roster, and the answer agrees with ``solve``: the witness below is the district
  roster with ``U``'s duties re-staffed, a whole-instance roster checked by the validator.
- ``free``: their duties elsewhere are not counted; they help ``U`` as much as they can. ``needed``
  is what ``U`` must supply at best; a whole-instance roster may still leave gaps at ``U``'s schools
  (the shared people are busy elsewhere), which the row says when a district roster is given.

The search starts from the district roster's assignments on ``U``'s duties (without one: the
greedy roster), its gaps filled by new people first fit (:func:`_with_new_people`, which also
sizes ``K``). CP-SAT keeps every hard rule, requires

- ``shortfall = 0`` on every duty of ``U`` (or, with ``--fill-rate F``, total shortfall at most
  ``(1 - F) x`` the total of ``min``), and
- when ``R`` is ``police``, ``police_shortfall = 0`` too (or the same fill rate on ``min_police``),

and minimises first the number of new people used (``to_add``: the hires the unit cannot do
without), then the number of people of role ``R`` in ``U`` who get at least one duty
(``needed``; ``existing_used`` of them are the unit's present people). ``lower_bound`` is a
proven floor on ``needed`` (moments and weekly volume, :func:`people_floor`); ``proven`` when the
two meet.

**The witness**: every answer comes with a roster made with exactly ``needed`` people of ``R`` in
``U`` (the unit's other people of that role removed from the instance, ``to_add`` new people added),
checked by the validator (:mod:`scheduler.check`, which never imports the model): ``witness_valid``
is true when it breaks no hard rule and meets the answer's coverage on ``U``'s duties. ``needed``
is so shown (an upper bound shown by a valid roster) and ``proven`` when the floor meets it. With
``-o`` it is written as ``<unit>-<role>/roster.csv`` with the instance it was checked against
(``instance.json``), so ``schoolpost check OUT/<unit>-<role>/instance.json OUT/<unit>-<role>`` repeats
the check. In ``busy`` it is the whole district's roster; in ``free`` the unit's part
(:func:`unit_document`).

**Agreement with solve**: ``whole_instance_gaps`` counts the gap rows (gaps.csv: ``shortfall``,
and ``police_shortfall`` when ``R`` is police) on ``U``'s duties in the district roster, before the
answer; ``shared_units`` names the other units whose people of role ``R`` may serve ``U``'s duties
(the people the two readings differ on).

**What drives the number**: the moments when every one of the ``needed`` people is on duty at the
same time (the duties then are listed), and the people at a weekly or daily limit.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from pathlib import Path

from models import ROLES, InstanceError, instance_from_data, load_document
from scheduler.duties import MAX_PAIRS, check_size
from scheduler.parallel import default_processes, run_jobs
from scheduler.scenarios import AddPeople, add_people

COLUMNS = ("unit", "role", "have", "needed", "existing_used", "to_add", "proven", "lower_bound", "status",
           "reading", "witness_valid", "whole_instance_gaps", "shared_units",
           "duties", "people_demanded_at_min", "candidates_added", "drivers", "witness")

NEIGHBOURS = ("busy", "free")


def unit_scope(doc: dict, unit: str) -> tuple[set[str], set[str]]:
    """``unit``'s schools and routes (a school id: that school alone)."""
    units = {u["id"]: u for u in doc.get("units", [])}
    if unit in units:
        routes = {r["id"] for r in doc.get("routes", []) if r["unit"] == unit}
        return set(units[unit].get("schools", [])), routes
    if unit in {s["id"] for s in doc.get("schools", [])}:
        return {unit}, set()
    raise InstanceError("--unit", f"no unit or school {unit!r}")


def unit_document(doc: dict, unit: str, role: str, extra: int) -> dict:
    """``unit``'s part of the instance, with ``extra`` new people of ``role`` in it."""
    mine, route_ids = unit_scope(doc, unit)
    routes = [r for r in doc.get("routes", []) if r["id"] in route_ids]
    mine |= {s for r in routes for s in r.get("stops", [])}
    kept_units = []
    for u in doc.get("units", []):
        schools = [s for s in u.get("schools", []) if s in mine]
        if schools or u["id"] == unit:
            kept_units.append({**u, "schools": schools})
    keep = {u["id"] for u in kept_units} | mine
    persons = [p for p in doc.get("persons", []) if p["unit"] in keep]
    sub = copy.deepcopy({**doc, "units": kept_units, "routes": routes, "persons": persons,
                         "schools": [s for s in doc.get("schools", []) if s["id"] in mine]})
    if extra:
        add_people(sub, AddPeople(role=role, unit=unit, count=extra, id_prefix=f"new-{role}"), "staffing")
    sub["name"] = f"{doc.get('name', 'instance')}-staffing-{unit}"
    if sub.get("travel", {}).get("matrix"):
        sub["travel"]["matrix"] = {a: {b: m for b, m in row.items() if b in mine}
                                   for a, row in sub["travel"]["matrix"].items() if a in mine}
    return sub


def with_hires(doc: dict, unit: str, role: str, extra: int) -> tuple[dict, list[str]]:
    """A copy of ``doc`` with ``extra`` new people of ``role`` in ``unit``, and their ids in order."""
    out = copy.deepcopy(doc)
    before = {p["id"] for p in out.get("persons", [])}
    if extra:
        add_people(out, AddPeople(role=role, unit=unit, count=extra, id_prefix=f"new-{role}"), "staffing")
    return out, [p["id"] for p in out.get("persons", []) if p["id"] not in before]


def row_key(row) -> tuple[str, str, str, str]:
    """A roster row's duty: (kind, ISO date, peak or run, post or route id)."""
    if row.get("route_id"):
        return ("route", row["date"], row["peak"], row["route_id"])
    return ("post", row["date"], row["peak"], row["post_id"])


def duty_key(d) -> tuple[str, str, str, str]:
    return ("route", d.date.isoformat(), d.peak, d.route_id) if d.kind == "route" else (
        "post", d.date.isoformat(), d.peak, d.post_id)


def in_scope(kind: str, school_id: str, route_id: str, schools: set[str], routes: set[str]) -> bool:
    return route_id in routes if kind == "route" else (kind == "post" and school_id in schools)


def coverage_gaps(report, schools: set[str], routes: set[str], police: bool) -> dict[str, int]:
    """The validator's gap rows on the unit's duties (as gaps.csv counts them) and the people missing."""
    out = {"rows": 0, "shortfall": 0, "police_shortfall": 0, "min": 0, "min_police": 0}
    for o in report.per_duty:
        if not in_scope(o.kind, o.school_id, o.route_id, schools, routes):
            continue
        out["min"] += o.min
        out["min_police"] += o.min_police
        out["shortfall"] += o.shortfall
        out["police_shortfall"] += o.police_shortfall
        out["rows"] += (o.shortfall > 0) + (police and o.police_shortfall > 0)
    return out


def _short_by_date(problem, pairs: list[tuple[int, int]], police: bool) -> dict:
    """People missing at ``min`` (and police at ``min_police``) per date in a roster."""
    got: dict[int, int] = defaultdict(int)
    cops: dict[int, int] = defaultdict(int)
    for p, d in pairs:
        got[d] += 1
        cops[d] += problem.persons[p].role == "police"
    short: dict = defaultdict(int)
    for d in problem.duties:
        if d.kind == "context":
            continue
        k = max(0, d.min - got[d.index])
        if police:
            k = max(k, d.min_police - cops[d.index])
        if k:
            short[d.date] += k
    return short


def unit_problem(doc: dict, unit: str, role: str, extra: int, district: list[dict] | None):
    """The sub-problem of ``unit``'s duties in the whole instance with ``extra`` hires: everyone who
    may serve them free on them; with a ``district`` roster (``busy``), their other duties there
    fixed as context. Returns (sub-problem, new people's local indices, district pairs on the unit's
    duties in local indices)."""
    from scheduler.duties import expand
    from scheduler.neighbourhoods import restrict

    whole_doc, new_ids = with_hires(doc, unit, role, extra)
    whole = expand(instance_from_data(whole_doc))
    schools, routes = unit_scope(doc, unit)
    duty_set = {d.index for d in whole.duties if in_scope(d.kind, d.school_id, d.route_id, schools, routes)}
    pid = {p.id: i for i, p in enumerate(whole.persons)}
    did = {duty_key(d): d.index for d in whole.duties}
    roster: dict[int, set[int]] = defaultdict(set)
    for row in district or ():
        roster[pid[row["person_id"]]].add(did[row_key(row)])
    sub = restrict(whole, duty_set, roster)
    local_p = {g: i for i, g in enumerate(sub.persons)}
    local_d = {g: i for i, g in enumerate(sub.duties)}
    inside = [(local_p[p], local_d[d]) for p, ds in roster.items() if p in local_p for d in ds if d in duty_set]
    new = [local_p[pid[i]] for i in new_ids if pid[i] in local_p]
    return sub.problem, new, sorted(inside)


def _with_new_people(doc: dict, unit: str, role: str, fill_rate: float, district: list[dict] | None):
    """The unit's problem with enough new people, and a starting roster that uses few of them.

    The start is the district roster's assignments on the unit's duties (without one, the greedy
    roster of the present people); the duties it leaves short (of people at ``min``, or of police
    at ``min_police`` when counting police) are then filled by new people, first fit in time order,
    so each new person takes as many duties as the rules allow. The pool of new people starts at
    the start's worst day of people missing and doubles until the fill meets ``min`` (at the fill
    rate). Returns (problem, starting pairs, new people's indices, pool size)."""
    from scheduler.greedy import Ledger, greedy_roster

    police = role == "police"
    base, _, inside = unit_problem(doc, unit, role, 0, district)
    start = inside if district is not None else greedy_roster(base)
    short = _short_by_date(base, start, police)
    allowed = math.floor((1 - fill_rate) * sum(d.min for d in base.duties) + 1e-9)
    start_ids = [(base.persons[p].id, duty_key(base.duties[d])) for p, d in start]
    extra = max(short.values()) if sum(short.values()) > allowed else 0
    while True:
        problem, new, _ = unit_problem(doc, unit, role, extra, district)
        pid = {p.id: i for i, p in enumerate(problem.persons)}
        did = {duty_key(d): d.index for d in problem.duties if d.kind != "context"}
        ledger = Ledger(problem)
        for p, d in sorted(problem.fixed):
            ledger.add(p, problem.duties[d])
        for person_id, key in start_ids:
            ledger.add(pid[person_id], problem.duties[did[key]])
        if not extra:
            return problem, ledger.pairs(), new, 0
        eligible = {i: set(problem.eligible[i]) for i in new}
        missing = 0
        for d in sorted(problem.duties, key=lambda d: (d.date, d.start, d.index)):
            if d.kind == "context":
                continue
            staff = ledger.staff[d.index]
            need = max(d.min - len(staff), (d.min_police - sum(problem.persons[q].role == "police" for q in staff))
                       if police else 0)
            for p in new:
                if need <= 0:
                    break
                if d.index not in eligible[p]:
                    continue
                if ledger.blocker(p, d) == "cap":  # full of others: a police officer takes a non-police place
                    out = next((q for q in reversed(staff) if problem.persons[q].role != "police"), None)
                    if out is None or not police:
                        break
                    ledger.remove(out, d)
                if ledger.blocker(p, d) is None:
                    ledger.add(p, d)
                    need -= 1
            missing += max(0, need)
        if missing <= allowed or extra >= 2000:
            return problem, ledger.pairs(), new, extra
        extra *= 2


def staff_unit(doc: dict, unit: str, role: str, fill_rate: float, options: dict,
               district: list[dict] | None = None, neighbours: str = "busy") -> dict:
    """Solve the question for one unit (runs in a worker process). ``district``: the district's
    roster rows; ``busy`` fixes the other duties it gives the people who may serve the unit."""
    from scheduler.cpsat.solver import run
    from scheduler.cpsat.staffing import staffing_model
    from scheduler.solve import AUTO_WORK_RATE, LOCAL_SEARCH, auto_rate, cut_by_clock, search_on_budget

    have = [p["id"] for p in doc.get("persons", []) if p.get("role") == role and p.get("unit") == unit]
    context = district if neighbours == "busy" else None
    if neighbours == "busy" and district is None:
        raise ValueError("the busy reading needs the district's roster")
    problem, start, new, extra = _with_new_people(doc, unit, role, fill_rate, context)
    members = [i for i, p in enumerate(problem.persons) if p.role == role and p.unit == unit]
    built = staffing_model(problem, members, new, role, fill_rate)
    rm, m, used, weight = built.rm, built.rm.model, built.used, built.weight
    own = [d for d in problem.duties if d.kind != "context"]
    total_min = sum(d.min for d in own)
    # hint: the start roster, which meets min with the new people's help
    hint = rm.values_of(start)
    busy = {p for p, _ in start}
    for i, v in used.items():
        hint[v.index] = int(i in busy)
    rm.add_hint(hint)
    workers = options.get("workers", 1)
    # one thread: CP-SAT's local search (unit bincheng-st01 of the ten-school instance, 15 s:
    # default search 52 people, local search 9, as 2 workers' portfolio)
    floor = people_floor(problem, members, role, fill_rate)
    have_n = len(members) - len(new)
    stop_at = weight * max(0, floor - have_n) + floor  # fewest hires and people the floor allows
    time_limit, seed = options.get("time_limit", 20.0), options.get("seed", 0)
    work = options.get("work_limit", "auto")
    if work == "auto":  # as solve's: the calibrated rates, so the budget ends the search
        work = auto_rate("staffing") * time_limit
    cut = False
    if work is None:
        raw = run(m, time_limit=time_limit, workers=workers, seed=seed,
                  extra=LOCAL_SEARCH if workers == 1 else None, stop_at=stop_at)
    elif workers == 1:
        raw = run(m, time_limit=time_limit, workers=1, seed=seed, extra={**LOCAL_SEARCH, "max_deterministic_time": work},
                  stop_at=stop_at)
        cut = cut_by_clock(raw, work) and raw.status != "interrupted"
    else:
        tree_work = work * AUTO_WORK_RATE["tree_search"] / AUTO_WORK_RATE["local_search"]
        raw, cut = search_on_budget(rm, time_limit, workers, seed, None, work, tree_work, None, stop_at=stop_at)
    reproducible = raw.status == "optimal" or (work is not None and not cut and raw.status != "interrupted")
    schools, _ = unit_scope(doc, unit)
    # other units whose people of the role may serve the unit's duties
    shared = sorted({p.unit for p in problem.persons if p.unit != unit and p.unit not in schools and p.role == role})
    row = {"unit": unit, "role": role, "have": len(have), "status": raw.status, "duties": len(own),
           "people_demanded_at_min": total_min, "candidates_added": extra, "reading": neighbours,
           "witness_valid": False, "whole_instance_gaps": None, "shared_units": " ".join(shared), "witness": ""}
    if raw.values is None:
        row.update(needed=None, existing_used=None, to_add=None, proven=False, lower_bound=None,
                   drivers=f"no answer in the time limit ({raw.status})")
        return {"row": row, "moments": [], "reproducible": reproducible, "files": {}}
    on = [i for i in members if raw.values[used[i].index]]
    needed = len(on)
    to_add = len(set(on) & set(new))
    lower = needed if raw.status == "optimal" else min(needed, floor)
    mine = set(members)
    solution = [(p, d) for p, d in rm.assignments(raw.values) if problem.duties[d].kind != "context"]
    moments, limits = drivers(problem, [(p, d) for p, d in solution if p in mine], needed)
    text = "; ".join(f"{m_['date']} {m_['window']}: all {needed} on duty at {m_['where']}" for m_ in moments[:3])
    if limits:
        text += ("; " if text else "") + f"{len(limits)} at a weekly or daily limit"
    if not text:
        text = "no single moment uses all of them: the count comes from limits and travel"
    row.update(needed=needed, existing_used=needed - to_add, to_add=to_add, proven=lower == needed,
               lower_bound=lower, drivers=text)
    witness = witness_roster(doc, unit, role, problem, solution, {problem.persons[i].id for i in on},
                             to_add, context, fill_rate)
    row["witness_valid"] = witness["valid"]
    return {"row": row, "moments": moments, "at_limit": limits, "reproducible": reproducible,
            "witness": witness["summary"], "files": witness["files"]}


def witness_roster(doc: dict, unit: str, role: str, problem, solution: list[tuple[int, int]], used_ids: set[str],
                   to_add: int, district: list[dict] | None, fill_rate: float) -> dict:
    """The answer's roster with exactly the people it counts, checked by the validator.

    Its instance: the whole instance (``district`` given: the district roster's rows off the unit's
    duties are kept) or the unit's part, with ``to_add`` hires and without the unit's people of
    ``role`` the answer does not use. Valid when the validator finds no hard violation and the
    unit's duties meet the answer's coverage (people at ``min``, and police at ``min_police`` when
    counting police, at the fill rate)."""
    from models import ASSIGNMENT_COLUMNS
    from scheduler.check import check_rows
    from scheduler.output import csv_text, json_text, roster_rows

    if district is not None:
        wdoc, _ = with_hires(doc, unit, role, to_add)
    else:
        wdoc = unit_document(doc, unit, role, to_add)
    wdoc["persons"] = [p for p in wdoc["persons"] if not (p["role"] == role and p["unit"] == unit)
                       or p["id"] in used_ids]
    schools, routes = unit_scope(doc, unit)
    rows = roster_rows(problem, solution)
    if district is not None:
        rows = [{c: r.get(c, "") for c in ASSIGNMENT_COLUMNS} for r in district if not in_scope("route" if r.get("route_id") else "post", r.get("school_id", ""),
                                                    r.get("route_id", ""), schools, routes)] + rows
        rows.sort(key=lambda r: (r["date"], r["start"], r["end"], r["school_id"], r["post_id"], r["route_id"],
                                 r["person_id"]))
    report = check_rows(instance_from_data(wdoc), rows)
    police = role == "police"
    cov = coverage_gaps(report, schools, routes, police)
    allowed = math.floor((1 - fill_rate) * cov["min"] + 1e-9)
    allowed_police = math.floor((1 - fill_rate) * cov["min_police"] + 1e-9)
    met = cov["shortfall"] <= allowed and (not police or cov["police_shortfall"] <= allowed_police)
    summary = {"valid": report.ok and met, "violations": len(report.violations), "assignments": len(rows),
               "shortfall": cov["shortfall"], "police_shortfall": cov["police_shortfall"],
               "gap_rows": cov["rows"], "scope": "whole instance" if district is not None else "unit's part"}
    return {"valid": report.ok and met, "summary": summary,
            "files": {"roster.csv": csv_text(rows, tuple(ASSIGNMENT_COLUMNS)), "instance.json": json_text(wdoc)}}


def people_floor(problem, members: list[int], role: str, fill_rate: float) -> int:
    """No roster meets ``min`` with fewer members than this (valid at fill rate 1; 0 otherwise).

    On one duty, and at any moment over all duties then, the members on duty are at least the
    people demanded minus the other people who may serve (for police: the police demanded at ``min_police`` minus other
    police); over the week, the police duties demanded minus what other police can take at their
    weekly limits, divided by a member's weekly limit."""
    if fill_rate < 1:
        return 0
    inst = problem.instance
    mine = set(members)
    others = [p for p in range(len(problem.persons)) if p not in mine]
    eligible = [set(el) for el in problem.eligible]
    fixed: dict[int, set[int]] = defaultdict(set)  # context duty -> the people fixed there
    for p, d in problem.fixed:
        fixed[d].add(p)
    best = 0
    by_date: dict = defaultdict(list)
    for d in problem.duties:
        by_date[d.date].append(d)
    for duties in by_date.values():
        for t in sorted({d.start for d in duties}):
            active = [d for d in duties if d.start <= t < d.end]
            ids = {d.index for d in active}
            held = {p for d in active for p in fixed.get(d.index, ())}  # busy at a fixed duty then
            free = [p for p in others if p not in held and not ids.isdisjoint(eligible[p])]
            for d in active:  # one duty alone: its own min against the others who may take it
                takers = [p for p in free if d.index in eligible[p]]
                best = max(best, d.min - len(takers))
                if role == "police":
                    best = max(best, d.min_police - sum(1 for p in takers if problem.persons[p].role == "police"))
            best = max(best, sum(d.min for d in active) - len(free))
            if role == "police":
                cops = sum(1 for p in free if problem.persons[p].role == "police")
                best = max(best, sum(d.min_police for d in active) - cops)
    if role == "police" and members:
        demand = sum(d.min_police for d in problem.duties if d.kind != "context")
        supply = 0
        held_by: dict[int, int] = defaultdict(int)  # fixed duties per person: their week already used
        for p, _ in problem.fixed:
            held_by[p] += 1
        for p in others:
            if problem.persons[p].role == "police":
                lim = inst.limits_of(problem.persons[p])
                own = len(eligible[p]) - held_by[p]
                supply += max(0, min(own, lim.max_per_week - held_by[p] if lim.max_per_week is not None else own))
        per = max(inst.limits_of(problem.persons[i]).max_per_week or len(problem.duties) for i in members)
        best = max(best, math.ceil(max(0, demand - supply) / max(1, per)))
    return max(0, best)


def drivers(problem, pairs: list[tuple[int, int]], needed: int) -> tuple[list[dict], list[str]]:
    """Moments when all ``needed`` people are out at once, and people at a weekly or daily limit."""
    from models import format_hhmm

    by_date: dict = defaultdict(list)
    load: dict[int, list] = defaultdict(list)
    for p, d in pairs:
        duty = problem.duties[d]
        by_date[duty.date].append((duty, p))
        load[p].append(duty)
    moments: list[dict[str, str]] = []
    for date, items in sorted(by_date.items()):
        for duty, _ in items:
            t = duty.start  # concurrency is highest at some duty's start
            here = [(dd, pp) for dd, pp in items if dd.start <= t < dd.end]
            people = {pp for _, pp in here}
            if needed and len(people) == needed:
                where: defaultdict[str, int] = defaultdict(int)
                for dd, _ in here:
                    where[dd.where] += 1
                key = (date.isoformat(), format_hhmm(t))
                if all((m["date"], m["at"]) != key for m in moments):
                    moments.append({"date": key[0], "at": key[1], "window": f"{format_hhmm(t)}",
                                    "where": ", ".join(f"{w} ({n})" for w, n in sorted(where.items()))})
    limits = []
    inst = problem.instance
    for p, duties in load.items():
        lim = inst.limits_of(problem.persons[p])
        per_day: dict = defaultdict(int)
        for d in duties:
            per_day[d.date] += 1
        if (lim.max_per_week is not None and len(duties) >= lim.max_per_week) or (
                lim.max_per_day is not None and max(per_day.values()) >= lim.max_per_day):
            limits.append(problem.persons[p].id)
    return moments, sorted(limits)


def district_roster(doc: dict, inst, *, roster: str | Path | None, options: dict,
                    echo=None) -> tuple[list[dict], str, bool]:
    """The district's roster rows and where they come from: ``roster`` (a ``solve`` output folder,
    its roster.csv or roster.xlsx), checked by the validator (a roster that breaks a hard rule is
    refused); else the roster ``schoolpost solve`` makes with its defaults (``district_time_limit``
    s, 2 workers, the seed and work limit given, all outputs' time kept), the same roster by its
    work budget."""
    from scheduler.check import check_rows
    from scheduler.check.roster import read_roster

    if roster is not None:
        rows = read_roster(roster)
        report = check_rows(inst, rows)
        if not report.ok:
            raise InstanceError("--roster", f"{roster} breaks {len(report.violations)} hard rules of this instance "
                                            f"(schoolpost check shows them): {report.violations[0]}")
        return [dict(r) for r in rows], str(roster), True
    from scheduler.check.pins import require_pins_possible
    from scheduler.human import HUMAN_OUTPUTS
    from scheduler.output import roster_rows
    from scheduler.pipeline import human_reserve
    from scheduler.solve import SolveOptions, solve

    limit = options.get("district_time_limit", 60.0)
    if echo:
        echo(f"  the district's roster: solving the whole instance as 'schoolpost solve' does ({limit:g} s)")
    require_pins_possible(inst)
    result = solve(inst, SolveOptions(time_limit=limit, nominal_time=limit, workers=2, seed=options.get("seed", 0),
                                      work_limit=options.get("work_limit", "auto"),
                                      reserve=human_reserve(inst, HUMAN_OUTPUTS)))
    return (roster_rows(result.problem, result.assignments), f"schoolpost solve ({limit:g} s, {result.status})",
            result.reproducible)


def run_staffing(instance: str | Path, role: str, *, unit: str | None = None, fill_rate: float = 1.0,
                 options: dict, processes: int | None = None, echo=None, stop=None,
                 max_pairs: int = MAX_PAIRS, neighbours: str = "busy", roster: str | Path | None = None) -> list[dict]:
    """Each unit's answer (:func:`staff_unit`), with ``whole_instance_gaps`` from the district's
    roster when there is one (``busy``, or ``free`` with ``roster``)."""
    if role not in ROLES:
        raise InstanceError("--role", f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if neighbours not in NEIGHBOURS:
        raise InstanceError("--neighbours", f"unknown reading {neighbours!r}; one of {', '.join(NEIGHBOURS)}")
    doc = load_document(instance)
    check_size(doc, max_pairs)  # before validating or solving: an instance too large for one solve is refused in seconds
    inst = instance_from_data(doc)
    if unit is not None:
        unit_scope(doc, unit)  # an unknown unit is refused before any work
        units = [unit]
    else:
        units = sorted({p.unit for p in inst.persons if p.role == role})
        if not units:
            raise InstanceError("--role", f"no person has role {role!r}; name a unit with --unit")
    from scheduler.check.pins import require_pins_possible

    require_pins_possible(inst)  # the people added later carry no pins
    district, source, same = None, None, True
    if neighbours == "busy" or roster is not None:
        # same: the district's roster is the one solve gives (its budget, not the clock, ended it)
        district, source, same = district_roster(doc, inst, roster=roster, options=options, echo=echo)
    jobs = [(u, staff_unit, (doc, u, role, fill_rate, options, district, neighbours)) for u in units]
    out: dict[str, dict] = {}
    for u, res in run_jobs(jobs, processes=processes or default_processes(options.get("workers", 1)), stop=stop):
        out[u] = res
        if echo:
            r = res["row"]
            echo(f"  {u}: have {r['have']}, need {r['needed']} ({r['status']})")
    if district is not None:
        from scheduler.check import check_rows

        report = check_rows(inst, district)
        for u in units:
            schools, routes = unit_scope(doc, u)
            out[u]["row"]["whole_instance_gaps"] = coverage_gaps(report, schools, routes, role == "police")["rows"]
            out[u]["district_roster"] = source
            out[u]["reproducible"] = out[u]["reproducible"] and same
    return [out[u] for u in units]
