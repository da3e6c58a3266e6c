"""What the roster page shows, read from a run's published files (roster.csv, gaps.csv).

The files are the command line's: the page shows what a planner would open, and nothing the
files do not say. :func:`roster_rows` and :func:`gaps` read them (once per page); the views
take their rows.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def files(out: Path) -> dict[str, Path]:
    """Every file the run published, by its path inside the folder (``calendars/P001.ics``). A
    download is looked up here by exact name: no path from a request reaches the file system."""
    if not out.is_dir():
        return {}
    return {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*")) if p.is_file()}


@dataclass
class Cell:
    """One school on one date: people on duty, people missing below ``min``, other gaps (police,
    skills, leader)."""

    assigned: int = 0
    missing: int = 0
    other: int = 0

    @property
    def level(self) -> str:
        return "missing" if self.missing else "short" if self.other else "ok"


@dataclass
class Heatmap:
    dates: list[str]
    schools: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def cell(self, school: str, date: str) -> Cell:
        return self.cells.get((school, date), Cell())

    def as_json(self) -> dict:
        return {"dates": self.dates, "schools": self.schools,
                "cells": [{"school": s, "date": d, "assigned": c.assigned, "missing": c.missing, "other": c.other,
                           "level": c.level} for (s, d), c in sorted(self.cells.items())]}


def heatmap(roster: list[dict[str, str]], gap_rows: list[dict[str, str]]) -> Heatmap:
    """School x date: coverage at a glance (red: people missing below ``min``; amber: police,
    skills or a leader missing; green: all met). Schools with the most missing first."""
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    for r in roster:
        if r.get("school_id"):
            cells[(r["school_id"], r["date"])].assigned += 1
    for g in gap_rows:
        if not g.get("school_id") or g.get("severity") != "gap":
            continue
        short = max(0, int(g.get("needed") or 0) - int(g.get("got") or 0))
        if g["rule"] == "shortfall":
            cells[(g["school_id"], g["date"])].missing += short
        else:
            cells[(g["school_id"], g["date"])].other += short
    dates = sorted({d for _, d in cells})
    schools = sorted({s for s, _ in cells},
                     key=lambda s: (-sum(cells[(s, d)].missing for d in dates if (s, d) in cells),
                                    -sum(cells[(s, d)].other for d in dates if (s, d) in cells), s))
    return Heatmap(dates, schools, dict(cells))


def school_duties(roster: list[dict[str, str]], school: str) -> list[dict[str, str]]:
    """A school's duties in the roster: date, peak, post, times and who."""
    rows = [r for r in roster if r.get("school_id") == school]
    rows.sort(key=lambda r: (r["date"], r["start"], r["post_id"], r["person_name"]))
    return rows


def person_week(roster: list[dict[str, str]], person: str) -> list[dict[str, str]]:
    """One person's duties in the week, in order."""
    rows = [r for r in roster if r.get("person_id") == person]
    rows.sort(key=lambda r: (r["date"], r["start"]))
    return rows


def people(roster: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(person_id, name) of everyone with a duty, by name."""
    seen = {(r["person_id"], r["person_name"]) for r in roster}
    return sorted(seen, key=lambda p: (p[1], p[0]))


def gaps(out: Path) -> list[dict[str, str]]:
    """gaps.csv's rows, the hard gaps (``severity`` gap) first."""
    rows = _rows(out / "gaps.csv")
    rows.sort(key=lambda g: (g.get("severity") != "gap", g["date"], g.get("school_id") or "", g.get("peak") or ""))
    return rows


def changes(out: Path) -> list[dict[str, str]]:
    """A repair's changes.csv: each assignment added or removed, and why."""
    return _rows(out / "changes.csv")


def roster_rows(out: Path) -> list[dict[str, str]]:
    return _rows(out / "roster.csv")
