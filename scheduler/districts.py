"""Split an instance document into one sub-instance per district (``school.district``).

A city is rostered district by district: each district's schools, the units and routes that serve
them and the people of those units form an instance of their own. The functions here work on plain
instance documents (the dicts :func:`scheduler.generate.generate` returns or a YAML/JSON file
parses to), never change their input and return fresh documents; ``schoolpost batch`` and the
benchmark ladder use them.

Rules of the split, for a district (or a part of joined districts, below) ``D`` whose schools are ``S``:

- **schools**: the schools with ``district == D`` (a school without ``district`` is in
  ``"default"``, as in the model);
- **routes**: the routes whose stops are all in ``S``;
- **units**: every unit, its ``schools`` restricted to ``S``; a unit left with no school and no kept
  route is dropped;
- **persons**: the persons whose ``unit`` is a kept unit or a school in ``S``;
- **travel**: a ``travel.matrix`` keeps only the rows and columns of schools in ``S``;
- everything else (format, week, days, policy) is copied; ``name`` becomes ``<name>-<D>``.

A unit that serves schools in two districts (by its ``schools`` or its routes' stops) and a route
with stops in two districts **join those districts into one part**, named by their names joined
with ``+`` (``north+south``; `` (2)`` added when a district already has that name,
:func:`part_names`): its people are planned once, so no one can be booked in two parts at once,
and the route is kept. Such units and routes are listed by :func:`cross_district` and logged; the
generated city has none. Eligibility comes from the unit alone (SPEC), and a pin must be eligible
(the batch checks the city's pins before it splits), so a person never has a duty outside the part
of their unit.

**A folder of instance files** is a city given already in parts (:func:`folder_parts`): each file
is one part, named by its file stem, and the merged document (schools, units, routes and persons
of every file, one after the other) is the city the merged roster is checked against.
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from models import InstanceError, instance_from_data, load_document
from models.errors import printable

log = logging.getLogger("schoolpost")

Doc = dict[str, Any]

__all__ = ["INSTANCE_SUFFIXES", "cross_district", "district_groups", "district_of_schools", "folder_parts",
           "instance_files", "part_names", "split_by_district"]


def district_of_schools(doc: Doc) -> dict[str, str]:
    """School id -> its district (``"default"`` when the school names none)."""
    return {s["id"]: s.get("district", "default") for s in doc.get("schools", [])}


def cross_district(doc: Doc) -> dict[str, dict[str, list[str]]]:
    """Units and routes that reach schools of more than one district.

    A unit reaches the districts of its ``schools`` and of the stops of its routes; a route, those
    of its stops. Returns ``{"units": {unit_id: [districts]}, "routes": {route_id: [districts]}}``
    (district names sorted); both empty when every unit and route stays inside one district.
    """
    where = district_of_schools(doc)
    reach: dict[str, set[str]] = defaultdict(set)
    routes = {}
    for r in doc.get("routes", []):
        ds = {where[s] for s in r.get("stops", []) if s in where}
        reach[r["unit"]] |= ds
        if len(ds) > 1:
            routes[r["id"]] = sorted(ds)
    for u in doc.get("units", []):
        reach[u["id"]] |= {where[s] for s in u.get("schools", []) if s in where}
    units = {u["id"]: sorted(reach[u["id"]]) for u in doc.get("units", []) if len(reach[u["id"]]) > 1}
    return {"units": units, "routes": routes}


def district_groups(doc: Doc) -> list[list[str]]:
    """The districts in the order they first appear, joined where a unit or a route reaches more
    than one of them (transitively): each group is planned as one part."""
    where = district_of_schools(doc)
    order = list(dict.fromkeys(where.values()))
    parent = {d: d for d in order}

    def root(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    spanning = cross_district(doc)
    for ds in (*spanning["units"].values(), *spanning["routes"].values()):
        for d in ds[1:]:
            a, b = root(ds[0]), root(d)
            if a != b:
                parent[max(a, b, key=order.index)] = min(a, b, key=order.index)
    groups: dict[str, list[str]] = {}
    for d in order:
        groups.setdefault(root(d), []).append(d)
    return list(groups.values())


def part_names(doc: Doc) -> list[str]:
    """The name of each group of :func:`district_groups`: a district's own name, or the joined
    districts' names joined with ``+``; a joined name that is already a district's or another
    part's (districts ``north``, ``south`` and ``north+south``) gets `` (2)``, `` (3)``... so
    that no part is lost under another's name."""
    groups = district_groups(doc)
    taken = {g[0] for g in groups if len(g) == 1}
    names = []
    for group in groups:
        name = base = "+".join(group)
        n = 2
        while len(group) > 1 and name in taken:
            name = f"{base} ({n})"
            n += 1
        taken.add(name)
        names.append(name)
    return names


