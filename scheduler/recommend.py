"""Who can cover this duty? Every eligible person, ranked by what putting them there costs.

For one duty of a roster, each person who may serve it (their unit, role, skills and
availability) is weighed in each way the hard rules allow:

- **add**: they are free then and within their limits, and the duty has room (below its cap);
- **move**: they leave another duty of theirs that day for this one (that duty may then be short);
- **instead of**: the duty is full; they take the place of someone on it (who leaves).

Each way is counted exactly, term by term, with the exchange pass's bookkeeping
(:class:`scheduler.exchange._Roster`, every rule of docs/SPEC.md's objective), so the roster's
objective after the move is the old one plus ``cost``; ``strained`` names the coverage rules that
would rise (people, police, skills, the share, a leader). People who cannot serve it are counted by
reason (not available, on leave, at a limit, busy, already on it). A test holds each cost to the
validator's objective of the roster with the move made.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from scheduler.duties import Problem, unavailable_reason
from scheduler.exchange import COVERAGE, _Roster

#: how a person would come
ADD, MOVE, INSTEAD = "add", "move", "instead of"


@dataclass
class Option:
    person: int
    how: str
    #: the change of the weighted objective (policy units); negative: the roster gets better
    cost: float
    #: each term's change (raw counts, as in summary.json's ``terms``)
    terms: dict[str, int]
    #: the duty they leave (move), or the person who leaves this duty (instead of)
    leaves: int | None = None
    strained: list[str] = field(default_factory=list)


@dataclass
class Recommendation:
    duty: int
    on_duty: list[int]
    options: list[Option]
    #: people who may serve the duty's post but cannot take it now, by reason
    cannot: Counter


def recommend(problem: Problem, pairs: list[tuple[int, int]], duty: int) -> Recommendation:
    """Every way an eligible person could take ``duty`` in the roster ``pairs``, cheapest first
    (ties by person order, then the way)."""
    r = _Roster(problem, pairs)
    d = problem.duties[duty]
    holders = sorted(r.holders[duty])
    options: list[Option] = []
    cannot: Counter = Counter()

    def weigh(terms: dict[str, int] | None, person: int, how: str, leaves: int | None) -> bool:
        if terms is None:
            return False
        changed = {t: v for t, v in terms.items() if v}
        cost = sum(r.weights[t] * v for t, v in changed.items())
        options.append(Option(person, how, cost, changed, leaves, sorted(t for t in COVERAGE if changed.get(t, 0) > 0)))
        return True

    for q in problem.candidates[duty]:
        if q in r.holders[duty]:
            continue
        found = False
        if len(r.holders[duty]) < d.cap:
            found |= weigh(r.change_terms(None, duty, q, only_better=False), q, ADD, None)
            for e in sorted(r.by_day[q].get(d.date, ())):
                found |= weigh(r.move_terms(q, e, duty, only_better=False), q, MOVE, e)
        else:
            for p in holders:
                found |= weigh(r.change_terms(p, duty, q, only_better=False), q, INSTEAD, p)
        if not found:
            cannot[_reason(r, problem, q, duty)] += 1
    options.sort(key=lambda o: (o.cost, o.person, o.how, -1 if o.leaves is None else o.leaves))
    return Recommendation(duty, holders, options, cannot)


def _reason(r: _Roster, problem: Problem, q: int, duty: int) -> str:
    d = problem.duties[duty]
    why = unavailable_reason(problem.persons[q], d)
    if why is not None:
        return why
    if (q, duty) in r.locked:
        return "pinned"
    lim = r.limits[q]
    same_day = r.by_day[q].get(d.date, [])
    if lim.max_per_week is not None and len(r.mine[q]) >= lim.max_per_week:
        return "at their weekly limit"
    if lim.max_minutes_per_week is not None and r.minutes.get(q, 0) + d.minutes > lim.max_minutes_per_week:
        return "at their weekly minutes limit"
    if lim.max_per_day is not None and len(same_day) >= lim.max_per_day:
        return "at their daily limit"
    return "busy at another duty then"
