"""What-if operations on an instance document, as a public, typed API: leave, remove or add
people, scale demand, close or add schools, change the policy (docs/WHATIF.md).

A scenario file lists named scenarios, each a list of operations (:class:`Operation`) applied in
order to a copy of the document (:func:`apply_operations`), which is then validated like any
instance. ``schoolpost whatif`` solves each variant; ``repair`` puts absent people on leave and
closes schools with the same functions; any later caller (a web page) uses them too. Every
function works on plain instance documents (the dicts a YAML or JSON file parses to) and names
the field of an operation that cannot apply (``scenarios[0].operations[1].leave.dates: ...``).
"""

from __future__ import annotations

import copy
import math
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models import InstanceError, load_document
from models.errors import format_loc
from models.instance import WEEKDAYS, Id, SchoolType, Weekday, weekday_date


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RemovePeople(_Op):
    """Take people out: by ``ids``, or a seeded ``fraction`` (or ``count``) of those matching
    ``role`` and/or ``unit``. With ``days`` or ``dates`` they are on leave those days only."""

    ids: list[Id] | None = None
    role: str | None = None
    unit: Id | None = None
    fraction: Annotated[float, Field(gt=0, le=1)] | None = None
    count: Annotated[int, Field(ge=1)] | None = None
    seed: int = 0
    days: list[Weekday] | None = None
    dates: list[str] | None = None

    @model_validator(mode="after")
    def _which(self):
        if self.ids is None and self.role is None and self.unit is None:
            raise ValueError("give ids, or role and/or unit (with fraction or count)")
        if self.ids is not None and (self.fraction or self.count):
            raise ValueError("fraction and count select among role/unit, not among ids")
        if self.fraction is not None and self.count is not None:
            raise ValueError("give fraction or count, not both")
        return self


class AddPeople(_Op):
    """``count`` new people of ``role`` in ``unit`` (ids ``<prefix>-1``...), all days, all day,
    unless ``availability`` is given."""

    role: str
    unit: Id
    count: Annotated[int, Field(ge=1, le=100_000)]
    id_prefix: Id | None = None
    skills: list[Id] = Field(default_factory=list)
    availability: list[dict] | None = None
    limits: dict | None = None


class Leave(_Op):
    """Leave for ``ids`` on ``dates`` (ISO) or ``days`` (weekdays of the horizon); with ``start``
    and ``end`` only that window of each date."""

    ids: list[Id]
    dates: list[str] | None = None
    days: list[Weekday] | None = None
    start: str | None = None
    end: str | None = None

    @model_validator(mode="after")
    def _when(self):
        if not self.dates and not self.days:
            raise ValueError("give dates or days")
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        return self


DemandField = Literal["min", "target", "min_police"]


def _demand_fields(*fields: DemandField) -> list[DemandField]:
    return list(fields)


class ScaleDemand(_Op):
    """Multiply ``min`` and ``target`` (and ``min_police`` when listed in ``fields``) of the posts
    selected by ``schools``, ``districts``, ``school_types`` and ``peaks`` by ``factor``, rounded
    up; with ``days`` (or ``dates``), those days only (the peak is split: ``<peak>@<days>``)."""

    factor: Annotated[float, Field(ge=0, le=100)]
    schools: list[Id] | None = None
    districts: list[str] | None = None
    school_types: list[SchoolType] | None = None
    peaks: list[Id] | None = None
    days: list[Weekday] | None = None
    dates: list[str] | None = None  # ISO dates of the horizon, read as their weekdays
    fields: list[DemandField] = Field(default_factory=lambda: _demand_fields("min", "target"))


class CloseSchools(_Op):
    """Close schools: their posts, their own staff, their places in units and route stops go."""

    ids: list[Id]


class AddSchools(_Op):
    """New schools (instance format) and the units that serve them (``served_by: {unit: [school]}``)."""

    schools: list[dict]
    served_by: dict[Id, list[Id]] = Field(default_factory=dict)


class Operation(_Op):
    remove_people: RemovePeople | None = None
    add_people: AddPeople | None = None
    leave: Leave | None = None
    scale_demand: ScaleDemand | None = None
    policy: dict | None = None
    close_schools: CloseSchools | None = None
    add_schools: AddSchools | None = None

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"each operation is exactly one of {', '.join(type(self).model_fields)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)