def split_by_district(doc: Doc) -> dict[str, Doc]:
    """One sub-instance document per district (or group of districts joined by a unit or a route
    that reaches more than one: ``north+south``), in the order the districts first appear.

    See the module docstring for what each sub-instance keeps. Units and routes that join
    districts are logged (``schoolpost`` logger, info); :func:`cross_district` returns them as data.
    """
    where = district_of_schools(doc)
    spanning = cross_district(doc)
    for uid, ds in spanning["units"].items():
        log.info("unit %s serves schools in %d districts (%s): they are planned as one part",
                 uid, len(ds), ", ".join(ds))
    for rid, ds in spanning["routes"].items():
        log.info("route %s has stops in %d districts (%s): they are planned as one part",
                 rid, len(ds), ", ".join(ds))

    schools_of: dict[str, list[dict]] = defaultdict(list)
    for s in doc.get("schools", []):
        schools_of[where[s["id"]]].append(s)

    out: dict[str, Doc] = {}
    for group, district in zip(district_groups(doc), part_names(doc), strict=True):
        schools = [s for s in doc.get("schools", []) if where[s["id"]] in group]
        kept_schools = {s["id"] for s in schools}
        routes = [r for r in doc.get("routes", []) if all(stop in kept_schools for stop in r.get("stops", []))]
        route_units = {r["unit"] for r in routes}
        units = []
        for u in doc.get("units", []):
            mine = [s for s in u.get("schools", []) if s in kept_schools]
            if mine or u["id"] in route_units:
                units.append({**u, "schools": mine})
        kept_units = {u["id"] for u in units}
        routes = [r for r in routes if r["unit"] in kept_units]
        persons = [p for p in doc.get("persons", []) if p["unit"] in kept_units or p["unit"] in kept_schools]
        parts: Doc = {
            "name": f"{doc.get('name', 'instance')}-{district}",
            "units": units,
            "schools": schools,
            "routes": routes,
            "persons": persons,
        }
        if "travel" in doc:
            travel = dict(doc["travel"])
            if travel.get("matrix"):
                travel["matrix"] = {
                    src: {dst: m for dst, m in row.items() if dst in kept_schools}
                    for src, row in travel["matrix"].items()
                    if src in kept_schools
                }
            parts["travel"] = travel
        # the input's key order, then anything it lacked (name); deep copies share nothing with it
        sub: Doc = {k: copy.deepcopy(parts.get(k, v)) for k, v in doc.items()}
        sub.update({k: copy.deepcopy(v) for k, v in parts.items() if k not in sub})
        out[district] = sub
    return out


#: the files of a folder that are instance files (the loader reads each of them)
INSTANCE_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")
#: fields every file of a folder must give alike (compared as validated, so ``3`` and ``"3"`` agree);
#: ``travel.matrix`` is not compared: each file's rows are its own schools', and they are joined
SHARED_FIELDS = ("format", "week_start", "days", "timezone", "policy", "travel")
#: the lists a folder's files add up, and the ids in them that must be unique across the files
JOINED_LISTS = ("units", "schools", "routes", "persons")


def instance_files(folder: str | Path) -> list[Path]:
    """The instance files of ``folder``, sorted by name: ``*.yaml``, ``*.yml``, ``*.json`` and
    ``*.xlsx``, not in sub-folders; hidden files (``.name``) and the lock files a spreadsheet
    program leaves beside an open workbook (``~$name.xlsx``) are skipped."""
    folder = Path(folder)
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise InstanceError("", f"cannot read the folder {folder}: {exc.strerror or exc}") from None
    return [p for p in entries if p.suffix.lower() in INSTANCE_SUFFIXES and not p.name.startswith((".", "~$"))
            and p.is_file()]


