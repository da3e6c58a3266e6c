"""Decision variables: one boolean per eligible (person, duty) pair, nothing else."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from ortools.sat.python import cp_model

from scheduler.duties import Problem


@dataclass
class Variables:
    """``x[p][d]`` is true when person ``p`` takes duty ``d``.

    A pair fixed by a sub-problem's context, or pinned by the instance, is the constant 1 (one
    shared variable).
    """

    x: list[dict[int, cp_model.IntVar]]
    by_duty: dict[int, list[tuple[int, cp_model.IntVar]]] = field(default_factory=dict)

    @classmethod
    def build(cls, model: cp_model.CpModel, problem: Problem) -> Variables:
        x: list[dict[int, cp_model.IntVar]] = []
        by_duty: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        forced = problem.fixed | problem.pinned
        one = model.new_constant(1) if forced else None
        for p, duties in enumerate(problem.eligible):
            row: dict[int, cp_model.IntVar] = {}
            for d in duties:
                var = cast(cp_model.IntVar, one) if (p, d) in forced else model.new_bool_var("")  # forced: one set
                row[d] = var
                by_duty[d].append((p, var))
            x.append(row)
        return cls(x, dict(by_duty))

    def on_duty(self, d: int) -> list[tuple[int, cp_model.IntVar]]:
        return self.by_duty.get(d, [])

    @property
    def count(self) -> int:
        return sum(len(row) for row in self.x)
