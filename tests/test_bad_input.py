"""Bad input (issue 6, item 1): a corpus of malformed instances, each refused by every command
with exit code 2 and one line naming the field, nothing written; and fuzzing of the loader, which
lets nothing but :class:`models.loader.InstanceError` escape.

The corpus is ``tests/bad_inputs/``. A YAML file states what it expects on its first line::

    # expect: schools[0].peaks[1] | end must be after start

(the field path the message must start with, empty for a problem of the whole file, then words the
message must contain). Files that cannot hold a comment (JSON, empty files) are listed in
``tests/bad_inputs/EXPECTED.yaml`` the same way. Binary, non-UTF-8, very large and deeply nested
files and workbooks are made at test time (:data:`GENERATED`).

The fuzz tests are deterministic (``derandomize``); to fuzz longer with fresh examples::

    SCHOOLPOST_FUZZ_EXAMPLES=5000 SCHOOLPOST_FUZZ_RANDOM=1 python -m pytest -q tests/test_bad_input.py -k fuzz
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from models.loader import MAX_FILE_BYTES, InstanceError, instance_from_data, load_document, load_instance
from models.spreadsheet import template_bytes
from scheduler.commands import main
from scheduler.duties import expand

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "bad_inputs"


TEMPLATE = template_bytes()


# ------------------------------------------------------------------------------------------------
# The corpus
# ------------------------------------------------------------------------------------------------

_EXPECT = re.compile(r"^# expect:\s*(?P<field>.*?)\s*\|\s*(?P<words>.+)$")


def committed_cases() -> dict[str, tuple[Path, str, str]]:
    """``{file name: (path, field, words)}`` of every file in tests/bad_inputs/."""
    listed = yaml.safe_load((CORPUS / "EXPECTED.yaml").read_text(encoding="utf-8"))
    cases = {}
    for path in sorted(CORPUS.iterdir()):
        if path.name == "EXPECTED.yaml":
            continue
        if path.name in listed:
            entry = listed[path.name]
            cases[path.name] = (path, entry["field"] or "", entry["words"])
            continue
        first = path.read_text(encoding="utf-8").partition("\n")[0]
        match = _EXPECT.match(first)
        assert match, f"{path.name}: no '# expect: FIELD | WORDS' first line and no entry in EXPECTED.yaml"
        cases[path.name] = (path, match["field"].strip(), match["words"].strip())
    return cases


COMMITTED = committed_cases()


def _workbook(change) -> bytes:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(TEMPLATE))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _set_cell(sheet: str, column: str, row_of: str, value):
    """Set ``column`` of the row whose first cell is ``row_of`` in ``sheet`` to ``value``."""
    def change(wb):
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == row_of)
        ws.cell(row=row, column=header.index(column) + 1).value = value
    return change


def _row_of(sheet: str, first: str) -> int:
    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(TEMPLATE))[sheet]
    return next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == first)


def _sparse(path: Path) -> None:
    with open(path, "wb") as fh:  # a sparse file: takes no disk, reads as zeros
        fh.write(b"format: schoolpost/1\n")
        fh.truncate(MAX_FILE_BYTES + 1)


#: Files made at test time (binary, too large or too deep to commit): name -> (make, field, words);
#: ``make`` is bytes to write or a function of the path.
GENERATED = {
    "binary.yaml": (bytes(range(256)) * 4, "", "the file is binary"),
    "not-utf8.yaml": ("format: schoolpost/1\nname: Caf\u00e9\n".encode("latin-1"), "", "not UTF-8"),
    "utf16.json": (json.dumps({"format": "schoolpost/1"}).encode("utf-16"), "", "the file is binary"),
    "deep-lists-10000.yaml": (b"format: schoolpost/1\nname: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", "",
                              "nesting deeper than 64 levels"),
    "deep-maps-10000.yaml": (b"{a: " * 10_000 + b"1" + b"}" * 10_000 + b"\n", "", "nesting deeper than 64 levels"),
    "deep-block-3000.yaml": ("".join(" " * i + "-\n" for i in range(3000)).encode(), "", "nesting deeper"),
    "deep-lists-10000.json": (b"[" * 10_000 + b"]" * 10_000, "", "nesting deeper than 64 levels"),
    "deep-maps-100000.json": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "", "nesting deeper than 64 levels"),
    "too-large.yaml": (_sparse, "", f"the limit is {MAX_FILE_BYTES // 2**20} MiB"),
    "no-such-file.yaml": (None, "", "no such file"),
    "not-a-zip.xlsx": (b"format: schoolpost/1\n", "", "not an .xlsx workbook"),
    "old-format.xlsx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "", "old-format .xls"),
    "corrupt-zip.xlsx": (b"PK\x03\x04" + bytes(range(256)) * 8, "", "not a readable .xlsx workbook"),
    "truncated.xlsx": (TEMPLATE[: len(TEMPLATE) // 2], "", "not a readable .xlsx workbook"),
    "empty.xlsx": (b"", "", "the file is empty"),
    "workbook-unknown-role.xlsx": (_workbook(_set_cell("persons", "role", "P01", "sheriff")),
                                   f"sheet 'persons', row {_row_of('persons', 'P01')}, column 'role'",
                                   "must be 'police'"),
    "workbook-bad-time.xlsx": (_workbook(_set_cell("peaks", "start", "example-ps", "7:75")),
                               f"sheet 'peaks', row {_row_of('peaks', 'example-ps')}, column 'start'", "'7:75'"),
    "workbook-unknown-unit.xlsx": (_workbook(_set_cell("persons", "unit", "P01", "nowhere")),
                                   f"sheet 'persons', row {_row_of('persons', 'P01')}, column 'unit'",
                                   "no unit or school with id 'nowhere'"),
    "workbook-huge-number.xlsx": (_workbook(_set_cell("schools", "students", "example-ps", "9" * 5000)),
                                  f"sheet 'schools', row {_row_of('schools', 'example-ps')}, column 'students'",
                                  "at most 4,300 digits"),
    "workbook-date-out-of-range.xlsx": (_workbook(_set_cell("leave", "date", "P02", 99_999_999)),  # openpyxl warns
                                        f"sheet 'leave', row {_row_of('leave', 'P02')}, column 'date'",
                                        "must be a date"),
    "workbook-no-policy.xlsx": (_workbook(lambda wb: wb.remove(wb["policy"])), "sheet 'policy'", "is missing"),
    "workbook-unknown-sheet.xlsx": (_workbook(lambda wb: wb.create_sheet("macros")["A1"].__setattr__("value", "x")),
                                    "sheet 'macros'", "unknown sheet"),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, tuple[Path, str, str]]:
    folder = tmp_path_factory.mktemp("generated")
    cases = {}
    for name, (make, field, words) in GENERATED.items():
        path = folder / name
        if isinstance(make, bytes):
            path.write_bytes(make)
        elif make is not None:
            make(path)
        cases[name] = (path, field, words)
    return cases


def test_the_corpus_is_big_and_covers_every_category():
    """At least 45 committed files, each small UTF-8 text; every category of the issue is there."""
    assert len(COMMITTED) >= 45
    for path, _, _ in COMMITTED.values():
        assert path.stat().st_size < 16_000, path.name
        path.read_bytes().decode("utf-8")
    names = " ".join(COMMITTED) + " " + " ".join(GENERATED)
    for category in ("type-", "missing-", "unknown-field", "dup-", "ref-", "end-before-start", "twice-one-day",
                     "negative", "absurd", "nan", "unknown-role", "unit-serves-no-school", "latitude", "empty",
                     "binary", "not-utf8", "alias-bomb", "deep-", "too-large", "python-tag", "pin-", "date-",
                     "days-", "time-", "workbook-"):
        assert category in names, category


SCENARIOS = "scenarios:\n  - name: rain\n    operations:\n      - scale_demand: {factor: 1.5}\n"


def _refused(args: list[str], field: str, words: str, out: Path | None = None) -> str:
    """Run the CLI: exit 2, exactly one line 'error: FIELD: ...' holding ``words``, no traceback,
    ``out`` not made."""
    with warnings.catch_warnings():  # a library's warning would be another line on stderr
        warnings.simplefilter("error", UserWarning)
        r = CliRunner().invoke(main, args)
    assert isinstance(r.exception, SystemExit), (args, r.exception, r.output)
    assert r.exit_code == 2, (args, r.output)
    assert r.output.endswith("\n") and len(r.output.splitlines()) == 1, repr(r.output)
    line = r.output.rstrip("\n")
    assert line.startswith(f"error: {field}: " if field else "error: "), line
    assert words in line, (words, line)
    assert "Traceback" not in line
    if out is not None:
        assert not out.exists(), f"{out} was made for bad input"
    return line


def _run_every_command(path: Path, field: str, words: str, tmp_path: Path) -> None:
    folder = tmp_path / "some-roster"
    folder.mkdir(exist_ok=True)
    out = tmp_path / "out"
    _refused(["solve", str(path), "-o", str(out), "--time-limit", "3", "--workers", "1"], field, words, out)
    _refused(["check", str(path), str(folder)], field, words)
    _refused(["info", str(path)], field, words)
    _refused(["info", str(path), "--json"], field, words)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_committed_bad_input_is_refused_by_every_command(name, tmp_path):
    """solve, check and info: exit code 2, one line naming the field, nothing written."""
    path, field, words = COMMITTED[name]
    _run_every_command(path, field, words, tmp_path)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_bad_input_is_refused_by_every_command(name, generated, tmp_path):
    """The same for binary, non-UTF-8, deeply nested, very large files and broken workbooks."""
    path, field, words = generated[name]
    _run_every_command(path, field, words, tmp_path)


BATCH_AND_WHATIF = ["empty.yaml", "python-tag.yaml", "alias-bomb.yaml", "unit-serves-no-school.yaml",
                    "date-unquoted-month-13.yaml", "dup-key-persons.yaml", "type-persons-text.json",
                    "ref-matrix-to.json", "pin-unknown-post.yaml", "binary.yaml", "deep-lists-10000.yaml",
                    "too-large.yaml", "workbook-unknown-role.xlsx"]


@pytest.mark.parametrize("name", BATCH_AND_WHATIF)
def test_batch_whatif_and_staffing_refuse_bad_input_too(name, generated, tmp_path):
    """batch, whatif (with a valid scenario file) and staffing refuse the same way and write nothing."""
    path, field, words = {**COMMITTED, **generated}[name]
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(SCENARIOS, encoding="utf-8")
    batch, whatif, staffing = tmp_path / "batch", tmp_path / "whatif", tmp_path / "staffing"
    _refused(["batch", str(path), "-o", str(batch), "--time-limit", "3", "--jobs", "1"], field, words, batch)
    _refused(["whatif", str(path), str(scenarios), "-o", str(whatif), "--time-limit", "3", "--jobs", "1"],
             field, words, whatif)
    _refused(["staffing", str(path), "--role", "police", "-o", str(staffing), "--time-limit", "3"],
             field, words, staffing)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenarios.yaml"]


def test_a_bad_scenario_file_is_refused_the_same_way(tmp_path):
    """whatif's own input: a python tag and an unquoted impossible date in the scenario file."""
    scenarios = tmp_path / "scenarios.yaml"
    for text, field, words in [
        ("scenarios: !!python/object/apply:os.system [echo pwned]\n", "", "could not determine a constructor"),
        ("scenarios:\n  - name: x\n    operations: [{leave: {role: police, dates: [2026-02-30]}}]\n",
         "scenarios[0].operations[0].leave.dates[0]", "not a valid date"),
    ]:
        scenarios.write_text(text, encoding="utf-8")
        _refused(["whatif", str(ROOT / "instances" / "small-school.yaml"), str(scenarios), "-o", str(tmp_path / "o")],
                 field, words, tmp_path / "o")