def _difference(a: Any, b: Any, path: str) -> tuple[str, Any, Any] | None:
    """The first field where two plain values differ: (its path, a's value, b's value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            found = _difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    return None if a == b else (path, a, b)


def _short(value: Any) -> str:
    text = "not given" if value is None else repr(value)
    text = printable(text)
    return text if len(text) <= 60 else text[:57] + "..."


def _ids(inst) -> dict[str, list[tuple[str, str]]]:
    """Each id kind of an instance -> its (field path, id) pairs; schools and units share one
    kind, as the loader refuses a unit named like a school."""
    return {
        "school or unit": [*((f"schools[{i}].id", s.id) for i, s in enumerate(inst.schools)),
                           *((f"units[{i}].id", u.id) for i, u in enumerate(inst.units))],
        "post": [(f"schools[{i}].posts[{j}].id", p.id) for i, s in enumerate(inst.schools)
                 for j, p in enumerate(s.posts)],
        "route": [(f"routes[{i}].id", r.id) for i, r in enumerate(inst.routes)],
        "person": [(f"persons[{i}].id", p.id) for i, p in enumerate(inst.persons)],
    }


def folder_parts(folder: str | Path) -> tuple[Doc, dict[str, Doc]]:
    """A folder of instance files as (merged document, parts): each file is one part, named by
    its file stem, in the order of the file names; the merged document joins their units,
    schools, routes and persons (and travel matrices) under the fields they share.

    Every file is read and validated whole first; then the files must agree on
    :data:`SHARED_FIELDS` and no id may be in two files. Each refusal is one
    :class:`InstanceError` naming the file (both files for an id in two) and the field."""
    folder = Path(folder)
    files = instance_files(folder)
    if not files:
        raise InstanceError("", f"the folder {printable(str(folder))} holds no instance file "
                                f"({', '.join('*' + s for s in INSTANCE_SUFFIXES)})")
    docs: dict[str, Doc] = {}
    insts: dict[str, Any] = {}
    stems: dict[str, str] = {}
    for path in files:
        name = printable(path.name)
        if path.stem in stems:
            raise InstanceError(name, f"has the same name as {stems[path.stem]} (a part is named by its file "
                                      f"name without the extension): rename one")
        stems[path.stem] = name
        try:
            docs[name] = load_document(path)
            insts[name] = instance_from_data(docs[name])
        except InstanceError as exc:
            raise InstanceError(f"{name}: {exc.path}" if exc.path else name, exc.message) from None

    first = next(iter(insts))
    shared = insts[first].model_dump(mode="json", include=set(SHARED_FIELDS))
    shared["travel"].pop("matrix", None)
    seen: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)  # kind -> id -> (file, field)
    for name, inst in insts.items():
        mine = inst.model_dump(mode="json", include=set(SHARED_FIELDS))
        mine["travel"].pop("matrix", None)
        for field in SHARED_FIELDS:
            found = _difference(shared.get(field), mine.get(field), field)
            if found:
                where, theirs, ours = found
                raise InstanceError(f"{name}: {where}", f"{_short(ours)} here but {_short(theirs)} in {first}: "
                                                        f"the files of a folder must agree on "
                                                        f"{', '.join(SHARED_FIELDS[1:])}")
        for kind, pairs in _ids(inst).items():
            for where, ident in pairs:
                if ident in seen[kind]:
                    other, other_where = seen[kind][ident]
                    raise InstanceError(f"{name}: {where}", f"{kind} id {ident!r} is also in {other} "
                                                            f"({other_where}): ids must differ across the files")
                seen[kind][ident] = (name, where)

    base = docs[first]
    merged: Doc = {key: copy.deepcopy(base[key]) for key in ("format", "week_start", "days", "timezone", "policy")
                   if key in base}
    merged["name"] = printable(folder.resolve().name or "instance")[:200]
    travel = {k: copy.deepcopy(v) for k, v in (base.get("travel") or {}).items() if k != "matrix"}
    matrix = {src: copy.deepcopy(row) for doc in docs.values() for src, row in
              ((doc.get("travel") or {}).get("matrix") or {}).items()}
    if matrix:
        travel["matrix"] = matrix
    if travel:
        merged["travel"] = travel
    for key in JOINED_LISTS:
        merged[key] = [copy.deepcopy(item) for doc in docs.values() for item in doc.get(key) or []]
    parts = {path.stem: docs[printable(path.name)] for path in files}
    return merged, parts
