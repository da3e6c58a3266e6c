"""Penalty terms: how a soft rule's value is represented and recomputed exactly.

Every soft rule yields :class:`Penalty` objects ``(rule, subject, var)`` whose value is

    value = max(0, max_j ceil(expr_j / div)),   expr_j = sum(coef * v) + const

posted in the model as ``div * var >= expr_j`` (and ``var >= 0``). Minimisation makes ``var``
reach that value at the optimum; :func:`exact_values` recomputes it from the roster alone, so
the reported objective and the gaps table are exact for any roster the solver returns.
A penalty whose ``rule`` is empty is a helper (e.g. "person serves post k") used by others.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

_INF = 2**62


@dataclass(slots=True)
class Penalty:
    rule: str
    subject: tuple
    var: cp_model.IntVar
    exprs: list[tuple[list[int], list[int], int]]  # (variable indices, coefficients, constant)
    div: int = 1
    #: the penalty counts ``scale`` units of its rule (e.g. travel minutes)
    scale: int = 1


class TermBook:
    """Collects penalties and posts their defining constraints in the model."""

    def __init__(self, model: cp_model.CpModel):
        self.model = model
        self.penalties: list[Penalty] = []

    def hinge(self, rule: str, subject: tuple, lits: list, coefs: list[int], const: int, ub: int,
              div: int = 1, scale: int = 1) -> cp_model.IntVar | None:
        """A penalty ``max(0, ceil((sum coefs*lits + const) / div))``; None when always 0."""
        return self.max_of(rule, subject, [(lits, coefs, const)], ub, div, scale)

    def any_of(self, subject: tuple, lits: list) -> cp_model.IntVar:
        """A helper boolean that is 1 when any of ``lits`` is (posted as implications ``x -> u``,
        whose LP is tighter than one aggregated constraint); recomputed as ``ceil(sum / n)``."""
        if len(lits) == 1:
            return lits[0]
        var = self.model.new_bool_var("")
        for lit in lits:
            self.model.add_implication(lit, var)
        self.penalties.append(Penalty("", subject, var, [([v.index for v in lits], [1] * len(lits), 0)], len(lits)))
        return var

    def max_of(self, rule: str, subject: tuple, exprs: list[tuple[list, list[int], int]], ub: int,
               div: int = 1, scale: int = 1) -> cp_model.IntVar | None:
        """A penalty ``max(0, max_j ceil(expr_j / div))``; None when it can never be positive."""
        live = [(lits, coefs, const) for lits, coefs, const in exprs
                if const + sum(c for c in coefs if c > 0) > 0]
        if not live or ub <= 0:
            return None
        model = self.model
        var = model.new_bool_var("") if ub == 1 else model.new_int_var(0, ub, "")
        indices_exprs = []
        for lits, coefs, const in live:
            # div*var - sum(coefs*lits) >= const
            model.add_linear_constraint(
                cp_model.LinearExpr.weighted_sum([var, *lits], [div, *(-c for c in coefs)]), const, _INF)
            indices_exprs.append(([v.index for v in lits], list(coefs), const))
        self.penalties.append(Penalty(rule, subject, var, indices_exprs, div, scale))
        return var


def exact_values(penalties: list[Penalty], values: list[int]) -> dict[int, int]:
    """Exact value of every penalty variable given the decision variables' values.

    ``values`` is indexed by variable index (a solver response's ``solution``); it is updated in
    place with the exact helper values, in creation order, so later penalties see them.
    """
    out: dict[int, int] = {}
    for pen in penalties:
        best = 0
        for idx, coefs, const in pen.exprs:
            total = const
            for i, c in zip(idx, coefs):
                total += c * values[i]
            if total > 0:
                best = max(best, -((-total) // pen.div))
        values[pen.var.index] = best
        out[pen.var.index] = best
    return out