class Scenario(_Op):
    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    description: str | None = None
    operations: list[Operation] = Field(min_length=1)


class ScenarioFile(_Op):
    scenarios: list[Scenario] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        names = [s.name for s in self.scenarios]
        dup = [n for n, k in Counter(names).items() if k > 1 or n == "baseline"]
        if dup:
            raise ValueError(f"scenario names must be unique and not 'baseline': {dup[0]!r}")
        return self


def load_scenarios(path: str | Path) -> ScenarioFile:
    """Read and validate a scenario file; errors name the field (``scenarios[1].operations[0]...``)."""
    data = load_document(path)
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        raise InstanceError(format_loc(loc) or "scenarios", err["msg"].replace("Value error, ", "")) from None


# ----------------------------------------------------------------------------------------------
# Operations on an instance document
# ----------------------------------------------------------------------------------------------


def dates_of(doc: dict, days: Sequence[str] | None, dates: list[str] | None) -> list[str]:
    """ISO dates: ``dates`` and the horizon dates of ``days`` (the document is already valid)."""
    import datetime as dt

    start = dt.date.fromisoformat(str(doc["week_start"]))
    return sorted(set(dates or []) | {weekday_date(start, d).isoformat() for d in days or []})


def duty_days(doc: dict) -> set[str]:
    """The weekdays of the horizon on which some duty falls: a peak of a school with posts, or a
    run of a route (a peak or run without ``days`` holds every day of the horizon)."""
    from models import Instance

    horizon = list(doc.get("days") or Instance.model_fields["days"].get_default(call_default_factory=True))
    days: set[str] = set()
    windows = [peak for school in doc.get("schools", []) if school.get("posts") for peak in school.get("peaks", [])]
    windows += [run for route in doc.get("routes", []) if route.get("stops") for run in route.get("runs", [])]
    for window in windows:
        days.update(d for d in (window.get("days") or horizon) if d in horizon)
    return days


def school_dates(doc: dict, days: Sequence[str] | None, dates: list[str] | None, where: str) -> list[str]:
    """:func:`dates_of`, each day and date checked to be a school day of the horizon on which some
    duty falls: a leave, an absence or a demand change on another day would change nothing, silently."""
    from models import Instance

    horizon_days = doc.get("days") or Instance.model_fields["days"].get_default(call_default_factory=True)
    horizon = dates_of(doc, horizon_days, None)
    busy = duty_days(doc)
    for day in days or []:
        if day not in horizon_days:
            raise InstanceError(f"{where}.days", f"{day} is not a school day of this week "
                                                 f"(days: {', '.join(horizon_days)}); nothing would change")
        if day not in busy:
            raise InstanceError(f"{where}.days", f"no duty falls on {day} (no peak or run holds then); nothing "
                                                 f"would change")
    for text in dates or []:
        if text not in horizon:
            raise InstanceError(f"{where}.dates", f"{text} is not a school day of this week "
                                                  f"({horizon[0]} to {horizon[-1]}); nothing would change")
        if WEEKDAYS[_weekday(text)] not in busy:
            raise InstanceError(f"{where}.dates", f"no duty falls on {text} (no peak or run holds then); nothing "
                                                  f"would change")
    return dates_of(doc, days, dates)


def _weekday(text: str) -> int:
    import datetime as dt

    return dt.date.fromisoformat(text).weekday()


def add_leave(person: dict, dates: list[str], start: str | None = None, end: str | None = None) -> None:
    """Put a person (a document's mapping) on leave on ``dates`` (ISO), or from ``start`` to ``end``
    (``HH:MM``) of each."""
    entries = person.setdefault("leave", [])
    for d in dates:
        entries.append(d if start is None else {"date": d, "start": start, "end": end})


