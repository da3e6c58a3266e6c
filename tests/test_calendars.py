"""Calendars that update (issue 18 item 7): stable UIDs, SEQUENCE, DTSTAMP, cancelled duties after
``repair``, words in SUMMARY, an optional reminder, byte-identical files."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from icalendar import Calendar

from models import instance_from_data
from scheduler.check import check_roster, read_roster
from scheduler.commands import main
from scheduler.human.calendars import calendar_uid
from scheduler.repair import changed_document

ROOT = Path(__file__).resolve().parents[1]
INSTANCE = ROOT / "instances" / "small-school.yaml"
FROM = "2026-12-09"
HUMAN = ["calendars", "duty-sheets.html", "report.html", "roster.xlsx"]


def _doc() -> dict:
    return yaml.safe_load(INSTANCE.read_text())


def _run(*args: str) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.output


def _solve(out: Path, *extra: str) -> list[dict]:
    _run("solve", INSTANCE, "-o", out, "--time-limit", "5", "--workers", "1", "--quiet", *extra)
    report = check_roster(instance_from_data(_doc()), out)  # the validator, on the written files
    assert report.ok, [str(v) for v in report.violations]
    return read_roster(out)


def _repair(roster: Path, out: Path, absent: list[str], *extra: str) -> list[dict]:
    args = [a for pid in absent for a in ("--absent", pid)]
    _run("repair", INSTANCE, roster, "-o", out, "--from", FROM, "--time-limit", "5", "--workers", "1", *args, *extra)
    changed = changed_document(_doc(), absent, dt.date.fromisoformat(FROM), [])
    report = check_roster(instance_from_data(changed), out)
    assert report.ok, [str(v) for v in report.violations]
    return read_roster(out)


def _events(folder: Path, pid: str) -> dict[str, object]:
    """{UID: event} of ``pid``'s calendar in ``folder`` (empty when there is none)."""
    path = folder / "calendars" / f"{pid}.ics"
    if not path.is_file():
        return {}
    cal = Calendar.from_ical(path.read_bytes())
    assert str(cal["METHOD"]) == "PUBLISH" and str(cal["X-SCHOOLPOST-PERSON"]) == pid
    return {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}


def _uid(r: dict) -> str:
    return calendar_uid(r["person_id"], r["date"], r["peak"], r["post_id"], r["route_id"])


