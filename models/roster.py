"""Pydantic models of the roster files (docs/SPEC.md, "Outputs")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

#: Column order of roster.csv / roster.json rows.
ASSIGNMENT_COLUMNS: tuple[str, ...] = (
    "date",
    "weekday",
    "peak",
    "school_id",
    "post_id",
    "route_id",
    "person_id",
    "person_name",
    "role",
    "start",
    "end",
)
#: Column order of gaps.csv rows. SPEC's ``post_id|route_id`` is written as two columns,
#: one of them empty, like roster.csv.
GAP_COLUMNS: tuple[str, ...] = (
    "date",
    "peak",
    "school_id",
    "post_id",
    "route_id",
    "rule",
    "needed",
    "got",
    "reason",
    "severity",
    "avoidable",
)
#: rules whose gap leaves a seat, the police, a skill or the leader missing (``severity`` "gap");
#: the others (below target, professional share) are "soft"
REAL_GAP_RULES = ("shortfall", "police_shortfall", "skill_shortfall", "leader_missing")

#: first characters that make a spreadsheet read a CSV cell as a formula (SPEC, "The CSV formula guard";
#: the usual guidance against CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _looks_like_formula(text: str) -> bool:
    """``text`` starts a formula, or is a guarded one (quotes before a formula start): the guard
    must be applied to it too so that reading it back is exact."""
    return text.lstrip("'").startswith(FORMULA_STARTS)


def csv_cell(value: object) -> object:
    """A value as a CSV the project writes holds it: text that would start a spreadsheet formula
    gets a leading ``'`` (numbers are written as numbers; JSON keeps the text exact)."""
    if isinstance(value, str) and value and (value[0] in FORMULA_STARTS or value[0] == "'") and _looks_like_formula(value):
        return "'" + value
    return value


def csv_value(text: str) -> str:
    """A cell of a CSV the project wrote, as it was before :func:`csv_cell` guarded it."""
    if text.startswith("'") and _looks_like_formula(text):
        return text[1:]
    return text


class Assignment(BaseModel):
    """One roster row: a person on a duty. Route rows leave school_id and post_id empty and
    carry the run's name in ``peak``; post rows leave route_id empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: str
    weekday: str
    peak: str
    school_id: str = ""
    post_id: str = ""
    route_id: str = ""
    person_id: str
    person_name: str
    role: str
    start: str
    end: str


class Gap(BaseModel):
    """One row of gaps.csv: a duty (or school peak) where a soft rule is not fully met."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: str
    peak: str
    school_id: str = ""
    post_id: str = ""
    route_id: str = ""
    rule: str
    needed: int
    got: int
    reason: str
    #: "gap" (a seat below min, police, a skill or the leader missing) or "soft" (below target,
    #: professional share); from ``rule`` when not given
    severity: str = ""
    #: "no": proven that no roster of these people fills it; "yes": a named move would (in
    #: ``reason``); "unknown": neither
    avoidable: str = "unknown"

    @model_validator(mode="after")
    def _severity_from_rule(self) -> Gap:
        if not self.severity:
            real = self.rule.split(":", 1)[0] in REAL_GAP_RULES
            object.__setattr__(self, "severity", "gap" if real else "soft")
        return self
