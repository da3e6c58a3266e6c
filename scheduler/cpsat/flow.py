"""Seats filled by a min-cost flow over the whole district and week: the coverage stage's start
where people are short.

The greedy roster fills seats one at a time and leaves gaps where every eligible person is at a
limit, although some of them could have taken that duty had they left another one, on another day
or at another school, to someone with room. Such a chain of moves is an augmenting path, which a
flow finds for every gap at once. CP-SAT's local search finds them one gap at a time, and each
roster it reports costs it about 30 ms on a district's model: on a short-staffed district (2,387
gaps in the greedy roster) its first phase ends its budget some 60 gaps above the relaxation's
bound, the flow's roster 30 above it in 2 s (benchmarks/README.md, session 14).

The network (OR-Tools' ``SimpleMinCostFlow``): source -> person (``max_per_week``, and at most
``max_minutes_per_week`` over the person's shortest eligible duty) -> person x date
(``max_per_day``) -> person x date x time block (1, or the number of the given roster's duties
of the person there) -> duty -> sink (``min`` seats, each worth the
``shortfall`` weight). The police a duty asks for and the professionals its share asks of ``min``
people earn the ``police_shortfall`` and ``share_shortfall`` weights on their way in (a node of
their own per duty), a skill the duty asks for earns ``skill_shortfall``, and a pair of the given
roster :data:`KEEP_TENTHS` tenths of a seat (its leaders at school peaks also
``leader_missing``), so the flow keeps that roster where it can. A time block is a connected set
of the date's duties whose times overlap (a morning of staggered school peaks may be one): the
flow gives a person one duty of it, or as many as the given roster gives them there, so that a
roster's person with two duties of a morning keeps both where the flow keeps them (from a
short-staffed district's 60-s roster, one duty a block: 1,552 -> 1,579 missing, so never taken;
so: 1,551; from its greedy roster 1,621 -> 1,570; benchmarks/README.md, session 15). Seats above
``min`` are left to the later stages. Two rules are not in the flow and are repaired after it:
overlaps and the travel between duties (the later duty is dropped) and ``max_minutes_per_week`` (the week's last duties
are dropped until it holds). The result keeps every hard rule and is a function of the problem
and the given roster; the coverage stage then lets anyone free take a seat still below ``min``
(:func:`scheduler.greedy.fill_free_seats`) and keeps it only when it has fewer gaps.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from fractions import Fraction

import numpy as np

from scheduler.cpsat.model import integer_weights
from scheduler.duties import Duty, Problem, most_in_sequence

#: what keeping a pair of the given roster is worth, in tenths of a seat's ``shortfall`` weight: a
#: path of moves that fills a seat is taken when it moves fewer than ten of that roster's pairs,
#: and among equal fillings the one that moves fewest (a keep worth a thousandth of a seat instead:
#: seed 2719 started from the flow ended 0.9 % above its usual 60-s roster, against 0.5 %;
#: benchmarks/README.md, session 14)
KEEP_TENTHS = 1


class _Network:
    """Nodes by key and arcs with capacity and unit cost, as OR-Tools' flow solvers take them."""

    def __init__(self) -> None:
        self.nodes: dict[tuple, int] = {}
        self.tails: list[int] = []
        self.heads: list[int] = []
        self.caps: list[int] = []
        self.costs: list[int] = []

    def node(self, key: tuple) -> int:
        i = self.nodes.get(key)
        if i is None:
            i = self.nodes[key] = len(self.nodes)
        return i

    def arc(self, a: int, b: int, cap: int, cost: int = 0) -> None:
        if cap > 0:
            self.tails.append(a)
            self.heads.append(b)
            self.caps.append(cap)
            self.costs.append(cost)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.array(self.tails, dtype=np.int32), np.array(self.heads, dtype=np.int32),
                np.array(self.caps, dtype=np.int64))


def _forced(problem: Problem) -> tuple[frozenset, dict[int, int], dict[int, list[int]]]:
    """The pairs every roster has (pins, a sub-problem's context), people so held per duty, and
    duties so held per person."""
    forced = problem.pinned | problem.fixed
    on: dict[int, int] = defaultdict(int)
    of: dict[int, list[int]] = defaultdict(list)
    for p, d in forced:
        on[d] += 1
        of[p].append(d)
    return forced, on, of


def _people(problem: Problem, forced: frozenset, forced_of: dict[int, list[int]]):
    """(person, the duties they may still take, their limits, their held duties), for each person
    with such a duty."""
    duties = problem.duties
    for p, eligible in enumerate(problem.eligible):
        free = [d for d in eligible if (p, d) not in forced and duties[d].kind != "context"]
        if free:
            yield p, free, problem.instance.limits_of(problem.persons[p]), forced_of.get(p, [])


