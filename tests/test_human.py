"""Human outputs (issue 5): roster.xlsx, calendars, live progress and --log, ``schoolpost report``,
and folders of files written whole. Every roster here is checked by the validator."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from icalendar import Calendar
from openpyxl import load_workbook
from rich.console import Console

from models import instance_from_data, load_instance
from scheduler.check import check_rows, read_roster
from scheduler.commands import main
from scheduler.cpsat.solver import Progress
from scheduler.human.calendars import person_calendars
from scheduler.human.workbook import RED, roster_workbook
from scheduler.output import write_files
from scheduler.pipeline import solve_files
from scheduler.progress import SolveProgress

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def solved():
    """rural-primary (several schools, a patrol route) solved for 4 s and checked."""
    data = yaml.safe_load((ROOT / "instances" / "rural-primary.yaml").read_text())
    data["schools"][0]["address"] = "Huanghe 5th Road 500, Bincheng"
    inst = instance_from_data(data)
    _, summary, report, gaps, files = solve_files(inst, outputs=("xlsx", "calendars"), time_limit=4, workers=2,
                                                  seed=0)
    assert report.ok, [str(v) for v in report.violations]
    rows = json.loads(files["roster.json"])
    return inst, rows, report, gaps, summary, files


def _cell_texts(ws) -> dict[tuple[int, int], str]:
    return {(c.row, c.column): str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}


def test_workbook_sheets_and_roster_table(solved):
    inst, rows, _report, gaps, summary, files = solved
    wb = load_workbook(io.BytesIO(files["roster.xlsx"]))
    school = inst.schools[0]
    assert wb.sheetnames[:4] == ["Summary", "Roster", "Gaps", "Week"]
    assert school.id in wb.sheetnames and "Routes" in wb.sheetnames
    assert all(f"unit {u.id}"[:31] in wb.sheetnames for u in inst.units)
    # the Roster sheet is a filterable table holding exactly the roster rows
    ws = wb["Roster"]
    assert list(ws.tables) == ["Roster"] and ws.tables["Roster"].ref == f"A1:L{len(rows) + 1}"
    header = [c.value for c in ws[1]]
    def text(v) -> str:  # the date column holds real Excel dates
        return v.date().isoformat() if isinstance(v, dt.datetime) else str(v or "")

    got = sorted(tuple(text(r[header.index(k)]) for k in ("date", "peak", "post_id", "route_id", "person_id"))
                 for r in ws.iter_rows(min_row=2, values_only=True))
    want = sorted((r["date"], r["peak"], r["post_id"], r["route_id"], r["person_id"]) for r in rows)
    assert got == want
    assert wb["Gaps"].max_row == len(gaps) + 1
    # the summary sheet carries the figures of summary.json
    values = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=3, max_col=2, values_only=True) if r[0]}
    assert values["objective"] == summary["objective"] and values["assignments"] == len(rows)


def test_workbook_school_sheet_has_names_in_their_cells(solved):
    inst, rows, _report, _gaps, _summary, files = solved
    ws = load_workbook(io.BytesIO(files["roster.xlsx"]))[inst.schools[0].id]
    assert ws["A1"].value == inst.schools[0].name and "Huanghe 5th Road" in ws["A2"].value
    header = {c.column: c.value for c in ws[4] if c.value}
    posts = {ws.cell(row=r, column=1).value: r for r in range(5, ws.max_row + 1)}
    names = {p.id: p.name or p.id for p in inst.schools[0].posts}
    checked = 0
    for r in rows:
        if r["school_id"] != inst.schools[0].id:
            continue
        date = dt.date.fromisoformat(r["date"])
        col = next(c for c, h in header.items() if h.startswith(date.strftime("%a %d %b")) and f"\n{r['peak']} " in h)
        assert r["person_name"] in ws.cell(row=posts[names[r["post_id"]]], column=col).value
        checked += 1
    assert checked >= 5


def test_workbook_marks_short_cells_and_is_deterministic(solved):
    inst, rows, report, _gaps, summary, _files = solved
    post = inst.schools[0].posts[0].id
    first = next(r for r in rows if r["post_id"] == post)
    # remove everyone from one duty: the validator sees the shortfall, the cell turns red
    cut = [r for r in rows if not (r["post_id"] == post and r["date"] == first["date"] and r["peak"] == first["peak"])]
    short = check_rows(inst, cut)
    assert short.ok and short.terms["shortfall"] > report.terms["shortfall"]
    data = roster_workbook(inst, cut, short, [], summary)
    assert data == roster_workbook(inst, cut, short, [], summary)  # same inputs, same bytes
    ws = load_workbook(io.BytesIO(data))[inst.schools[0].id]
    red = [c for row in ws.iter_rows(min_row=5) for c in row if c.fill.fgColor.rgb == RED.fgColor.rgb]
    assert red and any("SHORT" in (c.value or "") for c in red)


def test_the_workbook_made_beside_the_others_is_the_same_file(solved, monkeypatch):
    """roster.xlsx made in a forked process while calendars are made here: the same bytes as
    made here alone, the same files in the same order."""
    from scheduler import human

    inst, rows, report, gaps, summary, _files = solved
    outputs = ("xlsx", "calendars", "report")
    assert human.parallel_outputs(outputs) == (len(os.sched_getaffinity(0)) >= 2)
    beside = human.human_files(inst, rows, report, gaps, summary, outputs)
    monkeypatch.setattr(human, "parallel_outputs", lambda _outputs: False)
    alone = human.human_files(inst, rows, report, gaps, summary, outputs)
    assert list(beside) == list(alone) and beside == alone
    assert beside["roster.xlsx"] == roster_workbook(inst, rows, report, gaps, summary)


def test_a_forked_maker_runs_in_another_process_and_a_failed_one_is_made_here():
    from scheduler.human import _Beside

    here = os.getpid()
    assert int(_Beside(lambda: str(os.getpid()).encode(), fork=True).result()) != here
    assert int(_Beside(lambda: str(os.getpid()).encode(), fork=False).result()) == here
    big = _Beside(lambda: b"x" * 3_000_000, fork=True)  # more than a pipe holds: the child waits for the reader
    assert big.result() == b"x" * 3_000_000

    def fails_in_the_child() -> bytes:
        if os.getpid() != here:
            raise RuntimeError("no workbook")
        return b"made here"

    assert _Beside(fails_in_the_child, fork=True).result() == b"made here"
    # given up (an error or a stop in the parent): the child waiting to send ends, nothing left
    waiting = _Beside(lambda: b"y" * 3_000_000, fork=True)
    child = waiting.process
    waiting.cancel()
    assert child is not None and not child.is_alive() and waiting.process is None


def test_the_time_kept_for_the_human_files_follows_the_machine_and_the_cores(monkeypatch):
    """The reserve: the workbook beside the others takes less than all one after the other; a
    machine calibrated twice as fast keeps half the seconds (beyond the fixed second)."""
    from scheduler import calibrate, human
    from scheduler.pipeline import human_reserve

    inst = load_instance(ROOT / "instances" / "district-bincheng.yaml")
    outputs = human.HUMAN_OUTPUTS
    monkeypatch.setattr(calibrate, "factor", lambda: (1.0, "default"))
    monkeypatch.setattr(human, "parallel_outputs", lambda _outputs: True)
    beside = human_reserve(inst, outputs)
    monkeypatch.setattr(human, "parallel_outputs", lambda _outputs: False)
    alone = human_reserve(inst, outputs)
    assert 1.0 < beside < alone
    monkeypatch.setattr(calibrate, "factor", lambda: (2.0, "test"))
    assert human_reserve(inst, outputs) - 1.0 == pytest.approx((alone - 1.0) / 2)
    assert human_reserve(inst, ()) == 0.0


def test_calendars_one_event_per_duty(solved):
    inst, rows, _report, _gaps, _summary, files = solved
    cals = {name: data for name, data in files.items() if name.startswith("calendars/")}
    assert len(cals) == len({r["person_id"] for r in rows})
    events = 0
    for name, data in cals.items():
        cal = Calendar.from_ical(data)
        assert cal["version"] == "2.0" and cal["prodid"]
        for ev in cal.walk("VEVENT"):
            events += 1
            start = ev.decoded("dtstart")
            assert start.tzinfo is None  # no time zone in the instance: floating local time
            assert ev["uid"].endswith(f"-{Path(name).stem}@schoolpost") or "~" in name
            if "School post" in ev["summary"]:
                school = next(x for x in inst.schools if ev["location"].startswith(x.name or x.id))
                assert ("Huanghe 5th Road 500" in ev["location"]) == (school is inst.schools[0])
    assert events == len(rows)
    # the person's duties, with their local start times
    pid = rows[0]["person_id"]
    cal = Calendar.from_ical(files[f"calendars/{pid}.ics"])
    starts = sorted(ev.decoded("dtstart") for ev in cal.walk("VEVENT"))
    want = sorted(dt.datetime.fromisoformat(f"{r['date']}T{r['start']}") for r in rows if r["person_id"] == pid)
    assert starts == want


def test_calendars_with_time_zone_and_unsafe_ids(solved):
    inst, rows, *_ = solved
    zoned = inst.model_copy(update={"timezone": "Asia/Shanghai"})
    some = [dict(r) for r in rows if r["person_id"] == rows[0]["person_id"]]
    for r in some:
        r["person_id"] = "../../etc/passwd"
    cals = person_calendars(zoned, some)
    [name] = cals
    assert "/" not in name and not name.startswith(".") and name.endswith("etc_passwd.ics")
    text = cals[name].decode()
    assert "BEGIN:VTIMEZONE" in text and "TZID:Asia/Shanghai" in text
    assert "DTSTART;TZID=Asia/Shanghai:" in text
    ev = next(iter(Calendar.from_ical(cals[name]).walk("VEVENT")))
    start = ev.decoded("dtstart")
    assert start.utcoffset() == dt.timedelta(hours=8)
    assert start.strftime("%H:%M") == some[0]["start"]


def test_unknown_time_zone_is_a_field_error():
    data = yaml.safe_load((ROOT / "instances" / "small-school.yaml").read_text())
    data["timezone"] = "Mars/Olympus"
    with pytest.raises(Exception, match=r"^timezone: unknown time zone"):
        instance_from_data(data)


def test_write_files_swaps_a_folder_whole(tmp_path):
    write_files(tmp_path, {"a.txt": "1", "calendars/p1.ics": b"x", "calendars/p2.ics": b"y"})
    write_files(tmp_path, {"a.txt": "2", "calendars/p3.ics": b"z"})
    assert sorted(p.name for p in (tmp_path / "calendars").iterdir()) == ["p3.ics"]
    assert (tmp_path / "a.txt").read_text() == "2"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    for bad in ("../x", "calendars/../x", ".hidden", "calendars/.x", "a//b", "a\\b"):
        with pytest.raises(ValueError):
            write_files(tmp_path / "o", {bad: "no"})
    assert not (tmp_path / "x").exists() and not (tmp_path / "o").exists()
    # a variant's folder with its calendars (whatif publishes every variant at once)
    write_files(tmp_path / "o", {"baseline/calendars/p1.ics": "x"})
    assert (tmp_path / "o" / "baseline" / "calendars" / "p1.ics").read_text() == "x"


def test_progress_log_and_quiet_when_not_a_terminal(tmp_path):
    out, log = tmp_path / "out", tmp_path / "run.log"
    r = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / "small-school.yaml"), "-o", str(out),
                                  "--time-limit", "4", "--workers", "1", "--outputs", "none", "--log", str(log)])
    assert r.exit_code == 0, r.output
    # the three result lines only: no progress lines when stderr is not a terminal
    assert r.output.count("\n") == 3 and r.output.startswith("Roster ready: ")
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[0]["event"] == "start" and events[-1]["event"] == "done"
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and progress[0]["stage"] == "greedy"
    assert all(e["time"] <= f["time"] for e, f in itertools.pairwise(events))
    summary = json.loads((out / "summary.json").read_text())
    assert events[-1]["objective"] == summary["objective"] and events[-1]["status"] == summary["status"]
    full = [e for e in progress if e["stage"] != "coverage"]
    assert min(e["objective"] for e in full) >= summary["objective"] - 1e-6
    assert all(e["bound"] <= summary["objective"] + 1e-6 for e in full)
    assert sorted(p.name for p in out.iterdir()) == ["gaps.csv", "roster.csv", "roster.json", "summary.json"]
    assert read_roster(out)
    inst = str(ROOT / "instances" / "small-school.yaml")
    assert CliRunner().invoke(main, ["check", inst, str(out)]).exit_code == 0
    quiet = CliRunner().invoke(main, ["solve", inst, "-o", str(out),
                                      "--time-limit", "2", "--workers", "1", "--outputs", "none", "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""
    assert CliRunner().invoke(main, ["check", inst, str(out)]).exit_code == 0


def test_live_progress_line_on_a_terminal():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    with SolveProgress(time_limit=10, show=True, console=console) as view:
        view.update(Progress(1.0, 1234.0, 1000.0, "greedy"))
        view.update(Progress(2.0, 99.0, 0.0, "coverage"))
        console.print(view._render())
    shown = buf.getvalue()
    assert "objective 1,234" in shown and "bound 1,000" in shown and "gap 19.0%" in shown
    assert "coverage first" in shown and "coverage 99" in shown
    assert SolveProgress(time_limit=10, show=False).__enter__()._live is None


def test_bad_log_path_and_outputs_are_field_errors(tmp_path):
    inst = str(ROOT / "instances" / "small-school.yaml")
    r = CliRunner().invoke(main, ["solve", inst, "-o", str(tmp_path / "o"), "--log", str(tmp_path / "no" / "x.log")])
    assert r.exit_code == 2 and r.output.startswith("error: --log:") and r.output.count("\n") == 1
    r = CliRunner().invoke(main, ["solve", inst, "-o", str(tmp_path / "o"), "--outputs", "xlsx,pdf"])
    assert r.exit_code == 2 and "--outputs" in r.output and "'pdf'" in r.output
    assert not (tmp_path / "o").exists()


def test_report_command_remakes_outputs_and_refuses_a_broken_roster(tmp_path):
    inst_path = ROOT / "instances" / "bz-experimental.yaml"
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(inst_path), "-o", str(out), "--time-limit", "3", "--workers", "1",
                                  "--outputs", "none", "--quiet"])
    assert r.exit_code == 0, r.output
    assert CliRunner().invoke(main, ["check", str(inst_path), str(out)]).exit_code == 0
    r = CliRunner().invoke(main, ["report", str(inst_path), str(out), "--outputs", "xlsx,calendars"])
    assert r.exit_code == 0, r.output
    rows = read_roster(out)
    assert (out / "roster.xlsx").is_file() and len(list((out / "calendars").iterdir())) == len(
        {r["person_id"] for r in rows})
    wb = load_workbook(out / "roster.xlsx")
    assert wb["Roster"].max_row == len(rows) + 1
    # a roster with a person at two posts of the school at once is refused, and nothing is made
    broken = tmp_path / "broken"
    broken.mkdir()
    inst = load_instance(inst_path)
    first = rows[0]
    school = next(s for s in inst.schools if s.id == first["school_id"])
    other = next(p.id for p in school.posts if p.id != first["post_id"])
    clash = {**first, "post_id": other}
    lines = (out / "roster.csv").read_text().splitlines()
    lines.append(",".join(clash[k] for k in lines[0].split(",")))
    (broken / "roster.csv").write_text("\n".join(lines) + "\n")
    assert CliRunner().invoke(main, ["check", str(inst_path), str(broken)]).exit_code == 1
    r = CliRunner().invoke(main, ["report", str(inst_path), str(broken)])
    assert r.exit_code == 1 and "hard rule" in r.output
    assert sorted(p.name for p in broken.iterdir()) == ["roster.csv"]


# --------------------------------------------------------------------------------------------
# report.html: the heat-map's three views (issue 18 item 10)
# --------------------------------------------------------------------------------------------


class _HeatMap(HTMLParser):
    """The heat-map section of report.html: its cells (classes, hover text), radio views, legends and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # section nesting while inside the heat-map
        self.cells: list[tuple[set[str], str]] = []
        self.radios: list[dict] = []
        self.labels: dict[str, str] = {}
        self.text: list[str] = []
        self._rect: set[str] | None = None
        self._title: list[str] | None = None
        self._label: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "section" and (self.depth or a.get("id") == "heatmap"):
            self.depth += 1
        if not self.depth:
            return
        if tag == "rect":
            self._rect = set(a.get("class", "").split())
        elif tag == "title" and self._rect is not None:
            self._title = []
        elif tag == "input" and a.get("type") == "radio":
            self.radios.append(a)
        elif tag == "label":
            self._label, self.labels[a.get("for", "")] = a.get("for", ""), ""

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "section":
            self.depth -= 1
        elif tag == "title" and self._title is not None:
            self.cells.append((self._rect, "".join(self._title)))
            self._title = None
        elif tag == "rect":
            self._rect = None
        elif tag == "label":
            self._label = None

    def handle_data(self, data):
        if not self.depth:
            return
        self.text.append(data)
        if self._title is not None:
            self._title.append(data)
        if self._label is not None:
            self.labels[self._label] += data


