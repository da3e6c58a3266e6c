"""The independent roster validator: ``schoolpost check INSTANCE OUTDIR``.

Recomputes every hard rule, every soft term, the weighted objective and the KPIs of
docs/SPEC.md from the instance and the roster rows alone (``roster.csv``, or roster.xlsx's
Roster sheet), following docs/RULES.md to the letter.
It deliberately imports nothing from the rest of ``scheduler`` (not the duty expansion, not the
model builder): it has its own duty expansion, so a bug in the builder cannot hide itself here.

Readings chosen where RULES.md leaves room:

- Rows are resolved first (rule ``roster``). A post row names its duty by (date, peak, post_id),
  a route row by (date, peak = run name, route_id); weekday, school_id, start, end, person name
  and role must then agree with the instance. A row whose duty or person does not exist is
  reported and then ignored; a row with a wrong weekday, time, name or role is reported and then
  counted as the duty and person the instance defines. A person listed twice on one duty is
  reported once per extra row and counted once.
- A person without a ``name`` in the instance is expected with an empty ``person_name``.
- Every other rule, term and KPI counts the resolved assignments, whether or not they break a
  hard rule (the roster is measured as written).
- ``cap``: one violation per person beyond the cap, the extra people being the later rows.
- ``limits``: one violation per exceeded limit (per date for ``max_per_day``), naming the first
  duty, in time order, that goes over it.
- ``one_place``: all pairs of a person's duties on a date are checked (travel minutes need not
  obey the triangle inequality when ``travel.matrix`` is given); the violation names the later
  duty and the detail the earlier one.
- ``leader_missing`` counts every school, date and peak the school has that day, even a peak at
  which nobody is assigned (or a school without posts), as RULES.md states it.
- ``travel_chain_gap`` is read from the policy when it exists, else 60 minutes (RULES.md default).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from models import Instance
from models.instance import SOFT_RULES
from scheduler.check.duties import Duty, DutyTable, Place, expand_duties, runs_on_day
from scheduler.check.hard import (
    check_availability,
    check_cap,
    check_eligibility,
    check_limits,
    check_one_place,
    check_pinned,
)
from scheduler.check.kpis import compute_kpis
from scheduler.check.report import (
    HARD_RULES,
    OBJECTIVE_REL_TOL,
    CheckReport,
    DutyOutcome,
    Violation,
    format_report,
    number_text,
)
from scheduler.check.roster import Assignment, RosterIndex, check_roster_rows, read_roster
from scheduler.check.soft import (
    DEFAULT_TRAVEL_CHAIN_GAP,
    distinct_stations,
    duty_outcomes,
    leader_outcomes,
    professional_share,
    schools_with_leader,
    share_shortfalls,
    term_below_target,
    term_burden,
    term_continuity,
    term_fairness,
    term_leader_missing,
    term_police_shortfall,
    term_share_shortfall,
    term_shortfall,
    term_skill_shortfall,
    term_travel_minute,
    travel_chain_gap,
)


def check_rows(instance: Instance, rows: Sequence[Mapping[str, str]]) -> CheckReport:
    """Check roster rows (dicts with the ``roster.csv`` columns) against the instance."""
    table = expand_duties(instance)
    assignments, violations = check_roster_rows(instance, table, rows)
    idx = RosterIndex(instance, table, assignments)
    for rule in (check_eligibility, check_availability, check_one_place, check_limits, check_cap, check_pinned):
        violations.extend(rule(idx))
    outcomes = duty_outcomes(idx)
    terms = {
        "shortfall": term_shortfall(outcomes),
        "police_shortfall": term_police_shortfall(outcomes),
        "skill_shortfall": term_skill_shortfall(outcomes),
        "share_shortfall": term_share_shortfall(idx),
        "leader_missing": term_leader_missing(idx),
        "below_target": term_below_target(outcomes),
        "fairness": term_fairness(idx),
        "continuity": term_continuity(idx),
        "travel_minute": term_travel_minute(idx),
        "burden": term_burden(idx),
    }
    weights = {rule: float(getattr(instance.policy.weights, rule)) for rule in SOFT_RULES}
    objective = sum(weights[rule] * terms[rule] for rule in SOFT_RULES)
    return CheckReport(
        slot_gaps=_slot_gaps(idx),
        violations=violations,
        terms=terms,
        weights=weights,
        objective=objective,
        kpis=compute_kpis(idx, outcomes, terms["travel_minute"]),
        per_duty=outcomes,
    )


def _slot_gaps(idx: RosterIndex) -> list[tuple[str, dt.date, str, str, int, int]]:
    """School peaks short of the professional share or of a leader, with needed and got."""
    share = professional_share(idx.instance)
    professional = set(idx.instance.policy.professional_roles)
    people = idx.school_peak_people()
    out = []
    for key, short in share_shortfalls(idx).items():
        if short:
            total = len(people[key])
            out.append((*key, "share_shortfall", math.ceil(share * total), sum(p.role in professional for p in people[key])))
    for key, has in leader_outcomes(idx).items():
        if not has:
            out.append((*key, "leader_missing", 1, 0))
    return sorted(out, key=lambda g: (g[1], g[0], g[2], g[3]))


def check_roster(instance: Instance, roster_dir: str | Path) -> CheckReport:
    """Check the roster of ``roster_dir`` (its roster.csv, or the file given: :func:`read_roster`)
    against the instance."""
    return check_rows(instance, read_roster(roster_dir))


def summary_objective(roster_dir: str | Path) -> float | None:
    """The ``objective`` of ``roster_dir/summary.json`` if present and numeric, else None."""
    path = Path(roster_dir)
    path = (path if path.is_dir() else path.parent) / "summary.json"
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("objective")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def objective_matches(recomputed: float, reported: float) -> bool:
    """Equal within a relative tolerance of 1e-6 (and an absolute one of 1e-6 near zero)."""
    return math.isclose(recomputed, reported, rel_tol=OBJECTIVE_REL_TOL, abs_tol=OBJECTIVE_REL_TOL)


__all__ = [
    "DEFAULT_TRAVEL_CHAIN_GAP",
    "HARD_RULES",
    "OBJECTIVE_REL_TOL",
    "Assignment",
    "CheckReport",
    "Duty",
    "DutyOutcome",
    "DutyTable",
    "Place",
    "RosterIndex",
    "Violation",
    "check_availability",
    "check_cap",
    "check_eligibility",
    "check_limits",
    "check_one_place",
    "check_pinned",
    "check_roster",
    "check_roster_rows",
    "check_rows",
    "compute_kpis",
    "distinct_stations",
    "duty_outcomes",
    "expand_duties",
    "format_report",
    "leader_outcomes",
    "number_text",
    "objective_matches",
    "professional_share",
    "read_roster",
    "runs_on_day",
    "schools_with_leader",
    "share_shortfalls",
    "summary_objective",
    "term_below_target",
    "term_burden",
    "term_continuity",
    "term_fairness",
    "term_leader_missing",
    "term_police_shortfall",
    "term_share_shortfall",
    "term_shortfall",
    "term_skill_shortfall",
    "term_travel_minute",
    "travel_chain_gap",
]
