"""``schoolpost whatif``: the baseline and its variants solved side by side, compared, explained.

A scenario file (YAML or JSON; docs/WHATIF.md describes it with examples)::

    scenarios:
      - name: rain-monday
        description: rain plan, half as many again at every post on Monday
        operations:
          - scale_demand: {factor: 1.5, days: [mon]}
      - name: event-wednesday
        operations:
          - remove_people: {role: auxiliary_police, fraction: 0.2, days: [wed], seed: 1}

Each variant is the instance document with its operations applied in order
(:func:`apply_operations`), validated like any instance. The baseline (the instance as it is) and
every variant are solved with the same options, in parallel (:mod:`scheduler.parallel`); each
roster is checked by the validator and written to ``OUT/<variant>/``. ``whatif.csv`` and
``whatif.json`` hold the KPIs (rows) of every variant (columns) with deltas against the baseline,
and ``whatif.json`` the explanations: the schools that lose (or gain) the most coverage and the
reasons the gaps table gives for them.
"""

from __future__ import annotations

import copy
import math
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any, Literal

import click
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models import InstanceError, instance_from_data, load_document
from models.instance import WEEKDAYS, Id, SchoolType, Weekday, weekday_date
from models.loader import format_loc
from scheduler.commands import WORK_LIMIT_OPTION, time_limit_type
from scheduler.output import csv_rows, csv_text, json_text, output_folder, write_files
from scheduler.parallel import default_processes, run_jobs, stop_on_signals


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
    fields: list[Literal["min", "target", "min_police"]] = Field(default_factory=lambda: ["min", "target"])


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


def _dates_of(doc: dict, days: list[str] | None, dates: list[str] | None) -> list[str]:
    """ISO dates: ``dates`` and the horizon dates of ``days`` (the document is already valid)."""
    import datetime as dt

    start = dt.date.fromisoformat(str(doc["week_start"]))
    return sorted(set(dates or []) | {weekday_date(start, d).isoformat() for d in days or []})


def _school_dates(doc: dict, days: list[str] | None, dates: list[str] | None, where: str) -> list[str]:
    """:func:`_dates_of`, each day and date checked to be a school day of the horizon: a leave or
    an absence on another day would change nothing, silently."""
    from models import Instance

    horizon_days = doc.get("days") or Instance.model_fields["days"].get_default(call_default_factory=True)
    horizon = _dates_of(doc, horizon_days, None)
    for day in days or []:
        if day not in horizon_days:
            raise InstanceError(f"{where}.days", f"{day} is not a school day of this week "
                                                 f"(days: {', '.join(horizon_days)}); nothing would change")
    for text in dates or []:
        if text not in horizon:
            raise InstanceError(f"{where}.dates", f"{text} is not a school day of this week "
                                                  f"({horizon[0]} to {horizon[-1]}); nothing would change")
    return _dates_of(doc, days, dates)


def _leave(person: dict, dates: list[str], start: str | None = None, end: str | None = None) -> None:
    entries = person.setdefault("leave", [])
    for d in dates:
        entries.append(d if start is None else {"date": d, "start": start, "end": end})


def _remove_people(doc: dict, op: RemovePeople, where: str) -> None:
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
            op.count if op.count is not None else round(op.fraction * len(pool)))
        chosen = set(random.Random(op.seed).sample(pool, min(k, len(pool))))
    if op.days or op.dates:
        dates = _school_dates(doc, op.days, op.dates, where)
        for p in persons:
            if p["id"] in chosen:
                _leave(p, dates)
    else:
        doc["persons"] = [p for p in persons if p["id"] not in chosen]


def _add_people(doc: dict, op: AddPeople, scenario: str) -> None:
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


def _merged_demand(post: dict, peak: str) -> dict:
    base = dict(post.get("demand", {}).get("default") or {})
    over = post.get("demand", {}).get(peak) or {}
    base.update({k: v for k, v in over.items() if v is not None})
    return base