@pytest.fixture(scope="module")
def gappy(tmp_path_factory):
    """Three schools on two days: "a" asks for police it cannot get (its guards meet the share),
    "b" has a teacher beside its only guard (short of the professional share), "c" has its police."""
    from conftest import NEAR2, doc, person, school, solve_checked

    gate = {"default": {"min": 2, "target": 2, "min_police": 1}}
    data = doc(
        [school("a", posts=[{"id": "a/gate", "demand": gate}]),
         school("b", loc=NEAR2, posts=[{"id": "b/gate", "demand": {"default": {"min": 2, "target": 2}}}]),
         school("c", loc=NEAR2, posts=[{"id": "c/gate", "demand": {"default": {"min": 1, "target": 1,
                                                                               "min_police": 1}}}])],
        [person("A1", "security_guard", "a"), person("A2", "security_guard", "a"),
         person("B1", "security_guard", "b"), person("B2", "teacher", "b"),
         person("P1", "police", "st")],
        units=[{"id": "st", "kind": "police", "schools": ["c"]}],
        days=("mon", "tue"),
    )
    tmp = tmp_path_factory.mktemp("heat-views")
    solved = solve_checked(data, tmp, time_limit=10)
    inst = instance_from_data(data)
    from scheduler.human.report import report_html

    html = report_html(inst, solved.rows, solved.report, solved.gaps, solved.summary)
    heat = _HeatMap()
    heat.feed(html)
    return inst, solved, html, heat


