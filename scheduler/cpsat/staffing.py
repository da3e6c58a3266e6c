"""The staffing model: the fewest people of a role a unit needs to meet ``min``.

The unit's part of the instance, with new interchangeable people of the role added, as a
:class:`~scheduler.cpsat.model.RosterModel` of the shortfall (and, for police, the police
shortfall) held within the fill rate; one "used" literal per member of the unit, the new people
weighed above the present ones so that the fewest hires come first, then the fewest people.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ortools.sat.python import cp_model

from scheduler.cpsat.model import RosterModel
from scheduler.duties import Problem


@dataclass
class StaffingModel:
    rm: RosterModel
    #: member (person index) -> its "used" literal
    used: dict[int, cp_model.IntVar]
    #: the objective's weight of a new person (one more than the number of members)
    weight: int


def staffing_model(problem: Problem, members: list[int], new: list[int], role: str,
                   fill_rate: float) -> StaffingModel:
    """The model: at most ``1 - fill_rate`` of the people at ``min`` (and of the police at
    ``min_police`` when ``role`` is police) missing; minimise ``weight x new people used + people
    used``; ``new`` are used in order (they are interchangeable)."""
    rm = RosterModel(problem, rules=("shortfall", "police_shortfall"))
    m = rm.model
    total_min = sum(d.min for d in problem.duties)
    total_police = sum(d.min_police for d in problem.duties)
    short = [pen for pen in rm.book.penalties if pen.rule == "shortfall"]
    police = [pen for pen in rm.book.penalties if pen.rule == "police_shortfall"]
    m.add(sum(p.var for p in short) <= math.floor((1 - fill_rate) * total_min + 1e-9))
    if role == "police":
        m.add(sum(p.var for p in police) <= math.floor((1 - fill_rate) * total_police + 1e-9))
    used = {}
    inst = problem.instance
    for i in members:
        v = m.new_bool_var(f"used_{i}")
        row = rm.xv.x[i]
        for x in row.values():
            m.add_implication(x, v)
        # load <= limit x used: redundant, but its LP says "at least load / limit people"
        lim = inst.limits_of(problem.persons[i])
        if lim.max_per_week is not None and row:
            m.add(sum(row.values()) <= lim.max_per_week * v)
        if lim.max_minutes_per_week is not None and row:
            m.add(sum(problem.duties[d].minutes * x for d, x in row.items()) <= lim.max_minutes_per_week * v)
        used[i] = v
    for a, b in itertools.pairwise(new):  # interchangeable: the first new ones are used first
        m.add(used[a] >= used[b])
    weight = len(members) + 1  # new people first: the fewest hires, then the fewest people
    m.minimize(sum(weight * used[i] for i in new) + sum(used[i] for i in members))
    return StaffingModel(rm, used, weight)