def _scale_demand(doc: dict, op: ScaleDemand, where: str) -> None:
    import datetime as dt

    days = list(op.days or [])
    for text in op.dates or []:
        try:
            day = WEEKDAYS[dt.date.fromisoformat(text).weekday()]
        except ValueError:
            raise InstanceError(f"{where}.dates", f"{text!r} is not a date YYYY-MM-DD") from None
        if day not in (doc.get("days") or WEEKDAYS) or text not in _dates_of(doc, [day], None):
            raise InstanceError(f"{where}.dates", f"{text} is not a school day of this week")
        days.append(day)
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
                d = _merged_demand(post, name)
                for f in op.fields:
                    if d.get(f) is not None:
                        d[f] = math.ceil(d[f] * op.factor - 1e-9)
                if d.get("target") is not None and d.get("min") is not None and d["target"] < d["min"]:
                    d["target"] = d["min"]
                post.setdefault("demand", {})[target_name] = d
        school["peaks"] = peaks


def _close_schools(doc: dict, op: CloseSchools, where: str) -> None:
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


def _add_schools(doc: dict, op: AddSchools, where: str) -> None:
    doc.setdefault("schools", []).extend(copy.deepcopy(op.schools))
    units = {u["id"]: u for u in doc.get("units", [])}
    for uid, sids in op.served_by.items():
        if uid not in units:
            raise InstanceError(f"{where}.served_by.{uid}", f"no unit {uid!r}")
        units[uid]["schools"] = list(units[uid].get("schools", [])) + [s for s in sids if s not in units[uid].get("schools", [])]


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
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
            _remove_people(doc, op, where)
        elif kind == "add_people":
            _add_people(doc, op, scenario.name)
        elif kind == "leave":
            known = {p["id"]: p for p in doc.get("persons", [])}
            dates = _school_dates(doc, op.days, op.dates, where)
            for pid in op.ids:
                if pid not in known:
                    raise InstanceError(f"{where}.ids", f"no person {pid!r}")
                _leave(known[pid], dates, op.start, op.end)
        elif kind == "scale_demand":
            _scale_demand(doc, op, where)
        elif kind == "policy":
            doc["policy"] = _deep_merge(doc.get("policy") or {}, op)
        elif kind == "close_schools":
            _close_schools(doc, op, where)
        elif kind == "add_schools":
            _add_schools(doc, op, where)
    return doc


# ----------------------------------------------------------------------------------------------
# Solving and comparing
# ----------------------------------------------------------------------------------------------

#: (row name, how to read it from a summary); "terms." and "kpis." read nested values
KPI_ROWS: tuple[str, ...] = (
    "status", "reproducible", "objective", "best_bound", "terms.shortfall", "terms.police_shortfall", "terms.skill_shortfall",
    "terms.share_shortfall", "terms.leader_missing", "terms.below_target", "terms.fairness", "terms.continuity",
    "kpis.fill_rate", "kpis.duties_total", "kpis.duties_fully_met", "kpis.police_demand_met",
    "kpis.share_compliance", "kpis.leader_compliance", "assignments", "gaps", "persons", "schools", "wall_time",
)


def solve_variant(name: str, doc: dict, options: dict) -> dict:
    """Solve one variant (runs in a worker process): its files and summary."""
    from scheduler.commands import solve_files

    inst = instance_from_data(doc)
    _, summary, _, _, files = solve_files(inst, **options)
    summary = {**summary, "persons": len(inst.persons), "schools": len(inst.schools)}
    files["summary.json"] = json_text(summary)
    return {"name": name, "files": files, "summary": summary}


