"""``schoolpost staffing``: how many people of a role each unit needs to meet every duty at ``min``.

For a unit ``U`` and a role ``R`` the question is solved on ``U``'s own part of the instance: its
schools and routes, every person who may serve there (other units' people and the schools' own
staff as they are), and ``K`` hypothetical new people of role ``R`` in ``U`` (ids ``new-R-1``...,
available every school day all day, the role's limits). The search starts from the greedy roster
of the present people, its gaps filled by new people first fit (:func:`_with_new_people`, which
also sizes ``K``). CP-SAT keeps every hard rule, requires

- ``shortfall = 0`` on every duty (or, with ``--fill-rate F``, total shortfall at most
  ``(1 - F) x`` the total of ``min``), and
- when ``R`` is ``police``, ``police_shortfall = 0`` too (or the same fill rate on ``min_police``),

and minimises first the number of new people used (``to_add``: the hires the unit cannot do
without), then the number of people of role ``R`` in ``U`` who get at least one duty
(``needed``; ``existing_used`` of them are the unit's present people). ``lower_bound`` is a
proven floor on ``needed`` (moments and weekly volume, :func:`people_floor`); ``proven`` when the
two meet.

**What drives the number**: the moments when every one of the ``needed`` people is on duty at the
same time (the duties then are listed), and the people at a weekly or daily limit.

Reading chosen where the issue is silent: people of other units who also serve schools outside
``U`` count as fully available to ``U`` (their other duties are not modelled here), so ``needed``
is what ``U`` must supply when the neighbours help as much as they can.
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
           "duties", "people_demanded_at_min", "candidates_added", "drivers")


def unit_document(doc: dict, unit: str, role: str, extra: int) -> dict:
    """``unit``'s part of the instance, with ``extra`` new people of ``role`` in it."""
    units = {u["id"]: u for u in doc.get("units", [])}
    school_ids = {s["id"] for s in doc.get("schools", [])}
    if unit in units:
        mine = set(units[unit].get("schools", []))
        routes = [r for r in doc.get("routes", []) if r["unit"] == unit]
        mine |= {s for r in routes for s in r.get("stops", [])}
    elif unit in school_ids:
        mine, routes = {unit}, []
    else:
        raise InstanceError("--unit", f"no unit or school {unit!r}")
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


def _short_by_date(problem, pairs: list[tuple[int, int]], police: bool) -> dict:
    """People missing at ``min`` (and police at ``min_police``) per date in a roster."""
    got: dict[int, int] = defaultdict(int)
    cops: dict[int, int] = defaultdict(int)
    for p, d in pairs:
        got[d] += 1
        cops[d] += problem.persons[p].role == "police"
    short: dict = defaultdict(int)
    for d in problem.duties:
        k = max(0, d.min - got[d.index])
        if police:
            k = max(k, d.min_police - cops[d.index])
        if k:
            short[d.date] += k
    return short


def _with_new_people(doc: dict, unit: str, role: str, fill_rate: float):
    """The unit's problem with enough new people, and a starting roster that uses few of them.

    The greedy roster is built with the present people only; the duties it leaves short (of
    people at ``min``, or of police at ``min_police`` when counting police) are then filled by new
    people, first fit in time order, so each new person takes as many duties as the rules allow.
    The pool of new people starts at the greedy roster's worst day of people missing and doubles
    until the fill meets ``min`` (at the fill rate). Returns (problem, starting pairs, pool size)."""
    from scheduler.check.pins import require_pins_possible
    from scheduler.duties import expand
    from scheduler.greedy import Ledger, greedy_roster

    police = role == "police"
    base_instance = instance_from_data(unit_document(doc, unit, role, 0))
    require_pins_possible(base_instance)  # the people added later carry no pins
    base = expand(base_instance)
    start = greedy_roster(base)
    short = _short_by_date(base, start, police)
    allowed = math.floor((1 - fill_rate) * sum(d.min for d in base.duties) + 1e-9)
    start_ids = [(base.persons[p].id, base.duties[d].key) for p, d in start]
    extra = max(short.values()) if sum(short.values()) > allowed else 0
    while True:
        problem = expand(instance_from_data(unit_document(doc, unit, role, extra)))
        if not extra:
            return problem, start, 0
        pid = {p.id: i for i, p in enumerate(problem.persons)}
        did = {d.key: d.index for d in problem.duties}
        ledger = Ledger(problem)
        for person_id, key in start_ids:
            ledger.add(pid[person_id], problem.duties[did[key]])
        new = [pid[f"new-{role}-{k}"] for k in range(1, extra + 1)]
        eligible = {i: set(problem.eligible[i]) for i in new}
        missing = 0
        for d in sorted(problem.duties, key=lambda d: (d.date, d.start, d.index)):
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
            return problem, ledger.pairs(), extra
        extra *= 2