def test_a_hundred_thousand_nested_lists_do_not_crash_the_process(tmp_path):
    """libyaml composing 100,000 nested lists overflows the C stack (a segfault, no exception):
    the loader refuses deep nesting from the event stream first. Run in a child process so that a
    regression fails this test rather than killing the test run."""
    path = tmp_path / "deep.yaml"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    r = subprocess.run([sys.executable, "-m", "scheduler", "info", str(path)], check=False, capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    assert r.stderr == "error: nesting deeper than 64 levels\n" and r.stdout == ""


def test_messages_stay_on_one_line_whatever_the_keys_hold():
    """A key holding a line break or a line separator is escaped in the message."""
    base = yaml.safe_load((CORPUS / "unknown-field-top.yaml").read_text(encoding="utf-8"))
    base.pop("colour")
    for key in ("a\nb", "a\u2028b", "a\rb", "x\x85y"):
        data = {**base, key: 1}
        with pytest.raises(InstanceError) as info:
            instance_from_data(data)
        assert len(str(info.value).splitlines()) == 1, repr(str(info.value))
        assert str(info.value).endswith(": unknown field")


# ------------------------------------------------------------------------------------------------
# Fuzzing: nothing but InstanceError ever escapes the loader
# ------------------------------------------------------------------------------------------------

VALID = {name: load_document(ROOT / "instances" / f"{name}.yaml") for name in ("small-school", "rural-primary")}

ODD_TEXT = ["", " ", "x", "07:75", "25:00", "24:00", "24:01", "7:5", "07:20\n", "٠٧:٢٠", "2026-02-30", "9999-12-31",
            "0001-01-01", "\x00", "a" * 300, "mon", "sun", "police", "sheriff", "default", "arrival", "NaN", "inf",
            "1e12", "-1", "schoolpost/1", "schoolpost/2", "../../etc/passwd", "a\nb", "\u2028", "Asia/Shanghai",
            "liuzhuang-ps", "xd-ps", "xindian-station", "{{7*7}}", "=1+1"]
ODD_NUMBERS = [0, -1, 1, 2**31, 2**63, 10**9, 10**12, 10**30, 10**400, -10**400, 1e308, -1e308, 1e-300, 0.5,
               math.nan, math.inf, -math.inf]
ODD_DATES = [dt.date(9999, 12, 31), dt.date(9999, 12, 28), dt.date(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59),
             dt.datetime(2026, 12, 7, 7, 20), dt.time(7, 20), dt.timedelta(minutes=440)]


def _values() -> st.SearchStrategy:
    leaf = st.one_of(
        st.none(), st.booleans(), st.integers(), st.sampled_from(ODD_NUMBERS), st.floats(),
        st.text(max_size=12), st.sampled_from(ODD_TEXT), st.dates(), st.datetimes(), st.times(),
        st.sampled_from(ODD_DATES),
        st.binary(max_size=6),
    )
    hashable = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6))
    return st.one_of(
        leaf, st.lists(leaf, max_size=3), st.lists(leaf, max_size=3).map(tuple), st.frozensets(hashable, max_size=3),
        st.dictionaries(hashable, leaf, max_size=3), st.lists(st.lists(leaf, max_size=2), max_size=2),
        st.lists(st.dictionaries(hashable, leaf, max_size=2), max_size=2),
    )


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


