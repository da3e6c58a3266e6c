"""The CP-SAT roster model: variables, hard rules, soft rules, objective, in a fixed order."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from fractions import Fraction

from ortools.sat.python import cp_model

from models.instance import SOFT_RULES
from scheduler.cpsat import cuts, hard, soft
from scheduler.cpsat.terms import TermBook, exact_values
from scheduler.cpsat.variables import Variables
from scheduler.duties import Problem


def integer_weights(weights: dict[str, float]) -> tuple[dict[str, int], int]:
    """Scale the policy's weights to integers; returns (integer weights, scale)."""
    fr = {k: Fraction(v).limit_denominator(1000) for k, v in weights.items()}
    scale = math.lcm(*(f.denominator for f in fr.values())) if fr else 1
    return {k: int(f * scale) for k, f in fr.items()}, scale


@dataclass
class Objective:
    """``sum(coefs * lits) + const``: the weighted objective in integer units (x ``scale``).

    Terms: each penalty counts ``weight[rule] * scale_of_penalty * value``; ``below_target`` is
    ``weight * (sum target - sum assigned)``; ``burden`` is ``weight * assignments of burden roles``.
    """

    lits: list = field(default_factory=list)
    coefs: list[int] = field(default_factory=list)
    const: int = 0

    def add(self, lits: list, coefs: list[int], const: int = 0) -> None:
        self.lits += lits
        self.coefs += coefs
        self.const += const

    def expr(self) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.weighted_sum(self.lits, self.coefs) + self.const


#: the coverage rules: a duty or school peak left short (the coverage searches' objective)
COVERAGE_RULES = ("shortfall", "police_shortfall", "skill_shortfall", "share_shortfall", "leader_missing")


def roster_objective(problem: Problem, pairs: list[tuple[int, int]]) -> float:
    """The exact weighted objective (policy units) of a roster of ``problem``, by the model's own
    terms: a model whose only variables are the roster's pairs, every one set. A district's
    neighbourhood search counts its changes from this value (the model of the whole district
    week would be too large to build for one evaluation); a test holds it to the validator's."""
    mine: list[list[int]] = [[] for _ in problem.persons]
    for p, d in pairs:
        mine[p].append(d)
    for duties in mine:
        duties.sort(key=lambda i: (problem.duties[i].date, problem.duties[i].start, problem.duties[i].end, i))
    only = dataclasses.replace(problem, eligible=mine, pinned=frozenset(), fixed=frozenset())
    rm = RosterModel(only, with_cuts=False)
    return rm.evaluate(rm.values_of(pairs))[0]


