"""The soft terms of docs/RULES.md, raw and unweighted, one function each."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from fractions import Fraction

from models import Instance
from scheduler.check.report import DutyOutcome
from scheduler.check.roster import RosterIndex

DEFAULT_TRAVEL_CHAIN_GAP = 60


def duty_outcomes(idx: RosterIndex) -> list[DutyOutcome]:
    """Assigned people, police and skills of every duty, in duty order."""
    out = []
    for duty in idx.table.duties:
        people = [a.person for a in idx.by_duty.get(duty.ident, [])]
        skills_got = {s: sum(1 for p in people if s in p.skills) for s in duty.skills}
        out.append(
            DutyOutcome(
                duty.key,
                duty.kind,
                duty.date.isoformat(),
                duty.peak,
                duty.school_id,
                duty.post_id,
                duty.route_id,
                duty.min,
                duty.target,
                duty.cap,
                duty.min_police,
                dict(duty.skills),
                len(people),
                sum(1 for p in people if p.role == "police"),
                skills_got,
            )
        )
    return out


def term_shortfall(outcomes: list[DutyOutcome]) -> int:
    """shortfall: per duty, max(0, min - assigned)."""
    return sum(o.shortfall for o in outcomes)


def term_police_shortfall(outcomes: list[DutyOutcome]) -> int:
    """police_shortfall: per duty, max(0, min_police - assigned with role police); auxiliaries do not count."""
    return sum(o.police_shortfall for o in outcomes)


def term_skill_shortfall(outcomes: list[DutyOutcome]) -> int:
    """skill_shortfall: per duty and skill s asked for, max(0, skills[s] - assigned having s)."""
    return sum(o.skill_shortfall for o in outcomes)


def term_below_target(outcomes: list[DutyOutcome]) -> int:
    """below_target: per duty, max(0, target - assigned)."""
    return sum(o.below_target for o in outcomes)


def professional_share(instance: Instance) -> Fraction:
    """policy.min_professional_share as an exact fraction (limit_denominator(1000))."""
    return Fraction(instance.policy.min_professional_share).limit_denominator(1000)


def share_shortfalls(idx: RosterIndex) -> dict[tuple[str, dt.date, str], int]:
    """Per school, date and peak with an assignment at the school's posts: max(0, ceil(share*total) - professionals)."""
    share = professional_share(idx.instance)
    professional = set(idx.instance.policy.professional_roles)
    out = {}
    for key, people in idx.school_peak_people().items():
        pros = sum(1 for p in people if p.role in professional)
        out[key] = max(0, math.ceil(share * len(people)) - pros)
    return out


def term_share_shortfall(idx: RosterIndex) -> int:
    """share_shortfall: summed over school peaks with assignments (routes never count)."""
    return sum(share_shortfalls(idx).values())


def schools_with_leader(instance: Instance) -> set[str]:
    """Schools some person of role school_leader may serve (by the eligibility rule)."""
    unit_schools = {u.id: u.schools for u in instance.units}
    school_ids = {s.id for s in instance.schools}
    out: set[str] = set()
    for p in instance.persons:
        if p.role == "school_leader":
            out.update([p.unit] if p.unit in school_ids else unit_schools.get(p.unit, ()))
    return out


def leader_outcomes(idx: RosterIndex) -> dict[tuple[str, dt.date, str], bool]:
    """Per school peak counted by the leader rule: whether a school_leader is assigned to a post there."""
    if not idx.instance.policy.leader_on_duty:
        return {}
    with_leader = schools_with_leader(idx.instance)
    people = idx.school_peak_people()
    return {
        key: any(p.role == "school_leader" for p in people.get(key, ()))
        for key in idx.table.school_peaks
        if key[0] in with_leader
    }


def term_leader_missing(idx: RosterIndex) -> int:
    """leader_missing: per school, date and peak (school having a leader), 1 when no school_leader is on a post."""
    return sum(1 for has in leader_outcomes(idx).values() if not has)


def term_fairness(idx: RosterIndex) -> int:
    """fairness: per (unit, role) group of persons, the largest number of duties of one member
    (with ``history.loads`` and ``policy.history_fairness``: their duties of the earlier weeks
    added); summed."""
    inst = idx.instance
    loads = inst.history.loads if inst.history is not None and inst.policy.history_fairness else {}
    group_max: dict[tuple[str, str], int] = defaultdict(int)
    for p in inst.persons:
        key = (p.unit, p.role)
        group_max[key] = max(group_max[key], loads.get(p.id, 0) + idx.duty_count(p.id))
    return sum(group_max.values())


def distinct_stations(idx: RosterIndex) -> dict[str, int]:
    """Per person with a duty: the number of distinct posts and routes served."""
    return {pid: len({a.duty.station for a in items}) for pid, items in idx.by_person.items()}


def term_continuity(idx: RosterIndex) -> int:
    """continuity: per person, max(0, distinct posts and routes served - 1); with
    ``history.last_week`` and ``policy.history_continuity``, for a person who served some post or
    route the week before: the posts and routes served now that they did not serve then; summed."""
    inst = idx.instance
    last = inst.history.last_week if inst.history is not None and inst.policy.history_continuity else {}
    total = 0
    for pid, items in idx.by_person.items():
        served = {a.duty.station for a in items}
        before = last.get(pid)
        known = ({f"post {x}" for x in before.posts} | {f"route {x}" for x in before.routes}) if before else set()
        total += len(served - known) if known else max(0, len(served) - 1)
    return total


def travel_chain_gap(instance: Instance) -> int:
    """policy.travel_chain_gap (extension), default 60 minutes."""
    gap = getattr(instance.policy, "travel_chain_gap", None)
    return DEFAULT_TRAVEL_CHAIN_GAP if gap is None else gap


def term_travel_minute(idx: RosterIndex) -> int:
    """travel_minute: per person and date, travel between consecutive duties whose idle gap is <= the chain gap."""
    chain_gap = travel_chain_gap(idx.instance)
    total = 0
    for _, day in idx.person_days():
        for a, b in itertools.pairwise(day):
            if b.start - a.end <= chain_gap:
                total += idx.travel(a.end_place, b.start_place)
    return total


def term_burden(idx: RosterIndex) -> int:
    """burden: 1 per assignment of a person whose role is in policy.burden_roles."""
    roles = set(idx.instance.policy.burden_roles)
    return sum(1 for a in idx.assignments if a.person.role in roles)
