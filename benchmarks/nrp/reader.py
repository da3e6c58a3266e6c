"""Reader of the Curtois & Qu shift-scheduling text format (``shared/benchdata/nrp/FORMAT.md``).

``read_instance(path)`` returns a frozen :class:`Instance`; malformed input raises
:class:`NrpFormatError` whose message starts with ``file:line:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

SECTIONS = (
    "SECTION_HORIZON",
    "SECTION_SHIFTS",
    "SECTION_STAFF",
    "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS",
    "SECTION_SHIFT_OFF_REQUESTS",
    "SECTION_COVER",
)
REQUIRED = ("SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF", "SECTION_COVER")


class NrpFormatError(ValueError):
    """Malformed instance text; the message names the file and the line."""

    def __init__(self, source: str, line: int | None, message: str):
        self.source, self.line = source, line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class ShiftType:
    id: str
    minutes: int
    #: shift types that may not be worked the day after this one
    forbidden_next: tuple[str, ...] = ()


@dataclass(frozen=True)
class Staff:
    id: str
    #: at most ``max_shifts[t]`` shifts of type ``t`` (a type not listed: no limit)
    max_shifts: Mapping[str, int]
    max_total_minutes: int
    min_total_minutes: int
    max_consecutive_shifts: int
    min_consecutive_shifts: int
    min_consecutive_days_off: int
    max_weekends: int


@dataclass(frozen=True)
class Request:
    staff: str
    day: int
    shift: str
    weight: int


@dataclass(frozen=True)
class Cover:
    day: int
    shift: str
    requirement: int
    under_weight: int
    over_weight: int


@dataclass(frozen=True)
class Instance:
    name: str
    horizon: int
    shifts: tuple[ShiftType, ...]
    staff: tuple[Staff, ...]
    #: staff id -> days that person must not work (every staff id is a key)
    days_off: Mapping[str, frozenset[int]]
    on_requests: tuple[Request, ...]
    off_requests: tuple[Request, ...]
    cover: tuple[Cover, ...]

    @cached_property
    def shift_by_id(self) -> Mapping[str, ShiftType]:
        return MappingProxyType({t.id: t for t in self.shifts})

    @property
    def shift_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.shifts)

    @property
    def staff_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.staff)

    @property
    def weeks(self) -> int:
        return self.horizon // 7


def _int(text: str, what: str, source: str, line: int, minimum: int | None = 0) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise NrpFormatError(source, line, f"{what}: expected an integer, got {text.strip()!r}") from None
    if minimum is not None and value < minimum:
        raise NrpFormatError(source, line, f"{what}: must be >= {minimum}, got {value}")
    return value


def _new_id(kind: str, ident: str, lines: dict[str, int], source: str, number: int) -> str:
    """A new, non-empty id of a section; ``lines`` remembers where each was defined."""
    if not ident:
        raise NrpFormatError(source, number, f"empty {kind} id")
    if ident in lines:
        raise NrpFormatError(source, number, f"{kind} {ident!r} defined twice (first on line {lines[ident]})")
    lines[ident] = number
    return ident


def parse_instance(text: str, source: str = "<text>", name: str | None = None) -> Instance:
    """Parse the text of one instance; ``source`` names it in error messages."""
    rows: dict[str, list[tuple[int, list[str]]]] = {}
    section: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            if line not in SECTIONS:
                raise NrpFormatError(source, number, f"unknown section {line!r}")
            if line in rows:
                raise NrpFormatError(source, number, f"section {line} appears twice")
            section = line
            rows[section] = []
            continue
        if section is None:
            raise NrpFormatError(source, number, "data before the first SECTION_ line")
        rows[section].append((number, [f.strip() for f in line.split(",")]))
    for sec in REQUIRED:
        if sec not in rows:
            raise NrpFormatError(source, None, f"missing section {sec}")

    # horizon
    hz = rows["SECTION_HORIZON"]
    if len(hz) != 1 or len(hz[0][1]) != 1:
        raise NrpFormatError(source, hz[0][0] if hz else None, "SECTION_HORIZON must hold exactly one number")
    horizon = _int(hz[0][1][0], "horizon", source, hz[0][0], minimum=1)

    def day(text: str, line: int) -> int:
        d = _int(text, "day", source, line)
        if d >= horizon:
            raise NrpFormatError(source, line, f"day {d} is outside the horizon 0..{horizon - 1}")
        return d

    # shifts
    shifts: list[ShiftType] = []
    shift_lines: dict[str, int] = {}
    for number, f in rows["SECTION_SHIFTS"]:
        if len(f) not in (2, 3):
            raise NrpFormatError(source, number, f"shift line needs 3 fields (id, minutes, followers), got {len(f)}")
        sid = _new_id("shift", f[0], shift_lines, source, number)
        minutes = _int(f[1], f"length of shift {sid}", source, number)
        followers = tuple(x.strip() for x in f[2].split("|") if x.strip()) if len(f) == 3 else ()
        shifts.append(ShiftType(sid, minutes, followers))
    if not shifts:
        raise NrpFormatError(source, None, "SECTION_SHIFTS is empty")
    for t in shifts:
        for b in t.forbidden_next:
            if b not in shift_lines:
                raise NrpFormatError(source, shift_lines[t.id], f"shift {t.id}: unknown forbidden follower {b!r}")

    def shift_id(text: str, line: int) -> str:
        if text not in shift_lines:
            raise NrpFormatError(source, line, f"unknown shift {text!r}")
        return text

    # staff
    staff: list[Staff] = []
    staff_lines: dict[str, int] = {}
    for number, f in rows["SECTION_STAFF"]:
        if len(f) != 8:
            raise NrpFormatError(source, number, f"staff line needs 8 fields, got {len(f)}")
        pid = _new_id("staff", f[0], staff_lines, source, number)
        limits: dict[str, int] = {}
        for item in (x.strip() for x in f[1].split("|") if x.strip()):
            if "=" not in item:
                raise NrpFormatError(source, number, f"staff {pid}: MaxShifts item {item!r} is not T=n")
            t, n = (x.strip() for x in item.split("=", 1))
            if t in limits:
                raise NrpFormatError(source, number, f"staff {pid}: MaxShifts names shift {t!r} twice")
            limits[shift_id(t, number)] = _int(n, f"staff {pid}: MaxShifts of {t}", source, number)
        names = ("MaxTotalMinutes", "MinTotalMinutes", "MaxConsecutiveShifts", "MinConsecutiveShifts",
                 "MinConsecutiveDaysOff", "MaxWeekends")
        v = [_int(x, f"staff {pid}: {n}", source, number) for x, n in zip(f[2:], names)]
        staff.append(Staff(pid, MappingProxyType(limits), *v))
    if not staff:
        raise NrpFormatError(source, None, "SECTION_STAFF is empty")

    def staff_id(text: str, line: int) -> str:
        if text not in staff_lines:
            raise NrpFormatError(source, line, f"unknown staff {text!r}")
        return text

    # days off
    days_off: dict[str, set[int]] = {s.id: set() for s in staff}
    for number, f in rows.get("SECTION_DAYS_OFF", []):
        pid = staff_id(f[0], number)
        for x in f[1:]:
            if x:
                days_off[pid].add(day(x, number))

    # requests
    def requests(sec: str) -> tuple[Request, ...]:
        out = []
        for number, f in rows.get(sec, []):
            if len(f) != 4:
                raise NrpFormatError(source, number, f"request line needs 4 fields, got {len(f)}")
            out.append(Request(staff_id(f[0], number), day(f[1], number), shift_id(f[2], number),
                               _int(f[3], "weight", source, number)))
        return tuple(out)

    # cover
    cover: list[Cover] = []
    seen: dict[tuple[int, str], int] = {}
    for number, f in rows["SECTION_COVER"]:
        if len(f) != 5:
            raise NrpFormatError(source, number, f"cover line needs 5 fields, got {len(f)}")
        c = Cover(day(f[0], number), shift_id(f[1], number), _int(f[2], "requirement", source, number),
                  _int(f[3], "under weight", source, number), _int(f[4], "over weight", source, number))
        key = (c.day, c.shift)
        if key in seen:
            raise NrpFormatError(source, number, f"cover for day {c.day} shift {c.shift} given twice "
                                 f"(first on line {seen[key]})")
        seen[key] = number
        cover.append(c)

    return Instance(
        name=name if name is not None else Path(source).stem,
        horizon=horizon,
        shifts=tuple(shifts),
        staff=tuple(staff),
        days_off=MappingProxyType({k: frozenset(v) for k, v in days_off.items()}),
        on_requests=requests("SECTION_SHIFT_ON_REQUESTS"),
        off_requests=requests("SECTION_SHIFT_OFF_REQUESTS"),
        cover=tuple(cover),
    )


def read_instance(path: str | Path) -> Instance:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NrpFormatError(str(path), None, f"not UTF-8 text ({exc.reason})") from None
    return parse_instance(text, source=str(path), name=path.stem)


#: the 24 instances beside the repository (``../shared/benchdata/nrp``)
SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "benchdata" / "nrp"
#: instances 1-4 and the best-known table, kept in the repository so the tests never lack data
BUNDLED_DIR = Path(__file__).resolve().parent / "data"


def data_dir() -> Path:
    """``$NRP_DATA``, else ``../shared/benchdata/nrp`` when present, else the bundled instances 1-4."""
    import os

    if os.environ.get("NRP_DATA"):
        return Path(os.environ["NRP_DATA"])
    return SHARED_DIR if (SHARED_DIR / "Instance1.txt").exists() else BUNDLED_DIR


def instance_path(number: int, data_dir_: str | Path | None = None) -> Path:
    """Path of ``InstanceN.txt`` in ``data_dir_`` (default :func:`data_dir`)."""
    return Path(data_dir_ or data_dir()) / f"Instance{number}.txt"
