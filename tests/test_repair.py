"""``schoolpost repair``: keep what can stay, change as little as possible, never touch the past."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from conftest import NEAR2, doc, person, school

from models import instance_from_data
from scheduler.check import check_roster, read_roster
from scheduler.commands import main
from scheduler.pipeline import solve_to_folder
from scheduler.repair import changed_document


def week_doc() -> dict:
    """Two schools, Mon-Wed; each gate wants one police officer; three officers, one spare."""
    units = [{"id": "st1", "kind": "police", "schools": ["s1", "s2"]}]
    posts1 = [{"id": "s1/gate", "demand": {"default": {"min": 1, "min_police": 1}}}]
    posts2 = [{"id": "s2/gate", "demand": {"default": {"min": 1, "min_police": 1}}}]
    persons = [person(f"p{i}", "police", "st1") for i in (1, 2, 3)]
    return doc([school("s1", posts=posts1), school("s2", NEAR2, posts=posts2)], persons, units=units,
               days=("mon", "tue", "wed"),
               policy={"leader_on_duty": False, "weights": {"fairness": 0, "continuity": 0, "burden": 0}})


@pytest.fixture
def published(tmp_path):
    data = week_doc()
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "published"
    solve_to_folder(instance_from_data(data), out, time_limit=10, workers=1, seed=0)
    return path, out, read_roster(out)


def _key(r):
    return (r["date"], r["peak"], r["post_id"], r["route_id"], r["person_id"])


def _repair(args, path, roster, out):
    r = CliRunner().invoke(main, ["repair", str(path), str(roster), "-o", str(out), "--time-limit", "10",
                                  "--workers", "1", *args])
    return r


def _checked(path, out, absent=(), start=None, close=()):
    """The repaired roster, checked by the validator against the changed instance."""
    import datetime as dt

    data = json.loads(path.read_text())
    changed = changed_document(data, list(absent), start or dt.date(2026, 12, 7), list(close))
    report = check_roster(instance_from_data(changed), out)
    assert report.ok, [str(v) for v in report.violations]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(report.objective)
    return report, summary, read_roster(out)


def test_an_absent_officer_is_replaced_from_the_date_on_and_the_past_stays(published, tmp_path):
    import datetime as dt

    path, roster, rows0 = published
    # someone who works on Tuesday
    absent = next(r["person_id"] for r in rows0 if r["weekday"] == "tue")
    out = tmp_path / "r"
    r = _repair(["--absent", absent, "--from", "2026-12-08"], path, roster, out)
    assert r.exit_code == 0, r.output
    report, summary, rows = _checked(path, out, [absent], dt.date(2026, 12, 8))
    # Monday (past) untouched, the absent officer gone from Tuesday on, every gate still covered
    assert {_key(x) for x in rows if x["weekday"] == "mon"} == {_key(x) for x in rows0 if x["weekday"] == "mon"}
    assert not [x for x in rows if x["person_id"] == absent and x["date"] >= "2026-12-08"]
    assert report.terms["shortfall"] == 0 and report.terms["police_shortfall"] == 0
    # fewest changes: each forced removal needs exactly one replacement (the spare is free)
    rep = summary["repair"]
    forced = sum(1 for x in rows0 if x["person_id"] == absent and x["date"] >= "2026-12-08")
    assert rep["forced_removals"] == forced and rep["removed"] == forced and rep["added"] == forced
    assert rep["changes"] == 2 * forced
    changes = list(csv.DictReader((out / "changes.csv").open()))
    assert len(changes) == rep["changes"]
    assert {c["reason"] for c in changes if c["action"] == "removed"} == {"absent"}
    assert f"{rep['changes']} changes" in r.output


def test_pins_keep_people_and_dates_as_published(published, tmp_path):
    path, roster, rows0 = published
    absent = next(r["person_id"] for r in rows0 if r["weekday"] == "mon")
    others = sorted({r["person_id"] for r in rows0} - {absent})
    out = tmp_path / "r"
    r = _repair(["--absent", absent, "--keep", f"person:{others[0]}", "--pin", "date:2026-12-09"], path, roster, out)  # --pin: the older name
    assert r.exit_code == 0, r.output
    _, _, rows = _checked(path, out, [absent])
    for who in (others[0],):
        assert {_key(x) for x in rows if x["person_id"] == who} == {_key(x) for x in rows0 if x["person_id"] == who}
    # the pinned date keeps its published rows except the absent person's (they cannot stand)
    kept = {_key(x) for x in rows0 if x["date"] == "2026-12-09" and x["person_id"] != absent}
    assert {_key(x) for x in rows if x["date"] == "2026-12-09"} == kept


def test_a_closed_school_drops_its_rows_and_keeps_the_rest(published, tmp_path):
    path, roster, rows0 = published
    out = tmp_path / "r"
    r = _repair(["--close-school", "s2"], path, roster, out)
    assert r.exit_code == 0, r.output
    _, summary, rows = _checked(path, out, close=["s2"])
    assert {_key(x) for x in rows} == {_key(x) for x in rows0 if x["school_id"] != "s2"}
    assert summary["repair"]["changes"] == sum(1 for x in rows0 if x["school_id"] == "s2")


@pytest.mark.parametrize("args, field", [
    (["--absent", "nobody"], "--absent"),
    (["--absent", "p1", "--keep", "person:p1"], "--keep"),
    (["--absent", "p1", "--keep", "team:x"], "--keep"),
    (["--absent", "p1", "--from", "2027-01-01"], "--from"),
    (["--close-school", "s9"], "--close-school"),
    ([], "--absent"),
    (["--absent", "p1", "--keep", "date:2030-01-01"], "--keep: date:2030-01-01 is not a school day of this week"),
    (["--absent", "p1", "--keep", "person:nobody"], "--keep: no person 'nobody'"),
])
def test_bad_repair_requests_exit_2_with_one_line(published, tmp_path, args, field):
    path, roster, _ = published
    out = tmp_path / "r"
    r = _repair(args, path, roster, out)
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and field in r.output, r.output
    assert not out.exists()


def test_a_roster_that_breaks_the_rules_is_refused(published, tmp_path):
    path, _roster, rows0 = published
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows0[0]))
        w.writeheader()
        for x in rows0:
            w.writerow({**x, "person_id": "p1", "person_name": "Person p1"})  # p1 everywhere at once
    r = _repair(["--absent", "p2"], path, bad, tmp_path / "r")
    assert r.exit_code == 2 and "ROSTER" in r.output


def test_repair_on_a_generated_district_part(tmp_path):
    """Ten generated schools: an officer with duties is absent from Tuesday; every other day and
    person outside the touched areas keeps the published roster."""
    from scheduler.generate import generate

    data = generate("district", 0, schools=10)
    path = tmp_path / "ten.json"
    path.write_text(json.dumps(data))
    pub = tmp_path / "pub"
    solve_to_folder(instance_from_data(data), pub, time_limit=8, workers=2, seed=0)
    rows0 = read_roster(pub)
    counts: dict[str, int] = {}
    for x in rows0:
        if x["role"] == "police" and x["date"] >= "2026-12-08":
            counts[x["person_id"]] = counts.get(x["person_id"], 0) + 1
    absent = max(sorted(counts), key=counts.get)
    out = tmp_path / "r"
    r = _repair(["--absent", absent, "--from", "2026-12-08"], path, pub, out)
    assert r.exit_code == 0, r.output
    import datetime as dt

    _, summary, rows = _checked(path, out, [absent], dt.date(2026, 12, 8))
    rep = summary["repair"]
    assert rep["forced_removals"] == counts[absent]
    assert {_key(x) for x in rows if x["date"] < "2026-12-08"} == {_key(x) for x in rows0 if x["date"] < "2026-12-08"}
    assert rep["changes"] == len(set(map(_key, rows)) ^ set(map(_key, rows0)))
    assert rep["kept"] >= len(rows0) - rep["changes"]
    # coverage first: no worse at min than the published roster with the absent officer's rows taken out
    def coverage(terms):
        return 1000 * terms["shortfall"] + 500 * terms["police_shortfall"] + 200 * terms["skill_shortfall"]

    assert coverage(summary["terms"]) <= coverage(rep["before"]["terms"])


def test_a_repair_into_the_rosters_own_folder_leaves_nothing_of_the_old_roster(tmp_path):
    """repair -o <the published folder>: the old roster's workbook, duty sheets, report and
    calendars go with it (a person with no duty left kept 13 events), so nothing in the folder
    contradicts the repaired roster, which passes the validator."""
    data = week_doc()
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "published"
    r = CliRunner().invoke(main, ["solve", str(path), "-o", str(out), "--time-limit", "10", "--workers", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    assert (out / "calendars").is_dir() and (out / "roster.xlsx").is_file()
    absent = read_roster(out)[0]["person_id"]
    r = _repair(["--absent", absent], path, out, out)
    assert r.exit_code == 0, r.output
    # every human output is made again from the repaired roster (repair writes what solve writes)
    assert sorted(p.name for p in out.iterdir()) == ["calendars", "changes.csv", "duty-sheets.html", "gaps.csv",
                                                      "report.html", "roster.csv", "roster.json", "roster.xlsx",
                                                      "summary.json"]
    assert all(row["person_id"] != absent for row in read_roster(out))
    from icalendar import Calendar

    calendars = [Calendar.from_ical(ics.read_bytes()) for ics in (out / "calendars").iterdir()]
    theirs = [cal for cal in calendars if str(cal.get("X-SCHOOLPOST-PERSON")) == absent]
    assert len(theirs) == 1  # their phone learns that every duty of theirs is cancelled
    events = theirs[0].walk("VEVENT")
    assert events and all(str(ev.get("STATUS")) == "CANCELLED" for ev in events)
    _checked(path, out, absent=[absent])
