"""Reading an instance file (YAML or JSON) into :class:`models.instance.Instance`.

Every problem is raised as :class:`InstanceError` with the path of the bad field, e.g.
``schools[3].posts[1].demand.arrival.min: must be >= 0``. The file is read whole and checked
whole before anything is returned; nothing is half-read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.instance import ROLES, Instance

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_DEPTH = 64


class InstanceError(ValueError):
    """Bad input: ``path`` names the field, ``message`` says what is wrong."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def format_loc(loc: Iterable[Any]) -> str:
    """``('schools', 3, 'posts', 1, 'id')`` -> ``schools[3].posts[1].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when present
    """SafeLoader without YAML 1.1's base-60 integers, so ``16:30`` stays a string."""


_SafeLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Re-add int and float without the sexagesimal forms.
import re as _re

_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    _re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    _re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _check_depth(node: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels")
    if isinstance(node, dict):
        for value in node.values():
            _check_depth(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _check_depth(value, depth + 1)


def parse_document(text: str, suffix: str) -> Any:
    """Parse YAML or JSON text; aliases are refused (no alias bombs)."""
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InstanceError("", f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
        except RecursionError:
            raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels") from None
    try:
        loader = _SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                _refuse_aliases(root)
            return loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InstanceError("", f"not valid YAML: {problem}{where}") from None
    except RecursionError:
        raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels") from None


def _refuse_aliases(root: yaml.Node) -> None:
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise InstanceError("", "YAML anchors and aliases (*name) are not allowed in instances")
        if depth > MAX_DEPTH:
            raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


def _first_error(exc: ValidationError) -> InstanceError:
    err = exc.errors(include_url=False)[0]
    loc = list(err["loc"])
    # Drop pydantic's union-branch tags (e.g. 'date', 'LeaveWindow', 'function-after[...]').
    clean = [p for p in loc if isinstance(p, int) or not (str(p).startswith("§") or "function-" in str(p))]
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif err["type"] == "literal_error":
        msg = msg.replace("Input should be", "must be")
    else:
        msg = msg.replace("Input should be", "must be")
    more = exc.error_count() - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InstanceError(format_loc(clean), msg)


def instance_from_data(data: Any) -> Instance:
    """Validate a parsed document; raises :class:`InstanceError`. A document read from a
    spreadsheet (``load_document`` of an ``.xlsx``) carries the cell of each field, and its errors
    name the sheet, row and column instead of the field path."""
    try:
        return _validate(data)
    except InstanceError as exc:
        origins = getattr(data, "origins", None)
        if origins is None:
            raise
        from models.spreadsheet import locate_error

        raise locate_error(exc, origins) from None


def _validate(data: Any) -> Instance:
    if data is None:
        raise InstanceError("", "the file is empty")
    if not isinstance(data, dict):
        raise InstanceError("", "the top level must be a mapping of fields (format, schools, persons...)")
    _check_depth(data)
    if "format" not in data:
        raise InstanceError("format", "required field is missing (use 'schoolpost/1')")
    if data.get("format") != "schoolpost/1":
        raise InstanceError("format", f"unsupported format {data.get('format')!r}; this version reads 'schoolpost/1'")
    try:
        instance = Instance.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None
    check_references(instance)
    return instance


def load_document(path: str | Path) -> Any:
    """Read an instance file (``.yaml``, ``.yml``, ``.json`` or ``.xlsx``) into its plain document,
    not yet validated; raises :class:`InstanceError` for a file that cannot be read or parsed."""
    path = Path(path)
    if not path.exists():
        raise InstanceError("", f"no such file: {path}")
    if path.is_dir():
        raise InstanceError("", f"{path} is a folder, not an instance file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InstanceError("", f"file is {size // 2**20} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from models.spreadsheet import instance_data_from_xlsx  # optional reader, issue 5

        return instance_data_from_xlsx(path)
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InstanceError("", "the file is binary, not YAML or JSON text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstanceError("", f"the file is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InstanceError("", "the file is empty")
    if suffix not in (".json", ".yaml", ".yml"):
        suffix = ".json" if text.lstrip().startswith(("{", "[")) else ".yaml"
    return parse_document(text, suffix)


def load_instance(path: str | Path) -> Instance:
    """Read and validate an instance file (``.yaml``, ``.yml``, ``.json`` or ``.xlsx``).
    A spreadsheet's errors name the sheet, row and column instead of the field path."""
    return instance_from_data(load_document(path))


def _dupes(ids: Iterable[tuple[str, str]], what: str) -> dict[str, str]:
    seen: dict[str, str] = {}
    for path, ident in ids:
        if ident in seen:
            raise InstanceError(path, f"duplicate {what} id {ident!r} (first at {seen[ident]})")
        seen[ident] = path
    return seen


def check_references(inst: Instance) -> None:
    """Ids are unique and every reference points at something that exists."""
    if len(set(inst.days)) != len(inst.days):
        raise InstanceError("days", "a weekday is listed twice")
    schools = _dupes(((f"schools[{i}].id", s.id) for i, s in enumerate(inst.schools)), "school")
    units = _dupes(((f"units[{i}].id", u.id) for i, u in enumerate(inst.units)), "unit")
    for uid, path in units.items():
        if uid in schools:
            raise InstanceError(path, f"unit id {uid!r} is also a school id; a school is its own unit")
    _dupes(
        ((f"schools[{i}].posts[{j}].id", p.id) for i, s in enumerate(inst.schools) for j, p in enumerate(s.posts)),
        "post",
    )
    routes = _dupes(((f"routes[{i}].id", r.id) for i, r in enumerate(inst.routes)), "route")
    _dupes(((f"persons[{i}].id", p.id) for i, p in enumerate(inst.persons)), "person")

    for i, unit in enumerate(inst.units):
        for j, sid in enumerate(unit.schools):
            if sid not in schools:
                raise InstanceError(f"units[{i}].schools[{j}]", f"no school with id {sid!r}")
    for i, school in enumerate(inst.schools):
        seen: dict[tuple[str, str], int] = {}
        names: set[str] = set()
        for k, peak in enumerate(school.peaks):
            names.add(peak.name)
            for day in peak.days or inst.days:
                if (peak.name, day) in seen:
                    raise InstanceError(
                        f"schools[{i}].peaks[{k}]",
                        f"peak {peak.name!r} is defined twice on {day} (also peaks[{seen[(peak.name, day)]}])",
                    )
                seen[(peak.name, day)] = k
        for j, post in enumerate(school.posts):
            for key, entry in post.demand.items():
                path = f"schools[{i}].posts[{j}].demand.{key}"
                if key != "default" and key not in names:
                    raise InstanceError(path, f"no peak named {key!r} at school {school.id!r}")
                if entry.min is not None and entry.target is not None and entry.target < entry.min:
                    raise InstanceError(f"{path}.target", f"target {entry.target} is below min {entry.min}")
            for key in list(post.demand):
                if key == "default":
                    continue
                d = post.demand_at(key)
                if d.target < d.min:
                    raise InstanceError(f"schools[{i}].posts[{j}].demand.{key}.target", f"target {d.target} is below min {d.min}")
            for peak in names:
                d = post.demand_at(peak)
                if d.target < d.min:
                    raise InstanceError(
                        f"schools[{i}].posts[{j}].demand.default.target",
                        f"target {d.target} is below min {d.min} at peak {peak!r}",
                    )
    for i, route in enumerate(inst.routes):
        if route.unit not in units:
            raise InstanceError(f"routes[{i}].unit", f"no unit with id {route.unit!r}")
        for j, sid in enumerate(route.stops):
            if sid not in schools:
                raise InstanceError(f"routes[{i}].stops[{j}]", f"no school with id {sid!r}")
        seen_runs: set[tuple[str, str]] = set()
        for k, run in enumerate(route.runs):
            for day in run.days or inst.days:
                if (run.name, day) in seen_runs:
                    raise InstanceError(f"routes[{i}].runs[{k}]", f"run {run.name!r} is defined twice on {day}")
                seen_runs.add((run.name, day))
    for i, person in enumerate(inst.persons):
        if person.unit not in units and person.unit not in schools:
            raise InstanceError(f"persons[{i}].unit", f"no unit or school with id {person.unit!r}")
        if len(set(person.skills)) != len(person.skills):
            raise InstanceError(f"persons[{i}].skills", "a skill is listed twice")
    for key in inst.policy.limits:
        if key != "default" and key not in ROLES:
            raise InstanceError(f"policy.limits.{key}", f"must be 'default' or a role ({', '.join(ROLES)})")
    for src, row in (inst.travel.matrix or {}).items():
        if src not in schools:
            raise InstanceError(f"travel.matrix.{src}", f"no school with id {src!r}")
        for dst in row:
            if dst not in schools:
                raise InstanceError(f"travel.matrix.{src}.{dst}", f"no school with id {dst!r}")
    del routes
