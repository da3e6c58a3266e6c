"""The repair model: a published roster's sub-problem, with its changes counted.

On the sub-problem of the duties a repair may change (``free``, local indices), every variable
of a published assignment that stays costs nothing and every one that goes or comes costs one
change; people kept as published (``repair --keep person:ID``) are fixed to their published
duties. The stages of ``schoolpost repair`` minimise coverage above the published level, then the
changes, then the whole objective, each from the last one's roster.
"""

from __future__ import annotations

from scheduler.cpsat.model import RosterModel
from scheduler.cpsat.solver import weighted_sum
from scheduler.duties import Problem

#: the repair's coverage rules: the duties' own demand
REPAIR_COVERAGE = ("shortfall", "police_shortfall", "skill_shortfall")


class RepairModel:
    def __init__(self, problem: Problem, free: set[int], was: set[tuple[int, int]], kept: set[int]):
        """``problem``: the sub-problem; ``was``: its published (person, duty) pairs; ``kept``:
        the people fixed to their published duties among the free ones."""
        self.rm = rm = RosterModel(problem)
        self.lits, self.coefs, self.const = [], [], 0
        for lp, row in enumerate(rm.xv.x):
            for ld, var in row.items():
                if ld not in free:
                    continue
                if lp in kept:
                    rm.model.add(var == int((lp, ld) in was))
                self.lits.append(var)
                if (lp, ld) in was:
                    self.coefs.append(-1)
                    self.const += 1
                else:
                    self.coefs.append(1)
        self.changes = weighted_sum(self.lits, self.coefs) + self.const
        self.cover = rm.coverage_expr(REPAIR_COVERAGE)

    def value(self, stage: str, values: list[int]) -> int:
        """A stage's objective at a full solution vector (exact penalties), in model units:
        ``changes``, ``coverage`` (the repair's coverage rules) or ``objective``."""
        if stage == "changes":
            return self.const + sum(c * values[v.index] for v, c in zip(self.lits, self.coefs))
        _, terms = self.rm.evaluate(values)
        rules = REPAIR_COVERAGE if stage == "coverage" else tuple(terms)
        return sum(self.rm.weights.get(rule, 0) * terms[rule] for rule in rules)

    def coverage_then_changes(self, level: int, upper: int):
        """The first stage's objective: coverage above ``level`` (at most ``upper``) first, then
        the changes, as one expression (a new variable, the model's last)."""
        top = sum(abs(c) for c in self.coefs) + 1
        excess = self.rm.model.new_int_var(0, max(0, upper), "coverage_excess")
        self.rm.model.add(excess >= self.cover - level)
        return top * excess + self.changes

    def hold(self, coverage: int, changes: int) -> None:
        """Keep a stage's result in the next: coverage and changes no worse."""
        self.rm.model.add(self.cover <= coverage)
        self.rm.model.add(self.changes <= changes)