def _at(node, path):
    for part in path:
        node = node[part]
    return node


def _mutate(doc, data) -> None:
    """One random change: delete, replace with a random value, duplicate an item, swap the type,
    rename a key or add a key."""
    paths = [p for p in _paths(doc) if p]
    depth = data.draw(st.sampled_from(sorted({len(p) for p in paths})), label="depth")  # shallow fields often too
    path = data.draw(st.sampled_from([p for p in paths if len(p) == depth]), label="path")
    parent, key = _at(doc, path[:-1]), path[-1]
    node = parent[key]
    op = data.draw(st.sampled_from(["delete", "replace", "replace", "duplicate", "swap", "rename", "add"]), label="op")
    if op == "delete":
        del parent[key]
    elif op == "replace":
        parent[key] = data.draw(_values(), label="value")
    elif op == "duplicate" and isinstance(node, list) and node:
        node.append(copy.deepcopy(data.draw(st.sampled_from(node), label="item")))
    elif op == "swap":
        if isinstance(node, dict):
            parent[key] = list(node.values())
        elif isinstance(node, list):
            parent[key] = {str(i): v for i, v in enumerate(node)}
        elif isinstance(node, bool | int | float):
            parent[key] = str(node)
        elif isinstance(node, str):
            parent[key] = int(node) if node.isdigit() else [node]
        else:
            parent[key] = {"value": node}
    elif op == "rename" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from([f"{key}x", str(key).upper(), 1, None, "default", "id"]), label="key")] = \
            parent.pop(key)
    elif op == "add" and isinstance(node, dict):
        node[data.draw(st.sampled_from(["extra", "id", "default", "min", "days", 7]), label="key")] = \
            data.draw(_values(), label="value")


