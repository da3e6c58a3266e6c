"""Human HTML outputs (issue 5, items 3 and 5): duty-sheets.html and report.html.

Both are made from real solves (checked with the validator): the shipped small school and a
generated 40-school district. The browser tests open the files in headless Chromium (Debian's
chromium and chromium-driver); without them they skip, unless SCHOOLPOST_REQUIRE_BROWSER=1 (CI),
where they fail.
"""

from __future__ import annotations

import base64
import copy
import os
import re
import time
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from chromium import assert_not_blank, start_chromium

from models import Gap, instance_from_data, load_document, load_instance
from models.instance import SOFT_RULES
from scheduler.check import check_rows
from scheduler.generate import generate
from scheduler.human.report import MAX_GAP_ROWS, coverage_class, report_html
from scheduler.human.sheets import duty_sheets_html
from scheduler.pipeline import solve_files

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "instances" / "small-school.yaml"
EVIL_NAME = "<script>alert(1)</script>"
EVIL_SCHOOL = 'Evil <b>"School"</b> & Co'
EVIL_ADDRESS = "1 <img src=x onerror=alert(2)> Road"
EVIL_POST = 'liuzhuang-ps/<gate>&"x"'
#: The report must stay usable for the reference city (docs/SPEC.md: 1,056 schools).
CITY_SCHOOLS = 1056
MAX_REPORT_BYTES = 15 * 2**20


@dataclass
class Made:
    inst: object
    rows: list
    report: object
    gaps: list
    summary: dict
    sheets: str
    html: str
    seconds: float


