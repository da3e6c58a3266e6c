"""Printable duty sheets (issue 5): ``duty-sheets.html``, one page per school for the week.

Each page names the school (name, id, type, district, address) and the week, then a table with the
school's posts as rows and day x peak as columns (the instance's school days; on each day the
peaks the school actually has then, with their windows). A cell lists the people on that duty,
name and role, and the count against ``min`` / ``target``; a cell short of ``min`` (or of its
police or a skill) is highlighted, one below ``target`` marked more softly. A last row notes school
peaks without a leader or short of the professional share. Below the table: the school's gaps
with their reasons (the first few), the patrol routes that pass the school with their crews, and
lines for notes and signatures.

Printed (A4 landscape), each school starts a new page; a school whose table would run over is
scaled down (CSS ``zoom``, to 60 % at least) by an estimate of its height, so that a school of
up to about a 35-person post still prints on one page.

Made from the instance, the roster rows (SPEC columns), the validator's report and the gap rows
only. All instance and roster text is escaped: ids and names come from user input.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from models.instance import Instance, School, format_hhmm
from scheduler.human.labels import DAY_LABELS, ROLE_CODES, ROLE_LABELS, html_head, rule_label
from scheduler.human.labels import esc as _e
from scheduler.human.labels import runs_on as _runs_on
from scheduler.human.labels import week as week_of

if TYPE_CHECKING:
    from scheduler.check.report import DutyOutcome

NOBODY = "nobody"
NOBODY_SPAN = '<span class="empty-note">nobody</span>'
_ROLE_ORDER = {role: i for i, role in enumerate(ROLE_LABELS)}
#: Gaps listed on a school's page (the cells already show below-target duties).
MAX_GAP_LINES = 5

CSS = """
:root { --ink:#1b1f24; --muted:#5b6470; --line:#b9c0c8; --short:#fbd3cf; --short-ink:#9b1c12;
        --soft:#fdf0c9; --soft-ink:#7a5a00; --head:#eef1f4; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #e9ecef; color: var(--ink);
       font: 13px/1.3 "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif; }
.toc { max-width: 297mm; margin: 16px auto; padding: 12px 18px; background: #fff; border-radius: 6px; }
.toc h1 { font-size: 18px; margin: 0 0 6px; }
.toc p { margin: 0 0 8px; color: var(--muted); }
.toc ol { columns: 3 14em; margin: 0; padding-left: 2.6em; font-size: 12px; }
.toc a { color: #0b4f8a; text-decoration: none; }
.sheet { max-width: 297mm; margin: 16px auto; padding: 10mm 12mm; background: #fff;
         box-shadow: 0 1px 4px rgba(0,0,0,.18); border-radius: 4px; }
.sheet header { display: flex; justify-content: space-between; gap: 16px; align-items: flex-end;
                border-bottom: 2px solid var(--ink); padding-bottom: 4px; margin-bottom: 6px; }
.sheet h2 { font-size: 19px; margin: 0; line-height: 1.2; }
.sheet .meta { color: var(--muted); font-size: 11.5px; }
.sheet .week { text-align: right; font-size: 11.5px; white-space: nowrap; }
.sheet .week strong { font-size: 14px; }
table.duties { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 10.5px; }
table.duties th, table.duties td { border: 1px solid var(--line); padding: 2px 3px; vertical-align: top;
                                   overflow-wrap: anywhere; }
table.duties thead th { background: var(--head); text-align: center; font-weight: 600; line-height: 1.2; }
table.duties thead .win { display: block; font-weight: 400; color: var(--muted); }
table.duties th.post { text-align: left; width: 12%; background: var(--head); }
table.duties th.post .kind { display: block; font-weight: 400; color: var(--muted); font-size: 9.5px; }
td.cell ul { list-style: none; margin: 0; padding: 0; }
td.cell li { margin: 0; line-height: 1.25; }
.role { color: var(--muted); font-size: 8.5px; font-weight: 600; }
td.cell .count { display: block; margin-top: 1px; font-size: 9px; color: var(--muted); }
td.cell.short { background: var(--short); outline: 2px solid var(--short-ink); outline-offset: -2px; }
td.cell.short .count { color: var(--short-ink); font-weight: 700; }
td.cell.below { background: var(--soft); }
td.cell.below .count { color: var(--soft-ink); }
td.cell.empty { color: var(--muted); text-align: center; }
tr.slot td { font-size: 9px; color: var(--short-ink); background: #fafafa; }
tr.slot th { font-size: 9px; font-weight: 400; text-align: left; background: #fafafa; }
.legend { font-size: 9px; color: var(--muted); margin: 3px 0 0; }
.legend .sw { display: inline-block; padding: 0 5px; margin-right: 5px; border: 1px solid var(--line); }
.legend .short { background: var(--short); border-color: var(--short-ink); }
.legend .below { background: var(--soft); }
h3 { font-size: 11.5px; margin: 6px 0 2px; }
ul.gaps { margin: 0; padding-left: 16px; font-size: 9.5px; line-height: 1.25; }
ul.gaps .rule { font-weight: 600; }
table.routes { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 9.5px; }
table.routes th, table.routes td { border: 1px solid var(--line); padding: 1px 3px; text-align: left;
                                   vertical-align: top; line-height: 1.25; }
table.routes th { background: var(--head); }
table.routes th.route { width: 22%; }
table.routes .meta { font-weight: 400; font-size: 9px; }
.signatures { display: grid; grid-template-columns: 3fr 2fr 3fr 5fr; gap: 0 14px; margin-top: 8px;
              font-size: 9.5px; color: var(--muted); }
.signatures div { border-bottom: 1px solid var(--ink); padding-top: 22px; }
.empty-note { color: var(--muted); font-style: italic; }
@page { size: A4 landscape; margin: 8mm; }
@media print {
  body { background: #fff; }
  .toc { display: none; }
  .sheet { max-width: none; margin: 0; padding: 0; box-shadow: none; border-radius: 0;
           break-after: page; page-break-after: always; zoom: var(--fit, 1); }
  .sheet:last-of-type { break-after: auto; page-break-after: auto; }
  table.duties tr, table.routes tr, ul.gaps li { break-inside: avoid; }
}
"""


def _date_label(day: str, date: dt.date) -> str:
    return f"{DAY_LABELS.get(day, day)} {date.strftime('%d %b')}"


def _role_mark(role: str) -> str:
    return f'<span class="role">{_e(ROLE_CODES.get(role, role))}</span>'


def _person_label(row: Mapping[str, str]) -> str:
    name = (row.get("person_name") or "").strip() or row.get("person_id", "")
    return f'<li title="{_e(row.get("person_id", ""))}">{_e(name)}&nbsp;{_role_mark(row.get("role", ""))}</li>'


ROLE_LEGEND = " ".join(f"<b>{code}</b>&nbsp;{_e(ROLE_LABELS[role])}" for role, code in ROLE_CODES.items())


class _Index:
    """The inputs grouped once for all schools."""

    def __init__(self, inst: Instance, rows: Iterable[Mapping[str, str]], report, gaps: Iterable) -> None:
        self.post_rows: dict[tuple[str, str, str], list[Mapping[str, str]]] = defaultdict(list)
        self.route_rows: dict[tuple[str, str, str], list[Mapping[str, str]]] = defaultdict(list)
        for r in rows:
            if r.get("route_id"):
                self.route_rows[(r["date"], r["peak"], r["route_id"])].append(r)
            else:
                self.post_rows[(r["date"], r["peak"], r.get("post_id", ""))].append(r)
        self.outcomes: dict[tuple[str, str, str], DutyOutcome] = {}
        for o in getattr(report, "per_duty", []) or []:
            self.outcomes[(o.date, o.peak, o.post_id or o.route_id)] = o
        self.slot_gaps: dict[tuple[str, str, str], list[tuple[str, int, int]]] = defaultdict(list)
        for school_id, date, peak, rule, needed, got in getattr(report, "slot_gaps", []) or []:
            iso = date.isoformat() if hasattr(date, "isoformat") else str(date)
            self.slot_gaps[(school_id, iso, peak)].append((rule, needed, got))
        self.gaps_by_school: dict[str, list] = defaultdict(list)
        for g in gaps:
            if g.school_id:
                self.gaps_by_school[g.school_id].append(g)
        self.routes_by_school: dict[str, list] = defaultdict(list)
        for route in inst.routes:
            for stop in dict.fromkeys(route.stops):
                self.routes_by_school[stop].append(route)
        self.school_names = {s.id: s.name or s.id for s in inst.schools}


def _lines(text: str, width: float, char_px: float) -> int:
    """Lines a text takes in a column ``width`` px wide, wrapped at spaces (``char_px`` an average
    character width; a rough estimate, calibrated in headless Chromium)."""
    width = max(width, char_px)
    lines, used = 1, 0.0
    for word in text.split():
        w = len(word) * char_px
        if used and used + char_px + w > width:
            lines, used = lines + 1, 0.0
        if w > width:  # a long word breaks anywhere
            lines += int(w // width)
            w = w % width
        used += (char_px if used else 0.0) + w
    return lines


def _cell(idx: _Index, date: str, peak: str, post_id: str) -> tuple[str, tuple[str, list[str]] | None]:
    """A post cell, and its texts (count line, names) for :func:`_sheet_height`; ``None`` for an empty cell."""
    people = sorted(
        idx.post_rows.get((date, peak, post_id), ()),
        key=lambda r: (_ROLE_ORDER.get(r.get("role", ""), 99), r.get("person_name", ""), r.get("person_id", "")),
    )
    o = idx.outcomes.get((date, peak, post_id))
    assigned = len(people) if o is None else o.assigned
    lo = 0 if o is None else o.min
    target = 0 if o is None else o.target
    classes = ["cell"]
    notes = []
    if o is not None and (o.shortfall or o.police_shortfall or o.skill_shortfall):
        classes.append("short")
        if o.shortfall:
            notes.append(f"SHORT {o.shortfall}")
        if o.police_shortfall:
            notes.append(f"police {o.police}/{o.min_police}")
        for skill, need in sorted(o.skills.items()):
            got = o.skills_got.get(skill, 0)
            if got < need:
                notes.append(f"{skill} {got}/{need}")
    elif o is not None and o.below_target:
        classes.append("below")
    if not people and lo == 0 and target == 0:
        return '<td class="cell empty">&ndash;</td>', None
    count = f"{assigned}/{lo}" + (f" (target {target})" if target != lo else "")
    if notes:
        count += " · " + ", ".join(notes)
    items = "".join(_person_label(r) for r in people) or f'<li class="empty-note">{NOBODY}</li>'
    html = f'<td class="{" ".join(classes)}"><ul>{items}</ul><span class="count">{_e(count)}</span></td>'
    names = [(r.get("person_name") or "").strip() or r.get("person_id", "") for r in people] or [NOBODY]
    return html, (count, names)


def _slot_note(entries: list[tuple[str, int, int]]) -> str:
    out = []
    for rule, needed, got in entries:
        if rule == "leader_missing":
            out.append("no leader")
        elif rule == "share_shortfall":
            out.append(f"professionals {got}, need {needed}")
        else:
            out.append(f"{rule} {got}/{needed}")
    return _e("; ".join(out))


#: Printable height of an A4 landscape page within the 8 mm margins, in CSS pixels (96 per inch).
PAGE_HEIGHT_PX = (210 - 2 * 8) / 25.4 * 96
PAGE_WIDTH_PX = (297 - 2 * 8) / 25.4 * 96
#: Smallest print scale used to fit a large school on one page; a school still too large
#: continues on the next page (table rows never split, the header repeats).
MIN_FIT = 0.6


#: One post row of a sheet for the height estimate: the post's label and its cells' texts.
_Row = tuple[str, list[tuple[str, list[str]] | None]]


def _sheet_height(width: float, rows: list[_Row], ncols: int, slot_row: bool, gap_chars: list[int],
                  route_rows: list[tuple[str, list[str]]], ndays: int) -> float:
    """Estimated printed height (CSS px) of a school's sheet laid out ``width`` px wide: lines of
    text per cell at the sheet's font sizes (calibrated in headless Chromium on generated districts)."""
    col = width * 0.88 / max(1, ncols) - 6
    height: float = 50 + 40 + 16  # header, table head, legend
    for label, cells in rows:
        tallest = 17 + 13.2 * _lines(label, width * 0.12 - 6, 6.2)
        for cell in cells:
            if cell is not None:
                count, names = cell
                h = 5 + 11.5 * _lines(count, col, 5.1) + 13.2 * sum(_lines(n + "_AP", col, 6.0) for n in names)
                tallest = max(tallest, h)
        height += tallest
    if slot_row:
        height += 30
    if gap_chars:
        per_line = width / 4.9
        height += 22 + sum(-(-c // per_line) * 12 for c in gap_chars)
    if route_rows:
        height += 38
        day_col = width * 0.78 / max(1, ndays) - 6
        for head, crews in route_rows:
            lines = _lines(head, width * 0.22 - 6, 5.4)
            for crew in crews:
                lines = max(lines, _lines(crew, day_col, 5.4))
            height += 3 + 12.2 * lines
    return height + 40  # signatures


def _fit(*layout) -> float:
    """Print scale (CSS zoom, a multiple of 0.05, at least :data:`MIN_FIT`) at which the sheet is
    estimated to fit one page. A smaller scale also widens the columns (fewer wrapped names)."""
    room = PAGE_HEIGHT_PX * 0.9  # the estimate is rough: keep a margin
    for step in range(20, int(MIN_FIT * 20) - 1, -1):
        zoom = step / 20
        if _sheet_height(PAGE_WIDTH_PX / zoom, *layout) * zoom <= room:
            return zoom
    return MIN_FIT


def _school_sheet(inst: Instance, school: School, n: int, idx: _Index, week: list[tuple[str, dt.date]]) -> str:
    columns: list[tuple[str, dt.date, list]] = []
    for day, date in week:
        peaks = sorted((p for p in school.peaks if _runs_on(p.days, day)), key=lambda p: (p.start, p.end, p.name))
        if peaks:
            columns.append((day, date, peaks))
    ncols = sum(len(peaks) for _, _, peaks in columns)
    first, last = week[0][1], week[-1][1]
    meta = [f"<code>{_e(school.id)}</code>", _e(school.type.replace("_", " ")), f"district {_e(school.district)}"]
    if school.students:
        meta.append(f"{school.students:,} students")
    address = f'<div class="meta">{_e(school.address)}</div>' if school.address else ""
    body: list[str] = []
    layout_rows: list[_Row] = []
    any_slot = False
    if not school.posts or not ncols:
        body.append('<p class="empty-note">No posts staffed at this school this week.</p>')
    else:
        head1 = ['<th class="post" rowspan="2">Post</th>']
        head2 = []
        for day, date, peaks in columns:
            head1.append(f'<th colspan="{len(peaks)}">{_e(_date_label(day, date))}</th>')
            for p in peaks:
                head2.append(f'<th>{_e(p.name)}<span class="win">{format_hhmm(p.start)}&ndash;{format_hhmm(p.end)}</span></th>')
        body.append('<table class="duties"><thead>')
        body.append(f"<tr>{''.join(head1)}</tr><tr>{''.join(head2)}</tr></thead><tbody>")
        for post in school.posts:
            label = _e(post.name or post.id)
            sub = _e(post.kind.replace("_", " ")) + ("" if not post.name else f" &middot; {_e(post.id)}")
            cells = [f'<th class="post">{label}<span class="kind">{sub}</span></th>']
            texts = []
            for _, date, peaks in columns:
                iso = date.isoformat()
                for p in peaks:
                    html, text = _cell(idx, iso, p.name, post.id)
                    cells.append(html)
                    texts.append(text)
            layout_rows.append((post.name or post.id, texts))
            body.append(f"<tr>{''.join(cells)}</tr>")
        slot_cells = []
        for _, date, peaks in columns:
            for p in peaks:
                entries = idx.slot_gaps.get((school.id, date.isoformat(), p.name), [])
                any_slot = any_slot or bool(entries)
                slot_cells.append(f"<td>{_slot_note(entries)}</td>")
        if any_slot:
            body.append(f'<tr class="slot"><th>School peak</th>{"".join(slot_cells)}</tr>')
        body.append("</tbody></table>")
        body.append(
            '<p class="legend"><span class="sw short">short of min, police or a skill</span>'
            '<span class="sw below">below target</span> count: assigned/min (target) &middot; '
            f"roles: {ROLE_LEGEND}</p>"
        )
    gaps = [g for g in idx.gaps_by_school.get(school.id, []) if g.rule != "below_target"]
    gap_chars: list[int] = []
    if gaps:
        body.append(f'<h3>Not covered ({len(gaps)})</h3><ul class="gaps">')
        for g in gaps[:MAX_GAP_LINES]:
            where = g.post_id or "school"
            line = f"{g.date} {g.peak} {where}: {g.got} of {g.needed}. {g.reason}"
            gap_chars.append(len(line) + 20)
            body.append(f'<li><span class="rule">{_e(rule_label(g.rule))}</span> {_e(line)}</li>')
        if len(gaps) > MAX_GAP_LINES:
            gap_chars.append(40)
            body.append(f"<li>&hellip; and {len(gaps) - MAX_GAP_LINES} more (see gaps.csv)</li>")
        body.append("</ul>")
    routes = idx.routes_by_school.get(school.id, [])
    route_rows: list[tuple[str, list[str]]] = []
    if routes:
        body.append('<h3>Patrol routes past this school</h3><table class="routes"><thead><tr><th class="route">Route</th>')
        body.append("".join(f"<th>{_e(_date_label(day, date))}</th>" for day, date in week))
        body.append("</tr></thead><tbody>")
        for route in routes:
            stops = " &rarr; ".join(_e(idx.school_names.get(s, s)) for s in route.stops)
            for run in route.runs:
                cells = []
                crews = []
                for day, date in week:
                    if not _runs_on(run.days, day):
                        cells.append("<td>&ndash;</td>")
                        continue
                    crew = idx.route_rows.get((date.isoformat(), run.name, route.id), [])
                    names = ", ".join(
                        f"{_e((r.get('person_name') or '').strip() or r.get('person_id', ''))}&nbsp;"
                        f"{_role_mark(r.get('role', ''))}"
                        for r in crew
                    )
                    o = idx.outcomes.get((date.isoformat(), run.name, route.id))
                    short = o is not None and (o.shortfall or o.police_shortfall or o.skill_shortfall)
                    cls = ' class="cell short"' if short else ""
                    cells.append(f"<td{cls}>{names or NOBODY_SPAN}</td>")
                    crews.append(", ".join(f"{r.get('person_name') or r.get('person_id', '')} AP" for r in crew))
                head_text = f"{route.name or route.id} · {run.name} 00:00-00:00 " + " → ".join(
                    idx.school_names.get(s, s) for s in route.stops)
                route_rows.append((head_text, crews))
                body.append(
                    f"<tr><th>{_e(route.name or route.id)} &middot; {_e(run.name)} "
                    f"{format_hhmm(run.start)}&ndash;{format_hhmm(run.end)}"
                    f'<div class="meta">{stops}</div></th>{"".join(cells)}</tr>'
                )
        body.append("</tbody></table>")
    body.append(
        '<div class="signatures"><div>Shift leader (name, signature)</div><div>Date</div>'
        "<div>Checked by (police)</div><div>Notes</div></div>"
    )
    fit = _fit(layout_rows, ncols, any_slot, gap_chars, route_rows, len(week))
    style = f' style="--fit:{fit:g}"' if fit < 1 else ""
    head = [
        f'<section class="sheet" id="s{n}"{style}>',
        "<header><div>",
        f"<h2>{_e(school.name or school.id)}</h2>",
        address,
        f'<div class="meta">{" &middot; ".join(meta)}</div>',
        "</div>",
        (f'<div class="week"><strong>Duty sheet</strong> &middot; week {first.isoformat()} &ndash; {last.isoformat()}'
        f'<br>{_e(inst.name)}</div>'),
        "</header>",
    ]
    return "\n".join(head + body + ["</section>"])


def duty_sheets_html(inst: Instance, rows, report, gaps) -> str:
    """``duty-sheets.html``: one printable page per school for the week (see the module doc)."""
    idx = _Index(inst, rows, report, gaps)
    week = week_of(inst)
    first, last = week[0][1], week[-1][1]
    title = f"Duty sheets · {inst.name} · {first.isoformat()} – {last.isoformat()}"
    toc = "".join(
        f'<li><a href="#s{n}">{_e(s.name or s.id)}</a></li>' for n, s in enumerate(inst.schools)
    )
    parts = [
        *html_head(title, CSS),
        (f'<nav class="toc"><h1>{_e(title)}</h1><p>{len(inst.schools)} schools, one printed page each '
        f"(A4 landscape). Print this file to hand each school its sheet.</p><ol>{toc}</ol></nav>"),
    ]
    parts.extend(_school_sheet(inst, school, n, idx, week) for n, school in enumerate(inst.schools))
    if not inst.schools:
        parts.append('<section class="sheet"><p class="empty-note">The instance has no schools.</p></section>')
    parts.append("</body></html>\n")
    return "\n".join(parts)
