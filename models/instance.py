"""Pydantic models of the instance format ``schoolpost/1`` (docs/SPEC.md).

Data only: nothing here imports the solver. Models are frozen and reject unknown fields.
Cross-references (a person's unit, a route's stops, a demand entry naming a peak...) are
checked by :func:`models.loader.check_references`, which reports the exact path.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    model_validator,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Role = Literal[
    "police",
    "auxiliary_police",
    "security_guard",
    "community_worker",
    "school_leader",
    "teacher",
    "volunteer",
]
SchoolType = Literal["kindergarten", "primary", "junior_middle", "senior_high", "nine_year", "vocational"]

WEEKDAYS: tuple[str, ...] = get_args(Weekday)
ROLES: tuple[str, ...] = get_args(Role)
SCHOOL_TYPES: tuple[str, ...] = get_args(SchoolType)

_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def parse_hhmm(value: object) -> int:
    """``"07:20"`` -> 440 minutes after midnight. Accepts 00:00-24:00."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError("must be a time 'HH:MM' in quotes")  # noqa: TRY004 - pydantic reports ValueError
    m = _HHMM.match(value.strip())
    if not m:
        raise ValueError(f"must be a time 'HH:MM', got {value!r}")
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"must be a time between 00:00 and 24:00, got {value!r}")
    return minutes


def weekday_date(week_start: dt.date, day: str) -> dt.date:
    """The first ``day`` (``mon``...) on or after ``week_start``: the date of that weekday in the horizon."""
    return week_start + dt.timedelta(days=(WEEKDAYS.index(day) - week_start.weekday()) % 7)


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


#: A local time of day, stored as minutes after midnight, written as ``"HH:MM"``.
Minutes = Annotated[int, BeforeValidator(parse_hhmm), PlainSerializer(format_hhmm, return_type=str)]


def _trimmed(value: str) -> str:
    """Roster files are read back with their cells stripped: an id with spaces around it would
    not match itself there."""
    if value != value.strip():
        raise ValueError(f"must not start or end with spaces, got {value!r}")
    return value


def _not_bool(value: object) -> object:
    """Pydantic's lax mode reads ``true`` as 1; in a count or a weight it is a typo, not a number."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")  # noqa: TRY004 - pydantic reports ValueError
    return value


#: Put in every whole or real number's ``Annotated``: refuses ``true``/``false`` (otherwise 1 and 0).
NUMBER = BeforeValidator(_not_bool)

Count = Annotated[int, Field(ge=0, le=100_000), NUMBER]

#: control characters: C0 (U+0000-U+001F), DEL and C1 (U+007F-U+009F); in one-line text also the
#: line and paragraph separators U+2028 and U+2029, which editors and browsers show as line breaks
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # all but tab and line breaks


def _plain(pattern: re.Pattern, what: str):
    """A check that text holds no character of ``pattern``: names and addresses go into workbooks,
    calendars and web pages, which cannot hold control characters (openpyxl and icalendar refuse
    them, after the solve)."""

    def check(value: str) -> str:
        found = pattern.search(value)
        if found:
            raise ValueError(f"must be {what} (found {found.group()!r} at position {found.start()})")
        return value

    return check


#: A display name: one line of at most 1,000 characters, no control characters but tab.
Text = Annotated[str, Field(max_length=1000), AfterValidator(_plain(_CONTROL, "one line without control characters"))]
#: An address: as a name, but line breaks are allowed.
Lines = Annotated[str, Field(max_length=1000),
                  AfterValidator(_plain(_CONTROL_BUT_LINES, "text without control characters"))]
#: An id: 1-200 characters without control characters (tab included), nothing to trim.
Id = Annotated[str, Field(min_length=1, max_length=200),
               AfterValidator(_plain(_CONTROL_ALL, "text without control characters")), AfterValidator(_trimmed)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Location(_Model):
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False), NUMBER]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False), NUMBER]


def haversine_km(a: Location, b: Location) -> float:
    """Great-circle distance on a sphere of radius 6371.0088 km (the mean Earth radius)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


class _Window(_Model):
    start: Minutes
    end: Minutes

    @model_validator(mode="after")
    def _end_after_start(self):
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Peak(_Window):
    """A named daily window when the school's posts are staffed (``days`` defaults to all)."""

    name: Id
    days: list[Weekday] | None = None


class Demand(_Model):
    """One demand entry; unset keys fall back to the post's ``default`` entry."""

    min: Count | None = None
    target: Count | None = None
    min_police: Count | None = None
    skills: dict[Id, Annotated[int, Field(ge=1, le=100_000), NUMBER]] | None = None


class ResolvedDemand(_Model):
    min: int
    target: int
    min_police: int
    skills: dict[str, int]


