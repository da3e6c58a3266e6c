"""An independent evaluator of a solution to a Curtois & Qu instance.

It does not import the model: it recomputes every rule from the roster grid alone, following the
rule readings written out in ``benchmarks/nrp/FORMAT.md``.

A *solution* is a mapping ``staff id -> list of (shift id or None)``, one entry per day.
Its text form (``write_solution`` / ``read_solution``) is one line per staff member::

    # comment
    A  D D . . D D D . . ...

the staff id, then one token per day: a shift id or ``.`` for a day off.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .reader import Instance, read_instance

Solution = Mapping[str, Sequence[str | None]]


@dataclass
class Evaluation:
    objective: int
    violations: list[str]
    #: objective split by kind: ``on_requests``, ``off_requests``, ``under``, ``over``
    parts: dict[str, int] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations


def _runs(worked: Sequence[bool], value: bool) -> list[tuple[int, int]]:
    """Maximal runs ``(start, length)`` of days whose ``worked`` equals ``value``."""
    out, d, n = [], 0, len(worked)
    while d < n:
        if worked[d] == value:
            e = d
            while e < n and worked[e] == value:
                e += 1
            out.append((d, e - d))
            d = e
        else:
            d += 1
    return out


def evaluate(instance: Instance, solution: Solution, reading: str = "open-ends") -> Evaluation:
    """Objective (request and cover penalties) and every hard violation, in words. ``reading``:
    ``open-ends`` (runs of working days or days off touching either end of the horizon are exempt
    from the minimum lengths, as the shared FORMAT.md states) or ``strict`` (runs of working days
    touching an end must meet MinConsecutiveShifts too)."""
    if reading not in ("open-ends", "strict"):
        raise ValueError(f"unknown reading {reading!r}")
    H = instance.horizon
    shifts = instance.shift_by_id
    bad: list[str] = []
    grid: dict[str, list[str | None]] = {}
    for pid in solution:
        if pid not in instance.days_off:
            bad.append(f"solution names unknown staff {pid!r}")
    for person in instance.staff:
        row = list(solution.get(person.id, [None] * H))
        if person.id not in solution:
            bad.append(f"{person.id}: missing from the solution (read as all days off)")
        if len(row) != H:
            bad.append(f"{person.id}: {len(row)} days given, horizon is {H}")
            row = (row + [None] * H)[:H]
        for d, t in enumerate(row):
            if t is not None and t not in shifts:
                bad.append(f"{person.id} day {d}: unknown shift {t!r} (read as a day off)")
                row[d] = None
        grid[person.id] = row

    for p in instance.staff:
        row = grid[p.id]
        worked = [t is not None for t in row]
        # days off
        for d in sorted(instance.days_off[p.id]):
            if worked[d]:
                bad.append(f"{p.id} day {d}: works {row[d]} on a day off")
        # forbidden successions
        for d in range(H - 1):
            a, b = row[d], row[d + 1]
            if a is not None and b is not None and b in shifts[a].forbidden_next:
                bad.append(f"{p.id} days {d}-{d + 1}: {b} may not follow {a}")
        # max shifts per type (a type not listed has no limit)
        for t in instance.shifts:
            n = sum(1 for x in row if x == t.id)
            limit = p.max_shifts.get(t.id)
            if limit is not None and n > limit:
                bad.append(f"{p.id}: {n} shifts of type {t.id}, at most {limit}")
        # total minutes
        minutes = sum(shifts[x].minutes for x in row if x is not None)
        if minutes > p.max_total_minutes:
            bad.append(f"{p.id}: {minutes} minutes worked, at most {p.max_total_minutes}")
        if minutes < p.min_total_minutes:
            bad.append(f"{p.id}: {minutes} minutes worked, at least {p.min_total_minutes}")
        # runs of working days: max anywhere; min also for runs touching either end
        for start, length in _runs(worked, True):
            if length > p.max_consecutive_shifts:
                bad.append(f"{p.id} days {start}-{start + length - 1}: {length} consecutive shifts, "
                           f"at most {p.max_consecutive_shifts}")
            if length < p.min_consecutive_shifts and not (
                    reading == "open-ends" and (start == 0 or start + length == H)):
                bad.append(f"{p.id} days {start}-{start + length - 1}: {length} consecutive shifts, "
                           f"at least {p.min_consecutive_shifts}")
        # runs of days off between two working days (runs touching either end are exempt)
        for start, length in _runs(worked, False):
            if start == 0 or start + length == H:
                continue
            if length < p.min_consecutive_days_off:
                bad.append(f"{p.id} days {start}-{start + length - 1}: {length} consecutive days off, "
                           f"at least {p.min_consecutive_days_off}")
        # weekends: days 7w+5 and 7w+6 (day 0 is a Monday)
        weekends = sum(1 for w in range(H // 7) if worked[7 * w + 5] or worked[7 * w + 6])
        if weekends > p.max_weekends:
            bad.append(f"{p.id}: {weekends} weekends worked, at most {p.max_weekends}")

    parts = {"on_requests": 0, "off_requests": 0, "under": 0, "over": 0}
    for r in instance.on_requests:
        if grid[r.staff][r.day] != r.shift:
            parts["on_requests"] += r.weight
    for r in instance.off_requests:
        if grid[r.staff][r.day] == r.shift:
            parts["off_requests"] += r.weight
    for c in instance.cover:
        n = sum(1 for p in instance.staff if grid[p.id][c.day] == c.shift)
        if n < c.requirement:
            parts["under"] += c.under_weight * (c.requirement - n)
        elif n > c.requirement:
            parts["over"] += c.over_weight * (n - c.requirement)
    return Evaluation(sum(parts.values()), bad, parts)


def format_solution(instance: Instance, solution: Solution) -> str:
    width = max(len(p.id) for p in instance.staff)
    lines = [f"# {instance.name}: one line per staff member, one token per day ('.' = off)"]
    for p in instance.staff:
        row = solution.get(p.id, [None] * instance.horizon)
        lines.append(f"{p.id:<{width}}  " + " ".join("." if t is None else t for t in row))
    return "\n".join(lines) + "\n"


def write_solution(path: str | Path, instance: Instance, solution: Solution) -> None:
    Path(path).write_text(format_solution(instance, solution), encoding="utf-8")


def parse_solution(text: str, source: str = "<text>") -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pid, *tokens = line.split()
        if pid in out:
            raise ValueError(f"{source}:{number}: staff {pid!r} appears twice")
        out[pid] = [None if t == "." else t for t in tokens]
    return out


def read_solution(path: str | Path) -> dict[str, list[str | None]]:
    path = Path(path)
    return parse_solution(path.read_text(encoding="utf-8"), str(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.nrp.evaluate",
                                 description="Objective and hard violations of a solution.")
    ap.add_argument("instance")
    ap.add_argument("solution")
    ap.add_argument("--reading", choices=["open-ends", "strict"], default="open-ends",
                    help="runs of working days touching either end: exempt (open-ends, the benchmark's reading) or held "
                         "to MinConsecutiveShifts (strict)")
    args = ap.parse_args(argv)
    ev = evaluate(read_instance(args.instance), read_solution(args.solution), args.reading)
    print(f"objective {ev.objective}  {ev.parts}")
    for v in ev.violations:
        print("HARD:", v)
    return 0 if ev.feasible else 1


if __name__ == "__main__":
    raise SystemExit(main())