def _only_instance_errors(load):
    """Run ``load()``; an Instance is expanded into duties. Only InstanceError may escape."""
    try:
        inst = load()
        if inst is not None:
            expand(inst)
    except InstanceError as exc:
        assert str(exc) and "\n" not in str(exc), repr(str(exc))


#: deterministic in CI; SCHOOLPOST_FUZZ_EXAMPLES=5000 SCHOOLPOST_FUZZ_RANDOM=1 fuzzes longer, with fresh seeds
_RANDOM = bool(os.environ.get("SCHOOLPOST_FUZZ_RANDOM"))
_EXAMPLES = int(os.environ.get("SCHOOLPOST_FUZZ_EXAMPLES", "250"))
FUZZ = settings(max_examples=_EXAMPLES, deadline=None, derandomize=not _RANDOM, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(st.sampled_from(sorted(VALID)), st.integers(1, 3), st.data())
def test_fuzz_mutated_documents_raise_only_instance_errors(name, changes, data):
    """Random mutations of the shipped instances: instance_from_data returns an Instance (which
    expands into duties) or raises InstanceError; never ValueError, TypeError, KeyError,
    RecursionError, OverflowError..."""
    doc = copy.deepcopy(VALID[name])
    for _ in range(changes):
        _mutate(doc, data)
    _only_instance_errors(lambda: instance_from_data(doc))


_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_TEXT = re.compile(r"^\d{1,2}:\d{2}$")


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str) and _DATE_TEXT.match(value):
        return "date"
    if isinstance(value, str) and _TIME_TEXT.match(value):
        return "time"
    return "text" if isinstance(value, str) else "other"