class Post(_Model):
    id: Id
    kind: Literal["gate", "pickup_area"] = "gate"
    name: Text | None = None
    location: Location | None = None
    #: ``default`` plus per-peak entries keyed by peak name.
    demand: dict[Id, Demand] = Field(default_factory=dict)

    def demand_at(self, peak: str) -> ResolvedDemand:
        """SPEC: a per-peak entry overrides ``default`` key by key (``skills`` as a whole);
        a missing ``min`` is 0 and a missing ``target`` equals ``min``."""
        base = self.demand.get("default", Demand())
        over = self.demand.get(peak, Demand())
        pick = lambda key: getattr(over, key) if getattr(over, key) is not None else getattr(base, key)
        lo = pick("min") or 0
        target = pick("target")
        return ResolvedDemand(
            min=lo,
            target=lo if target is None else target,
            min_police=pick("min_police") or 0,
            skills=dict(pick("skills") or {}),
        )


class School(_Model):
    id: Id
    name: Text | None = None
    type: SchoolType
    district: Id = "default"
    location: Location
    students: Count | None = None
    address: Lines | None = None  # extension: shown on duty sheets and calendars
    peaks: list[Peak] = Field(default_factory=list)
    posts: list[Post] = Field(default_factory=list)


class Unit(_Model):
    id: Id
    kind: Literal["police", "community", "school"] = "police"
    name: Text | None = None
    schools: list[Id] = Field(default_factory=list)


class Crew(_Model):
    min: Annotated[int, Field(ge=1, le=1000), NUMBER] = 1
    max: Annotated[int, Field(ge=1, le=1000), NUMBER] | None = None
    min_police: Count = 0
    skills: dict[Id, Annotated[int, Field(ge=1, le=1000), NUMBER]] | None = None  # extension

    @model_validator(mode="after")
    def _max_at_least_min(self):
        if self.max is not None and self.max < self.min:
            raise ValueError("max must be >= min")
        return self


class Run(_Window):
    name: Id
    days: list[Weekday] | None = None  # extension: default all school days


class Route(_Model):
    id: Id
    name: Text | None = None
    unit: Id
    stops: Annotated[list[Id], Field(min_length=1)]
    crew: Crew = Field(default_factory=Crew)
    runs: list[Run] = Field(default_factory=list)


class Availability(_Window):
    days: list[Weekday] | None = None  # default: every day


class LeaveWindow(_Window):
    date: dt.date


def _leave_kind(value: object) -> str:
    return "§window" if isinstance(value, dict | LeaveWindow) else "§date"


#: A leave entry: a whole date, or ``{date, start, end}``.
LeaveEntry = Annotated[
    Annotated[dt.date, Tag("§date")] | Annotated[LeaveWindow, Tag("§window")],
    Discriminator(_leave_kind),
]


class Limits(_Model):
    max_per_day: Count | None = None
    max_per_week: Count | None = None
    max_minutes_per_week: Annotated[int, Field(ge=0, le=10_000_000), NUMBER] | None = None


class Pin(_Model):
    """Extension: a duty the person must take (hard rule ``pinned``): a post's peak, or a route's
    run, on a date of the horizon."""

    date: dt.date
    peak: Id  # the peak's name, or the run's name for a route
    post: Id | None = None
    route: Id | None = None

    @model_validator(mode="after")
    def _one_place(self) -> Pin:
        if (self.post is None) == (self.route is None):
            raise ValueError("give exactly one of post and route")
        return self

    @property
    def ident(self) -> tuple[str, str, str, str]:
        """(kind, ISO date, peak or run, post or route id): the identity of the pinned duty."""
        place = self.post or self.route
        assert place is not None  # _one_place: exactly one of post and route
        return ("post" if self.post else "route", self.date.isoformat(), self.peak, place)


class Person(_Model):
    id: Id
    name: Text | None = None
    role: Role
    unit: Id
    skills: list[Id] = Field(default_factory=list)
    home: Location | None = None
    availability: list[Availability] | None = None
    leave: list[LeaveEntry] = Field(default_factory=list)
    limits: Limits | None = None
    pins: list[Pin] = Field(default_factory=list)  # extension: duties the person must take


Weight = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False), NUMBER]


class Weights(_Model):
    shortfall: Weight = 1000
    police_shortfall: Weight = 500
    skill_shortfall: Weight = 200
    share_shortfall: Weight = 300
    leader_missing: Weight = 300
    below_target: Weight = 20
    fairness: Weight = 10
    continuity: Weight = 3
    travel_minute: Weight = 1
    burden: Weight = 2


#: The soft rules, named as ``policy.weights`` names them, in the order of the objective.
SOFT_RULES: tuple[str, ...] = tuple(Weights.model_fields)


def _roles(*roles: Role) -> list[Role]:
    return list(roles)


def _weekdays(*days: Weekday) -> list[Weekday]:
    return list(days)