def staff_unit(doc: dict, unit: str, role: str, fill_rate: float, options: dict) -> dict:
    """Solve the question for one unit (runs in a worker process)."""
    from scheduler.cpsat.solver import run
    from scheduler.cpsat.staffing import staffing_model
    from scheduler.solve import AUTO_WORK_RATE, LOCAL_SEARCH, auto_rate, cut_by_clock, search_on_budget

    have = [p["id"] for p in doc.get("persons", []) if p.get("role") == role and p.get("unit") == unit]
    problem, greedy, extra = _with_new_people(doc, unit, role, fill_rate)
    members = [i for i, p in enumerate(problem.persons) if p.role == role and p.unit == unit]
    new = [i for i in members if problem.persons[i].id.startswith(f"new-{role}-")]
    built = staffing_model(problem, members, new, role, fill_rate)
    rm, m, used, weight = built.rm, built.rm.model, built.used, built.weight
    total_min = sum(d.min for d in problem.duties)
    # hint: the greedy roster, which meets min with the new people's help
    hint = rm.values_of(greedy)
    busy = {p for p, _ in greedy}
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
    row = {"unit": unit, "role": role, "have": len(have), "status": raw.status, "duties": len(problem.duties),
           "people_demanded_at_min": total_min, "candidates_added": extra}
    if raw.values is None:
        row.update(needed=None, existing_used=None, to_add=None, proven=False, lower_bound=None,
                   drivers=f"no answer in the time limit ({raw.status})")
        return {"row": row, "moments": [], "reproducible": reproducible}
    on = [i for i in members if raw.values[used[i].index]]
    needed = len(on)
    to_add = len(set(on) & set(new))
    lower = needed if raw.status == "optimal" else min(needed, floor)
    mine = set(members)
    pairs = [(p, d) for p, d in rm.assignments(raw.values) if p in mine]
    moments, limits = drivers(problem, pairs, needed)
    text = "; ".join(f"{m_['date']} {m_['window']}: all {needed} on duty at {m_['where']}" for m_ in moments[:3])
    if limits:
        text += ("; " if text else "") + f"{len(limits)} at a weekly or daily limit"
    if not text:
        text = "no single moment uses all of them: the count comes from limits and travel"
    row.update(needed=needed, existing_used=needed - to_add, to_add=to_add, proven=lower == needed,
               lower_bound=lower, drivers=text)
    return {"row": row, "moments": moments, "at_limit": limits, "reproducible": reproducible}


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
    best = 0
    by_date: dict = defaultdict(list)
    for d in problem.duties:
        by_date[d.date].append(d)
    for duties in by_date.values():
        for t in sorted({d.start for d in duties}):
            active = [d for d in duties if d.start <= t < d.end]
            ids = {d.index for d in active}
            free = [p for p in others if not ids.isdisjoint(eligible[p])]
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
        demand = sum(d.min_police for d in problem.duties)
        supply = 0
        for p in others:
            if problem.persons[p].role == "police":
                lim = inst.limits_of(problem.persons[p])
                supply += min(len(eligible[p]), lim.max_per_week if lim.max_per_week is not None else len(eligible[p]))
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


def run_staffing(instance: str | Path, role: str, *, unit: str | None = None, fill_rate: float = 1.0,
                 options: dict, processes: int | None = None, echo=None, stop=None,
                 max_pairs: int = MAX_PAIRS) -> list[dict]:
    if role not in ROLES:
        raise InstanceError("--role", f"unknown role {role!r}; one of {', '.join(ROLES)}")
    doc = load_document(instance)
    check_size(doc, max_pairs)  # before validating or solving: an instance too large for one solve is refused in seconds
    inst = instance_from_data(doc)
    if unit is not None:
        units = [unit]
    else:
        units = sorted({p.unit for p in inst.persons if p.role == role})
        if not units:
            raise InstanceError("--role", f"no person has role {role!r}; name a unit with --unit")
    jobs = [(u, staff_unit, (doc, u, role, fill_rate, options)) for u in units]
    out: dict[str, dict] = {}
    for u, res in run_jobs(jobs, processes=processes or default_processes(options.get("workers", 1)), stop=stop):
        out[u] = res
        if echo:
            r = res["row"]
            echo(f"  {u}: have {r['have']}, need {r['needed']} ({r['status']})")
    return [out[u] for u in units]