#: values of a leaf's own kind, edge cases first: what a careless spreadsheet export gives
LIKE = {
    "bool": st.one_of(st.booleans(), st.sampled_from(["yes", "no", 0, 1, 2])),
    "number": st.one_of(st.integers(), st.floats(), st.sampled_from(ODD_NUMBERS),
                        st.sampled_from(ODD_NUMBERS).map(str)),
    "date": st.one_of(st.dates(), st.dates().map(str), st.sampled_from(ODD_DATES),
                      st.datetimes().map(lambda d: d.isoformat()), st.sampled_from(["2026-02-30", "2026-13-01", ""])),
    "time": st.one_of(st.times().map(lambda t: t.strftime("%H:%M")), st.integers(-1, 2000),
                      st.text(alphabet="0123456789:-+. ", max_size=7), st.times(), st.sampled_from(ODD_DATES)),
    "text": st.one_of(st.text(max_size=30), st.sampled_from(ODD_TEXT)),
    "other": _values(),
}


@FUZZ
@given(st.sampled_from(sorted(VALID)), st.data())
def test_fuzz_leaves_of_their_own_kind_raise_only_instance_errors(name, data):
    """Every leaf replaced by an edge case of its own kind (dates at the ends of the calendar,
    huge and non-finite numbers, times past 24:00...): only InstanceError escapes."""
    doc = copy.deepcopy(VALID[name])
    leaves = [p for p in _paths(doc) if p and not isinstance(_at(doc, p), dict | list)]
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        kinds = sorted({_kind(_at(doc, p)) for p in leaves})
        kind = data.draw(st.sampled_from(kinds), label="kind")
        path = data.draw(st.sampled_from([p for p in leaves if _kind(_at(doc, p)) == kind]), label="path")
        _at(doc, path[:-1])[path[-1]] = data.draw(LIKE[kind], label="value")
    _only_instance_errors(lambda: instance_from_data(doc))


