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
with ``+`` (``north+south``): its people are planned once, so no one can be booked in two parts at
once, and the route is kept. Such units and routes are listed by :func:`cross_district` and
logged; the generated city has none.
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from typing import Any

log = logging.getLogger("schoolpost")

Doc = dict[str, Any]

__all__ = ["cross_district", "district_groups", "district_of_schools", "split_by_district"]


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
    for group in district_groups(doc):
        district = "+".join(group)
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
