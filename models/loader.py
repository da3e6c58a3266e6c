"""Reading an instance file (YAML or JSON) into :class:`models.instance.Instance`.

Every problem is raised as :class:`InstanceError` with the path of the bad field, e.g.
``schools[3].posts[1].demand.arrival.min: must be >= 0``. The file is read whole and checked
whole before anything is returned; nothing is half-read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from models.errors import InstanceError, format_loc, validation_error
from models.errors import printable as _printable
from models.instance import ROLES, Instance, Peak, Run

MAX_FILE_BYTES = 200 * 1024 * 1024
#: YAML is read about twenty times slower than JSON, with six times the memory (a city of 3 MB: 5 s and
#: 330 MB on the reference machine): a YAML file is read up to this size, about a minute and 3.5 GB
MAX_YAML_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64


if TYPE_CHECKING:
    _BaseSafeLoader = yaml.SafeLoader
else:
    _BaseSafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SafeLoader(_BaseSafeLoader):  # libyaml's parser when present
    """SafeLoader without YAML 1.1's base-60 integers, so ``16:30`` stays a string."""

    node_paths: dict[int, tuple]  # set once the document's nodes are walked


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


def _construct_object(self, node, deep=False):
    """A value YAML recognises but cannot build (``2026-13-45``, ``!!int abc``, an integer of
    5,000 digits...) is an :class:`InstanceError` naming the field, not a ValueError."""
    try:
        return yaml.constructor.SafeConstructor.construct_object(self, node, deep=deep)
    except InstanceError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        path = format_loc(map(_printable, getattr(self, "node_paths", {}).get(id(node), ())))
        kind = _TAG_WORDS.get(str(node.tag).rsplit(":", 1)[-1], f"value tagged {node.tag}")
        value = node.value if isinstance(node.value, str) else "..."
        shown = repr(value if len(value) <= 40 else value[:37] + "...")
        detail = (str(exc).splitlines() or [""])[0].split(";")[0][:80]
        why = f" ({detail})" if isinstance(exc, ValueError | OverflowError) and detail else ""
        raise InstanceError(path, f"{shown} is not a valid {kind}{why}") from None


_TAG_WORDS = {"timestamp": "date", "int": "whole number", "float": "number", "bool": "true/false",
              "binary": "base64 text", "null": "null"}
setattr(_SafeLoader, "construct_object", _construct_object)  # noqa: B010 (mypy refuses assigning to a method)


def _check_depth(node: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels")
    if isinstance(node, dict):
        for value in node.values():
            _check_depth(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _check_depth(value, depth + 1)


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for twice, _ in pairs:  # the first key met a second time
            if twice in seen:
                break
            seen.add(twice)
        return _RepeatedKey(data, twice)
    return data


class _RepeatedKey(dict):
    """A JSON object that names one key twice (``json`` would silently keep the last)."""

    def __init__(self, data: dict, key: str):
        super().__init__(data)
        self.repeated = key


def _refuse_repeated_json_keys(data: Any) -> None:
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, _RepeatedKey):
            raise InstanceError(format_loc(map(_printable, loc + (node.repeated,))),
                                "the key is given twice in one mapping")
        if isinstance(node, dict):
            stack.extend((v, loc + (k,)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, loc + (i,)) for i, v in enumerate(node))


def parse_document(text: str, suffix: str) -> Any:
    """Parse YAML or JSON text. YAML anchors and aliases are read (their expansion bounded:
    :func:`_walk_nodes`); keys given twice in one mapping and nesting deeper than ``MAX_DEPTH``
    are refused."""
    if suffix == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_json_object)
        except json.JSONDecodeError as exc:
            raise InstanceError("", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        except RecursionError:
            raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            detail = (str(exc).splitlines() or ["a value cannot be read"])[0].split(";")[0][:100]
            raise InstanceError("", f"not valid JSON: {detail}") from None
        _refuse_repeated_json_keys(data)
        return data
    try:
        _check_yaml_depth(text)
        loader = _SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            loader.node_paths = _walk_nodes(root)
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["cannot be read"])[0]
        if "nesting depth" in problem:  # PyYAML 6.0.4 and later stop deep nesting themselves
            raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels") from None
        raise InstanceError("", f"not valid YAML: {problem}{where}") from None
    except RecursionError:
        raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels") from None