def _solve(inst, **options) -> Made:
    """solve_files, then the roster rows back from its roster.json text, checked again."""
    import json

    _, summary, report, gaps, files = solve_files(inst, **{"time_limit": 5, "workers": 1, "seed": 0, **options})
    data = json.loads(files["roster.json"])
    rows = data["assignments"] if isinstance(data, dict) else data
    rows = [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    assert report.ok, [str(v) for v in report.violations]
    again = check_rows(inst, rows)
    assert again.ok and again.objective == pytest.approx(report.objective)
    t0 = time.perf_counter()
    sheets = duty_sheets_html(inst, rows, report, gaps)
    html = report_html(inst, rows, report, gaps, summary)
    return Made(inst, rows, report, gaps, summary, sheets, html, time.perf_counter() - t0)


@pytest.fixture(scope="module")
def small() -> Made:
    return _solve(load_instance(SMALL))


@pytest.fixture(scope="module")
def district() -> Made:
    return _solve(instance_from_data(generate("district", 0, schools=40)), time_limit=4)


def _evil_doc() -> dict:
    doc = copy.deepcopy(load_document(SMALL))
    school = doc["schools"][0]
    school["name"] = EVIL_SCHOOL
    school["address"] = EVIL_ADDRESS
    school["posts"][0]["id"] = EVIL_POST
    school["posts"][0]["name"] = "<i>gate</i>"
    leader = next(p for p in doc["persons"] if p["role"] == "school_leader")
    leader["name"] = EVIL_NAME
    return doc


@pytest.fixture(scope="module")
def evil() -> Made:
    return _solve(instance_from_data(_evil_doc()))


# --------------------------------------------------------------------------------------------
# A tiny DOM, enough to read the sheets' tables back
# --------------------------------------------------------------------------------------------


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if c.tag == tag and (cls is None or cls in c.attrs.get("class", "").split()):
                    out.append(c)
                out.extend(c.find_all(tag, cls))
        return out

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _Builder(HTMLParser):
    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "col"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in self.VOID:
            self.cur = node

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(html: str) -> Node:
    b = _Builder()
    b.feed(html)
    return b.root


def sheet_cells(section: Node) -> dict[tuple[str, str, str], Node]:
    """{(day label, peak name, post label): td} of one school's duty table."""
    table = section.find_all("table", "duties")[0]
    head_rows = table.find_all("thead")[0].find_all("tr")
    days = []
    for th in head_rows[0].find_all("th")[1:]:
        days.extend([th.text()] * int(th.attrs.get("colspan", "1")))
    peaks = [th.children[0].strip() for th in head_rows[1].find_all("th")]
    assert len(days) == len(peaks)
    cells = {}
    for tr in table.find_all("tbody")[0].find_all("tr"):
        if "slot" in tr.classes():
            continue
        post = tr.find_all("th")[0].children[0].strip()
        tds = tr.find_all("td")
        assert len(tds) == len(peaks)
        for day, peak, td in zip(days, peaks, tds):
            cells[(day, peak, post)] = td
    return cells


def day_label(inst, date_iso: str) -> str:
    for day in inst.days:
        d = inst.date_of(day)
        if d.isoformat() == date_iso:
            return f"{day.capitalize()} {d.strftime('%d %b')}"
    raise AssertionError(date_iso)


def cell_names(td: Node) -> list[str]:
    """The people's names in a cell (the role mark after each name dropped)."""
    out = []
    for li in td.find_all("li"):
        role = li.find_all("span", "role")
        text = li.text()
        if role:
            text = text[: len(text) - len(role[0].text())]
        out.append(text.replace("\xa0", " ").strip())
    return out


# --------------------------------------------------------------------------------------------
# Duty sheets
# --------------------------------------------------------------------------------------------


def test_sheets_one_page_per_school(district):
    inst, html = district.inst, district.sheets
    root = parse(html)
    sections = root.find_all("section", "sheet")
    assert len(sections) == len(inst.schools) == 40
    for section, school in zip(sections, inst.schools):
        assert section.find_all("h2")[0].text() == (school.name or school.id)
        assert f"district {school.district}" in section.text()
    assert "@page" in html and "size: A4" in html and "break-after: page" in html
    first, last = inst.date_of(inst.days[0]), inst.date_of(inst.days[-1])
    assert f"week {first.isoformat()} – {last.isoformat()}" in parse(html).text().replace("\u2013", "–")


def test_sheets_names_at_their_cells(small, district):
    for made in (small, district):
        inst = made.inst
        posts = {p.id: p.name or p.id for s in inst.schools for p in s.posts}
        by_school = {s.id: sheet_cells(sec) for s, sec in zip(inst.schools, parse(made.sheets).find_all("section", "sheet"))}
        expected: dict[tuple, list[str]] = {}
        for r in made.rows:
            if r["route_id"]:
                continue
            key = (r["school_id"], day_label(inst, r["date"]), r["peak"], posts[r["post_id"]])
            expected.setdefault(key, []).append(r["person_name"] or r["person_id"])
        assert expected
        for (school_id, day, peak, post), names in expected.items():
            td = by_school[school_id][(day, peak, post)]
            assert sorted(cell_names(td)) == sorted(names), (school_id, day, peak, post)


def test_sheets_show_windows_and_roles(small):
    inst = small.inst
    text = parse(small.sheets).text()
    for peak in inst.schools[0].peaks:
        window = f"{peak.start // 60:02d}:{peak.start % 60:02d}–{peak.end // 60:02d}:{peak.end % 60:02d}"
        assert window in text
    # small-school: the Friday dismissal is an hour earlier than Monday to Thursday's
    assert "15:10–15:50" in text and "16:10–16:50" in text
    assert "P police" in text.replace("\xa0", " ") and "L leader" in text.replace("\xa0", " ")
    assert "Shift leader" in text and "Notes" in text


def test_sheets_highlight_short_and_below_target(small):
    inst = small.inst
    # the solved roster meets every min at the small school: no cell is short, those below target are marked
    cells = sheet_cells(parse(small.sheets).find_all("section", "sheet")[0])
    post_outcomes = [o for o in small.report.per_duty if o.kind == "post"]
    assert not any("short" in td.classes() for td in cells.values())
    assert sum("below" in td.classes() for td in cells.values()) == sum(
        1 for o in post_outcomes if o.below_target and not o.is_gap)
    # take everyone but one off the first gate duty: a gap
    first = next(r for r in small.rows if r["post_id"])
    key = (first["date"], first["peak"], first["post_id"])
    on_duty = [r for r in small.rows if (r["date"], r["peak"], r["post_id"]) == key]
    rows = [r for r in small.rows if r not in on_duty[1:]]
    report = check_rows(inst, rows)
    assert report.ok
    short = [o for o in report.per_duty if o.is_gap]
    assert [(o.date, o.peak, o.post_id) for o in short] == [key]
    reason = "only one of 3 came: TEST-REASON <nobody free>"
    gap = Gap(date=key[0], peak=key[1], school_id=first["school_id"], post_id=key[2], rule="shortfall",
              needed=short[0].min, got=1, reason=reason)
    html = duty_sheets_html(inst, rows, report, [gap])
    cells = sheet_cells(parse(html).find_all("section", "sheet")[0])
    post_name = inst.schools[0].posts[0].name
    hit = cells[(day_label(inst, key[0]), key[1], post_name)]
    assert "short" in hit.classes()
    assert f"SHORT {short[0].min - 1}" in hit.text()
    assert cell_names(hit) == [first["person_name"]]
    assert [k for k, td in cells.items() if "short" in td.classes()] == [(day_label(inst, key[0]), key[1], post_name)]
    assert escape(reason) in html and "Not covered (1)" in html


def test_sheets_list_routes_past_the_school(small):
    route = small.inst.routes[0]
    text = parse(small.sheets).text()
    assert "Patrol routes past this school" in text and (route.name or route.id) in text
    crew = [r["person_name"] for r in small.rows if r["route_id"] == route.id]
    assert crew and all(name in text for name in crew)


def test_escaping_of_instance_text(evil):
    for html in (evil.sheets, evil.html):
        assert EVIL_NAME not in html and "<img" not in html and '<b>"School"' not in html and "<i>gate" not in html
        assert escape(EVIL_SCHOOL) in html
    assert any(r["person_name"] == EVIL_NAME for r in evil.rows), "the leader is on duty"
    assert escape(EVIL_NAME) in evil.sheets and escape(EVIL_ADDRESS) in evil.sheets
    assert escape(EVIL_POST) in evil.sheets
    # the parsed text gives the names back exactly
    text = parse(evil.sheets).text()
    assert EVIL_NAME in text and EVIL_SCHOOL in text and EVIL_ADDRESS in text
    assert EVIL_SCHOOL in parse(evil.html).text()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

SECTIONS = ("kpis", "districts", "heatmap", "load", "gaps", "map")
#: Attributes that would load something; each must point inside the page (``#...``) or be ``data:``.
URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "srcset", "data", "background"}
EXTERNAL_CSS = [
    re.compile(r"""url\(\s*["']?\s*(?!data:|#)""", re.IGNORECASE),  # any url() not data: or a fragment
    re.compile(r"@import", re.IGNORECASE),
]