def _slot_of(title: str, inst) -> tuple[str, str, str]:
    for s in inst.schools:
        for day in inst.days:
            for p in s.peaks:
                prefix = f"{s.id} {inst.date_of(day).isoformat()} {p.name}:"
                if title.startswith(prefix):
                    return (s.id, inst.date_of(day).isoformat(), p.name)
    raise AssertionError(f"no school peak in {title!r}")


def test_report_heatmap_has_three_views(gappy):
    _inst, solved, html, heat = gappy
    assert [r["id"] for r in heat.radios] == ["hv-min", "hv-police", "hv-share"]
    assert [("checked" in r) for r in heat.radios] == [True, False, False]  # people at min is shown at first
    assert heat.labels == {"hv-min": "people at min", "hv-police": "police", "hv-share": "professional share"}
    text = "".join(heat.text)
    for title in ("People at min", "Police", "Professional share"):
        assert f"{title}:" in text
    # one cell per school peak, each coloured in every view
    assert len(heat.cells) == len({(o.school_id, o.date, o.peak) for o in solved.report.per_duty if o.kind == "post"})
    for classes, _ in heat.cells:
        assert {c[0] for c in classes} == {"k", "p", "s"}, classes
    # no script; the view switch is CSS, and on paper only the people-at-min view is coloured and explained
    assert "<script" not in html.lower()
    css = html[html.index("<style>"):html.index("</style>")]
    screen = css[css.index("@media screen"):css.index("@media print")]
    assert "#hv-police:checked ~ .heat-wrap rect.p0" in screen and "#hv-share:checked ~ .heat-wrap rect.s0" in screen
    printed = css[css.index("@media print"):]
    assert ".heat-lg.hv-min { display: flex !important; }" in printed and ".heat-tab" in printed