def remove_people(doc: dict, op: RemovePeople, where: str) -> None:
    """Take people out of ``doc`` (by ``ids``, or a seeded share or count of a role and/or unit), or, with
    ``days``/``dates``, put them on leave those school days only."""
    persons = doc.get("persons", [])
    if op.ids is not None:
        known = {p["id"] for p in persons}
        missing = [i for i in op.ids if i not in known]
        if missing:
            raise InstanceError(f"{where}.ids", f"no person {missing[0]!r}")
        chosen = set(op.ids)
    else:
        pool = sorted(p["id"] for p in persons
                       if (op.role is None or p.get("role") == op.role) and (op.unit is None or p.get("unit") == op.unit))
        if not pool:
            raise InstanceError(where, "no person matches role/unit")
        k = len(pool) if op.fraction is None and op.count is None else (
            op.count if op.count is not None else round(cast(float, op.fraction) * len(pool)))  # one is set
        chosen = set(random.Random(op.seed).sample(pool, min(k, len(pool))))
    if op.days or op.dates:
        dates = school_dates(doc, op.days, op.dates, where)
        for p in persons:
            if p["id"] in chosen:
                add_leave(p, dates)
    else:
        doc["persons"] = [p for p in persons if p["id"] not in chosen]


def add_people(doc: dict, op: AddPeople, scenario: str) -> None:
    """Append ``op.count`` new people to ``doc`` (ids ``<id_prefix or scenario-role>-<k>``, skipping
    ids already taken; names "New <role> <k>")."""
    prefix = op.id_prefix or f"{scenario}-{op.role}"
    known = {p["id"] for p in doc.get("persons", [])}
    k = 0
    for _ in range(op.count):
        k += 1
        while f"{prefix}-{k}" in known:
            k += 1
        person: dict[str, Any] = {"id": f"{prefix}-{k}", "name": f"New {op.role.replace('_', ' ')} {k}",
                                  "role": op.role, "unit": op.unit, "skills": list(op.skills)}
        if op.availability is not None:
            person["availability"] = copy.deepcopy(op.availability)
        if op.limits is not None:
            person["limits"] = dict(op.limits)
        doc.setdefault("persons", []).append(person)
        known.add(person["id"])


def merged_demand(post: dict, peak: str) -> dict:
    """A post's demand at ``peak``: its ``default`` entry, overridden key by key by the peak's."""
    base = dict(post.get("demand", {}).get("default") or {})
    over = post.get("demand", {}).get(peak) or {}
    base.update({k: v for k, v in over.items() if v is not None})
    return base


def scale_demand(doc: dict, op: ScaleDemand, where: str) -> None:
    """Multiply the demand of the selected posts by ``op.factor`` (rounded up), on every day or on
    the days given (the peak is split for them)."""
    import datetime as dt

    days: list[str] = list(op.days or [])
    for text in op.dates or []:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise InstanceError(f"{where}.dates", f"{text!r} is not a date YYYY-MM-DD") from None
    school_dates(doc, op.days, op.dates, where)  # days and dates of the week on which a duty falls
    days += [WEEKDAYS[_weekday(text)] for text in op.dates or []]
    days = [d for d in WEEKDAYS if d in days]
    op = op.model_copy(update={"days": days or None})
    tag = "+".join(op.days) if op.days else None
    for school in doc.get("schools", []):
        if op.schools is not None and school["id"] not in op.schools:
            continue
        if op.districts is not None and school.get("district", "default") not in op.districts:
            continue
        if op.school_types is not None and school.get("type") not in op.school_types:
            continue
        peaks = school.get("peaks", [])
        names = sorted({p["name"] for p in peaks if op.peaks is None or p["name"] in op.peaks})
        for name in names:
            target_name = name
            if tag is not None:
                assert op.days is not None  # tag: the days given
                target_name = f"{name}@{tag}"
                split = []
                for p in peaks:
                    if p["name"] != name:
                        split.append(p)
                        continue
                    own = p.get("days") or list(doc.get("days") or WEEKDAYS)
                    keep, moved = [d for d in own if d not in op.days], [d for d in own if d in op.days]
                    if keep:
                        split.append({**p, "days": keep})
                    if moved:
                        split.append({**p, "name": target_name, "days": moved})
                peaks = split
            for post in school.get("posts", []):
                d = merged_demand(post, name)
                for f in op.fields:
                    if d.get(f) is not None:
                        d[f] = math.ceil(d[f] * op.factor - 1e-9)
                if d.get("target") is not None and d.get("min") is not None and d["target"] < d["min"]:
                    d["target"] = d["min"]
                post.setdefault("demand", {})[target_name] = d
        school["peaks"] = peaks