def _elements(node: Node):
    for c in node.children:
        if isinstance(c, Node):
            yield c
            yield from _elements(c)


def test_report_has_every_section(small, district):
    for made in (small, district):
        root = parse(made.html)
        ids = {s.attrs.get("id") for s in root.find_all("section")}
        assert set(SECTIONS) <= ids
        text = root.text()
        kpis = made.report.kpis
        for label in ("Status", "Objective", "Best bound", "Gap", "Fill rate", "Duties fully met", "Police demand met",
                      "Professional share", "Leader on duty", "Travel"):
            assert label in text, label
        assert f"{kpis['fill_rate']:.1%}" in text
        assert f"{kpis['duties_fully_met']:,} / {kpis['duties_total']:,}" in text
        assert made.summary["status"] in text
        for role in kpis["load_by_role"]:
            assert role in text
        assert len(root.find_all("svg")) >= 3


def test_report_heatmap_cells(district):
    inst, report = district.inst, district.report
    heat = next(s for s in parse(district.html).find_all("section") if s.attrs.get("id") == "heatmap")
    rects = heat.find_all("rect")
    slots = {(o.school_id, o.date, o.peak) for o in report.per_duty if o.kind == "post"}
    assert len(rects) == len(slots)
    colours = {next(c for c in r.classes() if c.startswith("k")) for r in rects}
    assert "k5" in colours  # some school peaks are fully covered
    # each cell's colour and hover text carry the numbers of its school peak
    groups: dict[tuple, list] = {}
    for o in report.per_duty:
        if o.kind == "post":
            groups.setdefault((o.school_id, o.date, o.peak), []).append(o)
    by_tip = {r.find_all("title")[0].text().split(" at min")[0]: r for r in rects}
    for (school_id, date, peak), group in groups.items():
        filled, demanded = sum(min(o.assigned, o.min) for o in group), sum(o.min for o in group)
        rect = by_tip[f"{school_id} {date} {peak}: {filled}/{demanded}"]
        assert coverage_class(filled, demanded) in rect.classes()
        assert ("k5" in rect.classes()) == (demanded > 0 and filled == demanded)
    assert len(inst.schools) == 40


def test_report_gaps_table(small, district):
    for made in (small, district):
        gaps_section = next(s for s in parse(made.html).find_all("section") if s.attrs.get("id") == "gaps")
        rows = gaps_section.find_all("tbody")[0].find_all("tr")
        assert len(rows) == min(len(made.gaps), MAX_GAP_ROWS)
        text = gaps_section.text()
        shown = made.gaps if len(made.gaps) <= MAX_GAP_ROWS else [g for g in made.gaps if g.rule == "shortfall"]
        for g in shown:  # all of them, or those short of min (listed first)
            assert g.reason in text
        order = list(SOFT_RULES)
        ranks = [order.index(tr.find_all("span", "rule-chip")[0].attrs["class"].split()[1]) for tr in rows]
        assert ranks == sorted(ranks), "worst rules first"
    # a very long list is capped, with the count
    fake = [Gap(date="2026-12-07", peak="arrival", school_id=small.inst.schools[0].id, post_id=f"p{i}",
                rule="shortfall", needed=2, got=0, reason=f"reason {i}") for i in range(1200)]
    html = report_html(small.inst, small.rows, small.report, fake, small.summary)
    section = next(s for s in parse(html).find_all("section") if s.attrs.get("id") == "gaps")
    assert len(section.find_all("tbody")[0].find_all("tr")) == MAX_GAP_ROWS
    assert f"Showing the first {MAX_GAP_ROWS} of 1,200" in section.text()
    assert "reason 499" in section.text() and "reason 500" not in section.text()


