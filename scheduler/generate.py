"""Seeded generator of realistic ``schoolpost/1`` instances (docs/DOMAIN.md).

Every number the generator uses lives in :data:`PARAMS`, one frozen dataclass at the top of this
module; each field names the DOMAIN.md fact it rests on, or says "assumed". The generator draws
from one ``random.Random`` per district, seeded from the seed and the district id, so the same
seed and options give the same document and the same file bytes.

Presets:

- ``school``: one large urban primary or nine-year school with its own staff, the police-station
  contingent that covers it and one community.
- ``district``: one county-level district of Binzhou (~150 schools, urban core and rural
  townships, police stations, a special patrol brigade with patrol-car routes, communities).
- ``city``: Binzhou's 1,056 schools over its county-level districts and zones.

Public API: :func:`generate`, :func:`count_duties`, :func:`eligible_pairs_estimate`,
:func:`summarize`, :func:`dump_instance`, :func:`write_instance` and the click command
:data:`generate_command` (``schoolpost generate``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from scheduler.output import write_file

Doc = dict[str, Any]


# ----------------------------------------------------------------------------------------------
# Parameters: the only place where the generator's numbers live.
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictSpec:
    """A county-level unit of the reference city."""

    id: str
    name: str
    lat: float  # centre of the urban core
    lon: float
    population_k: float  # thousands of people; drives the school count in the city preset
    urban_share: float  # share of the district's schools in its urban core


def _ro(mapping: dict) -> Mapping:
    return MappingProxyType(mapping)


@dataclass(frozen=True)
class Params:
    # --- Reference city (DOMAIN "Reference city: Binzhou") -------------------------------------
    city_name: str = "binzhou"
    # DOMAIN: 1,056 schools and kindergartens all got posts within one week.
    city_schools: int = 1056
    # DOMAIN: county-level units and populations. Bincheng 632.5k, Zhanhua 395.7k, Zouping 773.5k
    # are public figures; the other populations are assumed so that the sum is the city's 3.93 M.
    # Centres approximate the county seats (the zones' centres are assumed). Urban shares are assumed,
    # chosen so that ~60 % of the large sites fall in Bincheng, Zouping and the zones (DOMAIN "Mix of
    # the 1,056 sites").
    districts: tuple[DistrictSpec, ...] = (
        DistrictSpec("bincheng", "Bincheng", 37.3835, 117.9710, 632.5, 0.70),
        DistrictSpec("zhanhua", "Zhanhua", 37.7070, 118.1320, 395.7, 0.25),
        DistrictSpec("huimin", "Huimin", 37.4900, 117.5090, 600.0, 0.25),
        DistrictSpec("yangxin", "Yangxin", 37.6400, 117.5800, 440.0, 0.25),
        DistrictSpec("wudi", "Wudi", 37.7400, 117.6000, 400.0, 0.25),
        DistrictSpec("boxing", "Boxing", 37.1500, 118.1300, 480.0, 0.30),
        DistrictSpec("zouping", "Zouping", 36.8630, 117.7430, 773.5, 0.60),
        DistrictSpec("kaifaqu", "Economic Development Zone", 37.3300, 118.0300, 120.0, 0.85),
        DistrictSpec("gaoxinqu", "High-tech Zone", 37.2650, 118.1000, 60.0, 0.80),
        DistrictSpec("beihai", "Beihai Zone", 37.9800, 118.0100, 30.0, 0.75),
    )
    # SPEC "Scale": a district has 100-200 schools; the district preset models Bincheng.
    district_schools: int = 150
    district_default: str = "bincheng"
    # --- School mix and sizes (DOMAIN "Mix of the 1,056 sites", assumed there) ------------------
    # ~470 kindergartens, ~380 primary, ~140 junior or nine-year (split 60/40, assumed), ~40 senior
    # high, ~26 other (vocational).
    type_mix: Mapping[str, float] = field(default_factory=lambda: _ro({
        "kindergarten": 470, "primary": 380, "junior_middle": 84, "nine_year": 56,
        "senior_high": 40, "vocational": 26,
    }))
    # DOMAIN: (median, smallest, largest) pupils per type; vocational is assumed.
    sizes: Mapping[str, tuple[int, int, int]] = field(default_factory=lambda: _ro({
        "kindergarten": (150, 30, 600), "primary": (600, 50, 4000), "junior_middle": (900, 200, 3000),
        "nine_year": (900, 200, 3000), "senior_high": (2500, 800, 6000), "vocational": (1500, 300, 5000),
    }))
    size_sigma: float = 0.45  # assumed spread of the log-normal sizes
    # DOMAIN: urban sites are 3-5x rural ones (2.4 / 0.6 = 4x; the pair keeps the city-wide median).
    urban_size_factor: float = 2.4
    rural_size_factor: float = 0.6
    # assumed: senior highs and vocational schools sit in the county seats (and keep their type's
    # median size, urban or not).
    urban_share_floor: Mapping[str, float] = field(default_factory=lambda: _ro({
        "senior_high": 0.85, "vocational": 0.85,
    }))
    # DOMAIN: senior highs mostly boarding; the other shares are assumed.
    boarding_share: Mapping[str, float] = field(default_factory=lambda: _ro({
        "senior_high": 0.8, "vocational": 0.6, "junior_middle": 0.2, "nine_year": 0.1,
    }))
    boarder_fraction: tuple[float, float] = (0.4, 0.8)  # assumed share of boarders at a boarding school
    # --- Geography (assumed; Binzhou is near 37.38 N, 117.97 E) ---------------------------------
    urban_spread_km: float = 2.5  # s.d. of urban schools around the core
    urban_max_km: float = 7.0
    rural_ring_km: tuple[float, float] = (7.0, 28.0)  # townships' distance from the core
    township_spacing_km: float = 5.0
    township_spread_km: float = 1.6  # s.d. of a township's schools around its centre
    township_schools: int = 10  # rural schools per township (DOMAIN: rural station serves 5-15)
    township_weight: tuple[float, float] = (0.6, 1.4)  # uneven townships: some stations are short
    village_school_share: float = 0.6  # rural sites named after a village (else "Central ...")
    # --- Peaks: bell times (DOMAIN "Peaks") ----------------------------------------------------
    # Posts stand 30 min before to 15 min after an arrival bell, 10 min before to 30 min after a
    # dismissal (DOMAIN). Arrival bells here are "children in by" times, before class starts at
    # 8:20 (primary) or 8:00 (secondary) per the 2021 national rule; kindergarten arrivals 7:30-8:30,
    # departures 16:30-17:30; Jimo: primary dismissal 16:40, junior 18:05, noon out 11:30/11:50,
    # afternoon class 14:30. The spread of each choice is assumed.
    arrival_lead: int = 30
    arrival_trail: int = 15
    dismissal_lead: int = 10
    dismissal_trail: int = 30
    arrival_bells: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _ro({
        "kindergarten": ("08:00", "08:10", "08:20", "08:30"), "primary": ("07:50", "08:00", "08:10"),
        "junior_middle": ("07:30", "07:40", "07:50"), "nine_year": ("07:40", "07:50", "08:00"),
        "senior_high": ("07:00", "07:10", "07:20"), "vocational": ("07:40", "07:50", "08:00"),
    }))
    dismissal_bells: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _ro({
        "kindergarten": ("16:50", "17:00", "17:10", "17:20"), "primary": ("16:30", "16:40", "16:50"),
        "junior_middle": ("17:40", "17:50", "18:05"), "nine_year": ("16:40", "16:50", "17:00"),
        "senior_high": ("17:50", "18:00", "18:10"), "vocational": ("17:10", "17:20", "17:30"),
    }))
    noon_out_bells: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _ro({
        "primary": ("11:30", "11:40"), "junior_middle": ("11:50", "12:00"), "nine_year": ("11:40", "11:50"),
    }))
    noon_in_bells: tuple[str, ...] = ("14:20", "14:30")  # DOMAIN Jimo: afternoon class 14:30
    # assumed share of day schools whose pupils go home at noon (more in villages).
    noon_share: Mapping[str, tuple[float, float]] = field(default_factory=lambda: _ro({
        "primary": (0.15, 0.35), "junior_middle": (0.15, 0.3), "nine_year": (0.15, 0.3),  # (urban, rural)
    }))
    # DOMAIN: winter timetables move afternoon times 15-30 minutes earlier (October-April, assumed).
    winter_shift: tuple[int, ...] = (15, 20, 30)
    winter_months: tuple[int, ...] = (10, 11, 12, 1, 2, 3, 4)
    # DOMAIN: after-school service makes a second dismissal wave about an hour later (16:20-16:50
    # then 17:20-17:50); assumed for this share of urban schools, Monday to Thursday.
    after_school_share: Mapping[str, float] = field(default_factory=lambda: _ro({
        "primary": 0.4, "nine_year": 0.4,
    }))
    after_school_delay: int = 60
    # assumed: these schools dismiss an hour earlier on Friday (boarders go home, staff meetings).
    friday_early_share: Mapping[str, float] = field(default_factory=lambda: _ro({
        "primary": 0.35, "junior_middle": 0.4, "nine_year": 0.4, "vocational": 0.7, "senior_high": 0.5,
    }))
    friday_early_by: int = 60
    # DOMAIN: boarders' evening study ends by 21:00 (junior) or 22:00 (senior); seniors with evening
    # study have a night dismissal around 21:00.
    evening_bells: tuple[str, ...] = ("21:00", "21:20", "21:40")
    # --- Posts and demand (DOMAIN "Who stands at a post", the composition table, assumed) -------
    # band: (lowest pupils, leaders, teachers, guards, police at peak, community/parents, total).
    # The totals and the police drive the demand; the other columns are kept to read the table
    # (staff counts come from the rules below).
    bands: tuple[tuple[str, int, tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int],
                       tuple[int, int], tuple[int, int]], ...] = (
        ("small", 0, (1, 1), (1, 1), (1, 2), (0, 0), (0, 1), (3, 5)),
        ("medium", 300, (1, 1), (1, 2), (2, 2), (0, 1), (1, 2), (5, 8)),
        ("large", 1000, (1, 1), (2, 4), (3, 6), (1, 3), (2, 6), (10, 20)),
        ("very_large", 3000, (1, 2), (4, 8), (7, 10), (3, 7), (5, 10), (20, 35)),
    )
    band_top: int = 6000  # largest site (DOMAIN: senior highs up to 6,000)
    # assumed: min takes the band's low total plus 40 % of the way to its size, target the rest.
    min_progress: float = 0.4
    target_floor: float = 0.35  # target is at least 35 % of the way up the band (assumed)
    # SPEC share rule (80 % professionals) with a leader on duty needs 5 people (a leader and four
    # professionals), so every school-peak gets room for 5 (assumed; the table's small total is 3-5).
    share_ready_target: int = 5
    # assumed: the table's "police at peak" counts officers and auxiliaries together; about half
    # of them (rounded up) must be officers (min_police counts the role police only, SPEC).
    officer_share: float = 0.5
    # posts per band (assumed): (gates, pick-up areas); medium sites >= 600 pupils add a pick-up.
    posts_by_band: Mapping[str, tuple[int, int]] = field(default_factory=lambda: _ro({
        "small": (1, 0), "medium": (1, 0), "large": (2, 1), "very_large": (3, 2),
    }))
    medium_pickup_from: int = 600
    large_second_pickup_from: int = 2000
    post_weight: Mapping[str, float] = field(default_factory=lambda: _ro({
        "main_gate": 1.0, "gate": 0.7, "pickup_area": 0.5,  # assumed share of a school's people per post
    }))
    dismissal_extra: int = 1  # assumed: one more at the main gate at dismissal (parents wait there)
    light_peak_factor: float = 0.5  # assumed: noon, after-school and evening peaks need half
    # DOMAIN: "at least 3 police per duty point" on national/provincial roads (Zhanhua 2021),
    # "one school, two police" (Binzhou development zone 2018). Assumed: 7 % of sites on such a
    # road, with 2 police at the main gate.
    arterial_share: float = 0.07
    arterial_min_police: int = 2
    main_gate_police_share: float = 0.6  # assumed: the main gate takes 60 % of the police, rounded up
    # DOMAIN: rural schools need police for traffic (farm vehicles, tricycles); assumed also at the
    # main gate of every site with 1,000+ pupils. Rural kindergartens from this size on.
    traffic_rural_kindergarten_from: int = 200
    traffic_large_from: int = 1000
    # DOMAIN: rural schools need police for traffic; assumed one officer at the main gate of rural
    # day schools (not kindergartens) from this size on.
    rural_gate_police_from: int = 300
    # --- The school's own staff ------------------------------------------------------------------
    # DOMAIN GB/T 29315-2022: <100 day pupils -> 1 guard, 1,000+ -> 3 plus 1 per further 500,
    # 100-999 -> 2 (assumed); boarding schools +1 per 200 boarders (provincial rule).
    guards_small_under: int = 100
    guards_large_from: int = 1000
    guards_per_extra: int = 500
    boarders_per_guard: int = 200
    # DOMAIN: a leader leads every peak (1-2 per post); assumed a second leader from 1,000 pupils
    # or when the school has 3+ peaks a day.
    second_leader_from: int = 1000
    # assumed duty-rota teachers per band (3 duties a week each; one or more per peak).
    teachers: Mapping[str, tuple[int, int]] = field(default_factory=lambda: _ro({
        "small": (3, 4), "medium": (4, 6), "large": (8, 12), "very_large": (14, 20),
    }))
    # DOMAIN: parent volunteers are voluntary, a small soft resource (<20 % of the post).
    volunteers: Mapping[str, tuple[int, int]] = field(default_factory=lambda: _ro({
        "small": (0, 2), "medium": (1, 3), "large": (2, 5), "very_large": (4, 8),
    }))
    # --- Police units (DOMAIN "Police units") ----------------------------------------------------
    # Urban station: 30-60 officers + 30-60 auxiliaries serving 15-40 schools; rural station:
    # 8-15 officers + 10-20 auxiliaries serving 5-15 schools. Urban sizes grow with the schools
    # served; a rural station's size is drawn independently of its township (some are short).
    urban_station_schools: tuple[int, int] = (15, 40)
    urban_station_target: int = 25  # assumed typical schools per urban station
    urban_station_officers: tuple[int, int] = (30, 60)
    urban_station_auxiliaries: tuple[int, int] = (30, 60)
    rural_station_schools: tuple[int, int] = (5, 15)
    rural_station_officers: tuple[int, int] = (8, 15)
    rural_station_auxiliaries: tuple[int, int] = (10, 20)
    station_jitter: int = 5  # assumed +- around the size the schools served suggest
    # assumed: an instance smaller than a station's area keeps the station's share for its schools,
    # weighed by size (a large site draws more of the station than a kindergarten).
    station_share_weight: Mapping[str, float] = field(default_factory=lambda: _ro({
        "small": 1, "medium": 1, "large": 2, "very_large": 3,
    }))
    # assumed: the school preset includes only the station's contingent for its school(s).
    contingent_per_school: tuple[int, int] = (10, 2)  # (officers and auxiliaries each, per extra school)
    # DOMAIN: district special patrol brigade of 40-100 people with 4-12 patrol cars. Assumed: one
    # car per 15 schools; the brigade also stands at the largest and the arterial sites; 55 % officers.
    brigade_people: tuple[int, int] = (40, 100)
    brigade_people_per_school: float = 0.45
    brigade_cars: tuple[int, int] = (4, 12)
    schools_per_car: int = 15
    brigade_police_share: float = 0.55
    brigade_people_per_car: int = 6  # assumed: three crews a car, so each car runs despite rest days
    brigade_bands: tuple[str, ...] = ("very_large",)  # assumed: gate duty at the largest sites and arterial ones
    # DOMAIN patrol car (assumed there): crew 2 (an officer and an auxiliary), a loop of 3-6 schools
    # within 2-3 km, 5-10 minutes at each gate, 2-4 minutes' drive between them.
    route_stops: tuple[int, int] = (3, 6)
    route_radius_km: float = 3.0
    route_rural_radius_km: float = 6.0  # assumed: rural loops stretch further
    route_minutes_per_stop: int = 8
    route_minutes_between: int = 3
    route_max_minutes: int = 105  # assumed: a run lasts at most 1 h 45 (SPEC example 16:00-17:45)
    route_crew: Mapping[str, int] = field(default_factory=lambda: _ro({"min": 2, "max": 2, "min_police": 1}))
    # assumed: police take post duty on 2-5 of the 5 school days (rest days, 24-hour duty rotation,
    # other tasks), (days, weight); DOMAIN says only 15-25 % of a station can be spared at a peak.
    # Rural stations are stretched thinner, so some rural schools go short of police.
    police_days: Mapping[str, tuple[tuple[int, float], ...]] = field(default_factory=lambda: _ro({
        "urban": ((3, 0.5), (4, 0.35), (5, 0.15)), "rural": ((2, 0.3), (3, 0.5), (4, 0.2)),
    }))
    # assumed shift windows of police and auxiliaries on their post days: (start, end, share).
    police_shifts: tuple[tuple[str, str, float], ...] = (
        ("06:30", "19:00", 0.70), ("06:00", "23:00", 0.18), ("06:30", "12:30", 0.12),
    )
    # --- Communities (assumed: urban residents' committees, rural village committees) ----------
    community_schools: Mapping[str, tuple[int, int]] = field(default_factory=lambda: _ro({
        "urban": (2, 4), "rural": (2, 4),
    }))
    community_workers: Mapping[str, tuple[int, int]] = field(default_factory=lambda: _ro({
        "urban": (3, 6), "rural": (2, 4),
    }))
    # --- Skills (DOMAIN: "traffic for many police"; first aid assumed) --------------------------
    traffic_share: Mapping[str, float] = field(default_factory=lambda: _ro({
        "police": 0.7, "auxiliary_police": 0.45, "security_guard": 0.1, "community_worker": 0.05,
    }))
    first_aid_share: Mapping[str, float] = field(default_factory=lambda: _ro({
        "police": 0.25, "auxiliary_police": 0.2, "security_guard": 0.3, "community_worker": 0.1,
        "school_leader": 0.2, "teacher": 0.2, "volunteer": 0.1,
    }))
    brigade_traffic_share: float = 0.9  # assumed: patrol brigade members are trained for traffic
    # --- Availability and leave (assumed) --------------------------------------------------------
    guard_part_time_share: float = 0.15  # guards on alternate days
    guard_hours: tuple[str, str] = ("06:00", "23:00")
    teacher_restricted_share: float = 0.2  # teachers free only mornings (half of them) or 3 days a week
    teacher_mornings: tuple[str, str] = ("06:30", "12:00")
    teacher_hours: tuple[str, str] = ("06:30", "19:00")
    teacher_part_week_days: int = 3
    community_hours: tuple[str, str] = ("07:00", "18:30")
    community_part_week: tuple[float, tuple[int, int]] = (0.3, (3, 4))  # share on 3-4 days a week only
    volunteer_days: tuple[int, int] = (1, 3)
    volunteer_windows: tuple[tuple[str, str], ...] = (("07:00", "09:30"), ("15:00", "19:00"), ("07:00", "19:00"))
    leave_day_share: float = 0.03  # a few % of people on leave on one date
    leave_two_days_share: float = 0.01  # a short sick leave over two days
    leave_window_share: float = 0.02  # a partial-day leave (appointment)
    leave_windows: tuple[tuple[str, str], ...] = (("07:00", "12:00"), ("13:00", "19:00"), ("15:00", "18:30"))
    light_duty_share: float = 0.03  # people with a personal max_per_week override
    light_duty_max_per_week: tuple[int, ...] = (3, 4, 5)
    # --- The school preset (assumed) ---------------------------------------------------------------
    school_preset_students: tuple[int, int] = (1800, 3000)  # a large urban primary or nine-year school
    school_preset_spread_km: float = 1.5  # neighbours added by --schools sit around it
    # --- Policy and travel (SPEC defaults; teacher/leader/guard entries assumed) ----------------
    limits: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: _ro({
        "default": {"max_per_day": 2, "max_per_week": 10, "max_minutes_per_week": 600},
        "volunteer": {"max_per_day": 1, "max_per_week": 2},
        # a duty teacher takes a turn a few times a week beside teaching
        "teacher": {"max_per_day": 1, "max_per_week": 3, "max_minutes_per_week": 180},
        # the leader leads the shift at every peak of a normal day and still runs the school
        "school_leader": {"max_per_day": 3, "max_per_week": 12, "max_minutes_per_week": 720},
        # the gate is the guard's job; the shift covers the whole school day
        "security_guard": {"max_per_day": 4, "max_per_week": 20, "max_minutes_per_week": 1200},
    }))
    weights: Mapping[str, float] = field(default_factory=lambda: _ro({
        "shortfall": 1000, "police_shortfall": 500, "skill_shortfall": 200, "share_shortfall": 300,
        "leader_missing": 300, "below_target": 20, "fairness": 10, "continuity": 3, "travel_minute": 1,
        "burden": 2,
    }))
    speed_kmh: float = 30  # SPEC travel default
    road_factor: float = 1.3  # SPEC travel default


PARAMS = Params()
PRESETS: tuple[str, ...] = ("school", "district", "city")
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
_WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TYPE_CODE = {"kindergarten": "kg", "primary": "ps", "junior_middle": "jm", "nine_year": "ny",
              "senior_high": "sh", "vocational": "vc"}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SURNAMES = _words(
    "Wang Li Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu Sun Hu Zhu Gao Lin He Guo Ma Luo Liang Song Zheng Xie "
    "Han Tang Feng Yu Dong Xiao Cheng Cao Yuan Deng Fu Shen Zeng Peng Lu Su Jiang Cai Jia Ding Wei Xue Ye Yan "
    "Pan Du Dai Xia Zhong Tian Ren Fan Fang Shi Yao Tan Zou Jin Hao Kong Bai Cui Kang Mao Qiu Qin Gu Hou Shao "
    "Meng Wan Duan Lei Qian Yin Bi Geng Ning Sang Zhai"
)
_GIVEN = _words(
    "wei fang na min jing li qiang lei jun yang yong yan jie tao ming chao xiu xia ping gang hui hong hua juan "
    "ying bo lin dan ning peng hao yu xin zhen rui kai bin feng qing lan mei shan tian xue yun zhi wen jian hai "
    "long dong cheng guang zhong shu yi ru"
)
_PLACE_HEAD = _words(
    "li wang zhang xin da xiao nan bei dong xi huang yang liu gao ma sang qin jiu shi san bai he pu tai long "
    "feng zhao song jiang lu wu qian hou guan han cui jin tang"
)
_PLACE_TAIL = _words("zhuang dian ji qiao tai wan ying zhai tun gou kou lou he miao guan zhen pu")
_DIRECTIONS = ("north", "south", "east", "west")


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    dlat = north_km / 111.2
    dlon = east_km / (111.2 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine km (the same sphere as models.instance.haversine_km)."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def _split_counts(total: int, weights: Mapping[str, float] | dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of ``total`` over ``weights`` (deterministic, keeps key order)."""
    wsum = sum(weights.values())
    raw = {k: total * w / wsum for k, w in weights.items()}
    out = {k: math.floor(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    order = sorted(raw, key=lambda k: (-(raw[k] - out[k]), list(raw).index(k)))
    for k in order[:rest]:
        out[k] += 1
    return out


def _chunks(items: list, sizes_from: tuple[int, int], target: int) -> list[list]:
    """Split ``items`` (already in spatial order) into consecutive chunks of about ``target``."""
    if not items:
        return []
    k = max(1, round(len(items) / target))
    lo = sizes_from[0]
    while k > 1 and len(items) / k < lo:
        k -= 1
    base, extra = divmod(len(items), k)
    out, i = [], 0
    for j in range(k):
        n = base + (1 if j < extra else 0)
        out.append(items[i:i + n])
        i += n
    return out


def _station_size(rng: random.Random, chunk: list[_Site], schools: tuple[int, int], people: tuple[int, int],
                  jitter: int | None, p: Params = PARAMS) -> int:
    """Officers (or auxiliaries) of a station serving ``chunk``. Within DOMAIN's range of schools
    an urban station grows with the schools served (plus ``jitter``); a rural one (``jitter`` None)
    is drawn independently of its township, so some are short. Below the range (small instances cut
    from a district) only the share of a real station that these schools get is kept, weighed by
    their size."""
    lo_s, hi_s = schools
    lo_p, hi_p = people
    if len(chunk) < lo_s:
        weight = sum(p.station_share_weight[s.band] for s in chunk)
        return int(_clamp(round(lo_p * weight / lo_s) + rng.randint(-1, 1), 2, hi_p))
    if jitter is None:
        return rng.randint(lo_p, hi_p)
    frac = _clamp((len(chunk) - lo_s) / max(1, hi_s - lo_s), 0, 1)
    return int(_clamp(round(lo_p + frac * (hi_p - lo_p)) + rng.randint(-jitter, jitter), lo_p, hi_p))


class _Names:
    """Pinyin names, unique within a generated document."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.places: set[str] = set()

    def person(self) -> str:
        r = self.rng
        given = r.choice(_GIVEN).capitalize()
        if r.random() < 0.65:
            given += r.choice(_GIVEN)
        return f"{r.choice(_SURNAMES)} {given}"

    def place(self) -> str:
        """A new place name (townships, villages, neighbourhoods), unique within the district."""
        name = ""
        for _ in range(200):
            head, tail = self.rng.choice(_PLACE_HEAD), self.rng.choice(_PLACE_TAIL)
            name = (head + tail).capitalize()
            if head != tail and name not in self.places:
                break
        while name in self.places:  # the name space is nearly used up: number the place
            name = f"{name.rstrip('0123456789 ')} {len(self.places)}"
        self.places.add(name)
        return name


def _weekday_dates(week_start: dt.date, days: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for day in days:
        offset = (_WEEKDAYS.index(day) - week_start.weekday()) % 7
        out[day] = (week_start + dt.timedelta(days=offset)).isoformat()
    return out


# ----------------------------------------------------------------------------------------------
# Building blocks: schools, peaks, posts, demand
# ----------------------------------------------------------------------------------------------


@dataclass
class _Site:
    """A school while it is being generated (turned into a document entry at the end)."""

    id: str
    name: str
    type: str
    urban: bool
    lat: float
    lon: float
    students: int
    boarders: int
    arterial: bool
    township: str
    peaks: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    band: str = "small"

    @property
    def loc(self) -> tuple[float, float]:
        return (self.lat, self.lon)


def _band(students: int, p: Params = PARAMS) -> tuple:
    chosen = p.bands[0]
    for band in p.bands:
        if students >= band[1]:
            chosen = band
    return chosen


def _band_progress(students: int, band: tuple, p: Params = PARAMS) -> float:
    """Where ``students`` sits inside its band, 0..1 on a log scale."""
    idx = p.bands.index(band)
    lo = max(band[1], 30)
    hi = p.bands[idx + 1][1] if idx + 1 < len(p.bands) else p.band_top
    return _clamp(math.log(max(students, lo) / lo) / math.log(hi / lo), 0, 1)


def _draw_students(rng: random.Random, stype: str, urban: bool, p: Params = PARAMS) -> int:
    median, lo, hi = p.sizes[stype]
    factor = 1.0
    if stype not in p.urban_share_floor:  # county-seat types keep the type's median
        factor = p.urban_size_factor if urban else p.rural_size_factor
    raw = median * factor * math.exp(rng.gauss(0, p.size_sigma))
    return int(_clamp(round(raw / 10) * 10, lo, hi))


def _peaks(rng: random.Random, site: _Site, winter: bool, p: Params = PARAMS) -> list[dict]:
    """Daily peaks from the school type's bell times (see the DOMAIN facts in PARAMS)."""
    stype = site.type
    shift = rng.choice(p.winter_shift) if winter else 0

    def arrival(name: str, bell: int, days: list[str] | None = None) -> dict:
        peak: dict[str, Any] = {"name": name, "start": _hhmm(bell - p.arrival_lead), "end": _hhmm(bell + p.arrival_trail)}
        if days:
            peak["days"] = days
        return peak

    def dismissal(name: str, bell: int, days: list[str] | None = None) -> dict:
        peak: dict[str, Any] = {"name": name, "start": _hhmm(bell - p.dismissal_lead),
                                "end": _hhmm(bell + p.dismissal_trail)}
        if days:
            peak["days"] = days
        return peak

    peaks = [arrival("arrival", _minutes(rng.choice(p.arrival_bells[stype])))]
    if stype in p.noon_out_bells and site.boarders == 0:
        share = p.noon_share[stype][0 if site.urban else 1]
        if rng.random() < share:
            peaks.append(dismissal("noon_out", _minutes(rng.choice(p.noon_out_bells[stype]))))
            peaks.append(arrival("noon_in", _minutes(rng.choice(p.noon_in_bells)) - shift))
    bell = _minutes(rng.choice(p.dismissal_bells[stype])) - shift
    if rng.random() < p.friday_early_share.get(stype, 0.0):
        peaks.append(dismissal("dismissal", bell, ["mon", "tue", "wed", "thu"]))
        peaks.append(dismissal("dismissal", bell - p.friday_early_by, ["fri"]))
    else:
        peaks.append(dismissal("dismissal", bell))
    if site.urban and rng.random() < p.after_school_share.get(stype, 0.0):
        peaks.append(dismissal("after_school", bell + p.after_school_delay, ["mon", "tue", "wed", "thu"]))
    if stype == "senior_high" and site.boarders > 0:
        peaks.append(dismissal("evening", _minutes(rng.choice(p.evening_bells))))
    return peaks


def _guards(site: _Site, p: Params = PARAMS) -> int:
    """GB/T 29315-2022 by day pupils, plus the provincial rule for boarders (DOMAIN)."""
    day_pupils = site.students - site.boarders
    if day_pupils < p.guards_small_under:
        n = 1
    elif day_pupils < p.guards_large_from:
        n = 2
    else:
        n = 3 + (day_pupils - p.guards_large_from) // p.guards_per_extra
    return n + site.boarders // p.boarders_per_guard


def _posts(rng: random.Random, site: _Site, p: Params = PARAMS) -> list[dict]:
    """Gates and pick-up areas with their demand, from the post-composition table (DOMAIN)."""
    band = _band(site.students, p)
    name, _, _, _, _, police, _, total = band
    site.band = name
    frac = _band_progress(site.students, band, p)
    gates, pickups = p.posts_by_band[name]
    if name == "medium" and site.students >= p.medium_pickup_from:
        pickups += 1
    if name == "large" and site.students >= p.large_second_pickup_from:
        pickups += 1
    dirs = list(_DIRECTIONS)
    rng.shuffle(dirs)
    kinds = [("main_gate", f"{dirs[0]}-gate")]
    kinds += [("gate", f"{dirs[i]}-gate") for i in range(1, gates)]
    pick_dirs = [d for d in dirs if d != dirs[0]] + [dirs[0]]
    kinds += [("pickup_area", f"pickup-{pick_dirs[i % 4]}" + (f"-{i // 4 + 1}" if i >= 4 else ""))
              for i in range(pickups)]

    lo, hi = total
    min_total = round(lo + p.min_progress * frac * (hi - lo))
    target_total = max(min_total + 1, p.share_ready_target, round(lo + max(p.target_floor, frac) * (hi - lo)))
    weights = {slug: p.post_weight[kind] for kind, slug in kinds}
    mins = _split_counts(min_total, weights)
    targets = _split_counts(target_total, weights)
    police_total = math.ceil(p.officer_share * round(police[0] + frac * (police[1] - police[0])))
    if site.arterial:
        police_total = max(police_total, p.arterial_min_police)
    if not site.urban and site.type != "kindergarten" and site.students >= p.rural_gate_police_from:
        police_total = max(police_total, 1)
    gate_slugs = [slug for kind, slug in kinds if kind != "pickup_area"]
    police_at: dict[str, int] = {}
    left = police_total
    for i, slug in enumerate(gate_slugs):  # the main gate takes the larger share
        share = left if i == len(gate_slugs) - 1 else math.ceil(left * (p.main_gate_police_share if i == 0 else 0.5))
        police_at[slug] = share
        left -= share
    traffic = (not site.urban and (site.type != "kindergarten" or site.students >= p.traffic_rural_kindergarten_from))
    peak_names = list(dict.fromkeys(pk["name"] for pk in site.peaks))
    posts = []
    for kind, slug in kinds:
        lo_n = max(1, mins[slug])
        mp = police_at.get(slug, 0)
        lo_n = max(lo_n, mp)
        hi_n = max(lo_n, targets[slug])
        default: dict[str, Any] = {"min": lo_n, "target": hi_n}
        if mp:
            default["min_police"] = mp
        needs_traffic = kind == "main_gate" and (traffic or site.students >= p.traffic_large_from)
        if needs_traffic:
            default["skills"] = {"traffic": 1}
        demand: dict[str, Any] = {"default": default}
        for peak in peak_names:
            if peak == "dismissal" and kind == "main_gate" and name != "small":
                demand["dismissal"] = {"min": lo_n + p.dismissal_extra, "target": hi_n + p.dismissal_extra}
            elif peak in ("noon_out", "noon_in", "after_school", "evening"):
                light_min = max(1, math.ceil(lo_n * p.light_peak_factor))
                light_target = max(light_min, math.ceil(hi_n * p.light_peak_factor))
                entry: dict[str, Any] = {"min": light_min, "target": light_target}
                if mp:
                    entry["min_police"] = min(light_min, 1 if (site.arterial or peak == "evening") else 0)
                if needs_traffic and peak == "evening":
                    entry["skills"] = {}
                if (light_min, light_target, entry.get("min_police", mp)) != (lo_n, hi_n, mp) or "skills" in entry:
                    demand[peak] = entry
        post = {"id": f"{site.id}/{slug}", "kind": "pickup_area" if kind == "pickup_area" else "gate",
                "name": _post_name(slug), "demand": demand}
        posts.append(post)
    return posts


def _post_name(slug: str) -> str:
    if slug.endswith("-gate"):
        return slug[: -len("-gate")].capitalize() + " gate"
    parts = slug.split("-")
    suffix = f" {parts[2]}" if len(parts) > 2 else ""
    return f"{parts[1].capitalize()} pick-up area{suffix}"


_TYPE_TITLE = {"kindergarten": "Kindergarten", "primary": "Primary School", "junior_middle": "Middle School",
               "nine_year": "Nine-year School", "senior_high": "Senior High School", "vocational": "Vocational School"}


# ----------------------------------------------------------------------------------------------
# A district
# ----------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    """Document-wide state shared by the districts of one generated document."""

    week_start: dt.date
    days: tuple[str, ...]
    winter: bool
    dates: dict[str, str]
    names: _Names
    persons: list[dict] = field(default_factory=list)

    def person_id(self) -> str:
        return f"P{len(self.persons) + 1:05d}"


def _type_counts(n: int, p: Params = PARAMS) -> dict[str, int]:
    return _split_counts(n, dict(p.type_mix))


def _place_schools(rng: random.Random, ctx: _Ctx, spec: DistrictSpec, types: list[str],
                   p: Params = PARAMS) -> tuple[list[_Site], dict[str, tuple[float, float]]]:
    """Urban sites around the core, rural ones around townships on a ring (assumed geography)."""
    urban_flags = []
    for stype in types:
        share = max(spec.urban_share, p.urban_share_floor.get(stype, 0.0))
        urban_flags.append(rng.random() < share)
    n_rural = urban_flags.count(False)
    n_towns = max(1, round(n_rural / p.township_schools)) if n_rural else 0
    towns: dict[str, tuple[float, float]] = {}
    for _ in range(n_towns):
        for _attempt in range(200):
            dist = rng.uniform(*p.rural_ring_km)
            ang = rng.uniform(0, 2 * math.pi)
            loc = _offset(spec.lat, spec.lon, dist * math.sin(ang), dist * math.cos(ang))
            if all(_km(loc, other) >= p.township_spacing_km for other in towns.values()):
                break
        towns[ctx.names.place()] = loc
    town_names = list(towns)
    town_weights = [rng.uniform(*p.township_weight) for _ in town_names]
    counters: dict[str, int] = defaultdict(int)
    urban_no: dict[str, int] = defaultdict(int)
    sites: list[_Site] = []
    used_names: set[str] = set()
    for stype, urban in zip(types, urban_flags, strict=True):
        counters[stype] += 1
        sid = f"{spec.id}-{_TYPE_CODE[stype]}{counters[stype]:03d}"
        if urban:
            for _attempt in range(50):
                north, east = rng.gauss(0, p.urban_spread_km), rng.gauss(0, p.urban_spread_km)
                if math.hypot(north, east) <= p.urban_max_km:
                    break
            lat, lon = _offset(spec.lat, spec.lon, north, east)
            town = ""
            urban_no[stype] += 1
            k = urban_no[stype]
            name = (f"{spec.name} Experimental {_TYPE_TITLE[stype]}" if k == 1 and stype != "kindergarten"
                    else f"{spec.name} No. {k} {_TYPE_TITLE[stype]}")
        else:
            town = rng.choices(town_names, weights=town_weights)[0]
            tlat, tlon = towns[town]
            lat, lon = _offset(tlat, tlon, rng.gauss(0, p.township_spread_km), rng.gauss(0, p.township_spread_km))
            name = f"{town} Central {_TYPE_TITLE[stype]}"  # one central school per type and township
            if name in used_names or rng.random() < p.village_school_share:
                name = f"{town} {ctx.names.place()} {_TYPE_TITLE[stype]}"
        students = _draw_students(rng, stype, urban, p)
        boarders = 0
        if rng.random() < p.boarding_share.get(stype, 0.0):
            boarders = int(round(students * rng.uniform(*p.boarder_fraction) / 10) * 10)
        arterial = rng.random() < p.arterial_share
        used_names.add(name)
        sites.append(_Site(sid, name, stype, urban, lat, lon, students, boarders, arterial, town))
    return sites, towns


def _availability_days(rng: random.Random, ctx: _Ctx, n: int) -> list[str]:
    days = list(ctx.days)
    if n >= len(days):
        return days
    picked = set(rng.sample(range(len(days)), n))
    return [d for i, d in enumerate(days) if i in picked]


def _add_person(rng: random.Random, ctx: _Ctx, role: str, unit: str, *, skills: list[str] | None = None,
                home: tuple[float, float] | None = None, availability: list[dict] | None = None,
                p: Params = PARAMS) -> dict:
    person: dict[str, Any] = {"id": ctx.person_id(), "name": ctx.names.person(), "role": role, "unit": unit}
    skills = list(skills or [])
    if rng.random() < p.first_aid_share.get(role, 0.0):
        skills.append("first_aid")
    if skills:
        person["skills"] = skills
    if home is not None:
        person["home"] = {"lat": home[0], "lon": home[1]}
    if availability:
        person["availability"] = availability
    leave = _leave(rng, ctx, p)
    if leave:
        person["leave"] = leave
    professional_or_community = role in ("police", "auxiliary_police", "security_guard", "community_worker")
    if professional_or_community and rng.random() < p.light_duty_share:
        person["limits"] = {"max_per_week": rng.choice(p.light_duty_max_per_week)}
    ctx.persons.append(person)
    return person


def _leave(rng: random.Random, ctx: _Ctx, p: Params = PARAMS) -> list:
    r = rng.random()
    days = list(ctx.days)
    if r < p.leave_day_share:
        return [ctx.dates[rng.choice(days)]]
    r -= p.leave_day_share
    if r < p.leave_two_days_share and len(days) >= 2:
        i = rng.randrange(len(days) - 1)
        return [ctx.dates[days[i]], ctx.dates[days[i + 1]]]
    r -= p.leave_two_days_share
    if r < p.leave_window_share:
        start, end = rng.choice(p.leave_windows)
        return [{"date": ctx.dates[rng.choice(days)], "start": start, "end": end}]
    return []


def _police_availability(rng: random.Random, ctx: _Ctx, kind: str, p: Params = PARAMS) -> list[dict]:
    """Post days (a shift pattern) and the shift's hours of a police officer or auxiliary."""
    pattern = p.police_days[kind]
    n = rng.choices([d for d, _ in pattern], weights=[w for _, w in pattern])[0]
    days = _availability_days(rng, ctx, n)
    start, end, _ = rng.choices(p.police_shifts, weights=[w for _, _, w in p.police_shifts])[0]
    return [{"days": days, "start": start, "end": end}]


def _skills_for(rng: random.Random, role: str, traffic_share: float | None = None, p: Params = PARAMS) -> list[str]:
    share = p.traffic_share.get(role, 0.0) if traffic_share is None else traffic_share
    return ["traffic"] if rng.random() < share else []


def _centroid(sites: list[_Site]) -> tuple[float, float]:
    return (round(sum(s.lat for s in sites) / len(sites), 5), round(sum(s.lon for s in sites) / len(sites), 5))


def _spatial_order(sites: list[_Site], centre: tuple[float, float]) -> list[_Site]:
    """Sites sorted by bearing around ``centre`` (then distance), so chunks are wedges."""
    def key(s: _Site) -> tuple[float, float, str]:
        return (math.atan2(s.lat - centre[0], s.lon - centre[1]), _km(s.loc, centre), s.id)
    return sorted(sites, key=key)


def _jitter_home(rng: random.Random, base: tuple[float, float], km: float = 1.5) -> tuple[float, float]:
    return _offset(base[0], base[1], rng.uniform(-km, km), rng.uniform(-km, km))


def _school_staff(rng: random.Random, ctx: _Ctx, site: _Site, p: Params = PARAMS) -> None:
    """The school's own people (unit = the school id): leaders, duty teachers, guards, volunteers."""
    peaks_a_day = len({pk["name"] for pk in site.peaks if not pk.get("days") or "mon" in pk["days"]})
    leaders = 2 if (site.students >= p.second_leader_from or peaks_a_day >= 3) else 1
    for _ in range(leaders):
        _add_person(rng, ctx, "school_leader", site.id, p=p)
    for _ in range(rng.randint(*p.teachers[site.band])):
        availability: list[dict[str, Any]] | None = None
        if rng.random() < p.teacher_restricted_share:
            if rng.random() < 0.5:  # mornings only (own small children), or three days a week
                availability = [{"start": p.teacher_mornings[0], "end": p.teacher_mornings[1]}]
            else:
                availability = [{"days": _availability_days(rng, ctx, p.teacher_part_week_days),
                                 "start": p.teacher_hours[0], "end": p.teacher_hours[1]}]
        _add_person(rng, ctx, "teacher", site.id, availability=availability, p=p)
    for _ in range(_guards(site, p)):
        availability = None
        if rng.random() < p.guard_part_time_share:
            parity = rng.randint(0, 1)
            availability = [{"days": [d for i, d in enumerate(ctx.days) if i % 2 == parity],
                             "start": p.guard_hours[0], "end": p.guard_hours[1]}]
        _add_person(rng, ctx, "security_guard", site.id, skills=_skills_for(rng, "security_guard", p=p),
                    availability=availability, p=p)
    for _ in range(rng.randint(*p.volunteers[site.band])):
        start, end = rng.choice(p.volunteer_windows)
        days = _availability_days(rng, ctx, rng.randint(*p.volunteer_days))
        _add_person(rng, ctx, "volunteer", site.id, availability=[{"days": days, "start": start, "end": end}], p=p)


def _station(rng: random.Random, ctx: _Ctx, units: list[dict], uid: str, name: str, sites: list[_Site],
             officers: int, auxiliaries: int, kind: str, p: Params = PARAMS) -> None:
    units.append({"id": uid, "kind": "police", "name": name, "schools": [s.id for s in sites]})
    base = _centroid(sites)
    for role, n in (("police", officers), ("auxiliary_police", auxiliaries)):
        for _ in range(n):
            _add_person(rng, ctx, role, uid, skills=_skills_for(rng, role, p=p), home=_jitter_home(rng, base),
                        availability=_police_availability(rng, ctx, kind, p), p=p)


def _community(rng: random.Random, ctx: _Ctx, units: list[dict], uid: str, name: str, sites: list[_Site],
               kind: str, p: Params = PARAMS) -> None:
    units.append({"id": uid, "kind": "community", "name": name, "schools": [s.id for s in sites]})
    base = _centroid(sites)
    start, end = p.community_hours
    for _ in range(rng.randint(*p.community_workers[kind])):
        availability: list[dict[str, Any]] = [{"start": start, "end": end}]
        share, days = p.community_part_week
        if rng.random() < share:
            availability = [{"days": _availability_days(rng, ctx, rng.randint(*days)), "start": start, "end": end}]
        _add_person(rng, ctx, "community_worker", uid, skills=_skills_for(rng, "community_worker", p=p),
                    home=_jitter_home(rng, base, 0.8), availability=availability, p=p)


def _communities(rng: random.Random, ctx: _Ctx, units: list[dict], prefix: str, groups: list[list[_Site]],
                 kind: str, p: Params = PARAMS) -> None:
    counter = sum(1 for u in units if u["kind"] == "community")
    for group in groups:
        i = 0
        while i < len(group):
            n = rng.randint(*p.community_schools[kind])
            chunk = group[i:i + n]
            i += n
            counter += 1
            label = ctx.names.place()  # a neighbourhood or a village
            title = "Residents' Committee" if kind == "urban" else "Village Committee"
            _community(rng, ctx, units, f"{prefix}-cm{counter:02d}", f"{label} {title}", chunk, kind, p)


def _routes(rng: random.Random, spec: DistrictSpec, sites: list[_Site], n_cars: int, unit: str,
            p: Params = PARAMS) -> list[dict]:
    """Patrol-car loops of 3-6 nearby schools (DOMAIN), seeded at small sites that get a patrol
    visit instead of police at the gate; runs cover the stops' morning and afternoon windows."""
    pool = sorted(sites, key=lambda s: s.id)
    routes: list[dict] = []
    small_first = [s for s in pool if s.band == "small"] or pool
    rng.shuffle(small_first)
    seeds = iter(small_first)
    taken: set[str] = set()
    while len(routes) < n_cars:  # a seed with no neighbour near enough is skipped, not the car
        seed = next((s for s in seeds if s.id not in taken), None)
        if seed is None:
            break
        radius = p.route_radius_km if seed.urban else p.route_rural_radius_km
        near = sorted((s for s in pool if s.id not in taken and s.id != seed.id),
                      key=lambda s: (_km(seed.loc, s.loc), s.id))
        want = rng.randint(*p.route_stops) - 1
        chosen = [s for s in near if _km(seed.loc, s.loc) <= radius][:want]
        if len(chosen) < p.route_stops[0] - 1:
            chosen = [s for s in near if _km(seed.loc, s.loc) <= 2 * radius][: p.route_stops[0] - 1]
        if not chosen:
            continue
        stops = [seed]
        rest = list(chosen)
        while rest:  # nearest-neighbour order
            nxt = min(rest, key=lambda s: (_km(stops[-1].loc, s.loc), s.id))
            stops.append(nxt)
            rest.remove(nxt)
        taken.update(s.id for s in stops)
        routes.append({"id": f"{spec.id}-r{len(routes) + 1:02d}", "name": f"Patrol car {len(routes) + 1}",
                       "unit": unit, "stops": [s.id for s in stops], "crew": dict(p.route_crew),
                       "runs": _runs(stops, p)})
    return routes


def _runs(stops: list[_Site], p: Params = PARAMS) -> list[dict]:
    need = len(stops) * p.route_minutes_per_stop + (len(stops) - 1) * p.route_minutes_between

    def span(day: str, morning: bool) -> tuple[int, int]:
        """The run's window: the stops' arrival (or dismissal) windows, cut to the best
        ``route_max_minutes`` stretch when they spread wider (most overlap with the stops)."""
        wins = [(_minutes(pk["start"]), _minutes(pk["end"])) for s in stops for pk in s.peaks
                if pk["name"] == ("arrival" if morning else "dismissal") and (not pk.get("days") or day in pk["days"])]
        lo, hi = min(a for a, _ in wins), max(b for _, b in wins)
        length = min(max(hi - lo, need), p.route_max_minutes)
        if hi - lo <= length:
            return lo, lo + length
        best = max(range(lo, hi - length + 1, 5),
                   key=lambda t: (sum(max(0, min(b, t + length) - max(a, t)) for a, b in wins), -t))
        return best, best + length

    runs: list[dict] = []
    lo, hi = span("mon", True)
    runs.append({"name": "morning", "start": _hhmm(lo), "end": _hhmm(hi)})
    week = span("mon", False)
    fri = span("fri", False)
    if week == fri:
        runs.append({"name": "afternoon", "start": _hhmm(week[0]), "end": _hhmm(week[1])})
    else:
        runs.append({"name": "afternoon", "start": _hhmm(week[0]), "end": _hhmm(week[1]),
                     "days": ["mon", "tue", "wed", "thu"]})
        runs.append({"name": "afternoon", "start": _hhmm(fri[0]), "end": _hhmm(fri[1]), "days": ["fri"]})
    return runs


def _district(ctx: _Ctx, spec: DistrictSpec, n_schools: int, seed: int, p: Params = PARAMS) -> tuple[
        list[dict], list[dict], list[dict]]:
    """One county-level district: schools, units (stations, brigade, communities), routes, persons."""
    rng = random.Random(f"schoolpost/{seed}/{spec.id}")
    ctx.names.rng = rng
    ctx.names.places = set()  # place names repeat across districts, not within one
    counts = _type_counts(n_schools, p)
    types = [t for t, n in counts.items() for _ in range(n)]
    rng.shuffle(types)
    sites, towns = _place_schools(rng, ctx, spec, types, p)
    for site in sites:
        site.peaks = _peaks(rng, site, ctx.winter, p)
        site.posts = _posts(rng, site, p)

    units: list[dict] = []
    centre = (spec.lat, spec.lon)
    urban = _spatial_order([s for s in sites if s.urban], centre)
    station_no = 0
    for chunk in _chunks(urban, p.urban_station_schools, p.urban_station_target):
        station_no += 1
        officers = _station_size(rng, chunk, p.urban_station_schools, p.urban_station_officers, p.station_jitter, p)
        aux = _station_size(rng, chunk, p.urban_station_schools, p.urban_station_auxiliaries, p.station_jitter, p)
        _station(rng, ctx, units, f"{spec.id}-st{station_no:02d}", f"{spec.name} urban police station {station_no}",
                 chunk, officers, aux, "urban", p)
    by_town: dict[str, list[_Site]] = defaultdict(list)
    for s in sites:
        if not s.urban:
            by_town[s.township].append(s)
    groups = {town: by_town.get(town, []) for town in towns}
    for town in towns:  # a township too small for a station of its own joins the nearest one
        others = [t for t in towns if t != town and groups[t]]
        if 0 < len(groups[town]) < p.rural_station_schools[0] and others:
            nearest = min(others, key=lambda t: (_km(towns[town], towns[t]), t))
            groups[nearest] = groups[nearest] + groups[town]
            groups[town] = []
    for town in towns:
        chunks = _chunks(_spatial_order(groups[town], towns[town]), p.rural_station_schools, p.township_schools)
        for j, chunk in enumerate(chunks):
            station_no += 1
            officers = _station_size(rng, chunk, p.rural_station_schools, p.rural_station_officers, None, p)
            aux = _station_size(rng, chunk, p.rural_station_schools, p.rural_station_auxiliaries, None, p)
            name = f"{town} police station" + (f" {j + 1}" if j else "")
            _station(rng, ctx, units, f"{spec.id}-st{station_no:02d}", name, chunk, officers, aux, "rural", p)

    # Special patrol brigade: routes, plus gate duty at large and arterial sites.
    n = len(sites)
    cars = int(_clamp(round(n / p.schools_per_car), 1, p.brigade_cars[1]))
    if n >= 4 * p.schools_per_car:
        cars = max(cars, p.brigade_cars[0])
    brigade_sites = [s for s in sites if s.band in p.brigade_bands or s.arterial]
    people = min(p.brigade_people[1], max(p.brigade_people_per_car * cars, round(p.brigade_people_per_school * n)))
    if n >= 2 * p.brigade_people[0]:
        people = max(people, p.brigade_people[0])
    brigade_id = f"{spec.id}-spb"
    units.append({"id": brigade_id, "kind": "police", "name": f"{spec.name} Special Patrol Brigade",
                  "schools": [s.id for s in brigade_sites]})
    n_police = round(people * p.brigade_police_share)
    for i in range(people):
        role = "police" if i < n_police else "auxiliary_police"
        _add_person(rng, ctx, role, brigade_id, skills=_skills_for(rng, role, p.brigade_traffic_share, p),
                    home=_jitter_home(rng, centre, 1.0), availability=_police_availability(rng, ctx, "urban", p), p=p)
    routes = _routes(rng, spec, sites, cars, brigade_id, p)

    # Communities: residents' committees in the core, village committees in the townships.
    by_id = {s.id: s for s in sites}
    station_groups = [[by_id[sid] for sid in u["schools"]] for u in units if u["id"].startswith(f"{spec.id}-st")]
    ordered = [_spatial_order(g, _centroid(g)) for g in station_groups if g]
    urban_groups = [g for g in ordered if g[0].urban]
    rural_groups = [g for g in ordered if not g[0].urban]
    _communities(rng, ctx, units, spec.id, urban_groups, "urban", p)
    _communities(rng, ctx, units, spec.id, rural_groups, "rural", p)

    for site in sites:
        _school_staff(rng, ctx, site, p)

    schools = []
    for s in sites:
        entry: dict[str, Any] = {"id": s.id, "name": s.name, "type": s.type, "district": spec.id,
                                 "location": {"lat": s.lat, "lon": s.lon}, "students": s.students}
        entry["peaks"] = s.peaks
        entry["posts"] = s.posts
        schools.append(entry)
    return schools, units, routes


def _school_preset(ctx: _Ctx, n_schools: int, seed: int, p: Params = PARAMS) -> tuple[
        list[dict], list[dict], list[dict]]:
    """One large urban primary or nine-year school (plus ``n_schools - 1`` neighbours), the police
    station contingent that covers them and one community per few schools."""
    spec = next(d for d in p.districts if d.id == p.district_default)
    rng = random.Random(f"schoolpost/{seed}/school")
    ctx.names.rng = rng
    first = rng.choice(("primary", "nine_year"))
    rest = [t for t, k in _type_counts(max(0, n_schools - 1) * 4, p).items() for _ in range(k)]
    rng.shuffle(rest)
    types = [first] + rest[: n_schools - 1]
    sites = []
    counters: dict[str, int] = defaultdict(int)
    for i, stype in enumerate(types):
        counters[stype] += 1
        sid = f"{spec.id}-{_TYPE_CODE[stype]}{counters[stype]:03d}"
        if i == 0:
            lat, lon = _offset(spec.lat, spec.lon, rng.uniform(-1, 1), rng.uniform(-1, 1))
            lo, hi = p.school_preset_students
            students = int(round(math.exp(rng.uniform(math.log(lo), math.log(hi))) / 10) * 10)
            name = f"{spec.name} No. {rng.randint(2, 9)} {_TYPE_TITLE[stype]}"
        else:
            spread = p.school_preset_spread_km
            lat, lon = _offset(spec.lat, spec.lon, rng.gauss(0, spread), rng.gauss(0, spread))
            students = _draw_students(rng, stype, True, p)
            name = f"{spec.name} No. {10 + i} {_TYPE_TITLE[stype]}"
        sites.append(_Site(sid, name, stype, True, lat, lon, students, 0, i == 0, ""))
    for site in sites:
        site.peaks = _peaks(rng, site, ctx.winter, p)
        site.posts = _posts(rng, site, p)
    units: list[dict] = []
    per_first, per_extra = p.contingent_per_school
    size = per_first + per_extra * (n_schools - 1)
    _station(rng, ctx, units, f"{spec.id}-st01", f"{spec.name} urban police station 1", sites, size, size, "urban", p)
    _communities(rng, ctx, units, spec.id, [sites], "urban", p)
    for site in sites:
        _school_staff(rng, ctx, site, p)
    schools = [{"id": s.id, "name": s.name, "type": s.type, "district": spec.id,
                "location": {"lat": s.lat, "lon": s.lon}, "students": s.students, "peaks": s.peaks,
                "posts": s.posts} for s in sites]
    return schools, units, []


def _policy(p: Params = PARAMS) -> dict:
    return {
        "professional_roles": ["police", "auxiliary_police", "security_guard"],
        "min_professional_share": 0.8,
        "leader_on_duty": True,
        "limits": {role: dict(v) for role, v in p.limits.items()},
        "weights": dict(p.weights),
    }


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------


def generate(preset: str, seed: int = 0, *, schools: int | None = None, week_start: str = "2026-12-07",
             name: str | None = None) -> Doc:
    """A realistic instance document (plain dict, ready for YAML/JSON) for ``preset``.

    ``schools`` overrides the preset's school count. The same arguments give the same document.
    """
    p = PARAMS
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if schools is not None and schools < 1:
        raise ValueError("schools must be at least 1")
    start = dt.date.fromisoformat(week_start)
    days = DAYS
    ctx = _Ctx(start, days, start.month in p.winter_months, _weekday_dates(start, days), _Names(random.Random(seed)))
    all_schools: list[dict] = []
    all_units: list[dict] = []
    all_routes: list[dict] = []
    if preset == "school":
        parts = [_school_preset(ctx, schools or 1, seed, p)]
        label = f"{p.district_default}-school"
    elif preset == "district":
        spec = next(d for d in p.districts if d.id == p.district_default)
        parts = [_district(ctx, spec, schools or p.district_schools, seed, p)]
        label = spec.id
    else:
        total = schools or p.city_schools
        split = _split_counts(total, {d.id: d.population_k for d in p.districts})
        parts = [_district(ctx, d, split[d.id], seed, p) for d in p.districts if split[d.id] > 0]
        label = p.city_name
    for sch, uni, rou in parts:
        all_schools += sch
        all_units += uni
        all_routes += rou
    # a district too small for a patrol route leaves its patrol brigade nothing to serve: such a
    # unit and its people are left out (a person who could serve nowhere is an input error)
    serving = {u["id"] for u in all_units if u.get("schools")} | {r["unit"] for r in all_routes}
    idle = {u["id"] for u in all_units} - serving
    all_units = [u for u in all_units if u["id"] not in idle]
    persons = [person for person in ctx.persons if person["unit"] not in idle]
    iso_week = start.isocalendar()[1]
    return {
        "format": "schoolpost/1",
        "name": name or f"{label}-week-{iso_week}-seed-{seed}",
        "week_start": start.isoformat(),
        "days": list(days),
        "timezone": "Asia/Shanghai",  # DOMAIN: the reference city is in China (UTC+8, no daylight saving)
        "policy": _policy(p),
        "travel": {"speed_kmh": p.speed_kmh, "road_factor": p.road_factor},
        "units": all_units,
        "schools": all_schools,
        "routes": all_routes,
        "persons": persons,
    }


def _windows(items: list[dict], day: str) -> list[tuple[int, int]]:
    return [(_minutes(x["start"]), _minutes(x["end"])) for x in items if not x.get("days") or day in x["days"]]


def count_duties(doc: Doc) -> dict[str, int]:
    """Post duties and route duties of the horizon (as scheduler.duties expands them)."""
    days = doc.get("days") or list(DAYS)
    posts = sum(len(s.get("posts", [])) * len(_windows(s.get("peaks", []), d)) for s in doc["schools"] for d in days)
    routes = sum(len(_windows(r.get("runs", []), d)) for r in doc.get("routes", []) for d in days)
    return {"post_duties": posts, "route_duties": routes, "duties": posts + routes}


def eligible_pairs_estimate(doc: Doc) -> int:
    """Eligible (person, duty) pairs, ignoring leave and limits: for each person, the duties of
    their unit's schools and routes (or their own school's) that lie inside one of their
    availability windows (no availability: every duty). An upper bound of the model's variables."""
    days = doc.get("days") or list(DAYS)
    school_duties: dict[str, dict[str, list[tuple[int, int]]]] = {}
    for s in doc["schools"]:
        n_posts = len(s.get("posts", []))
        school_duties[s["id"]] = {d: _windows(s.get("peaks", []), d) * n_posts for d in days}
    unit_scope: dict[str, list[dict[str, list[tuple[int, int]]]]] = defaultdict(list)
    for u in doc.get("units", []):
        unit_scope[u["id"]] += [school_duties[sid] for sid in u.get("schools", [])]
    for r in doc.get("routes", []):
        unit_scope[r["unit"]].append({d: _windows(r.get("runs", []), d) for d in days})
    memo: dict[tuple[str, str], int] = {}
    total = 0
    for person in doc["persons"]:
        unit = person["unit"]
        avail = person.get("availability")
        key = (unit, json.dumps(avail, sort_keys=True))
        if key not in memo:
            scope = unit_scope[unit] if unit in unit_scope else [school_duties.get(unit, {})]
            count = 0
            for day in days:
                windows = None if avail is None else _windows(avail, day)
                for duties in scope:
                    for start, end in duties.get(day, ()):
                        if windows is None or any(a <= start and end <= b for a, b in windows):
                            count += 1
            memo[key] = count
        total += memo[key]
    return total


def summarize(doc: Doc) -> dict[str, int]:
    """Sizes of a document: schools, posts, persons, units, routes, duties, eligible pairs."""
    return {
        "schools": len(doc["schools"]),
        "posts": sum(len(s.get("posts", [])) for s in doc["schools"]),
        "persons": len(doc["persons"]),
        "units": len(doc.get("units", [])),
        "routes": len(doc.get("routes", [])),
        **count_duties(doc),
        "eligible_pairs": eligible_pairs_estimate(doc),
    }


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe YAML dumper that double-quotes times and dates so they stay strings."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if len(value) in (4, 5, 10) and value[:1].isdigit() and (":" in value or value.count("-") == 2):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _flat(value: Any, depth: int = 0) -> bool:
    """A small mapping of scalars, scalar lists and (one level of) such mappings: one flow line."""
    if isinstance(value, dict):
        return depth < 2 and len(value) <= 6 and all(_flat(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return (depth == 0 or len(value) <= 7) and all(not isinstance(v, dict | list) for v in value)
    return True


def _represent_dict(dumper: yaml.SafeDumper, value: dict) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True if _flat(value) else None)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)


def dump_instance(doc: Doc, fmt: str = "yaml", header: str | None = None) -> str:
    """The document as YAML (compact: flow style for leaf lists and maps) or JSON text."""
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=120, allow_unicode=True)
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    return text


def write_instance(doc: Doc, path: str | Path, header: str | None = None) -> int:
    """Write atomically (a temporary file in the same folder, then ``os.replace``); returns bytes."""
    path = Path(path)
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    data = dump_instance(doc, fmt, header if fmt == "yaml" else None).encode("utf-8")
    write_file(path, data)
    return len(data)


def regenerate_command(preset: str, seed: int, schools: int | None, week_start: str, name: str | None,
                       output: str) -> str:
    """The ``schoolpost generate`` command line that reproduces a file."""
    parts = ["schoolpost generate", f"--preset {preset}", f"--seed {seed}"]
    if schools is not None:
        parts.append(f"--schools {schools}")
    if week_start != "2026-12-07":
        parts.append(f"--week-start {week_start}")
    if name is not None:
        parts.append(f"--name {name}")
    parts.append(f"-o {output}")
    return " ".join(parts)


