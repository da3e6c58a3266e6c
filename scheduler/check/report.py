"""What a check finds: violations, each duty's outcome, the report and its text."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from models.instance import SOFT_RULES

#: Hard rules in the order they are reported.
HARD_RULES: tuple[str, ...] = ("roster", "eligibility", "availability", "one_place", "limits", "cap", "pinned")


OBJECTIVE_REL_TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    """A broken hard rule: which rule, whose, on which duty, and why in words."""

    rule: str
    person_id: str
    duty: str
    detail: str

    def __str__(self) -> str:
        return f"VIOLATION {self.rule} person={self.person_id} duty={self.duty}: {self.detail}"


@dataclass(frozen=True)
class DutyOutcome:
    """What one duty got: assigned people, police and skills against its demand."""

    duty: str
    kind: str
    date: str
    peak: str
    school_id: str
    post_id: str
    route_id: str
    min: int
    target: int
    cap: int
    min_police: int
    skills: dict[str, int]
    assigned: int
    police: int
    skills_got: dict[str, int]

    @property
    def shortfall(self) -> int:
        return max(0, self.min - self.assigned)

    @property
    def police_shortfall(self) -> int:
        return max(0, self.min_police - self.police)

    @property
    def skill_shortfall(self) -> int:
        return sum(max(0, need - self.skills_got.get(s, 0)) for s, need in self.skills.items())

    @property
    def below_target(self) -> int:
        return max(0, self.target - self.assigned)

    @property
    def fully_met(self) -> bool:
        return self.assigned >= self.min

    @property
    def is_gap(self) -> bool:
        """Not fully met: short of people, police or a skill."""
        return bool(self.shortfall or self.police_shortfall or self.skill_shortfall)

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out.update(
            shortfall=self.shortfall,
            police_shortfall=self.police_shortfall,
            skill_shortfall=self.skill_shortfall,
            below_target=self.below_target,
        )
        return out


@dataclass
class CheckReport:
    """Hard violations, raw soft terms, weighted objective, KPIs and per-duty outcomes."""

    violations: list[Violation] = field(default_factory=list)
    terms: dict[str, int] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    objective: float = 0.0
    kpis: dict[str, Any] = field(default_factory=dict)
    per_duty: list[DutyOutcome] = field(default_factory=list)
    #: per school peak not fully met: (school_id, date, peak, rule, needed, got) for the share and leader rules
    slot_gaps: list[tuple[str, dt.date, str, str, int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no hard rule is broken."""
        return not self.violations

    @property
    def gaps(self) -> list[DutyOutcome]:
        """Duties short of people, police or a skill."""
        return [d for d in self.per_duty if d.is_gap]

    def violations_by_rule(self) -> dict[str, int]:
        counts = dict.fromkeys(HARD_RULES, 0)
        for v in self.violations:
            counts[v.rule] = counts.get(v.rule, 0) + 1
        return {rule: n for rule, n in counts.items() if n}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; per-duty outcomes are limited to the gaps."""
        return {
            "ok": self.ok,
            "violations": [asdict(v) for v in self.violations],
            "terms": dict(self.terms),
            "weights": dict(self.weights),
            "objective": self.objective,
            "kpis": self.kpis,
            "gaps": [d.as_dict() for d in self.gaps],
        }


def number_text(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.6g}" if abs(value) < 1 else f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def format_report(report: CheckReport) -> list[str]:
    """Readable lines: violations, then terms, objective and KPIs as short tables."""
    lines = [str(v) for v in report.violations]
    lines.append(f"{'term':<18}{'value':>10}{'weight':>10}{'weighted':>14}")
    for rule in SOFT_RULES:
        w, v = report.weights.get(rule, 0.0), report.terms.get(rule, 0)
        lines.append(f"  {rule:<16}{v:>10,}{number_text(w):>10}{number_text(w * v):>14}")
    lines.append(f"{'objective':<38}{number_text(report.objective):>14}")
    lines.append("kpis")
    for name, value in report.kpis.items():
        if name == "load_by_role":
            for role, s in value.items():
                lines.append(
                    f"  load {role:<24} max {s['max']:>3}  min {s['min']:>3}  "
                    f"mean {s['mean']:6.2f}  spread {s['spread']:>3}"
                )
        elif name == "duties_by_role":
            lines.append("  duties_by_role  " + "  ".join(f"{r}={n}" for r, n in value.items()))
        elif isinstance(value, float):
            lines.append(f"  {name:<32}{value:>10.4f}")
        else:
            lines.append(f"  {name:<32}{value:>10}")
    return lines