def _week(duties: list[Duty], lim, free: list[int], mine: list[int], most: int) -> int:
    """How many of ``free`` a person of limits ``lim`` may still take in the week, at most
    ``most``: their ``max_per_week`` and, in duties of the shortest, ``max_minutes_per_week``,
    less the held duties ``mine``."""
    week = most
    if lim.max_per_week is not None:
        week = min(week, lim.max_per_week - len(mine))
    if lim.max_minutes_per_week is not None:
        left = lim.max_minutes_per_week - sum(duties[d].minutes for d in mine)
        week = min(week, left // max(1, min(duties[d].minutes for d in free)))
    return week


def time_blocks(problem: Problem) -> dict[int, int]:
    """Duty index -> its block: per date, the connected sets of duties whose times overlap."""
    block: dict[int, int] = {}
    n = 0
    by_date: dict[dt.date, list[Duty]] = defaultdict(list)
    for d in problem.duties:
        by_date[d.date].append(d)
    for date in sorted(by_date):
        end = None
        for d in sorted(by_date[date], key=lambda x: (x.start, x.end, x.index)):
            if end is None or d.start >= end:
                n += 1
                end = d.end
            end = max(end, d.end)
            block[d.index] = n - 1
    return block


def flow_shortfall_bound(problem: Problem) -> int:
    """A proven lower bound on the ``shortfall`` term of every roster of ``problem``: the seats
    below ``min`` that a maximum flow over a relaxation of the rules cannot fill.

    The network: source -> person (``max_per_week`` and the minutes cap as in :func:`flow_roster`,
    less the pinned duties) -> person x date (``max_per_day``, less the pinned) -> person x date x
    time block (the most duties of the block the person could serve one after the other, their
    times alone: every roster stays within it, travel only lowers it) -> duty (once) -> sink
    (``min`` less the pinned people). Every roster's pairs outside the pins are a flow of this
    network, and a seat it fills below ``min`` is a unit of flow into the sink, so no roster fills
    more seats than the maximum flow. It names people, where the relaxation's LP counts them per
    unit and role: each is the stronger on some districts (session 15 of benchmarks/README.md);
    :func:`scheduler.coverage.shortfall_bound` takes the larger. 0.3 s on 280,000 pairs."""
    from ortools.graph.python import max_flow

    duties = problem.duties
    forced, forced_on, forced_of = _forced(problem)
    block = time_blocks(problem)
    net = _Network()
    node, arc = net.node, net.arc
    source, sink = node(("source",)), node(("sink",))
    for p, free, lim, mine in _people(problem, forced, forced_of):
        week = _week(duties, lim, free, mine, len(free))
        if week <= 0:
            continue
        person = node(("p", p))
        arc(source, person, week)
        pinned_on: dict[dt.date, int] = defaultdict(int)
        for d in mine:
            pinned_on[duties[d].date] += 1
        by_block: dict[tuple[dt.date, int], list[int]] = defaultdict(list)
        for d in free:
            by_block[(duties[d].date, block[d])].append(d)
        on_date: dict[dt.date, list[tuple[int, list[int]]]] = defaultdict(list)
        for (date, b), ds in by_block.items():
            on_date[date].append((b, ds))
        for date, blocks in sorted(on_date.items()):
            day = sum(len(ds) for _b, ds in blocks)
            if lim.max_per_day is not None:
                day = min(day, lim.max_per_day - pinned_on[date])
            if day <= 0:
                continue
            dn = node(("pd", p, date))
            arc(person, dn, day)
            for b, ds in blocks:
                bn = node(("pb", p, date, b))
                arc(dn, bn, most_in_sequence((duties[d].start, duties[d].end) for d in ds))
                for d in ds:
                    arc(bn, node(("d", d)), 1)
    need = 0
    for duty in duties:
        if duty.kind == "context":
            continue
        seats = max(0, duty.min - forced_on.get(duty.index, 0))
        need += seats
        at = net.nodes.get(("d", duty.index))
        if at is not None:
            arc(at, sink, seats)
    if not net.tails:
        return need
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(*net.arrays())
    if flow.solve(source, sink) != flow.OPTIMAL:
        return 0
    return need - flow.optimal_flow()


def flow_roster(problem: Problem, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A roster with every hard rule kept and seats filled to ``min`` wherever a min-cost flow over
    the whole week can (see the module's doc), starting from ``pairs`` (a valid roster)."""
    from ortools.graph.python import min_cost_flow

    inst = problem.instance
    duties = problem.duties
    forced, forced_on, forced_of = _forced(problem)
    kept = set(pairs)
    block = time_blocks(problem)
    net = _Network()
    node, arc, nodes = net.node, net.arc, net.nodes

    # the policy's weights as integers, ten units to each of theirs (KEEP_TENTHS)
    w = {rule: 10 * v for rule, v in integer_weights(inst.policy.weights.model_dump())[0].items()}
    seat, keep = w["shortfall"], KEEP_TENTHS * w["shortfall"] // 10
    if seat <= 0:
        return pairs
    prof = set(inst.policy.professional_roles)
    share = Fraction(inst.policy.min_professional_share).limit_denominator(1000)
    skills = [set(person.skills or ()) for person in problem.persons]
    source, sink = node(("source",)), node(("sink",))
    supply = 0
    for p, free, lim, mine in _people(problem, forced, forced_of):
        # a block takes one duty, or as many as the given roster has there (compatible ones: the
        # flow may pick others of the block, and the repair then drops the later of two that clash)
        in_block: dict[tuple, int] = defaultdict(int)
        for d in free:
            in_block[(duties[d].date, block[d])] += (p, d) in kept
        blocks_free = {key: max(1, n) for key, n in in_block.items()}
        week = _week(duties, lim, free, mine, sum(blocks_free.values()))
        if week <= 0:
            continue
        pn = node(("p", p))
        arc(source, pn, week)
        supply += week
        taken_blocks = {(duties[d].date, block[d]) for d in mine}
        per_date: dict[object, int] = defaultdict(int)
        for d in mine:
            per_date[duties[d].date] += 1
        for d in sorted(free):
            date, b = duties[d].date, block[d]
            if (date, b) in taken_blocks:
                continue
            dn = ("pd", p, date)
            if dn not in nodes:
                day = sum(n for (dd, _x), n in blocks_free.items() if dd == date)
                if lim.max_per_day is not None:
                    day = min(day, lim.max_per_day - per_date[date])
                if day <= 0:
                    taken_blocks |= {(date, x) for (dd, x) in blocks_free if dd == date}
                    continue
                arc(pn, node(dn), day)
            bn = ("pb", p, date, b)
            if bn not in nodes:
                arc(nodes[dn], node(bn), blocks_free[(date, b)])
            role = problem.persons[p].role
            entry = ("police" if role == "police" and duties[d].min_police else
                     "prof" if role in prof and duties[d].kind == "post" else "d")
            bonus = w["skill_shortfall"] if skills[p] & set(duties[d].skills) else 0
            if role == "school_leader" and (p, d) in kept and duties[d].school_id in problem.leader_schools:
                bonus += w["leader_missing"]  # the roster's leader at a school peak stays there
            arc(nodes[bn], node((entry, d)), 1, -(bonus + keep * ((p, d) in kept)))
    for duty in duties:
        have = forced_on.get(duty.index, 0)
        if duty.kind == "context" or have >= duty.cap:
            continue
        at = node(("d", duty.index))
        # the seats up to min, then to the cap; the police asked for, and the professionals the
        # share asks of min people, earn their weight on their way in (the rest come in for nothing)
        need = max(0, duty.min - have)
        police = duty.min_police
        profs = -(-share.numerator * duty.min // share.denominator) if duty.kind == "post" else 0
        via_police, via_prof = nodes.get(("police", duty.index)), nodes.get(("prof", duty.index))
        if via_police is not None:
            onward = via_prof if via_prof is not None and "police" in prof else at
            arc(via_police, onward, police, -w["police_shortfall"])
            arc(via_police, onward, duty.cap, 0)
        if via_prof is not None:
            arc(via_prof, at, profs, -w["share_shortfall"])
            arc(via_prof, at, duty.cap, 0)
        arc(at, sink, need, -seat)
    arc(source, sink, supply, 0)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(*net.arrays(), np.array(net.costs, dtype=np.int64))
    supplies = np.zeros(len(nodes), dtype=np.int64)
    supplies[source], supplies[sink] = supply, -supply
    flow.set_nodes_supplies(np.arange(len(nodes), dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:
        return pairs
    key_of = {i: key for key, i in nodes.items()}
    flows = flow.flows(np.arange(flow.num_arcs(), dtype=np.int32))
    chosen: dict[int, list[int]] = defaultdict(list)
    for a in np.nonzero(flows)[0]:
        t, h = key_of[net.tails[a]], key_of[net.heads[a]]
        if t[0] == "pb":
            chosen[t[1]].append(h[1])
    roster = sorted(forced)
    for p in sorted(chosen):
        roster += [(p, d) for d in _repair(problem, p, sorted(chosen[p]), forced_of.get(p, []))]
    return sorted(roster)


def _repair(problem: Problem, p: int, chosen: list[int], forced: list[int]) -> list[int]:
    """The duties of ``chosen`` person ``p`` keeps beside ``forced`` (always kept): in time order,
    each that fits with travel beside those kept, then the week's minutes capped by dropping the
    last ones."""
    duties = problem.duties
    lim = problem.instance.limits_of(problem.persons[p])
    kept = list(forced)
    mine: list[int] = []
    for d in sorted(chosen, key=lambda i: (duties[i].date, duties[i].start, duties[i].end, i)):
        if all(problem.compatible(duties[d], duties[k]) for k in kept):
            kept.append(d)
            mine.append(d)
    if lim.max_minutes_per_week is not None:
        minutes = sum(duties[d].minutes for d in kept)
        while mine and minutes > lim.max_minutes_per_week:
            minutes -= duties[mine.pop()].minutes
    return mine
