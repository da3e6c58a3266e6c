"""The KPIs of docs/SPEC.md, computed from the roster alone."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from scheduler.check.report import DutyOutcome
from scheduler.check.roster import RosterIndex
from scheduler.check.soft import distinct_stations, leader_outcomes, share_shortfalls


def _fraction(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def compute_kpis(idx: RosterIndex, outcomes: list[DutyOutcome], travel_minutes: int) -> dict[str, Any]:
    """SPEC's KPIs.

    - ``fill_rate``: sum over duties of min(assigned, min) / sum over duties of min (people beyond
      a duty's ``min`` do not make up for another duty's shortfall); 1.0 when nothing is demanded.
    - ``duties_total``; ``duties_fully_met``: duties with assigned >= min.
    - ``police_demand_met``: fraction of duties with min_police > 0 whose police count meets it (1.0 if none).
    - ``share_compliance``: fraction of school-date-peaks with assignments whose share_shortfall is 0 (1.0 if none).
    - ``leader_compliance``: fraction of the school-date-peaks the leader rule counts that have a leader
      (1.0 if none, e.g. when ``leader_on_duty`` is off).
    - ``load_by_role``: {role: {max, min, mean, spread}} of duties per person over all persons of the role.
    - ``continuity_mean_distinct_posts``: mean distinct posts and routes over persons with >= 1 duty (0.0 if none).
    - ``travel_minutes``: the travel_minute term; ``duties_by_role``: {role: assignment count}.
    """
    demanded = sum(o.min for o in outcomes)
    filled = sum(min(o.assigned, o.min) for o in outcomes)
    police_duties = [o for o in outcomes if o.min_police > 0]
    shares = share_shortfalls(idx)
    leaders = leader_outcomes(idx)
    load: dict[str, list[int]] = defaultdict(list)
    for p in idx.instance.persons:
        load[p.role].append(idx.duty_count(p.id))
    by_role: dict[str, int] = dict.fromkeys(sorted(load), 0)
    for a in idx.assignments:
        by_role[a.person.role] = by_role.get(a.person.role, 0) + 1
    stations = distinct_stations(idx)
    return {
        "fill_rate": _fraction(filled, demanded),
        "duties_total": len(outcomes),
        "duties_fully_met": sum(1 for o in outcomes if o.fully_met),
        "police_demand_met": _fraction(sum(1 for o in police_duties if o.police_shortfall == 0), len(police_duties)),
        "share_compliance": _fraction(sum(1 for s in shares.values() if s == 0), len(shares)),
        "leader_compliance": _fraction(sum(1 for has in leaders.values() if has), len(leaders)),
        "load_by_role": {
            role: {
                "max": max(counts),
                "min": min(counts),
                "mean": sum(counts) / len(counts),
                "spread": max(counts) - min(counts),
            }
            for role, counts in sorted(load.items())
        },
        "continuity_mean_distinct_posts": sum(stations.values()) / len(stations) if stations else 0.0,
        "travel_minutes": travel_minutes,
        "duties_by_role": by_role,
    }
