"""``schoolpost recommend``: every way an eligible person could take a duty, each cost exact.

Each option is made on the roster and the result checked by the validator (which never imports
the model): it keeps every hard rule, and its objective is the old one plus the option's cost."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from models import instance_from_data
from scheduler.check import check_rows
from scheduler.generate import generate
from scheduler.output import roster_rows
from scheduler.recommend import ADD, INSTEAD, MOVE, recommend


def _made(problem, pairs, duty, option) -> list[tuple[int, int]]:
    out = set(pairs)
    if option.how == MOVE:
        out.discard((option.person, option.leaves))
    elif option.how == INSTEAD:
        out.discard((option.leaves, duty))
    out.add((option.person, duty))
    return sorted(out)


@pytest.mark.parametrize("seed", [3, 17])
def test_every_option_is_valid_and_costs_exactly_what_it_says(seed, tmp_path):
    from conftest import solve_checked

    data = generate("district", seed, schools=3)
    data["persons"] = [p for i, p in enumerate(data["persons"]) if i % 3 != 2]  # some seats left short
    s = solve_checked(data, tmp_path, expect_optimal=False, time_limit=5)
    problem, pairs = s.result.problem, sorted(s.result.assignments)
    inst = instance_from_data(data)
    base = check_rows(inst, roster_rows(problem, pairs)).objective
    counts = {d.index: 0 for d in problem.duties}
    for _, d in pairs:
        counts[d] += 1
    # a duty below its minimum (if any), one with room, one full
    short = [d.index for d in problem.duties if counts[d.index] < d.min]
    room = [d.index for d in problem.duties if d.min <= counts[d.index] < d.cap]
    full = [d.index for d in problem.duties if counts[d.index] >= d.cap]
    chosen = [xs[0] for xs in (short, room, full) if xs]
    assert len(chosen) >= 2
    seen = set()
    for duty in chosen:
        rec = recommend(problem, pairs, duty)
        assert rec.on_duty == sorted(p for p, d in pairs if d == duty)
        assert [o.cost for o in rec.options] == sorted(o.cost for o in rec.options)
        for option in rec.options[:25]:
            seen.add(option.how)
            made = _made(problem, pairs, duty, option)
            report = check_rows(inst, roster_rows(problem, made))
            assert report.ok, (option, [str(v) for v in report.violations])
            assert report.objective == pytest.approx(base + option.cost), option
            for rule in option.strained:
                assert option.terms[rule] > 0
    assert ADD in seen or MOVE in seen


def test_the_command_line_lists_the_cheapest_first(tmp_path):
    import yaml
    from conftest import solve_checked

    data = generate("district", 5, schools=2)
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    s = solve_checked(data, tmp_path, expect_optimal=False, time_limit=5)
    row = s.rows[0]
    args = [sys.executable, "-m", "scheduler", "recommend", str(path), str(tmp_path / "out"), "--date", row["date"],
            "--peak", row["peak"], "--post" if row["post_id"] else "--route", row["post_id"] or row["route_id"]]
    done = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120, check=True)
    answer = json.loads(done.stdout)
    assert (answer["duty"]["post_id"], answer["duty"]["route_id"]) == (row["post_id"], row["route_id"])
    assert row["person_id"] in answer["on_duty"]
    costs = [o["cost"] for o in answer["options"]]
    assert costs == sorted(costs)
    text = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout
    assert answer["options"] and answer["options"][0]["person_id"] in text.splitlines()[1]
    bad = subprocess.run([*args[:5], "--date", row["date"], "--peak", "nopeak", "--post", "x"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
