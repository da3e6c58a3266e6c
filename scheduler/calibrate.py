"""This machine's speed, measured once and stored, so that ``--work-limit auto`` fits it.

``auto`` turns ``--time-limit`` into deterministic work by rates measured on the reference 2-core
machine (``scheduler.solve.AUTO_WORK_RATE``). On a slower machine the clock would end the search
before that work is done, and the run would not repeat. ``schoolpost calibrate`` times a fixed
workload (CP-SAT's local search on a generated 6-school district, one worker, a fixed
deterministic budget; three times, the median) and stores ``factor`` = this machine's
deterministic seconds per second / the reference machine's, which scales every ``auto`` rate.
Without a stored calibration the factor is 1 (the reference machine's rates); a measured factor
is capped at ``MAX_FACTOR``, and the measurement keeps a margin (``MARGIN``) so that the budget,
not the clock, ends the search.

The file: ``$SCHOOLPOST_CALIBRATION`` if set, else ``$XDG_CONFIG_HOME/schoolpost/calibration.json``
(``~/.config/...``).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

#: deterministic seconds per wall second of the workload on the reference machine (2 cores, this
#: project's development machine: two idle runs of :func:`measure_speed` gave 0.67 and 0.81)
REFERENCE_SPEED = 0.75
#: the workload's deterministic budget, per measurement
WORKLOAD = 2.0
#: a measured factor is used times this margin, and never above ``MAX_FACTOR``
MARGIN, MAX_FACTOR = 0.9, 2.0


def path() -> Path:
    env = os.environ.get("SCHOOLPOST_CALIBRATION")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "schoolpost" / "calibration.json"


def factor() -> tuple[float, str]:
    """(factor, where it came from): the stored calibration's, or 1.0 ("default")."""
    p = path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        value = float(data["factor"])
    except (OSError, ValueError, KeyError, TypeError):
        return 1.0, "default"
    if not (0.01 <= value <= MAX_FACTOR):
        return 1.0, "default"
    return value, str(p)


def measure_speed(runs: int = 3) -> float:
    """Deterministic seconds per wall second of the fixed workload on this machine (median)."""
    from models import instance_from_data
    from scheduler.cpsat import RosterModel
    from scheduler.cpsat.solver import run
    from scheduler.duties import expand
    from scheduler.generate import generate
    from scheduler.greedy import greedy_roster

    problem = expand(instance_from_data(generate("district", 0, schools=6)))
    greedy = greedy_roster(problem)
    speeds = []
    for _ in range(runs):
        rm = RosterModel(problem, with_cuts=False)
        rm.add_hint(rm.values_of(greedy))
        start = time.monotonic()
        raw = run(rm.model, time_limit=120, workers=1, seed=0,
                  extra={"use_ls_only": True, "max_deterministic_time": WORKLOAD})
        speeds.append(raw.deterministic_time / max(1e-6, time.monotonic() - start))
    return statistics.median(speeds)


def calibrate(runs: int = 3) -> dict:
    """Measure, and the record to store: speed, factor (with the margin, capped), when."""
    speed = measure_speed(runs)
    value = min(MAX_FACTOR, MARGIN * speed / REFERENCE_SPEED)
    return {"speed": round(speed, 4), "reference_speed": REFERENCE_SPEED, "factor": round(value, 4),
            "cores": os.cpu_count(), "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def store(record: dict) -> Path:
    p = path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return p