def _check_yaml_depth(text: str) -> None:
    """Refuse deep nesting from the event stream, before libyaml composes nodes: composing
    100,000 nested lists overflows the C stack (a segfault, not an exception)."""
    loader = _SafeLoader(text)
    depth = 0
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


#: YAML aliases may repeat a block (planners copy blocks with them), but the document they expand
#: to has at most this many values, or this many times the values written, whichever is more: an
#: "alias bomb" (nine aliases of nine aliases of ...) expands to billions and is refused
MAX_EXPANDED_VALUES, MAX_EXPANSION = 1_000_000, 10


def _walk_nodes(root: yaml.Node) -> dict[int, tuple]:
    """Check the composed YAML graph before anything is built from it: keys given twice in one
    mapping, nesting deeper than ``MAX_DEPTH``, an alias inside the block it names (a cycle), and
    an expansion beyond ``MAX_EXPANDED_VALUES``; returns the field path of each node (by ``id``,
    the first path that reaches it), for the messages of values that cannot be built."""
    paths: dict[int, tuple] = {}
    size: dict[int, int] = {}  # values a node expands to, itself included (aliases counted each time)
    open_: set[int] = set()  # nodes on the current path: meeting one again is a cycle
    stack: list[tuple[yaml.Node, tuple, bool]] = [(root, (), False)]
    while stack:
        node, loc, done = stack.pop()
        key = id(node)
        if done:
            children = node.value if isinstance(node, yaml.SequenceNode) else (
                [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else [])
            size[key] = 1 + sum(size[id(c)] for c in children)
            open_.discard(key)
            continue
        if key in open_:
            raise InstanceError(format_loc(map(_printable, loc)), "a YAML alias refers to a block that holds it")
        if key in size:
            continue  # an alias of a block already checked
        if len(loc) > MAX_DEPTH:
            raise InstanceError("", f"nesting deeper than {MAX_DEPTH} levels")
        paths.setdefault(key, loc)
        open_.add(key)
        stack.append((node, loc, True))
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for k, value in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else "?"
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if (k.tag, k.value) in keys:
                        raise InstanceError(format_loc(map(_printable, loc + (name,))),
                                            f"the key is given twice in one mapping (line {k.start_mark.line + 1})")
                    keys.add((k.tag, k.value))
                stack.append((k, loc + (name,), False))
                stack.append((value, loc + (name,), False))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, loc + (i,), False) for i, child in enumerate(node.value))
    limit = max(MAX_EXPANDED_VALUES, MAX_EXPANSION * len(size))
    if size[id(root)] > limit:
        raise InstanceError("", f"YAML aliases expand the document to {size[id(root)]:,} values; the limit is "
                                f"{limit:,} (an alias bomb?)")
    return paths


def _first_error(exc: ValidationError) -> InstanceError:
    """The first of pydantic's errors in the loader's words (:func:`models.errors.validation_error`),
    with how many more there are."""
    first = validation_error(exc.errors(include_url=False)[0])
    more = exc.error_count() - 1
    if not more:
        return first
    return InstanceError(first.path, f"{first.message} (and {more} more problem{'s' if more > 1 else ''})")


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
    _trim_text(data)
    if "format" not in data:
        raise InstanceError("format", "required field is missing (use 'schoolpost/1')")
    if data.get("format") != "schoolpost/1":
        raise InstanceError("format", f"unsupported format {data.get('format')!r}; this version reads 'schoolpost/1'")
    try:
        instance = Instance.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None
    check_references(instance)
    check_pins(instance)
    check_local_times(instance)
    return instance


