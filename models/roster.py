"""Pydantic models of the roster files (shared/SPEC.md, "Roster output")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

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
)


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