def test_report_map_has_every_school(district):
    section = next(s for s in parse(district.html).find_all("section") if s.attrs.get("id") == "map")
    circles = section.find_all("circle")
    assert len(circles) == len(district.inst.schools)
    tips = " ".join(c.find_all("title")[0].text() for c in circles)
    assert all(f"({s.id})" in tips for s in district.inst.schools)


def test_no_external_resources(small, district, evil):
    for made in (small, district, evil):
        for html in (made.html, made.sheets):
            root = parse(html)
            for el in _elements(root):
                assert el.tag not in ("script", "iframe", "object", "embed", "img", "image", "video", "audio", "base")
                for name, value in el.attrs.items():
                    if name in URL_ATTRS:
                        assert value.startswith(("#", "data:")), (el.tag, name, value)
                    assert not name.startswith("on"), (el.tag, name)
                if el.tag == "link":
                    assert el.attrs.get("rel") == "icon" and el.attrs.get("href", "").startswith("data:")
            css = " ".join(el.text() for el in _elements(root) if el.tag == "style")
            css += " ".join(el.attrs.get("style", "") for el in _elements(root))
            assert css
            for pattern in EXTERNAL_CSS:
                assert not pattern.search(css), pattern.pattern
            assert not re.search(r"\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", html, re.IGNORECASE)


def test_size_on_a_generated_district(district):
    n = len(district.inst.schools)
    report_bytes, sheets_bytes = len(district.html.encode()), len(district.sheets.encode())
    assert report_bytes < MAX_REPORT_BYTES
    # per school, scaled to the reference city, the report stays under the bound (the gaps table
    # is capped, so its share per school only shrinks with more schools)
    assert report_bytes / n * CITY_SCHOOLS < MAX_REPORT_BYTES, report_bytes
    assert sheets_bytes / n * CITY_SCHOOLS < 30 * 2**20, sheets_bytes
    assert district.seconds < 5, district.seconds


# --------------------------------------------------------------------------------------------
# Headless Chromium
# --------------------------------------------------------------------------------------------




@pytest.fixture(scope="module")
def browser(request, tmp_path_factory):
    return start_chromium(request, tmp_path_factory, window="1280,1400")


def _open(driver, path: Path) -> list[dict]:
    """Open a file, wait until it has loaded; the console entries of this page."""
    driver.get_log("browser")  # drop entries of earlier pages
    driver.get(path.resolve().as_uri())
    deadline = time.monotonic() + 30
    while driver.execute_script("return document.readyState") != "complete":
        assert time.monotonic() < deadline, "page did not finish loading"
        time.sleep(0.1)
    return driver.get_log("browser")


@pytest.mark.parametrize("page", ["report", "sheets"])
def test_opens_in_headless_chromium(browser, district, tmp_path, page):
    html = district.html if page == "report" else district.sheets
    path = tmp_path / ("report.html" if page == "report" else "duty-sheets.html")
    path.write_text(html, encoding="utf-8")
    log = _open(browser, path)
    severe = [e for e in log if e.get("level") == "SEVERE"]
    assert not severe, severe
    assert browser.execute_script("return document.querySelectorAll('svg, table').length") > 0
    png = browser.get_screenshot_as_png()
    assert_not_blank(png)
    shots = os.environ.get("SCHOOLPOST_SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        (Path(shots) / f"{page}.png").write_bytes(png)
    if page == "sheets":
        # printed: one A4 page per school
        pdf = base64.b64decode(browser.execute_cdp_cmd(
            "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})["data"])
        pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
        assert pages == len(district.inst.schools), pages


def test_malicious_names_stay_text_in_chromium(browser, evil, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    for name, html in (("duty-sheets.html", evil.sheets), ("report.html", evil.html)):
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        log = _open(browser, path)
        assert not [e for e in log if e.get("level") == "SEVERE"], log
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018 - an alert would mean a name ran as a script
        body = browser.find_element(By.TAG_NAME, "body").text
        assert EVIL_SCHOOL in body
        if name == "duty-sheets.html":
            assert EVIL_NAME in body
        assert browser.execute_script("return document.querySelectorAll('script, img').length") == 0