def _trim_text(data: Any) -> None:
    """SPEC: text fields are taken as written except for leading and trailing white space, which
    is dropped (spaces, tabs, line breaks, no-break and ideographic spaces: ``str.strip``). Done
    once here, in place, for every reader (YAML, JSON, workbook), on values and mapping keys alike;
    two keys of one mapping that differ only by such space are refused."""
    seen: set[int] = set()
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if id(node) in seen:  # a block shared by YAML aliases
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            items = list(node.items())
            trimmed = {}
            for k, v in items:
                key = k.strip() if isinstance(k, str) else k
                if key in trimmed:
                    raise InstanceError(format_loc(map(_printable, loc + (key,))),
                                        "the key is given twice in one mapping (once with spaces around it)")
                trimmed[key] = v.strip() if isinstance(v, str) else v
            if any(isinstance(k, str) and k != k.strip() or isinstance(v, str) and v != v.strip() for k, v in items):
                node.clear()
                node.update(trimmed)
            stack.extend((v, loc + (k,)) for k, v in trimmed.items() if isinstance(v, dict | list))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, str):
                    node[i] = v.strip()
                elif isinstance(v, dict | list):
                    stack.append((v, loc + (i,)))


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
    if suffix in (".yaml", ".yml") and size > MAX_YAML_BYTES:
        raise _too_much_yaml(size)
    if suffix == ".xlsx":
        from models.spreadsheet import instance_data_from_xlsx  # openpyxl loaded for workbooks only

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
        if suffix == ".yaml" and size > MAX_YAML_BYTES:
            raise _too_much_yaml(size)
    return parse_document(text, suffix)


