"""Words and marks shared by the human outputs: role, day, rule, post and place labels, HTML escaping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from html import escape

ROLE_LABELS: dict[str, str] = {
    "police": "police",
    "auxiliary_police": "aux. police",
    "security_guard": "guard",
    "community_worker": "community",
    "school_leader": "leader",
    "teacher": "teacher",
    "volunteer": "volunteer",
}
#: Short role marks printed after each name (explained in each page's legend).
ROLE_CODES: dict[str, str] = {
    "police": "P",
    "auxiliary_police": "AP",
    "security_guard": "G",
    "community_worker": "C",
    "school_leader": "L",
    "teacher": "T",
    "volunteer": "V",
}
DAY_LABELS = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}
RULE_LABELS: dict[str, str] = {
    "shortfall": "short of min",
    "police_shortfall": "short of police",
    "skill_shortfall": "short of a skill",
    "share_shortfall": "professional share",
    "leader_missing": "no leader",
    "below_target": "below target",
}

#: A post's kind in words, for a post without a name.
POST_KIND_LABELS = {"gate": "gate", "pickup_area": "pick-up area"}


def words(ident: str) -> str:
    """An id in words a person reads: ``pm_dismissal`` -> ``pm dismissal`` (snake case undone)."""
    return " ".join(str(ident).replace("_", " ").split())


def school_label(school) -> str:
    """A school's name, else its id in words."""
    return school.name or words(school.id)


def post_label(post) -> str:
    """A post's name, else its kind in words (``Gate``, ``Pick-up area``), never its id."""
    if post.name:
        return post.name
    kind = POST_KIND_LABELS.get(post.kind, words(post.kind))
    return kind[:1].upper() + kind[1:]


def route_label(route, schools: dict) -> str:
    """A patrol route's name, else ``route past <its first stop>`` (``schools``: id -> school)."""
    if route.name:
        return route.name
    first = schools.get(route.stops[0])
    return "route past " + (school_label(first) if first is not None else words(route.stops[0]))


def place_label(school) -> str:
    """Where a school is: its name and, when given, its address (its lines joined by commas)."""
    lines = [" ".join(line.split()) for line in (school.address or "").splitlines()]
    return ", ".join([school_label(school), *(line for line in lines if line)])


def esc(value: object) -> str:
    """HTML text of any value (None is empty); quotes escaped too, so it is safe in attributes."""
    return escape("" if value is None else str(value), quote=True)


def rule_label(rule: str) -> str:
    """``shortfall`` -> ``short of min``; ``skill_shortfall:traffic`` -> ``short of a skill: traffic``."""
    base, _, detail = rule.partition(":")
    label = RULE_LABELS.get(base, base)
    return f"{label}: {detail}" if detail else label


def week(inst) -> list[tuple[str, dt.date]]:
    """(weekday, date) of each school day of the instance, in date order."""
    return sorted(((day, inst.date_of(day)) for day in inst.days), key=lambda item: item[1])


def runs_on(days: Iterable[str] | None, day: str) -> bool:
    """A peak or run with these ``days`` happens on ``day`` (no days: every day)."""
    return days is None or day in days


def html_head(title: str, css: str) -> list[str]:
    """The opening of a self-contained page: doctype, charset, viewport, an empty favicon (so a
    browser asks the network for nothing), the title and the inline style, up to ``<body>``."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{esc(title)}</title>",
        f"<style>{css}</style>",
        "</head><body>",
    ]
