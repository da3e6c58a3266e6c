"""Where a district's weighted gap lies: the professional share, as a maximum flow.

On the generated districts the ``share_shortfall`` term is about nine tenths of the objective
(300 per professional missing from a school peak's share). A roster with every school peak at its
``min`` needs ``ceil(share x min)`` professionals at each; professionals can give at most the
duties of a maximum flow

    source -> professional (week cap) -> professional x date (day cap)
           -> professional x date x time window (1) -> school peak (its need) -> sink

where each arc from a professional's (date, window) to a school peak stands for an eligible post
there. The flow ignores overlaps between different windows, travel, minutes and route duties, so
it is an upper bound on the useful professional duties (``min(professionals, need)`` summed over
school peaks) of any roster. ``need - flow`` is then a lower bound on ``share_shortfall +
shortfall`` of every roster: a school peak below its ``min`` by ``s`` people needs at most ``s``
fewer professionals, and one at or above it needs no fewer. Given a roster (``roster.csv``), it prints the same figures of that roster: how many of
its professional duties at posts count for a share, and the need its totals above ``min`` add.

    python -m benchmarks.professional_flow INSTANCE [ROSTER_CSV]
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from collections import Counter

from ortools.graph.python import max_flow

from models import load_instance
from scheduler.cpsat.bound import _person_caps
from scheduler.duties import Problem, expand


def professional_flow(problem: Problem) -> dict:
    inst = problem.instance
    professional = set(inst.policy.professional_roles)
    share = inst.policy.min_professional_share
    day_cap, week_cap = _person_caps(problem)
    mins: Counter = Counter()
    for d in problem.duties:
        if d.kind == "post":
            mins[(d.school_id, d.date.isoformat(), d.peak)] += d.min
    need = {k: math.ceil(share * v - 1e-9) for k, v in mins.items() if v > 0}
    ids: dict = {}

    def node(key) -> int:
        return ids.setdefault(key, len(ids))

    source, sink = node("source"), node("sink")
    flow = max_flow.SimpleMaxFlow()
    for k, n in need.items():
        flow.add_arc_with_capacity(node(("peak", *k)), sink, n)
    for p, duties in enumerate(problem.eligible):
        if problem.persons[p].role not in professional:
            continue
        flow.add_arc_with_capacity(source, node(("person", p)), week_cap[p])
        made = set()
        for i in duties:
            d = problem.duties[i]
            k = (d.school_id, d.date.isoformat(), d.peak)
            if d.kind != "post" or k not in need:
                continue
            day, slot = ("day", p, d.date), ("slot", p, d.date, d.start, d.end)
            for arc, tail, head, cap in ((day, ("person", p), day, day_cap[p].get(d.date, 0)),
                                         (slot, day, slot, 1), ((slot, k), slot, ("peak", *k), 1)):
                if arc not in made:
                    made.add(arc)
                    flow.add_arc_with_capacity(node(tail), node(head), cap)
    if flow.solve(source, sink) != flow.OPTIMAL:
        raise RuntimeError("the maximum flow was not solved")
    total = sum(need.values())
    return {"need_at_min": total, "max_useful_professional_duties": flow.optimal_flow(),
            "share_shortfall_floor": total - flow.optimal_flow(), "arcs": flow.num_arcs()}


def roster_figures(problem: Problem, path: str) -> dict:
    inst = problem.instance
    professional = set(inst.policy.professional_roles)
    share = inst.policy.min_professional_share
    role = {p.id: p.role for p in problem.persons}
    total: Counter = Counter()
    pros: Counter = Counter()
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["route_id"]:
                continue
            k = (row["school_id"], row["date"], row["peak"])
            total[k] += 1
            pros[k] += role[row["person_id"]] in professional
    need = {k: math.ceil(share * n - 1e-9) for k, n in total.items()}
    return {"share_shortfall": sum(max(0, need[k] - pros[k]) for k in total),
            "useful_professional_duties": sum(min(pros[k], need[k]) for k in total),
            "need_of_its_totals": sum(need.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("roster", nargs="?", help="a roster.csv of the instance")
    args = parser.parse_args()
    t0 = time.monotonic()
    problem = expand(load_instance(args.instance))
    out = professional_flow(problem)
    out["seconds"] = round(time.monotonic() - t0, 2)
    print(out)
    if args.roster:
        print(roster_figures(problem, args.roster))


if __name__ == "__main__":
    main()