class Policy(_Model):
    professional_roles: list[Role] = Field(default_factory=lambda: _roles("police", "auxiliary_police", "security_guard"))
    min_professional_share: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NUMBER] = 0.8
    leader_on_duty: bool = True
    #: ``default`` and per-role entries; a person's own ``limits`` override key by key.
    limits: dict[Id, Limits] = Field(default_factory=dict)
    weights: Weights = Field(default_factory=Weights)
    #: extension: roles whose assignments count in the burden term.
    burden_roles: list[Role] = Field(default_factory=lambda: _roles("teacher", "volunteer"))
    #: extension: consecutive duties further apart than this (minutes idle) count no travel.
    travel_chain_gap: Annotated[int, Field(ge=0, le=24 * 60), NUMBER] = 60
    #: extension: the instance's ``history.loads`` count in ``fairness``
    history_fairness: bool = True
    #: extension: the instance's ``history.last_week`` counts in ``continuity``
    history_continuity: bool = True


class LastWeek(_Model):
    """Extension: a person's posts and routes in the week before (``history.last_week``)."""

    posts: list[Id] = Field(default_factory=list)
    routes: list[Id] = Field(default_factory=list)


class History(_Model):
    """Extension: what earlier published weeks say about each person (``schoolpost serve`` fills it
    from its database). Ids of people not in the instance are not used."""

    #: how many weeks ``loads`` covers (for the reader)
    weeks: Annotated[int, Field(ge=0, le=520), NUMBER] = 0
    #: duties per person id in those weeks: they count in ``fairness`` (``policy.history_fairness``)
    loads: dict[Id, Count] = Field(default_factory=dict)
    #: each person's posts and routes of the week before: serving one of them again costs no
    #: ``continuity`` (``policy.history_continuity``)
    last_week: dict[Id, LastWeek] = Field(default_factory=dict)


class Travel(_Model):
    speed_kmh: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False), NUMBER] = 30
    road_factor: Annotated[float, Field(ge=1, le=10, allow_inf_nan=False), NUMBER] = 1.3
    matrix: dict[Id, dict[Id, Annotated[int, Field(ge=0, le=24 * 60), NUMBER]]] | None = None


def _time_zone(name: str) -> str:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as 'Asia/Shanghai')") from None
    return name


TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_time_zone)]


class Instance(_Model):
    format: Literal["schoolpost/1"]
    name: Id = "instance"
    #: bounded so that every date of the horizon exists (9999-12-31 + 6 days would overflow)
    week_start: Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2999, 12, 31))]
    days: Annotated[list[Weekday], Field(min_length=1)] = Field(
        default_factory=lambda: _weekdays("mon", "tue", "wed", "thu", "fri")
    )
    #: extension: the IANA time zone of the local times (e.g. ``Asia/Shanghai``); calendars carry
    #: it. Without it, calendar times are "floating": the same clock time wherever they are read.
    timezone: TimeZoneName | None = None
    policy: Policy = Field(default_factory=Policy)
    travel: Travel = Field(default_factory=Travel)
    units: list[Unit] = Field(default_factory=list)
    schools: list[School] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    persons: list[Person] = Field(default_factory=list)
    #: extension: earlier published weeks (loads for fairness, last week's posts for continuity)
    history: History | None = None

    def past_load(self, person_id: str) -> int:
        """Duties of the person in the history's weeks, when they count in ``fairness``; else 0."""
        if self.history is None or not self.policy.history_fairness:
            return 0
        return self.history.loads.get(person_id, 0)

    def last_week(self, person_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """(posts, routes) the person served the week before, when they count in ``continuity``."""
        if self.history is None or not self.policy.history_continuity:
            return frozenset(), frozenset()
        entry = self.history.last_week.get(person_id)
        return (frozenset(), frozenset()) if entry is None else (frozenset(entry.posts), frozenset(entry.routes))

    def limits_of(self, person: Person) -> Limits:
        """SPEC: the role's entry overrides ``default`` key by key, the person's own limits
        override that key by key; a missing key means no limit."""
        merged: dict[str, int] = {}
        for layer in (self.policy.limits.get("default"), self.policy.limits.get(person.role), person.limits):
            if layer is not None:
                merged.update(layer.model_dump(exclude_none=True))
        return Limits(**merged)

    def travel_minutes(self, src_school: str, src: Location, dst_school: str, dst: Location) -> int:
        """SPEC: ``travel.matrix[src_school][dst_school]`` where listed, else haversine km x
        road_factor / speed_kmh x 60, rounded up. Places are posts' or schools' locations."""
        row = (self.travel.matrix or {}).get(src_school)
        if row is not None and dst_school in row:
            return row[dst_school]
        if (src.lat, src.lon) == (dst.lat, dst.lon):
            return 0
        km = haversine_km(src, dst)
        return math.ceil(round(km * self.travel.road_factor / self.travel.speed_kmh * 60, 9))

    def date_of(self, day: str) -> dt.date:
        """The date of a weekday in the horizon: the first such day on or after ``week_start``."""
        return weekday_date(self.week_start, day)