YAMLISH = st.text(alphabet="{}[]:,-!&*#\"'|>?%@ \n\t0123456789abcdefmnorstuxyz._+eE\\/", max_size=200)


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                         YAMLISH.map(str.encode), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b)),
       suffix=st.sampled_from([".yaml", ".yml", ".json", ".xlsx", ".txt"]))
def test_fuzz_random_files_raise_only_instance_errors(tmp_path, content, suffix):
    """Random bytes and text in a file of any suffix: load_instance raises InstanceError only."""
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(content)
    _only_instance_errors(lambda: load_instance(path))


TEXT_OF_VALID = {name: (ROOT / "instances" / f"{name}.yaml").read_text(encoding="utf-8") for name in VALID}


@FUZZ
@given(name=st.sampled_from(sorted(VALID)), cut=st.integers(0, 10**6), width=st.integers(0, 40),
       insert=st.one_of(YAMLISH, st.sampled_from(["&a ", "*a", "!!python/object:os.system ", "!include ", "{", "- ",
                                                  "2026-13-45", "!!int x", ": :", "<<: ", "\t", "\x85", "\ufeff"])),
       suffix=st.sampled_from([".yaml", ".json"]))
def test_fuzz_spliced_text_raises_only_instance_errors(tmp_path, name, cut, width, insert, suffix):
    """A shipped instance's text (YAML, or as JSON) with a random span replaced by random text."""
    text = TEXT_OF_VALID[name] if suffix == ".yaml" else json.dumps(VALID[name], default=str, indent=1)
    at = cut % (len(text) + 1)
    path = tmp_path / f"spliced{suffix}"
    path.write_text(text[:at] + insert + text[at + width:], encoding="utf-8")
    _only_instance_errors(lambda: load_instance(path))


CELL_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.sampled_from([10**15, -1, 0, 1e308, 0.5, 1 / 3]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12).filter(lambda t: not ILLEGAL_CHARACTERS_RE.search(t)),
    st.sampled_from([t for t in ODD_TEXT if not ILLEGAL_CHARACTERS_RE.search(t)]),
    st.sampled_from(["-", "mon-fri", "fri-mon", "traffic:x", "a:1, a:2", '"a', "=1/0", '=WEBSERVICE("http://x")',
                     "# note", "default", "2026-12-07", "07:20", "24:00", "P01", "example-ps", "west-station",
                     "9" * 5000, "traffic:" + "9" * 5000, "1e400", "-0", "1_000", " 7 ", "x" * 1001]),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
    st.times(), st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=2)),
)


@settings(max_examples=max(1, _EXAMPLES // 2), deadline=None, derandomize=not _RANDOM, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), changes=st.integers(1, 4))
def test_fuzz_mutated_workbooks_raise_only_instance_errors(tmp_path, data, changes):
    """The template workbook with random cells set to random values (and now and then a sheet
    renamed, removed or a row deleted): load_instance raises InstanceError only."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(TEMPLATE))
    for _ in range(changes):
        ws = wb.worksheets[data.draw(st.integers(0, len(wb.worksheets) - 1), label="sheet")]
        op = data.draw(st.sampled_from(["cell"] * 6 + ["title", "remove", "delete_row", "insert_row"]), label="op")
        if op == "cell":
            row = data.draw(st.one_of(st.integers(3, 8), st.integers(1, 20)), label="row")  # mostly data rows
            col = data.draw(st.integers(1, 14), label="col")
            ws.cell(row=row, column=col).value = data.draw(CELL_VALUES, label="value")
        elif op == "title":
            title = data.draw(st.sampled_from(["Persons", "Policy ", "x", "readme", "PEAKS", "notes", "units"]),
                              label="title")
            if title not in wb.sheetnames:
                ws.title = title
        elif op == "remove" and len(wb.worksheets) > 1:
            wb.remove(ws)
        elif op == "delete_row":
            ws.delete_rows(data.draw(st.integers(1, 12), label="row"))
        elif op == "insert_row":
            ws.insert_rows(data.draw(st.integers(1, 12), label="row"))
    path = tmp_path / "fuzz.xlsx"
    wb.save(path)
    _only_instance_errors(lambda: load_instance(path))