def _too_much_yaml(size: int) -> InstanceError:
    return InstanceError("", f"the file is {size / 2**20:,.0f} MiB of YAML; the limit for YAML is "
                             f"{MAX_YAML_BYTES // 2**20} MiB (YAML takes about a minute and 3.5 GB to read at that "
                             f"size): write the same document as JSON (read up to {MAX_FILE_BYTES // 2**20} MiB, "
                             f"twenty times faster), or one file per district in a folder for schoolpost batch")


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
                path = f"schools[{i}].posts[{j}].demand.{_printable(key)}"
                if key != "default" and key not in names:
                    raise InstanceError(path, f"no peak named {key!r} at school {school.id!r}")
                if entry.min is not None and entry.target is not None and entry.target < entry.min:
                    raise InstanceError(f"{path}.target", f"target {entry.target} is below min {entry.min}")
            for key in list(post.demand):
                if key == "default":
                    continue
                d = post.demand_at(key)
                if d.target < d.min:
                    raise InstanceError(f"schools[{i}].posts[{j}].demand.{_printable(key)}.target",
                                        f"target {d.target} is below min {d.min}")
            for peak_name in names:
                d = post.demand_at(peak_name)
                if d.target < d.min:
                    raise InstanceError(
                        f"schools[{i}].posts[{j}].demand.default.target",
                        f"target {d.target} is below min {d.min} at peak {peak_name!r}",
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
    unit_of = {u.id: u for u in inst.units}
    route_units = {r.unit for r in inst.routes}
    for i, person in enumerate(inst.persons):
        if person.unit not in units and person.unit not in schools:
            raise InstanceError(f"persons[{i}].unit", f"no unit or school with id {person.unit!r}")
        own_unit = unit_of.get(person.unit)
        if own_unit is not None and not own_unit.schools and own_unit.id not in route_units:
            raise InstanceError(f"persons[{i}].unit", f"unit {own_unit.id!r} serves no school and crews no route, so "
                                                      f"{person.id!r} could serve nowhere (give the unit schools)")
        if len(set(person.skills)) != len(person.skills):
            raise InstanceError(f"persons[{i}].skills", "a skill is listed twice")
    for key in inst.policy.limits:
        if key != "default" and key not in ROLES:
            raise InstanceError(f"policy.limits.{_printable(key)}", f"must be 'default' or a role ({', '.join(ROLES)})")
    for src, row in (inst.travel.matrix or {}).items():
        if src not in schools:
            raise InstanceError(f"travel.matrix.{_printable(src)}", f"no school with id {src!r}")
        for dst in row:
            if dst not in schools:
                raise InstanceError(f"travel.matrix.{_printable(src)}.{_printable(dst)}", f"no school with id {dst!r}")
    del routes


def check_pins(inst: Instance) -> None:
    """Every pin names a duty that exists: a post's peak (or a route's run) held on that date of
    the horizon, each at most once per person. Whether the pins can all be kept is the rules'
    question (``scheduler.check.pins``)."""
    dates = {inst.date_of(day): day for day in inst.days}
    posts = {p.id: s for s in inst.schools for p in s.posts}
    routes = {r.id: r for r in inst.routes}
    for i, person in enumerate(inst.persons):
        seen: set[tuple] = set()
        for j, pin in enumerate(person.pins):
            path = f"persons[{i}].pins[{j}]"
            day = dates.get(pin.date)
            if day is None:
                raise InstanceError(f"{path}.date", f"{pin.date.isoformat()} is not a school day of this week "
                                                    f"({', '.join(d.isoformat() for d in sorted(dates))})")
            windows: list[Peak] | list[Run]
            if pin.post is not None:
                school = posts.get(pin.post)
                if school is None:
                    raise InstanceError(f"{path}.post", f"no post with id {pin.post!r}")
                windows = [pk for pk in school.peaks if pk.name == pin.peak and (pk.days is None or day in pk.days)]
                what = f"school {school.id!r} has no peak {pin.peak!r} on {day}"
            else:
                assert pin.route is not None  # Pin._one_place: a route when no post
                route = routes.get(pin.route)
                if route is None:
                    raise InstanceError(f"{path}.route", f"no route with id {pin.route!r}")
                windows = [r for r in route.runs if r.name == pin.peak and (r.days is None or day in r.days)]
                what = f"route {route.id!r} has no run {pin.peak!r} on {day}"
            if not windows:
                raise InstanceError(f"{path}.peak", what)
            key = (pin.date, pin.peak, pin.post, pin.route)
            if key in seen:
                raise InstanceError(path, "the same duty is pinned twice")
            seen.add(key)


def _local_time_exists(date: dt.date, minutes: int, zone: tzinfo) -> bool:
    """The wall-clock time exists on that date in that zone (not skipped by a clock change)."""
    local = (dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=minutes)).replace(tzinfo=zone)
    return local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)


def check_local_times(inst: Instance) -> None:
    """With a ``timezone``: every peak's and run's start and end exists on each date it falls on
    (02:30 on the spring day the clocks go forward does not); such a time would be written to the
    calendars as a time no clock shows."""
    if inst.timezone is None:
        return
    import zoneinfo

    zone = zoneinfo.ZoneInfo(inst.timezone)
    windows: list[tuple[str, Peak | Run]] = [(f"schools[{i}].peaks[{k}]", peak) for i, school in enumerate(inst.schools)
                                             for k, peak in enumerate(school.peaks)]
    windows += [(f"routes[{i}].runs[{k}]", run) for i, route in enumerate(inst.routes) for k, run in enumerate(route.runs)]
    for path, window in windows:
        for day in inst.days:
            if window.days is not None and day not in window.days:
                continue
            date = inst.date_of(day)
            for field in ("start", "end"):
                minutes = getattr(window, field)
                if not _local_time_exists(date, minutes, zone):
                    raise InstanceError(f"{path}.{field}", f"{minutes // 60:02d}:{minutes % 60:02d} does not exist on "
                                                           f"{date} in {inst.timezone} (the clocks go forward then)")