def _value(summary: dict, row: str):
    cur: Any = summary
    for part in row.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def kpi_table(results: dict[str, dict]) -> list[dict]:
    """One row per KPI: ``kpi``, ``baseline``, then ``<variant>`` and ``<variant> delta``."""
    rows = []
    base = results["baseline"]["summary"]
    for kpi in KPI_ROWS:
        row: dict[str, Any] = {"kpi": kpi.split(".")[-1], "baseline": _value(base, kpi)}
        for name, res in results.items():
            if name == "baseline":
                continue
            v = _value(res["summary"], kpi)
            row[name] = v
            b = row["baseline"]
            row[f"{name} delta"] = (round(v - b, 6) if isinstance(v, int | float) and isinstance(b, int | float)
                                    and not isinstance(v, bool) else "")
        rows.append(row)
    return rows


def _school_losses(files: dict) -> tuple[Counter, dict[str, Counter]]:
    """People missing at ``min`` per school, and the reasons given for them, from gaps.csv."""
    missing: Counter = Counter()
    reasons: dict[str, Counter] = defaultdict(Counter)
    for g in csv_rows(files["gaps.csv"]):
        if g["rule"] != "shortfall" or not g["school_id"]:
            continue
        k = int(g["needed"]) - int(g["got"])
        missing[g["school_id"]] += k
        reasons[g["school_id"]][g["reason"]] += k
    return missing, reasons


def explain(results: dict[str, dict], top: int = 3) -> dict[str, list[str]]:
    """In words, per variant: the largest KPI changes and the schools losing or gaining most."""
    base = results["baseline"]
    base_missing, _ = _school_losses(base["files"])
    out: dict[str, list[str]] = {}
    for name, res in results.items():
        if name == "baseline":
            continue
        lines = []
        s, b = res["summary"], base["summary"]
        for kpi, label in (("terms.shortfall", "people missing at min"), ("terms.police_shortfall", "police missing"),
                           ("terms.share_shortfall", "professionals missing for the share"),
                           ("terms.leader_missing", "school peaks without a leader")):
            dv = (_value(s, kpi) or 0) - (_value(b, kpi) or 0)
            if dv:
                lines.append(f"{label}: {_value(b, kpi) or 0} -> {_value(s, kpi) or 0} ({dv:+d})")
        fr_b, fr_s = _value(b, "kpis.fill_rate"), _value(s, "kpis.fill_rate")
        if fr_b is not None and fr_s is not None and abs(fr_s - fr_b) >= 1e-4:
            lines.append(f"fill rate {fr_b:.1%} -> {fr_s:.1%}")
        missing, reasons = _school_losses(res["files"])
        change = {sid: missing.get(sid, 0) - base_missing.get(sid, 0) for sid in set(missing) | set(base_missing)}
        worse = sorted((sid for sid, d in change.items() if d > 0), key=lambda sid: (-change[sid], sid))[:top]
        for sid in worse:
            why = reasons[sid].most_common(1)[0][0] if reasons[sid] else "no reason recorded"
            lines.append(f"school {sid} loses {change[sid]} (missing {base_missing.get(sid, 0)} -> {missing[sid]}): {why}")
        better = sorted((sid for sid, d in change.items() if d < 0), key=lambda sid: (change[sid], sid))[:top]
        for sid in better:
            lines.append(f"school {sid} gains {-change[sid]} (missing {base_missing[sid]} -> {missing.get(sid, 0)})")
        if not lines:
            lines.append("no change in coverage against the baseline")
        if b["status"] != "optimal" or s["status"] != "optimal":
            lines.append(f"note: the rosters are not proven optimal (gap {b['gap']:.1%} baseline, {s['gap']:.1%} "
                         f"{name}); differences of a few people at one school can come from the search, not "
                         f"the scenario")
        out[name] = lines
    return out