def test_report_heatmap_police_and_share_views_mark_the_gaps(gappy):
    inst, solved, _html, heat = gappy
    police = {(g.school_id, g.date, g.peak) for g in solved.gaps if g.rule == "police_shortfall" and g.school_id}
    share = {(g.school_id, g.date, g.peak) for g in solved.gaps if g.rule == "share_shortfall"}
    # the instance has both kinds of gap, at different schools, and a school peak with police met
    assert {k[0] for k in police} == {"a"} and {k[0] for k in share} == {"b"}, solved.gaps
    assert len(police) == len(share) == 2
    short = {"0", "1", "2", "3", "4"}
    marked_police = {_slot_of(t, inst) for cls, t in heat.cells if any(c[0] == "p" and c[1:] in short for c in cls)}
    marked_share = {_slot_of(t, inst) for cls, t in heat.cells if any(c[0] == "s" and c[1:] in short for c in cls)}
    assert marked_police == police
    assert marked_share == share
    by_slot = {_slot_of(t, inst): (cls, t) for cls, t in heat.cells}
    for key in police:  # nobody of the police came: 0 of the 1 asked for
        cls, tip = by_slot[key]
        assert "p0" in cls and "police 0/1" in tip
    for key in share:
        g = next(g for g in solved.gaps if g.rule == "share_shortfall" and (g.school_id, g.date, g.peak) == key)
        cls, tip = by_slot[key]
        assert f"{g.got} professional(s), {g.needed} needed" in tip
    for key, (cls, tip) in by_slot.items():
        if key[0] == "c":  # police and share met
            assert {"p5", "s5"} <= cls and "police 1/1" in tip and "professional share met" in tip
        if key[0] == "b":  # no police asked for
            assert "pn" in cls and "no police demand" in tip


def test_report_heatmap_words_not_rule_names(gappy):
    from models.instance import SOFT_RULES

    _inst, solved, _html, heat = gappy
    text = " ".join(heat.text)
    assert text.strip()
    rules = set(SOFT_RULES) | {g.rule for g in solved.gaps} | {"min_police", "share_compliance"}
    for rule in rules:
        assert rule not in text, rule
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)
