"""Exchanges of duties between people: exact moves, in seconds, that the search leaves behind.

After the search a district's roster still has people who serve two or three posts in the week
where a colleague serves the other post on the same day, seats below target that someone with
room could take, volunteers where a free professional could stand, and police or people at seats
that could spare them while a gate nearby is short of them: the neighbourhoods see a few schools
at a time, and the coverage stage's whole-district search weighs the coverage rules only. This pass makes such moves one at a time, each the best of its kind for
its seat and each taken only when the weighted objective falls and no coverage rule
(:data:`COVERAGE`: people, police, skills, the share, leaders) rises:

- **gap**: someone on duty that day leaves a seat that can spare them (above ``min``, or with
  the police or skill it needs elsewhere) for a duty short of people, police or a skill;
- **skills**: a duty short of a skill gets a colleague of the same role who has it (a swap of
  duties on that date, or a hand-over);
- **swap**: ``p`` gives duty ``d`` to ``q`` and takes ``q``'s duty ``e`` at a post ``p`` already
  serves, on the same date (continuity, travel; loads unchanged; roles may differ when the share,
  police and leaders of both duties allow it);
- **transfer**: ``p`` hands ``d`` to someone who already serves ``d``'s post and has room;
- **stand-in**: at a school peak short of professionals (or a duty short of police), a
  professional (a police officer) takes a non-professional's place (free then, or leaving a seat
  that can spare them, or taking one of the professional's duties in exchange), or the
  non-professional leaves a seat above ``min``;
- **addition**: someone with room takes a seat below target.

Every move keeps the hard rules (eligibility, one place at a time with travel, the limits, the
cap, pins) and counts every term exactly, so the roster's objective is the old one plus
:attr:`ExchangeStats.delta`. The scan's order is fixed (duties and people by index), so the
result is a function of the roster. Measured in benchmarks/README.md (session 12).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial

from scheduler.duties import Duty, Problem

Terms = dict[str, int]
#: the coverage rules (scheduler.cpsat.model.COVERAGE_RULES): no move raises one of them
COVERAGE = ("shortfall", "police_shortfall", "skill_shortfall", "share_shortfall", "leader_missing")

#: passes over the roster at most (each pass after the first finds far fewer moves)
MAX_PASSES = 3
#: modelled seconds per candidate move weighed, at the reference machine's speed (5.4 us measured
#: on a district's coverage roster, the machine at 0.71-0.82 times that speed by ``schoolpost
#: calibrate``; with a margin): a ``budget`` in these ends a pass at the same move on every run
SECONDS_PER_OPTION = 4.5e-6


@dataclass
class ExchangeStats:
    swaps: int = 0
    transfers: int = 0
    #: someone leaves a seat that can spare them for a duty short of people, police or a skill
    moves: int = 0
    additions: int = 0
    #: stand-ins: someone else, or no one, instead of a person where the share or police are short
    replacements: int = 0
    #: the change of the weighted objective (policy units; negative: better)
    delta: float = 0.0
    passes: int = 0
    by_term: dict[str, float] = field(default_factory=dict)
    by_move: dict[str, float] = field(default_factory=dict)
    #: ended early by ``stop`` (a Ctrl-C)
    stopped: bool = False
    #: ended early by the ``deadline`` (the run's clock)
    clock_cut: bool = False
    #: candidate moves weighed (the pass's work: :data:`SECONDS_PER_OPTION` each, modelled)
    options: int = 0
    #: ended by its ``budget`` (modelled seconds): at the same move on every run
    budget_cut: bool = False


def station(duty: Duty) -> str:
    """The post or route a duty belongs to (continuity counts these per person)."""
    return duty.post_id or "route:" + duty.route_id


class _Roster:
    """A roster with the counts the moves need, kept up to date move by move."""

    def __init__(self, problem: Problem, pairs: list[tuple[int, int]]):
        inst = problem.instance
        self.problem = problem
        self.duties = problem.duties
        w = inst.policy.weights
        self.weights: dict[str, float] = dict(w.model_dump())
        share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
        self.share_num, self.share_den = share.numerator, share.denominator
        self.prof_roles = set(inst.policy.professional_roles)
        self.burden_roles = set(inst.policy.burden_roles)
        self.leader_rule = bool(inst.policy.leader_on_duty)
        self.chain_gap = inst.policy.travel_chain_gap
        self.eligible = [set(e) for e in problem.eligible]
        self._fits: dict[int, dict[tuple[int | None, int], bool]] = {}
        self.leader_schools = problem.leader_schools
        self.limits = [inst.limits_of(person) for person in problem.persons]
        self.locked = set(problem.pinned) | set(problem.fixed)
        self.skills = [frozenset(person.skills or ()) for person in problem.persons]
        self.group = [(person.unit, person.role) for person in problem.persons]
        self.mine: dict[int, set[int]] = defaultdict(set)
        self.holders: dict[int, set[int]] = defaultdict(set)
        for p, d in pairs:
            self.mine[p].add(d)
            self.holders[d].add(p)
        self.by_day: dict[int, dict[object, list[int]]] = defaultdict(lambda: defaultdict(list))
        for p, ds in self.mine.items():
            for d in sorted(ds):
                self.by_day[p][self.duties[d].date].append(d)
        self.role = [person.role for person in problem.persons]
        self.minutes = {p: sum(self.duties[d].minutes for d in ds) for p, ds in self.mine.items()}
        self.stations = {p: Counter(station(self.duties[d]) for d in sorted(ds)) for p, ds in self.mine.items()}
        self.serving: dict[str, set[int]] = defaultdict(set)
        for p, ds in self.mine.items():
            for d in ds:
                self.serving[station(self.duties[d])].add(p)
        # the history (``Instance.past_load``, ``Instance.last_week``): earlier weeks' duties count
        # in a member's load for fairness; last week's posts and routes cost no continuity
        self.past = [inst.past_load(person.id) for person in problem.persons]
        self.known: list[frozenset[str]] = []
        for person in problem.persons:
            posts, routes = inst.last_week(person.id)
            self.known.append(frozenset(posts) | frozenset("route:" + r for r in routes))
        # each (unit, role) group's loads: how many members hold each number of duties
        self.group_loads: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for p in range(len(problem.persons)):
            self.group_loads[self.group[p]][self.load(p)] += 1
        # per duty asking for skills: how many of its people have each
        self.skill_count: dict[int, Counter] = {}
        for duty in self.duties:
            if duty.skills:
                holders = self.holders.get(duty.index, set())
                self.skill_count[duty.index] = Counter(
                    {k: sum(1 for p in holders if k in self.skills[p]) for k in duty.skills})
        # each school peak's people, professionals and leaders on its posts (routes count in none)
        self.peak_of = {duty.index: (duty.school_id, duty.date, duty.peak) for duty in self.duties
                        if duty.kind == "post"}
        self.peak_total: Counter = Counter()
        self.peak_prof: Counter = Counter()
        self.peak_leaders: Counter = Counter()
        self.police: Counter = Counter()
        for d, people in self.holders.items():
            for p in people:
                self._count(p, d, +1)
        self.at: dict[tuple[str, object], list[int]] = defaultdict(list)
        for duty in self.duties:
            self.at[(station(duty), duty.date)].append(duty.index)

    def load(self, p: int) -> int:
        """``p``'s load for fairness: this week's duties and the history's."""
        return self.past[p] + len(self.mine.get(p, ()))

    def pairs(self) -> list[tuple[int, int]]:
        return sorted((p, d) for p, ds in self.mine.items() for d in ds)

    # -- what a move costs ----------------------------------------------------------------------

    def _count(self, p: int, d: int, step: int) -> None:
        role = self.role[p]
        if role == "police":
            self.police[d] += step
        key = self.peak_of.get(d)
        if key is not None:
            self.peak_total[key] += step
            self.peak_prof[key] += step * (role in self.prof_roles)
            self.peak_leaders[key] += step * (role == "school_leader")

    def share_short(self, total: int, prof: int) -> int:
        """``max(0, ceil(share * total) - prof)``, in integers (a Fraction costs microseconds)."""
        return max(0, -(-self.share_num * total // self.share_den) - prof)

    def change_terms(self, out: int | None, d: int, new: int | None, *, only_better: bool = True) -> Terms | None:
        """The terms' changes when ``out`` leaves duty ``d`` and ``new`` joins it (either may be
        None: a seat filled or emptied). None: a hard rule forbids it, or (``only_better``, the
        exchange pass) a coverage rule (:data:`COVERAGE`) would rise or the weighted objective
        would not fall; with ``only_better=False`` (``schoolpost recommend``) any move the hard
        rules allow, with every term counted. The cheap tests come first: this runs for every
        candidate of every seat."""
        duty = self.duties[d]
        holders = self.holders[d]
        n = len(holders)
        if out is not None and ((out, d) in self.locked or out not in holders):
            return None
        if new is not None and (new in holders or d not in self.eligible[new] or (out is None and n >= duty.cap)):
            return None
        m = n + (new is not None) - (out is not None)
        ro = self.role[out] if out is not None else None
        rn = self.role[new] if new is not None else None
        terms: Terms = {}
        if m < n and m < duty.min:
            if only_better:
                return None  # shortfall would rise
            terms["shortfall"] = 1
        if m > n and n < duty.min:
            terms["shortfall"] = -1
        if duty.min_police and ro != rn and "police" in (ro, rn):
            police = self.police[d]
            after = police + (rn == "police") - (ro == "police")
            change = max(0, duty.min_police - after) - max(0, duty.min_police - police)
            if change > 0 and only_better:
                return None
            terms["police_shortfall"] = change
        if duty.skills:
            change = self.skill_delta(d, out, new)
            if change > 0 and only_better:
                return None
            terms["skill_shortfall"] = change
        key = self.peak_of.get(d)
        if key is not None:
            total, prof = self.peak_total[key], self.peak_prof[key]
            change = (self.share_short(total + m - n, prof + (rn in self.prof_roles) - (ro in self.prof_roles))
                      - self.share_short(total, prof))
            if change > 0 and only_better:
                return None
            terms["share_shortfall"] = change
            if self.leader_rule and "school_leader" in (ro, rn) and ro != rn and key[0] in self.leader_schools:
                leaders = self.peak_leaders[key]
                change = ((leaders + (rn == "school_leader") - (ro == "school_leader")) == 0) - (leaders == 0)
                if change > 0 and only_better:
                    return None
                terms["leader_missing"] = change
        if new is not None and not self.fits(new, None, d):
            return None
        terms["below_target"] = max(0, duty.target - m) - max(0, duty.target - n)
        terms["burden"] = (rn in self.burden_roles) - (ro in self.burden_roles)
        terms["fairness"] = self.fairness_delta(out, new)
        cont = travel = 0
        if out is not None:
            cont, travel = self.person_delta(out, d, None)
        if new is not None:
            c, t = self.person_delta(new, None, d)
            cont, travel = cont + c, travel + t
        terms["continuity"], terms["travel_minute"] = cont, travel
        return terms if not only_better or sum(self.weights[t] * v for t, v in terms.items()) < 0 else None

    def role_terms(self, changes: tuple[tuple[int, int | None, int | None], ...]) -> Counter:
        """The police, share and leader changes when, at each ``(duty, out, new)``, ``out`` leaves
        and ``new`` joins (either may be None); the changes at one school peak are summed before
        its share and leader are counted."""
        terms: Counter = Counter()
        peaks: Counter = Counter()
        for x, out, new in changes:
            ro = self.role[out] if out is not None else None
            rn = self.role[new] if new is not None else None
            duty = self.duties[x]
            if duty.min_police and ro != rn and "police" in (ro, rn):
                police = self.police[x]
                after = police + (rn == "police") - (ro == "police")
                terms["police_shortfall"] += max(0, duty.min_police - after) - max(0, duty.min_police - police)
            key = self.peak_of.get(x)
            if key is not None:
                peaks[(key, "total")] += (new is not None) - (out is not None)
                peaks[(key, "prof")] += (rn in self.prof_roles) - (ro in self.prof_roles)
                peaks[(key, "leaders")] += (rn == "school_leader") - (ro == "school_leader")
        for key in dict.fromkeys(k for k, _ in peaks):
            total, prof = self.peak_total[key], self.peak_prof[key]
            terms["share_shortfall"] += (self.share_short(total + peaks[(key, "total")], prof + peaks[(key, "prof")])
                                         - self.share_short(total, prof))
            if self.leader_rule and peaks[(key, "leaders")] and key[0] in self.leader_schools:
                leaders = self.peak_leaders[key]
                terms["leader_missing"] += ((leaders + peaks[(key, "leaders")]) == 0) - (leaders == 0)
        return terms

    def swap_terms(self, p: int, d: int, q: int, e: int) -> Terms | None:
        """The terms' changes when ``p`` gives ``d`` to ``q`` and takes ``q``'s ``e`` (any roles:
        the police, skills, share and leaders of both duties are counted). None: a hard rule
        forbids it, a coverage rule would rise, or the objective would not fall."""
        if (p == q or d == e or (p, d) in self.locked or (q, e) in self.locked or e in self.mine[p]
                or d in self.mine[q] or d not in self.eligible[q] or e not in self.eligible[p]):
            return None
        # the same role: police, share and leaders stay as they are
        terms = self.role_terms(((d, p, q), (e, q, p))) if self.role[p] != self.role[q] else Counter()
        terms["skill_shortfall"] = self.skill_delta(d, p, q) + self.skill_delta(e, q, p)
        if any(terms[t] > 0 for t in COVERAGE) or not self.fits(p, d, e) or not self.fits(q, e, d):
            return None
        cp, tp = self.person_delta(p, d, e)
        cq, tq = self.person_delta(q, e, d)
        terms["continuity"], terms["travel_minute"] = cp + cq, tp + tq
        changed = {t: v for t, v in terms.items() if v}
        return changed if sum(self.weights[t] * v for t, v in changed.items()) < 0 else None

    def move_terms(self, p: int, e: int, d: int, *, only_better: bool = True) -> Terms | None:
        """The terms' changes when ``p`` leaves duty ``e`` for duty ``d`` on the same date (every
        term of both duties counted; ``p``'s load stays). None: a hard rule forbids it, or
        (``only_better``) a coverage rule's total would rise or the objective would not fall."""
        de, dd = self.duties[e], self.duties[d]
        if (e == d or (p, e) in self.locked or e not in self.mine[p] or p in self.holders[d]
                or d not in self.eligible[p] or len(self.holders[d]) >= dd.cap):
            return None
        ne, nd = len(self.holders[e]), len(self.holders[d])
        terms: Counter = Counter()
        terms["shortfall"] = max(0, de.min - ne + 1) - max(0, de.min - ne) - (nd < dd.min)
        terms["skill_shortfall"] = self.skill_delta(e, p, None) + self.skill_delta(d, None, p)
        terms.update(self.role_terms(((e, p, None), (d, None, p))))
        if (only_better and any(terms[t] > 0 for t in COVERAGE)) or not self.fits(p, e, d):
            return None
        terms["below_target"] = (max(0, de.target - ne + 1) - max(0, de.target - ne)) - (nd < dd.target)
        terms["continuity"], terms["travel_minute"] = self.person_delta(p, e, d)
        changed = {t: v for t, v in terms.items() if v}
        return changed if not only_better or sum(self.weights[t] * v for t, v in changed.items()) < 0 else None

    def stand_in_terms(self, q: int, e: int, d: int, p: int) -> Terms | None:
        """The terms' changes when ``q`` leaves duty ``e`` for ``p``'s place at duty ``d`` on the
        same date and ``p`` leaves (a professional from a seat that can spare them, where ``d``'s
        school peak is short of professionals). None: a hard rule forbids it, a coverage rule's
        total would rise, or the objective would not fall."""
        de = self.duties[e]
        if (e == d or p == q or (q, e) in self.locked or (p, d) in self.locked or e not in self.mine[q]
                or p not in self.holders[d] or q in self.holders[d] or d not in self.eligible[q]):
            return None
        ne = len(self.holders[e])
        if ne - 1 < de.min:
            return None  # shortfall would rise at e
        # d's school peak keeps its people (p out, q in), e's loses q
        terms = self.role_terms(((d, p, q), (e, q, None)))
        terms["skill_shortfall"] = self.skill_delta(d, p, q) + self.skill_delta(e, q, None)
        if any(terms[t] > 0 for t in COVERAGE) or not self.fits(q, e, d):
            return None
        terms["below_target"] = max(0, de.target - ne + 1) - max(0, de.target - ne)
        terms["burden"] = -(self.role[p] in self.burden_roles)
        terms["fairness"] = self.fairness_delta(p, None)
        cq, tq = self.person_delta(q, e, d)
        cp, tp = self.person_delta(p, d, None)
        terms["continuity"], terms["travel_minute"] = cq + cp, tq + tp
        changed = {t: v for t, v in terms.items() if v}
        return changed if sum(self.weights[t] * v for t, v in changed.items()) < 0 else None

    def stand_in(self, q: int, e: int, d: int, p: int) -> None:
        """``q`` leaves ``e`` for ``p``'s place at ``d``; ``p`` leaves."""
        self.drop(q, e)
        self.hand(p, d, q)

    def short(self) -> list[int]:
        """The duties below ``min``, short of police or short of a skill, in index order."""
        return [d.index for d in self.duties
                if len(self.holders[d.index]) < d.min or self.police[d.index] < d.min_police
                or (d.index in self.skill_count
                    and any(self.skill_count[d.index][k] < need for k, need in d.skills.items()))]

    def swap(self, p: int, d: int, q: int, e: int) -> None:
        """``p`` gives ``d`` to ``q`` and takes ``q``'s ``e``."""
        self.hand(p, d, q)
        self.hand(q, e, p)

    def relocate(self, p: int, e: int, d: int) -> None:
        """``p`` leaves ``e`` for ``d``."""
        self.drop(p, e)
        self.hand(None, d, p)

    def short_of_professionals(self) -> list[int]:
        """The duties at school peaks short of professionals, and the duties short of police, in
        index order."""
        short = {key for key, total in self.peak_total.items() if self.share_short(total, self.peak_prof[key])}
        return [d.index for d in self.duties
                if self.peak_of.get(d.index) in short or self.police[d.index] < d.min_police]

    def helpers(self, d: int) -> set[str]:
        """The roles that would lift ``d``'s share (its school peak short of professionals) or
        its police (short of police)."""
        roles: set[str] = set()
        key = self.peak_of.get(d)
        if key is not None and self.share_short(self.peak_total[key], self.peak_prof[key]):
            roles |= self.prof_roles
        if self.police[d] < self.duties[d].min_police:
            roles.add("police")
        return roles

    def drop(self, p: int, d: int) -> None:
        """``p`` leaves duty ``d``."""
        self._fits.pop(p, None)
        duty = self.duties[d]
        s = station(duty)
        lp = self.load(p)
        self._move_load(p, lp, lp - 1)
        self.mine[p].discard(d)
        self.holders[d].discard(p)
        self.by_day[p][duty.date].remove(d)
        self.minutes[p] -= duty.minutes
        counts = self.stations[p]
        counts[s] -= 1
        if counts[s] == 0:
            del counts[s]
            self.serving[s].discard(p)
        self._count(p, d, -1)
        if d in self.skill_count:
            for k in duty.skills:
                self.skill_count[d][k] -= k in self.skills[p]

    def skill_delta(self, d: int, out: int | None, new: int | None) -> int:
        """The change of ``d``'s skill shortfall when ``out`` leaves it and ``new`` joins."""
        asked = self.duties[d].skills
        if not asked:
            return 0
        counts = self.skill_count[d]
        change = 0
        for k, need in asked.items():
            n = counts[k]
            m = n - (out is not None and k in self.skills[out]) + (new is not None and k in self.skills[new])
            change += max(0, need - m) - max(0, need - n)
        return change

    def skill_short(self) -> list[int]:
        """The duties short of a skill, in index order."""
        return [d for d, counts in sorted(self.skill_count.items())
                if any(counts[k] < need for k, need in self.duties[d].skills.items())]

    def fits(self, p: int, out: int | None, new: int) -> bool:
        """``p`` may take duty ``new`` after giving up ``out`` (None: nothing); remembered until
        ``p``'s duties change (a seat's candidates are asked again for each of its people)."""
        memo = self._fits.get(p)
        if memo is None:
            memo = self._fits[p] = {}
        key = (out, new)
        known = memo.get(key)
        if known is None:
            known = memo[key] = self._fits_now(p, out, new)
        return known

    def _fits_now(self, p: int, out: int | None, new: int) -> bool:
        if new not in self.eligible[p] or new in self.mine[p] or (p, out) in self.locked:
            return False
        duty = self.duties[new]
        same_day = self.by_day[p].get(duty.date, ())
        if any(o != out and not self.problem.compatible(self.duties[o], duty) for o in same_day):
            return False
        lim = self.limits[p]
        given = self.duties[out] if out is not None else None
        minutes = self.minutes.get(p, 0) - (given.minutes if given else 0) + duty.minutes
        if lim.max_minutes_per_week is not None and minutes > lim.max_minutes_per_week:
            return False
        if given is None and lim.max_per_week is not None and len(self.mine[p]) + 1 > lim.max_per_week:
            return False
        day_grows = given is None or given.date != duty.date
        return not (lim.max_per_day is not None and day_grows and len(same_day) + 1 > lim.max_per_day)

    def _day_travel(self, day: list[int]) -> int:
        ordered = sorted((self.duties[d] for d in day), key=lambda x: (x.start, x.end, x.index))
        return sum(self.problem.travel(a.end_place, b.start_place)
                   for a, b in itertools.pairwise(ordered) if b.start - a.end <= self.chain_gap)

    def person_delta(self, p: int, out: int | None, new: int | None) -> tuple[int, int]:
        """(continuity change, travel change) of ``p`` giving up ``out`` and taking ``new``."""
        counts = self.stations.get(p) or Counter()
        a = station(self.duties[out]) if out is not None else None
        b = station(self.duties[new]) if new is not None else None
        known = self.known[p]
        if known:  # the posts and routes served that were not served last week
            cont = 0 if a == b else ((b is not None and b not in counts and b not in known)
                                     - (a is not None and counts[a] == 1 and a not in known))
        else:
            n = len(counts)
            if a != b:
                n += (b is not None and b not in counts) - (a is not None and counts[a] == 1)
            cont = max(0, n - 1) - max(0, len(counts) - 1)
        travel = 0
        days = self.by_day[p]
        for date in {self.duties[d].date for d in (out, new) if d is not None}:
            day = days.get(date, [])
            changed = [d for d in day if d != out] + ([new] if new is not None and self.duties[new].date == date else [])
            if len(day) > 1 or len(changed) > 1:
                travel += self._day_travel(changed) - self._day_travel(day)
        return cont, travel

    def fairness_delta(self, p: int | None, q: int | None) -> int:
        """The change of the groups' largest loads when ``p`` hands one duty to ``q`` (either
        None: ``q`` takes one more, or ``p`` has one fewer)."""
        moves = [(x, self.load(x), step) for x, step in ((p, -1), (q, +1)) if x is not None]
        groups = {self.group[x] for x, _, _ in moves}
        before = sum(self._largest(g) for g in groups)
        for x, load, step in moves:
            self._move_load(x, load, load + step)
        after = sum(self._largest(g) for g in groups)
        for x, load, step in reversed(moves):
            self._move_load(x, load + step, load)
        return after - before

    def _largest(self, group: tuple[str, str]) -> int:
        return max(load for load, n in self.group_loads[group].items() if n)

    def _move_load(self, p: int, old: int, new: int) -> None:
        loads = self.group_loads[self.group[p]]
        loads[old] -= 1
        loads[new] += 1

    # -- applying a move ------------------------------------------------------------------------

    def hand(self, p: int | None, d: int, q: int) -> None:
        """``p`` gives duty ``d`` to ``q`` (``p`` None: ``q`` takes it as well)."""
        duty = self.duties[d]
        s = station(duty)
        if p is not None:
            self.drop(p, d)
        self._fits.pop(q, None)
        lq = self.load(q)
        self._move_load(q, lq, lq + 1)
        self.mine[q].add(d)
        self.holders[d].add(q)
        self.by_day[q][duty.date].append(d)
        self.minutes[q] = self.minutes.get(q, 0) + duty.minutes
        self.stations.setdefault(q, Counter())[s] += 1
        self.serving[s].add(q)
        self._count(q, d, +1)
        if d in self.skill_count:
            for k in duty.skills:
                self.skill_count[d][k] += k in self.skills[q]

def _value(r: _Roster, terms: Terms) -> float:
    return sum(r.weights[t] * v for t, v in terms.items())


#: one candidate move: its terms' changes (None: not allowed or no gain), how to make it, and its
#: kind (the :class:`ExchangeStats` counter it adds to)
Option = tuple[Terms | None, Callable[[], None], str]
#: the kinds of move, and the name of each in ``ExchangeStats.by_move``
KINDS = {"moves": "gap", "swaps": "swap", "transfers": "transfer", "replacements": "stand-in",
         "additions": "addition"}


def _gap_moves(r: _Roster, d: int) -> Iterator[Option]:
    """Someone on duty that day leaves a seat that can spare them for ``d``."""
    for q in r.problem.candidates[d]:
        for held in r.by_day[q].get(r.duties[d].date, ()):
            yield r.move_terms(q, held, d), partial(r.relocate, q, held, d), "moves"


def _skill_moves(r: _Roster, p: int, d: int) -> Iterator[Option]:
    """A colleague of ``p``'s role with the skill ``d`` lacks takes ``d`` (a hand-over or a swap)."""
    for q in r.problem.candidates[d]:
        if r.role[q] != r.role[p] or q in r.holders[d]:
            continue
        terms = r.change_terms(p, d, q)
        yield _if_skills_gain(terms), partial(r.hand, p, d, q), "transfers"
        for e in r.by_day[q].get(r.duties[d].date, []):
            yield _if_skills_gain(r.swap_terms(p, d, q, e)), partial(r.swap, p, d, q, e), "swaps"


def _if_skills_gain(terms: Terms | None) -> Terms | None:
    return terms if terms is not None and terms.get("skill_shortfall", 0) < 0 else None


def _swaps(r: _Roster, p: int, d: int) -> Iterator[Option]:
    """``p`` takes a duty at a post ``p`` already serves, on ``d``'s date, and gives ``d`` for it."""
    duty = r.duties[d]
    for s in sorted(r.stations[p]):
        if s == station(duty):
            continue
        for e in r.at.get((s, duty.date), ()):
            for q in sorted(r.holders[e]):
                yield r.swap_terms(p, d, q, e), partial(r.swap, p, d, q, e), "swaps"


def _transfers(r: _Roster, p: int, d: int) -> Iterator[Option]:
    """``p`` hands ``d`` to a colleague who already serves its post and has room."""
    for q in sorted(r.serving[station(r.duties[d])]):
        if q != p:
            yield r.change_terms(p, d, q), partial(r.hand, p, d, q), "transfers"


def _stand_ins(r: _Roster, p: int, d: int, helps: set[str]) -> Iterator[Option]:
    """At a school peak short of professionals (or a duty short of police): ``p`` leaves, or one
    who helps takes ``p``'s place (free then; or leaving a seat of theirs that can spare them, and
    ``p`` leaves; or ``p`` takes that seat in exchange)."""
    yield r.change_terms(p, d, None), partial(r.drop, p, d), "replacements"
    for who in r.problem.candidates[d]:
        if r.role[who] not in helps:
            continue
        yield r.change_terms(p, d, who), partial(r.hand, p, d, who), "replacements"
        for e in r.by_day[who].get(r.duties[d].date, []):
            yield r.swap_terms(p, d, who, e), partial(r.swap, p, d, who, e), "replacements"
            yield r.stand_in_terms(who, e, d, p), partial(r.stand_in, who, e, d, p), "replacements"


def _additions(r: _Roster, d: int) -> Iterator[Option]:
    """Someone with room takes a seat of ``d`` below target."""
    for q in r.problem.candidates[d]:
        yield r.change_terms(None, d, q), partial(r.hand, None, d, q), "additions"


class _Stop(Exception):
    pass


def exchange(problem: Problem, pairs: list[tuple[int, int]], *, passes: int = MAX_PASSES,
             stop: Callable[[], bool] | None = None, deadline: float | None = None,
             budget: float | None = None) -> tuple[list[tuple[int, int]], ExchangeStats]:
    """Improve ``pairs`` (a valid roster of ``problem``) by the moves of the module's doc; returns
    the new roster and what changed. Each seat in turn makes the best of its moves (the first of
    equal ones). ``stop``: asked between seats; when it says so the pass ends there (every move
    is whole, so the roster is valid at any point) and ``stats.stopped`` is set. ``deadline``
    (``time.monotonic()``): the pass ends there too, and ``stats.clock_cut`` is set (the run's
    time limit is a cap; a pass so cut may not repeat). ``budget``: modelled seconds
    (:data:`SECONDS_PER_OPTION` per candidate move weighed); the pass ends once they are spent,
    at the same point on every run (``stats.budget_cut``)."""
    r = _Roster(problem, pairs)
    stats = ExchangeStats()
    totals: Counter = Counter()

    def best(options: Iterable[Option]) -> bool:
        """Make the best of ``options`` that lowers the objective; whether one did."""
        found: tuple[float, Terms, Callable[[], None], str] | None = None
        for terms, make, kind in options:
            stats.options += 1
            if terms is not None:
                value = _value(r, terms)
                if value < 0 and (found is None or value < found[0]):
                    found = (value, terms, make, kind)
        if found is None:
            return False
        value, terms, make, kind = found
        make()
        setattr(stats, kind, getattr(stats, kind) + 1)
        stats.delta += value
        stats.by_move[KINDS[kind]] = stats.by_move.get(KINDS[kind], 0.0) + value
        totals.update(terms)
        return True

    def check() -> None:
        if stop is not None and stop():
            raise _Stop
        if budget is not None and stats.options * SECONDS_PER_OPTION >= budget:
            stats.budget_cut = True
            raise _Stop
        if deadline is not None and time.monotonic() > deadline:
            stats.clock_cut = True
            raise _Stop

    try:
        for _ in range(passes):
            stats.passes += 1
            moved = False
            for d in r.short():
                check()
                moved |= best(_gap_moves(r, d))
            for d in r.skill_short():
                check()
                for p in sorted(r.holders[d]):
                    if (p, d) not in r.locked and d in r.mine[p]:
                        moved |= best(_skill_moves(r, p, d))
            for step in (_swaps, _transfers):
                for p in sorted(r.mine):
                    check()
                    for d in sorted(r.mine[p]):
                        if d in r.mine[p] and len(r.stations[p]) >= 2 and (p, d) not in r.locked:
                            moved |= best(step(r, p, d))
            for d in r.short_of_professionals():
                check()
                helps = r.helpers(d)  # the roles that lift d's share or police
                for p in sorted(r.holders[d]):
                    if d in r.mine[p] and (p, d) not in r.locked and r.role[p] not in helps:
                        moved |= best(_stand_ins(r, p, d, helps))
            for d in range(len(r.duties)):
                check()
                while len(r.holders[d]) < r.duties[d].target and best(_additions(r, d)):
                    moved = True
            if not moved:
                break
    except _Stop:
        stats.stopped = not (stats.clock_cut or stats.budget_cut)
    stats.by_term = {t: totals[t] for t in sorted(totals) if totals[t]}
    return r.pairs(), stats