class RosterModel:
    """Builds the CP-SAT model of a :class:`Problem`."""

    def __init__(self, problem: Problem, rules: tuple[str, ...] | None = None, with_cuts: bool = True):
        """``rules``: build only these soft rules (default: all of them); a question that needs
        only some (``staffing``: shortfall and police) gets a smaller model. ``with_cuts``: add the
        valid inequalities of :mod:`scheduler.cpsat.cuts` (they help the bound, not a local
        search, which they slow down: the neighbourhood sub-models go without)."""
        self.problem = problem
        self.model = cp_model.CpModel()
        self.xv = Variables.build(self.model, problem)
        self.constraints = {
            "cap": hard.add_cap(self.model, problem, self.xv),
            "one_place": hard.add_one_place(self.model, problem, self.xv),
            "limits": hard.add_limits(self.model, problem, self.xv),
        }
        self.book = TermBook(self.model)
        want = set(SOFT_RULES if rules is None else rules)
        for rule in ("shortfall", "police_shortfall", "skill_shortfall", "share_shortfall", "leader_missing",
                     "fairness", "continuity", "travel_minute"):
            if rule in want:
                getattr(soft, rule)(self.book, problem, self.xv)
        #: valid inequalities (scheduler.cpsat.cuts): they tighten the bound, never cut a roster
        self.cuts: list[tuple[list, int]] = (
            cuts.share_floor(self.model, self.book, problem, self.xv)
            if with_cuts and {"shortfall", "share_shortfall"} <= want else [])
        self.below_target = soft.below_target(problem, self.xv) if "below_target" in want else ([], [], 0)
        self.burden = soft.burden(problem, self.xv) if "burden" in want else []
        weights = problem.instance.policy.weights.model_dump()
        self.weights, self.weight_scale = integer_weights(weights)
        self.objective = self.weighted_objective()
        self.model.minimize(self.objective.expr())

    def weighted_objective(self) -> Objective:
        w = self.weights
        obj = Objective()
        for pen in self.book.penalties:
            if pen.rule and w.get(pen.rule, 0):
                obj.add([pen.var], [w[pen.rule] * pen.scale])
        if w.get("below_target", 0):
            lits, coefs, const = self.below_target
            k = w["below_target"]
            obj.add(lits, [k * c for c in coefs], k * const)
        if w.get("burden", 0):
            obj.add(self.burden, [w["burden"]] * len(self.burden))
        return obj

    def coverage_expr(self, rules: tuple[str, ...] = COVERAGE_RULES) -> cp_model.LinearExpr:
        """The weighted objective restricted to ``rules`` (default :data:`COVERAGE_RULES`: a sparse
        objective for a coverage search before the weighted one; see ``scheduler.solve``)."""
        w = self.weights
        pens = [pen for pen in self.book.penalties if pen.rule in rules and w.get(pen.rule, 0)]
        return cp_model.LinearExpr.weighted_sum([pen.var for pen in pens], [w[pen.rule] * pen.scale for pen in pens])

    def coverage_search(self, hint: list[int], **run_options) -> tuple[list[int], str, float]:
        """CP-SAT on :meth:`coverage_expr` from ``hint`` (a complete solution vector); returns the
        better of its roster and the hint by the full objective, the run's status and its
        deterministic time. The full objective is restored. ``run_options`` go to
        :func:`scheduler.cpsat.solver.run`."""
        from scheduler.cpsat.solver import run

        self.add_hint(hint)
        self.model.minimize(self.coverage_expr())
        raw = run(self.model, **run_options)
        self.model.minimize(self.objective.expr())
        if raw.values is not None:
            found = self.values_of(self.assignments(raw.values))
            if self.evaluate(list(found))[0] < self.evaluate(list(hint))[0]:
                return found, raw.status, raw.deterministic_time
        return hint, raw.status, raw.deterministic_time

    def hold(self, rules: tuple[str, ...], at_most: int) -> None:
        """Post: the raw total of ``rules`` (penalty rules, e.g. ``shortfall``) is at most
        ``at_most``; a level of a lexicographic search, or coverage held once settled."""
        pens = [pen for pen in self.book.penalties if pen.rule in rules]
        if pens:
            self.model.add(cp_model.LinearExpr.weighted_sum([pen.var for pen in pens], [pen.scale for pen in pens])
                           <= at_most)

    # -- reading solutions ---------------------------------------------------------------

    def assignments(self, values: list[int]) -> list[tuple[int, int]]:
        """(person, duty) pairs set in a full solution vector."""
        return [(p, d) for p, row in enumerate(self.xv.x) for d, v in row.items() if values[v.index]]

    def values_of(self, pairs: list[tuple[int, int]]) -> list[int]:
        """A full solution vector for a roster: decisions from ``pairs``, penalties exact."""
        values = [0] * len(self.model.proto.variables)
        for p, d in pairs:
            values[self.xv.x[p][d].index] = 1
        exact_values(self.book.penalties, values)
        return values

    def evaluate(self, values: list[int]) -> tuple[float, dict[str, int]]:
        """Exact objective (policy units) and raw value per rule of a solution vector."""
        exact_values(self.book.penalties, values)
        terms = {rule: 0 for rule in SOFT_RULES}
        for pen in self.book.penalties:
            if pen.rule:
                terms[pen.rule] += pen.scale * values[pen.var.index]
        lits, coefs, const = self.below_target
        terms["below_target"] = const + sum(c * values[v.index] for v, c in zip(lits, coefs))
        terms["burden"] = sum(values[v.index] for v in self.burden)
        total = sum(self.weights.get(rule, 0) * value for rule, value in terms.items())
        return total / self.weight_scale, terms

    def add_hint(self, values: list[int]) -> None:
        """A complete hint (every variable), e.g. the greedy roster with exact penalties."""
        self.model.clear_hints()
        hint = self.model.proto.solution_hint
        hint.vars.extend(range(len(values)))
        hint.values.extend(values)

    @property
    def size(self) -> dict[str, int]:
        proto = self.model.proto
        return {
            "variables": len(proto.variables),
            "decision_variables": self.xv.count,
            "constraints": len(proto.constraints),
            "penalties": sum(1 for p in self.book.penalties if p.rule),
        }