def _content(ev) -> tuple:
    return tuple(str(ev.get(k)) for k in ("SUMMARY", "DESCRIPTION", "LOCATION", "STATUS")) + (
        ev.decoded("DTSTART"), ev.decoded("DTEND"), len(ev.subcomponents))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A solve, and a repair of it with the guard who has the most duties from FROM on absent."""
    base = tmp_path_factory.mktemp("cal")
    pub = base / "pub"
    rows0 = _solve(pub)
    counts: dict[str, int] = {}
    for r in rows0:
        if r["date"] >= FROM and r["post_id"]:
            counts[r["person_id"]] = counts.get(r["person_id"], 0) + 1
    absent = max(sorted(counts), key=counts.get)
    rep = base / "rep"
    rows = _repair(pub, rep, [absent])
    return base, pub, rows0, rep, rows, absent


def test_kept_duties_keep_their_uid_and_taken_ones_are_cancelled(runs):
    _base, pub, rows0, rep, _rows, absent = runs
    old, new = _events(pub, absent), _events(rep, absent)
    before = {_uid(r) for r in rows0 if r["person_id"] == absent and r["date"] < FROM}
    taken = {_uid(r) for r in rows0 if r["person_id"] == absent and r["date"] >= FROM}
    assert before and taken and set(old) == before | taken
    assert set(new) == set(old)  # nothing added, nothing lost: the taken duties stay, cancelled
    for uid in before:  # the past: same UID, same event, same SEQUENCE
        assert str(new[uid]["STATUS"]) == "CONFIRMED" and new[uid]["SEQUENCE"] == old[uid]["SEQUENCE"] == 0
    for uid in taken:
        assert str(new[uid]["STATUS"]) == "CANCELLED" and str(old[uid]["STATUS"]) == "CONFIRMED"
        assert new[uid]["SEQUENCE"] > old[uid]["SEQUENCE"]
        assert new[uid].decoded("DTSTART") == old[uid].decoded("DTSTART")
        assert str(new[uid]["SUMMARY"]).startswith("Cancelled: ")


def test_every_event_keeps_or_raises_its_sequence_and_new_duties_get_new_uids(runs):
    _base, pub, rows0, rep, rows, absent = runs
    changes = list(csv.DictReader((rep / "changes.csv").open(encoding="utf-8")))
    added = [c for c in changes if c["action"] == "added"]
    assert added
    raised = 0
    for pid in sorted({r["person_id"] for r in rows0 + rows}):
        old, new = _events(pub, pid), _events(rep, pid)
        mine = {_uid(r) for r in rows if r["person_id"] == pid}
        assert mine <= set(new) and set(old) <= set(new)
        for uid, ev in new.items():
            if uid not in old:  # a new duty: a UID no earlier calendar of this person had
                assert uid in mine and ev["SEQUENCE"] == 0
            elif _content(ev) == _content(old[uid]):
                assert ev["SEQUENCE"] == old[uid]["SEQUENCE"]
            else:
                assert ev["SEQUENCE"] == old[uid]["SEQUENCE"] + 1
                raised += 1
    assert raised >= len([r for r in rows0 if r["person_id"] == absent and r["date"] >= FROM])
    for c in added:
        uid = _uid(c)
        assert uid not in _events(pub, c["person_id"]) and uid in _events(rep, c["person_id"])


def test_uids_are_stable_across_rosters_and_people():
    assert calendar_uid("p1", "2026-12-07", "arrival", "s/gate", None) == \
        calendar_uid("p1", "2026-12-07", "arrival", "s/gate", "")
    uids = {calendar_uid(*key) for key in [("p1", "2026-12-07", "arrival", "s/gate", None),
                                           ("p2", "2026-12-07", "arrival", "s/gate", None),
                                           ("p1", "2026-12-08", "arrival", "s/gate", None),
                                           ("p1", "2026-12-07", "dismissal", "s/gate", None),
                                           ("p1", "2026-12-07", "arrival", None, "s/gate"),
                                           ("P1", "2026-12-07", "arrival", "s/gate", None)]}
    assert len(uids) == 6 and all(u.endswith("@schoolpost") for u in uids)


def test_dtstamp_is_utc_and_summary_is_words(runs):
    _base, pub, _rows0, rep, _rows, _absent = runs
    data = _doc()
    ids = {s["id"] for s in data["schools"]} | {p["id"] for s in data["schools"] for p in s["posts"]} | \
          {r["id"] for r in data["routes"]} | {p["id"] for p in data["persons"]} | {u["id"] for u in data["units"]}
    n = 0
    for folder in (pub, rep):
        for path in sorted((folder / "calendars").iterdir()):
            text = path.read_text(encoding="utf-8")
            for ev in Calendar.from_ical(text).walk("VEVENT"):
                n += 1
                stamp = ev.decoded("DTSTAMP")
                assert stamp.utcoffset() == dt.timedelta(0)
                assert stamp == dt.datetime(2026, 12, 7, tzinfo=dt.UTC)  # the default: midnight UTC of week_start
                summary = str(ev["SUMMARY"])
                assert "_" not in summary and not any(i in summary for i in ids), summary
                assert "Liuzhuang Primary School" in summary or summary.startswith(("Patrol: ", "Cancelled: "))
                assert not ev.walk("VALARM")  # no reminder unless asked for
            assert all(line.endswith("Z") for line in text.splitlines() if line.startswith("DTSTAMP"))
    assert n > 50


def test_repair_writes_the_human_files_of_solve_and_identical_runs_give_identical_calendars(runs):
    base, pub, _rows0, rep, _rows, absent = runs
    assert sorted(p.name for p in pub.iterdir() if p.name in HUMAN) == HUMAN
    assert sorted(p.name for p in rep.iterdir() if p.name != "changes.csv") == sorted(p.name for p in pub.iterdir())
    again = base / "rep-again"
    _repair(pub, again, [absent])
    files = sorted(p.name for p in (rep / "calendars").iterdir())
    assert files == sorted(p.name for p in (again / "calendars").iterdir())
    for name in files:
        assert (rep / "calendars" / name).read_bytes() == (again / "calendars" / name).read_bytes(), name
    pub2 = base / "pub-again"
    _solve(pub2)
    for path in sorted((pub / "calendars").iterdir()):
        assert path.read_bytes() == (pub2 / "calendars" / path.name).read_bytes(), path.name


def test_a_second_repair_keeps_earlier_cancellations_and_stamps_and_reminds_as_asked(runs):
    base, _pub, _rows0, rep, rows, absent = runs
    other = next(r["person_id"] for r in sorted(rows, key=lambda r: r["date"], reverse=True)
                 if r["person_id"] != absent and r["post_id"] and r["date"] >= FROM)
    second = base / "second"
    _repair(rep, second, [absent, other], "--published-at", "2026-12-08T20:00:00+08:00")
    before, after = _events(rep, absent), _events(second, absent)
    assert set(after) == set(before)
    for uid, ev in after.items():  # nothing of the absent guard changed again: the same SEQUENCE
        assert ev["SEQUENCE"] == before[uid]["SEQUENCE"] and str(ev["STATUS"]) == str(before[uid]["STATUS"])
        assert ev.decoded("DTSTAMP") == dt.datetime(2026, 12, 8, 12, tzinfo=dt.UTC)
    cancelled = [ev for ev in _events(second, other).values() if str(ev["STATUS"]) == "CANCELLED"]
    assert cancelled and all(ev["SEQUENCE"] >= 1 for ev in cancelled)
    # a third, with a reminder and no --published-at: never stamped before what it updates
    third = base / "third"
    _repair(second, third, [absent, other], "--reminder", "20", "--outputs", "calendars")
    assert sorted(p.name for p in third.iterdir()) == ["calendars", "changes.csv", "gaps.csv", "roster.csv",
                                                        "roster.json", "summary.json"]
    for pid in sorted({r["person_id"] for r in read_roster(third)}):
        for uid, ev in _events(third, pid).items():
            old = _events(second, pid)[uid]
            assert ev.decoded("DTSTAMP") == dt.datetime(2026, 12, 8, 12, tzinfo=dt.UTC)
            if str(ev["STATUS"]) == "CONFIRMED":
                [alarm] = ev.walk("VALARM")
                assert alarm.decoded("TRIGGER") == -dt.timedelta(minutes=20)
                assert ev["SEQUENCE"] == old["SEQUENCE"] + 1  # the reminder changed the event
            else:
                assert not ev.walk("VALARM") and ev["SEQUENCE"] == old["SEQUENCE"]


def test_without_published_calendars_the_repair_rebuilds_them_from_the_roster(tmp_path):
    pub = tmp_path / "pub"
    rows0 = _solve(pub, "--outputs", "none")
    assert not (pub / "calendars").exists()
    absent = next(r["person_id"] for r in rows0 if r["date"] >= FROM and r["post_id"])
    rep = tmp_path / "rep"
    _repair(pub, rep, [absent], "--outputs", "calendars")
    events = _events(rep, absent)
    for r in rows0:
        if r["person_id"] == absent:
            ev = events[_uid(r)]
            cancelled = r["date"] >= FROM
            assert str(ev["STATUS"]) == ("CANCELLED" if cancelled else "CONFIRMED")
            assert ev["SEQUENCE"] == (1 if cancelled else 0)
    none = tmp_path / "none"
    _repair(pub, none, [absent], "--outputs", "none")
    assert sorted(p.name for p in none.iterdir()) == ["changes.csv", "gaps.csv", "roster.csv", "roster.json",
                                                       "summary.json"]
