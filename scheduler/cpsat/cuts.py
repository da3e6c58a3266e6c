"""Valid inequalities: constraints every roster's exact penalties satisfy, added to tighten the
LP relaxation (CP-SAT's bound). They cut no roster, so they change no optimum; they only let the
solver prove one sooner.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ortools.sat.python import cp_model

from scheduler.cpsat.soft import school_slots
from scheduler.cpsat.terms import TermBook
from scheduler.cpsat.variables import Variables
from scheduler.duties import Problem


def share_floor(model: cp_model.CpModel, book: TermBook, problem: Problem, xv: Variables) -> list[tuple[list, int]]:
    """Per school, date and peak: ``share_shortfall + professionals + shortfall >= ceil(share * M)``,
    ``M`` the sum of the peak's post minimums.

    Why it holds: the posts' shortfalls add up to at least ``M - total``, so either ``total >= M``
    and ``ceil(share * total) >= ceil(share * M)`` professionals (or share shortfall) are needed,
    or each person missing below ``M`` is counted by a shortfall, which lowers the need by at most
    one (``share <= 1``). When nobody serves, the shortfalls alone are ``M``.
    Why it helps: the LP meets the share with fractions of professionals (0.8 x 14 = 11.2 at a
    peak needing 12); summed over a day against ``max_per_day`` this is the difference between a
    bound with no share shortfall and the roster's (one school: bound 1,602 -> 2,264). Returns the
    cuts as ``(variables, right-hand side)``: ``sum(variables) >= rhs``.
    """
    inst = problem.instance
    share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
    if share == 0:
        return []
    prof = set(inst.policy.professional_roles)
    by_subject = {(pen.rule, pen.subject): pen.var for pen in book.penalties
                  if pen.rule in ("share_shortfall", "shortfall")}
    persons = problem.persons
    cuts: list[tuple[list, int]] = []
    for key, duties in school_slots(problem).items():
        need = math.ceil(share * sum(problem.duties[d].min for d in duties))
        if need <= 0:
            continue  # nothing asked for: the cut is 0 >= 0
        lits = [v for d in duties for p, v in xv.on_duty(d) if persons[p].role in prof]
        share_var = by_subject.get(("share_shortfall", ("slot",) + key))
        if share_var is not None:
            lits.append(share_var)
        for d in duties:
            var = by_subject.get(("shortfall", ("duty", d)))
            if var is not None:
                lits.append(var)
        model.add_linear_constraint(cp_model.LinearExpr.sum(lits), need, 2**62)
        cuts.append((lits, need))
    return cuts
