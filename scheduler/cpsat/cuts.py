"""Valid inequalities: constraints every roster's exact penalties satisfy, added to tighten the
LP relaxation (CP-SAT's bound). They cut no roster, so they change no optimum; they only let the
solver prove one sooner.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from functools import cache

import numpy as np
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


#: school peaks with more seats than this keep the LP's own share row (the hull's gain is in the
#: small peaks, where one non-professional costs a whole professional; its enumeration grows fast)
SHARE_HULL_MAX_SEATS = 20


def _lower_hull_2d(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The vertices of the lower convex hull of ``(x, z)`` points (monotone chain)."""
    hull: list[tuple[int, int]] = []
    for x, z in sorted(set(points)):
        while len(hull) >= 2 and ((hull[-1][0] - hull[-2][0]) * (z - hull[-2][1])
                                  - (hull[-1][1] - hull[-2][1]) * (x - hull[-2][0])) <= 0:
            hull.pop()
        hull.append((x, z))
    return hull


@cache
def share_hull(pmax: int, nmax: int, hmax: int, num: int, den: int) -> tuple[tuple[int, int, int, int], ...]:
    """The faces of the professional share's integer hull at one school peak: every
    ``(a, b, c, rhs)`` with ``a * P + b * N + c * z >= rhs`` for each ``P`` professionals and
    ``N`` others (``P <= pmax``, ``N <= nmax``, ``P + N <= hmax``) and their share shortfall
    ``z = max(0, ceil(num / den * (P + N)) - P)``. Empty above :data:`SHARE_HULL_MAX_SEATS`.

    Why it helps: the LP's ``den * z >= num * N - (den - num) * P`` charges a non-professional
    among three professionals 0.2, where the roster pays a whole professional (ceil(0.8 x 4) = 4).
    The faces are the planes through three points with every point on or above them (a lower
    convex hull by enumeration, over the points that are vertices of their row's and column's own
    lower hulls: no other point can be a vertex of the whole)."""
    if hmax > SHARE_HULL_MAX_SEATS:
        return ()

    def z(p: int, n: int) -> int:
        return max(0, -(-num * (p + n) // den) - p)

    rows = {n: {(p, z(p, n)) for p in range(min(pmax, hmax - n) + 1)} for n in range(min(nmax, hmax) + 1)}
    keep = {(p, n, v) for n, row in rows.items() for p, v in _lower_hull_2d(list(row))}
    cols: dict[int, list[tuple[int, int]]] = {}
    for p, n, v in keep:
        cols.setdefault(p, []).append((n, v))
    points = sorted((p, n, v) for p, col in cols.items() for n, v in _lower_hull_2d(col))
    if len(points) < 3:
        return ()
    a = np.array(points, dtype=np.int64)
    triples = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(len(a)), 3)),
                          dtype=np.int64).reshape(-1, 3)
    first = a[triples[:, 0]]
    normal = np.cross(a[triples[:, 1]] - first, a[triples[:, 2]] - first)
    normal[normal[:, 2] < 0] *= -1
    lower = normal[:, 2] > 0  # planes the points lie above (z grows along the normal)
    normal, first = normal[lower], first[lower]
    rhs = (normal * first).sum(axis=1)
    everything = np.array([(p, n, z(p, n)) for n, row in rows.items() for p, _ in row], dtype=np.int64)
    holds = np.ones(len(normal), dtype=bool)
    for start in range(0, len(normal), 20_000):
        part = slice(start, start + 20_000)
        holds[part] = ((everything @ normal[part].T) >= rhs[part][None, :]).all(axis=0)
    faces = np.concatenate([normal[holds], rhs[holds][:, None]], axis=1)
    divisor = np.gcd.reduce(np.abs(faces), axis=1)
    faces //= np.maximum(divisor, 1)[:, None]  # each face once, in lowest terms
    return tuple((int(x), int(y), int(c), int(r)) for x, y, c, r in np.unique(faces, axis=0))