def close_schools(doc: dict, op: CloseSchools, where: str) -> None:
    """Remove the schools ``op.ids`` with their posts, their stops from routes (a route left with
    no stop goes), the people left with nothing to serve, and pins and travel rows of them."""
    known = {s["id"] for s in doc.get("schools", [])}
    missing = [i for i in op.ids if i not in known]
    if missing:
        raise InstanceError(f"{where}.ids", f"no school {missing[0]!r}")
    gone = set(op.ids)
    closed_posts = {p["id"] for s in doc["schools"] if s["id"] in gone for p in s.get("posts", [])}
    doc["schools"] = [s for s in doc["schools"] if s["id"] not in gone]
    for u in doc.get("units", []):
        u["schools"] = [s for s in u.get("schools", []) if s not in gone]
    routes = []
    for r in doc.get("routes", []):
        r["stops"] = [s for s in r.get("stops", []) if s not in gone]
        if r["stops"]:
            routes.append(r)
    doc["routes"] = routes
    # people of a closed school, or of a unit left with no school and no route, have nothing to serve
    serving = {u["id"] for u in doc.get("units", []) if u["schools"]} | {r["unit"] for r in routes}
    units = {u["id"] for u in doc.get("units", [])}
    doc["persons"] = [p for p in doc.get("persons", []) if p.get("unit") not in gone
                      and (p.get("unit") not in units or p.get("unit") in serving)]
    kept_routes = {r["id"] for r in routes}
    for p in doc["persons"]:
        if p.get("pins"):
            p["pins"] = [pin for pin in p["pins"] if pin.get("post") not in closed_posts
                         and (pin.get("route") is None or pin["route"] in kept_routes)]
    matrix = (doc.get("travel") or {}).get("matrix")
    if matrix:
        doc["travel"]["matrix"] = {a: {b: m for b, m in row.items() if b not in gone}
                                   for a, row in matrix.items() if a not in gone}


def add_schools(doc: dict, op: AddSchools, where: str) -> None:
    """Append new schools (full school mappings, validated with the rest of the document)."""
    doc.setdefault("schools", []).extend(copy.deepcopy(op.schools))
    units = {u["id"]: u for u in doc.get("units", [])}
    for uid, sids in op.served_by.items():
        if uid not in units:
            raise InstanceError(f"{where}.served_by.{uid}", f"no unit {uid!r}")
        units[uid]["schools"] = list(units[uid].get("schools", [])) + [s for s in sids if s not in units[uid].get("schools", [])]


def deep_merge(base: dict, over: dict) -> dict:
    """``base`` with ``over`` merged into it, mapping by mapping (a new dict; lists are replaced)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def apply_operations(doc: dict, scenario: Scenario, index: int = 0) -> dict:
    """The instance document with the scenario's operations applied in order (the input is not
    changed); raises :class:`InstanceError` naming the operation."""
    doc = copy.deepcopy(doc)
    doc["name"] = f"{doc.get('name', 'instance')}-{scenario.name}"
    for j, operation in enumerate(scenario.operations):
        kind = operation.kind
        op = getattr(operation, kind)
        where = f"scenarios[{index}].operations[{j}].{kind}"
        if kind == "remove_people":
            remove_people(doc, op, where)
        elif kind == "add_people":
            add_people(doc, op, scenario.name)
        elif kind == "leave":
            known = {p["id"]: p for p in doc.get("persons", [])}
            dates = school_dates(doc, op.days, op.dates, where)
            for pid in op.ids:
                if pid not in known:
                    raise InstanceError(f"{where}.ids", f"no person {pid!r}")
                add_leave(known[pid], dates, op.start, op.end)
        elif kind == "scale_demand":
            scale_demand(doc, op, where)
        elif kind == "policy":
            doc["policy"] = deep_merge(doc.get("policy") or {}, op)
        elif kind == "close_schools":
            close_schools(doc, op, where)
        elif kind == "add_schools":
            add_schools(doc, op, where)
    return doc


# ----------------------------------------------------------------------------------------------
# Solving and comparing
# ----------------------------------------------------------------------------------------------

#: (row name, how to read it from a summary); "terms." and "kpis." read nested values
