"""The validator's own expansion of an instance into duties (it never uses the engine's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from models import Instance, format_hhmm
from models.instance import Location


@dataclass(frozen=True)
class Place:
    """Where a duty starts or ends: the school it belongs to (for ``travel.matrix``) and a location."""

    school_id: str
    location: Location


@dataclass(frozen=True, eq=False)
class Duty:
    """One concrete thing to staff: a (post, date, peak) or a (route, date, run)."""

    kind: str  # "post" | "route"
    date: dt.date
    weekday: str
    peak: str  # the peak name, or the run name of a route duty
    school_id: str  # "" for a route duty
    post_id: str  # "" for a route duty
    route_id: str  # "" for a post duty
    start: int  # minutes after midnight, window [start, end)
    end: int
    start_place: Place
    end_place: Place
    min: int
    target: int
    cap: int
    min_police: int
    skills: Mapping[str, int]

    @property
    def ident(self) -> tuple[str, str, str, str]:
        """Unique identity: (kind, ISO date, peak or run, post or route id)."""
        return (self.kind, self.date.isoformat(), self.peak, self.post_id or self.route_id)

    @property
    def key(self) -> str:
        """Readable key, e.g. ``2026-12-07 arrival bz-exp/north-gate``, ``2026-12-07 morning route r1``."""
        if self.kind == "route":
            return f"{self.date.isoformat()} {self.peak} route {self.route_id}"
        return f"{self.date.isoformat()} {self.peak} {self.post_id}"

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def station(self) -> str:
        """The post or route served (for continuity)."""
        return f"post {self.post_id}" if self.kind == "post" else f"route {self.route_id}"

    @property
    def window(self) -> str:
        return f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"


@dataclass(frozen=True)
class DutyTable:
    """All valid duties of an instance, plus the school peaks that the leader rule counts."""

    duties: list[Duty]
    by_ident: dict[tuple[str, str, str, str], Duty]
    #: (school_id, date, peak) for every peak each school has on each school day.
    school_peaks: list[tuple[str, dt.date, str]]


def runs_on_day(days: Iterable[str] | None, day: str) -> bool:
    return days is None or day in days


def expand_duties(instance: Instance) -> DutyTable:
    """Every post duty (post, date, peak) and route duty (route, date, run), as RULES.md "Duties" says."""
    schools = {s.id: s for s in instance.schools}
    duties: list[Duty] = []
    school_peaks: list[tuple[str, dt.date, str]] = []
    for day in instance.days:
        date = instance.date_of(day)
        for school in instance.schools:
            for peak in school.peaks:
                if not runs_on_day(peak.days, day):
                    continue
                school_peaks.append((school.id, date, peak.name))
                for post in school.posts:
                    demand = post.demand_at(peak.name)
                    place = Place(school.id, post.location or school.location)
                    duties.append(
                        Duty(
                            kind="post",
                            date=date,
                            weekday=day,
                            peak=peak.name,
                            school_id=school.id,
                            post_id=post.id,
                            route_id="",
                            start=peak.start,
                            end=peak.end,
                            start_place=place,
                            end_place=place,
                            min=demand.min,
                            target=demand.target,
                            cap=demand.target,
                            min_police=demand.min_police,
                            skills=dict(demand.skills),
                        )
                    )
        for route in instance.routes:
            first, last = schools[route.stops[0]], schools[route.stops[-1]]
            cap = route.crew.max if route.crew.max is not None else route.crew.min
            for run in route.runs:
                if not runs_on_day(run.days, day):
                    continue
                duties.append(
                    Duty(
                        kind="route",
                        date=date,
                        weekday=day,
                        peak=run.name,
                        school_id="",
                        post_id="",
                        route_id=route.id,
                        start=run.start,
                        end=run.end,
                        start_place=Place(first.id, first.location),
                        end_place=Place(last.id, last.location),
                        min=route.crew.min,
                        target=cap,
                        cap=cap,
                        min_police=route.crew.min_police,
                        skills=dict(route.crew.skills or {}),
                    )
                )
    return DutyTable(duties, {d.ident: d for d in duties}, school_peaks)
