"""Pins (extension): duties a person must take, and whether they can all be kept.

Part of the checker, not of the engine: the library calls :func:`require_pins_possible` on an
instance before it hands it to the engine (``pipeline.solve_files``, ``repair``, ``staffing``,
``info``), so the engine, which takes the pins as fixed, never meets pins no roster can keep.

Every hard rule of SPEC forbids assignments, so the empty roster keeps them all and any instance
has a roster, unless some assignments are forced. ``persons[].pins`` forces them. The pins alone,
written as a roster, are then checked by the validator: each hard rule they break (two pins at
once, a pin on leave, at a school the person's unit does not serve, beyond a limit, more pinned
people than a duty's cap) is a conflict, said in words. No conflict means the pins are a roster
that keeps every hard rule, so the solver always has a starting point.
"""

from __future__ import annotations

from models import Instance, InstanceError
from models.instance import format_hhmm

#: conflicts listed in the one-line error (the rest are counted)
SHOWN = 4


def pin_rows(inst: Instance) -> list[dict[str, str]]:
    """The pins as roster rows (roster.csv's columns). Pins are valid references (the loader's
    ``check_pins``), so each names one duty."""
    from scheduler.check.duties import expand_duties

    table = expand_duties(inst)
    rows = []
    for person in inst.persons:
        for pin in person.pins:
            duty = table.by_ident[pin.ident]
            rows.append({
                "date": duty.date.isoformat(), "weekday": duty.weekday, "peak": duty.peak,
                "school_id": duty.school_id, "post_id": duty.post_id, "route_id": duty.route_id,
                "person_id": person.id, "person_name": person.name or "", "role": person.role,
                "start": format_hhmm(duty.start), "end": format_hhmm(duty.end),
            })
    return rows


def pin_conflicts(inst: Instance) -> list[tuple[str, str]]:
    """(person id, the conflict in words) for each hard rule the pins break; empty when the pins
    can all be kept."""
    if not any(p.pins for p in inst.persons):
        return []
    from scheduler.check import check_rows

    rows = pin_rows(inst)
    report = check_rows(inst, rows)
    out, capped = [], set()
    for v in report.violations:
        if v.rule == "cap":  # said once per duty, with everyone pinned there (not per roster row)
            if v.duty in capped:
                continue
            capped.add(v.duty)
            who = [r["person_id"] for r in rows if _key(r) == v.duty]
            detail = v.detail.split(";")[0]
            out.append((v.person_id, f"cap: {', '.join(who)} are pinned to {v.duty}: {detail}"))
        else:
            out.append((v.person_id, f"{v.rule}: {v.person_id} is pinned to {v.duty}: {v.detail}"))
    return out


def _key(row: dict[str, str]) -> str:
    """The validator's readable duty key of a roster row."""
    where = row["post_id"] or f"route {row['route_id']}"
    return f"{row['date']} {row['peak']} {where}"


def require_pins_possible(inst: Instance) -> None:
    """Raise :class:`InstanceError` naming the pins of the first person in conflict and saying,
    in one line, which rules and which data conflict."""
    conflicts = pin_conflicts(inst)
    if not conflicts:
        return
    index = next(i for i, p in enumerate(inst.persons) if p.id == conflicts[0][0])
    more = len(conflicts) - SHOWN
    text = "; ".join(words for _, words in conflicts[:SHOWN]) + (f"; and {more} more" if more > 0 else "")
    raise InstanceError(f"persons[{index}].pins", f"impossible: the pinned duties break hard rules: {text}")