def run_whatif(instance: str | Path, scenarios_path: str | Path, outdir: str | Path, *, options: dict,
               processes: int | None = None, echo=None, stop=None) -> dict:
    """Baseline and variants; writes every roster folder, whatif.csv and whatif.json."""
    doc = load_document(instance)
    instance_from_data(doc)
    spec = load_scenarios(scenarios_path)
    out = output_folder(outdir)
    docs = {"baseline": doc}
    for i, sc in enumerate(spec.scenarios):
        variant = apply_operations(doc, sc, i)
        try:
            instance_from_data(variant)
        except InstanceError as exc:
            raise InstanceError(f"scenarios[{i}] ({sc.name})", f"the variant is not a valid instance: {exc}") from None
        docs[sc.name] = variant
    jobs = [(name, solve_variant, (name, d, options)) for name, d in docs.items()]
    results: dict[str, dict] = {}
    for name, res in run_jobs(jobs, processes=processes or default_processes(options.get("workers", 1)), stop=stop):
        results[name] = res
        if echo:
            echo(f"  {name}: {res['summary']['status']}, objective {res['summary']['objective']:.1f}")
    results = {name: results[name] for name in docs}  # baseline first, then the file's order
    table = kpi_table(results)
    words = explain(results)
    report = {
        "instance": str(instance),
        "scenarios": [sc.model_dump(exclude_none=True) for sc in spec.scenarios],
        "options": options,
        "kpis": table,
        "explanations": words,
        "valid": {name: res["summary"]["valid"] for name, res in results.items()},
    }
    columns = tuple(table[0].keys())
    files = {"whatif.csv": csv_text(table, columns), "whatif.json": json_text(report)}
    for name, res in results.items():
        files.update({f"{name}/{file}": content for file, content in res["files"].items()})
    # one publish: the comparison and every variant's folder together; an earlier run's variant
    # folders (any folder with a roster) go, other entries stay
    earlier = {e.name for e in out.iterdir() if (e / "roster.csv").is_file()} if out.is_dir() else set()
    write_files(out, files, replaces=earlier | {"whatif.csv", "whatif.json"})
    return report


def format_table(table: list[dict]) -> str:
    import pandas as pd

    df = pd.DataFrame(table).set_index("kpi")
    return df.to_string(float_format=lambda v: f"{v:,.4g}" if abs(v) < 10 else f"{v:,.1f}")


@click.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("scenarios", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(), help="Folder for every roster and the comparison.")
@click.option("--time-limit", type=time_limit_type(0.1), default=60.0, show_default=True, help="Seconds per variant.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="CP-SAT threads per variant.")
@click.option("--jobs", type=click.IntRange(1, 1024), default=None, help="Variants solved at once [default: cores / workers].")
@click.option("--seed", type=int, default=0, show_default=True)
@WORK_LIMIT_OPTION
@click.option("--quiet", is_flag=True, help="Only the table.")
def whatif_command(instance, scenarios, outdir, time_limit, workers, jobs, seed, work_limit, quiet):
    """Solve INSTANCE and each variant in SCENARIOS; compare KPIs side by side and explain them."""
    started = time.monotonic()
    options = {"time_limit": time_limit, "workers": workers, "seed": seed}
    if work_limit != "auto":  # auto is solve's default
        options["work_limit"] = work_limit
    echo = None if quiet else (lambda line: click.echo(line, err=True))
    try:
        with stop_on_signals() as stop:
            report = run_whatif(instance, scenarios, outdir, options=options, processes=jobs, echo=echo, stop=stop)
    except KeyboardInterrupt:
        click.echo("interrupted: no comparison written (variant folders are written only when all are done)",
                   err=True)
        sys.exit(130)
    click.echo(format_table(report["kpis"]))
    for name, lines in report["explanations"].items():
        click.echo(f"\n{name}:")
        for line in lines:
            click.echo(f"  - {line}")
    bad = [n for n, ok in report["valid"].items() if not ok]
    click.echo(f"\n{len(report['valid'])} rosters, {time.monotonic() - started:.1f}s -> {outdir}", err=True)
    if bad:
        click.echo(f"hard-rule violations in: {', '.join(bad)}", err=True)
        sys.exit(1)
