"""The roster report (issue 5): ``report.html``, one self-contained file that opens without a network.

Sections: KPI cards (solver status, objective, bound, gap, and the validator's KPIs), the objective
by rule, coverage by district, a coverage heat-map (rows schools, columns date x peak), load per
role, the gaps table with reasons, and a map-like plot of the schools coloured by coverage.

Everything is inline: CSS in a ``<style>`` element, charts as SVG written here; no scripts, fonts
or images are fetched. Heat-map cells use a handful of CSS classes for their colours so that a
1,056-school city (tens of thousands of cells) stays a file of a few megabytes. The heat-map has
three views of one grid, picked with radio buttons and CSS alone (no script): people at ``min``,
police at ``min_police``, and the professional share. Each cell carries one colour class per view
(``k``, ``p``, ``s`` and the bin's digit); only on screen does a picked view recolour the cells, so
a printed page always shows the people-at-min view.

Coverage of a school peak (or of a school's week on the map) is the people at ``min`` over the
people ``min`` asks for, summed over its posts: ``sum(min(assigned, min)) / sum(min)``, the
validator's fill rate restricted to those duties, so surplus at one post does not hide a
shortfall at another. Made from the instance, the roster rows, the validator's report, the gap
rows and summary.json only. All instance text is escaped.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Mapping

from models.instance import ROLES, SOFT_RULES, Instance
from scheduler.human.labels import DAY_LABELS, html_head, rule_label
from scheduler.human.labels import esc as _e
from scheduler.human.labels import runs_on as _runs_on

#: Gap rows shown in the table; the rest are counted (gaps.csv has them all).
MAX_GAP_ROWS = 500
#: Coverage classes, worst first: (class, lower bound of coverage, colour, legend label).
COVERAGE_BINS: tuple[tuple[str, float, str, str], ...] = (
    ("k0", 0.0, "#7f0000", "0 %"),
    ("k1", 1e-9, "#d7301f", "< 50 %"),
    ("k2", 0.5, "#fc8d59", "50–75 %"),
    ("k3", 0.75, "#fee08b", "75–90 %"),
    ("k4", 0.9, "#a6d96a", "90–99 %"),
    ("k5", 1.0, "#1a9850", "100 %"),
)
NO_DEMAND = ("kn", "#c9ced6", "no min demand")

CSS = """
:root { --ink:#1b1f24; --muted:#5b6470; --line:#d5dae0; --card:#fff; --bg:#f3f5f7; --accent:#0b4f8a; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 14px/1.4 "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif; }
header.top { background: #17324d; color: #fff; padding: 18px 28px; }
header.top h1 { margin: 0; font-size: 22px; }
header.top p { margin: 4px 0 0; color: #c9d6e3; }
nav.sections { background: #fff; border-bottom: 1px solid var(--line); padding: 8px 28px; font-size: 13px; }
nav.sections a { color: var(--accent); margin-right: 16px; text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1500px; }
section { background: var(--card); border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.12);
          padding: 14px 18px; margin: 16px 0; }
section h2 { margin: 0 0 4px; font-size: 18px; }
section p.note { margin: 0 0 10px; color: var(--muted); font-size: 12.5px; }
.banner { background: #fbd3cf; border: 1px solid #9b1c12; color: #5c0f09; padding: 10px 14px; border-radius: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-left: 5px solid var(--line); border-radius: 5px; padding: 8px 10px; }
.card .label { color: var(--muted); font-size: 12px; }
.card .value { font-size: 22px; font-weight: 600; margin-top: 2px; }
.card .sub { color: var(--muted); font-size: 11.5px; }
.card.good { border-left-color: #1a9850; } .card.fair { border-left-color: #fdae61; }
.card.bad { border-left-color: #d7301f; }
table.data { border-collapse: collapse; font-size: 12.5px; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left;
                               vertical-align: top; }
table.data th { background: #eef1f4; position: sticky; top: 0; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data td.reason { max-width: 620px; }
.scroll { overflow: auto; max-height: 640px; border: 1px solid var(--line); }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); margin: 6px 0 10px; }
.legend i { display: inline-block; width: 14px; height: 14px; vertical-align: -3px; margin-right: 4px;
            border: 1px solid rgba(0,0,0,.15); }
.rule-chip { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11.5px; background: #eef1f4;
             white-space: nowrap; }
.rule-chip.shortfall, .rule-chip.police_shortfall, .rule-chip.skill_shortfall { background: #fbd3cf; }
.rule-chip.share_shortfall, .rule-chip.leader_missing { background: #fde2c4; }
.rule-chip.below_target { background: #fdf0c9; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-family: inherit; fill: var(--ink); }
svg .lbl { font-size: 11px; } svg .small { font-size: 10px; fill: var(--muted); }
svg .axis { stroke: #8a939e; stroke-width: 1; } svg .grid { stroke: #e3e7eb; stroke-width: 1; }
svg .sep { stroke: #8a939e; stroke-width: 1; }
svg .route { stroke: #6b7a8c; stroke-width: 1; fill: none; opacity: .45; }
svg circle { stroke: #27303a; stroke-width: .6; }
svg .bar { fill: #6f9fd8; } svg .range { stroke: #17324d; stroke-width: 2; } svg .mean { fill: #17324d; }
.heat-wrap { overflow: auto; max-height: 900px; border: 1px solid var(--line); }
.heat-wrap svg { max-width: none; }
.kn { fill: #c9ced6; background: #c9ced6; }
"""


def _pct(value: float | str | None) -> str:
    return "–" if value is None else f"{float(value):.1%}"


def _num(value: float | str | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    value = float(value)
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def coverage_class(filled: int, demanded: int) -> str:
    """The CSS class of a coverage value: ``kn`` when nothing is demanded, else a ``k0``..``k5`` bin."""
    if demanded <= 0:
        return NO_DEMAND[0]
    ratio = filled / demanded
    cls = COVERAGE_BINS[0][0]
    for name, lower, _, _ in COVERAGE_BINS:
        if ratio >= lower:
            cls = name
    return cls


def _bin_css() -> str:
    return "".join(f".{name} {{ fill: {colour}; background: {colour}; }}\n" for name, _, colour, _ in COVERAGE_BINS)


def _legend(title: str = "coverage at min:", none_label: str = NO_DEMAND[2], cls: str = "legend") -> str:
    items = [f'<span><i class="{name}"></i>{_e(label)}</span>' for name, _, _, label in COVERAGE_BINS]
    items.append(f'<span><i class="{NO_DEMAND[0]}"></i>{_e(none_label)}</span>')
    return f'<div class="{cls}"><span>{title}</span>{"".join(items)}</div>'


#: The heat-map's views: (id, class prefix of its cells, name in words, legend title, grey cell label,
#: note). The first is the one shown at first and the one printed.
HEAT_VIEWS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("min", "k", "people at min", "<strong>People at min</strong>: people at min over people demanded:",
     NO_DEMAND[2], "people at min over people demanded at that school peak, summed over its posts."),
    ("police", "p", "police", "<strong>Police</strong>: police present over police demanded:",
     "no police demand", ("police at their posts (up to the number each post asks for) over the police the "
                          "posts ask for, from the gaps short of police.")),
    ("share", "s", "professional share",
     "<strong>Professional share</strong>: professionals over the professionals the share needs:",
     "nobody on duty", ("professionals on duty over the professionals the share needs of the people on duty, "
                        "from the gaps of the professional share; a school peak with nobody on duty has no share "
                        "to meet.")),
)


def view_class(prefix: str, filled: int, demanded: int) -> str:
    """A heat-map view's class of a cell: its prefix and the digit (or ``n``) of the coverage bin."""
    return prefix + coverage_class(filled, demanded)[1:]


def _view_css() -> str:
    """The heat-map's view switch: legends and notes of the picked view, and on screen only, its colours."""
    views = [v[0] for v in HEAT_VIEWS]
    out = [".heat-lg { display: none; }\n",
           ".heat-tab { margin-right: 4px; } label.heat-tab { margin-right: 16px; cursor: pointer; }\n",
           ", ".join(f"#hv-{v}:checked ~ .hv-{v}" for v in views) + " { display: flex; }\n",
           "@media screen {\n"]
    for view, prefix, *_ in HEAT_VIEWS[1:]:
        bins = [(name, colour) for name, _, colour, _ in COVERAGE_BINS] + [(NO_DEMAND[0], NO_DEMAND[1])]
        out.extend(f"#hv-{view}:checked ~ .heat-wrap rect.{prefix}{name[1:]} {{ fill: {colour}; }}\n"
                   for name, colour in bins)
    out.append("}\n@media print {\n.heat-tab, .heat-lg { display: none !important; }\n"
               f".heat-lg.hv-{views[0]} {{ display: flex !important; }}\n}}\n")
    return "".join(out)


class _Tally:
    """Coverage of a group of post duties."""

    __slots__ = ("assigned", "demanded", "duties", "filled", "police_min", "police_short", "short", "target")

    def __init__(self) -> None:
        self.demanded = self.filled = self.assigned = self.target = self.duties = self.short = self.police_short = 0
        self.police_min = 0

    def add(self, o) -> None:
        self.demanded += o.min
        self.filled += min(o.assigned, o.min)
        self.assigned += o.assigned
        self.target += o.target
        self.duties += 1
        self.short += 1 if o.shortfall else 0
        self.police_short += 1 if o.police_shortfall else 0
        self.police_min += o.min_police

    @property
    def ratio(self) -> float | None:
        return self.filled / self.demanded if self.demanded else None


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _card(label: str, value: str, sub: str = "", grade: str = "") -> str:
    cls = f"card {grade}" if grade else "card"
    sub_html = f'<div class="sub">{sub}</div>' if sub else ""
    return f'<div class="{cls}"><div class="label">{_e(label)}</div><div class="value">{value}</div>{sub_html}</div>'


def _grade(value: float | str | None) -> str:
    if value is None:
        return ""
    v = float(value)
    return "good" if v >= 0.999 else "fair" if v >= 0.9 else "bad"


def _kpi_section(inst: Instance, rows: list, report, gaps: list, summary: Mapping) -> str:
    kpis = dict(summary.get("kpis") or {})
    kpis.update(getattr(report, "kpis", {}) or {})
    status = summary.get("status", "–")
    valid = getattr(report, "ok", summary.get("valid"))
    gap = summary.get("gap")
    cards = [
        _card("Status", _e(status), _e(summary.get("source") or ""), "good" if status == "optimal" else ""),
        _card("Hard rules", "valid" if valid else "VIOLATED",
              f"{len(getattr(report, 'violations', []) or [])} violations", "good" if valid else "bad"),
        _card("Objective", _num(summary.get("objective", getattr(report, "objective", None))),
              f"validator: {_num(getattr(report, 'objective', None))}"),
        _card("Best bound", _num(summary.get("best_bound"))),
        _card("Gap", _pct(gap), "relative to the objective"),
        _card("Wall time", f"{_num(summary.get('wall_time'), 1)} s" if summary.get("wall_time") is not None else "–"),
        _card("Fill rate", _pct(kpis.get("fill_rate")), "people at min / people demanded", _grade(kpis.get("fill_rate"))),
    ]
    short, floor = summary.get("shortfall"), summary.get("shortfall_bound")
    if short is not None and floor is not None:
        proven = short <= floor
        cards.append(_card("Seats below min", f"{short:,}", _e(
                           f"the {short:,} remaining gaps cannot be filled with these people (proven)" if proven and short
                            else "none left empty" if proven
                            else f"no roster of these people has fewer than {floor:,}"),
                           "good" if short == 0 else "fair" if proven else "bad"))
    total, met = kpis.get("duties_total"), kpis.get("duties_fully_met")
    if total and met is not None:
        cards.append(_card("Duties fully met", f"{met:,} / {total:,}", _pct(met / total), _grade(met / total)))
    for key, label, sub in (
        ("police_demand_met", "Police demand met", "of duties that ask for police"),
        ("share_compliance", "Professional share", "of school peaks meeting the share"),
        ("leader_compliance", "Leader on duty", "of school peaks with a leader"),
    ):
        cards.append(_card(label, _pct(kpis.get(key)), sub, _grade(kpis.get(key))))
    cards.append(_card("Travel", f"{_num(kpis.get('travel_minutes'))} min", "between consecutive duties"))
    cards.append(_card("Continuity", _num(kpis.get("continuity_mean_distinct_posts"), 2),
                       "distinct posts per person (mean)"))
    cards.append(_card("Assignments", f"{len(rows):,}", f"{len({r.get('person_id') for r in rows}):,} people on duty"))
    by_rule = Counter(g.rule for g in gaps)
    cards.append(_card("Gaps", f"{len(gaps):,}",
                       _e(", ".join(f"{n:,} {rule_label(r)}" for r, n in by_rule.most_common(3)))))
    out = ['<section id="kpis"><h2>Key figures</h2>',
           '<p class="note">Solver figures from summary.json; KPIs recomputed by the validator from the roster.</p>']
    violations = getattr(report, "violations", []) or []
    if violations:
        shown = "".join(f"<li>{_e(v)}</li>" for v in violations[:20])
        more = f"<li>… and {len(violations) - 20:,} more</li>" if len(violations) > 20 else ""
        out.append(f'<div class="banner"><strong>This roster breaks hard rules.</strong><ul>{shown}{more}</ul></div>')
    out.append(f'<div class="cards">{"".join(cards)}</div>')
    terms = getattr(report, "terms", {}) or {}
    weights = getattr(report, "weights", {}) or {}
    if terms:
        out.append('<h3>Objective by rule</h3><table class="data"><thead><tr><th>rule</th><th class="num">raw value</th>'
                   '<th class="num">weight</th><th class="num">cost</th></tr></thead><tbody>')
        for rule in [r for r in SOFT_RULES if r in terms] + [r for r in terms if r not in SOFT_RULES]:
            w = weights.get(rule, 0)
            out.append(f"<tr><td>{_e(rule)}</td><td class=\"num\">{_num(terms[rule])}</td>"
                       f"<td class=\"num\">{_num(w)}</td><td class=\"num\">{_num(w * terms[rule])}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


def _columns(inst: Instance) -> list[tuple[str, dt.date, str]]:
    """(weekday, date, peak name) columns of the heat-map: on each day the peaks any school has,
    in order of their earliest start."""
    cols: list[tuple[str, dt.date, str]] = []
    for day in inst.days:
        date = inst.date_of(day)
        first: dict[str, int] = {}
        for s in inst.schools:
            for p in s.peaks:
                if _runs_on(p.days, day):
                    first[p.name] = min(first.get(p.name, p.start), p.start)
        cols.extend((day, date, name) for name in sorted(first, key=lambda n: (first[n], n)))
    return cols


def _district_section(inst: Instance, school_tally: dict[str, _Tally], gaps_by_school: Counter) -> str:
    districts: dict[str, list] = defaultdict(list)
    for s in inst.schools:
        districts[s.district].append(s)
    if not districts:
        return ""
    out = ['<section id="districts"><h2>Coverage by district</h2>',
           '<p class="note">Post duties only; coverage = people at min / people demanded.</p>',
           ('<div class="scroll"><table class="data"><thead><tr><th>district</th><th class="num">schools</th>'
           '<th class="num">post duties</th><th class="num">short of min</th><th class="num">short of police</th>'
           '<th class="num">coverage</th><th class="num">gap rows</th></tr></thead><tbody>')]
    for name in sorted(districts):
        t = _Tally()
        for s in districts[name]:
            st = school_tally.get(s.id)
            if st:
                for k in _Tally.__slots__:
                    setattr(t, k, getattr(t, k) + getattr(st, k))
        cls = coverage_class(t.filled, t.demanded)
        out.append(
            f"<tr><td>{_e(name)}</td><td class=\"num\">{len(districts[name]):,}</td><td class=\"num\">{t.duties:,}</td>"
            f"<td class=\"num\">{t.short:,}</td><td class=\"num\">{t.police_short:,}</td>"
            f"<td class=\"num\"><i class=\"{cls}\" style=\"display:inline-block;width:10px;height:10px\"></i> "
            f"{_pct(t.ratio)}</td><td class=\"num\">{sum(gaps_by_school[s.id] for s in districts[name]):,}</td></tr>"
        )
    out.append("</tbody></table></div></section>")
    return "\n".join(out)


def _heatmap_section(inst: Instance, cells: dict[tuple[str, str, str], _Tally],
                     slot_notes: dict[tuple[str, str, str], list[str]],
                     police_gaps: Mapping[tuple[str, str, str], tuple[int, int]] | None = None,
                     share_gaps: Mapping[tuple[str, str, str], tuple[int, int]] | None = None,
                     professionals: Mapping[tuple[str, str, str], int] | None = None) -> str:
    """The grid of school peaks in three views (see the module doc). ``police_gaps`` and ``share_gaps``:
    (needed, got) per school peak from the gap rows short of police (summed over its posts) and of the
    professional share; ``professionals``: professionals on duty per school peak, for the hover text."""
    police_gaps = police_gaps or {}
    share_gaps = share_gaps or {}
    professionals = professionals or {}
    cols = _columns(inst)
    schools = sorted(inst.schools, key=lambda s: s.district)  # stable: instance order within a district
    out = ['<section id="heatmap"><h2>Coverage heat-map</h2>',
           ('<p class="note">Rows: schools (by district); columns: day and peak. Pick a view: people at min, '
            'police, or the professional share. Hover a cell for the numbers of all three; '
            'a printed page shows people at min.</p>'),
           '<span class="heat-tab">View:</span>']
    for i, (view, _, name, _, _, _) in enumerate(HEAT_VIEWS):
        checked = " checked" if i == 0 else ""
        out.append(f'<input class="heat-tab" type="radio" name="heat-view" id="hv-{view}" value="{view}"{checked}>'
                   f'<label class="heat-tab" for="hv-{view}">{_e(name)}</label>')
    for view, _, _, title, none_label, note in HEAT_VIEWS:
        out.append(_legend(title, none_label, f"legend heat-lg hv-{view}"))
        out.append(f'<p class="note heat-lg hv-{view}">Colour: {_e(note)}</p>')
    if not cols or not schools:
        out.append('<p class="note">No school peaks in this instance.</p></section>')
        return "\n".join(out)
    cw, ch, label_w, head_h = 16, 12, 230, 92
    multi_district = len({s.district for s in schools}) > 1
    n_sep = len({s.district for s in schools}) if multi_district else 0
    width = label_w + len(cols) * cw + 10
    height = head_h + len(schools) * ch + n_sep * 14 + 6
    svg = [(f'<div class="heat-wrap"><svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="coverage heat-map">')]
    # Column heads: the day once over its peaks, the peak names rotated.
    prev_day = None
    for i, (day, date, peak) in enumerate(cols):
        cx = label_w + i * cw
        if day != prev_day:
            if prev_day is not None:
                svg.append(f'<line class="sep" x1="{cx}" y1="14" x2="{cx}" y2="{height}"/>')
            svg.append(f'<text class="lbl" x="{cx + 2}" y="12">{_e(DAY_LABELS.get(day, day))} {date.strftime("%d.%m")}</text>')
            prev_day = day
        svg.append(f'<text class="small" transform="translate({cx + cw * 0.7},{head_h - 4}) rotate(-65)">'
                   f"{_e(peak[:14])}<title>{_e(peak)}</title></text>")
    y = head_h
    district = None
    for s in schools:
        if multi_district and s.district != district:
            district = s.district
            svg.append(f'<text class="lbl" x="2" y="{y + 11}" font-weight="600">district {_e(district)}</text>')
            svg.append(f'<line class="grid" x1="0" y1="{y + 13}" x2="{width}" y2="{y + 13}"/>')
            y += 14
        name = s.name or s.id
        short_name = name if len(name) <= 34 else name[:33] + "…"
        svg.append(f'<text class="small" x="{label_w - 4}" y="{y + ch - 2}" text-anchor="end">{_e(short_name)}'
                   f"<title>{_e(name)} ({_e(s.id)})</title></text>")
        sid = _e(s.id)
        for i, (_, date, peak) in enumerate(cols):
            key = (s.id, date.isoformat(), peak)
            t = cells.get(key)
            if t is None:
                continue
            notes = slot_notes.get(key)
            tip = (f"{sid} {date.isoformat()} {_e(peak)}: {t.filled}/{t.demanded} at min"
                   f" ({_pct(t.ratio)}), {t.assigned} assigned, target {t.target}")
            if t.short:
                tip += f"; {t.short} post(s) short"
            # police: the posts' demand, less what the gap rows short of police miss
            p_needed, p_got = police_gaps.get(key, (0, 0))
            p_demanded = max(t.police_min, p_needed)
            p_met = p_demanded - (p_needed - p_got)
            police_cls = view_class("p", p_met, p_demanded)
            tip += f"; police {p_met}/{p_demanded}" if p_demanded else "; no police demand"
            if t.police_short:
                tip += f" ({t.police_short} post(s) short of police)"
            # professional share: a gap row names what it needs; a school peak with people and no row meets it
            pros = professionals.get(key, 0)
            if key in share_gaps:
                s_needed, s_got = share_gaps[key]
                share_cls = view_class("s", s_got, s_needed)
                tip += f"; professional share not met: {s_got} professional(s), {s_needed} needed"
            elif t.assigned:
                share_cls = view_class("s", 1, 1)
                tip += f"; professional share met: {pros} of {t.assigned} on duty are professionals"
            else:
                share_cls = view_class("s", 0, 0)
                tip += "; nobody on duty, no professional share"
            if notes:
                tip += "; " + _e("; ".join(notes))
            svg.append(f'<rect class="{coverage_class(t.filled, t.demanded)} {police_cls} {share_cls}" '
                       f'x="{label_w + i * cw}" y="{y}" '
                       f'width="{cw - 1}" height="{ch - 1}"><title>{tip}</title></rect>')
        y += ch
    svg.append("</svg></div>")
    out.extend(svg)
    out.append("</section>")
    return "\n".join(out)


def _load_section(inst: Instance, kpis: Mapping) -> str:
    load = kpis.get("load_by_role") or {}
    by_role = kpis.get("duties_by_role") or {}
    persons = Counter(p.role for p in inst.persons)
    roles = [r for r in ROLES if r in load or r in persons] + sorted(r for r in load if r not in ROLES)
    out = ['<section id="load"><h2>Load per role</h2>',
           ('<p class="note">Duties per person over everyone of the role: bar = mean, line = min to max. '
           'The fairness rule keeps the spread small.</p>')]
    if not roles:
        out.append('<p class="note">No people in this instance.</p></section>')
        return "\n".join(out)
    top = max([float(load.get(r, {}).get("max", 0)) for r in roles] + [1.0])
    step = max(1, math.ceil(top / 10))
    top = step * math.ceil(top / step)
    label_w, plot_w, row_h = 140, 560, 26
    width, height = label_w + plot_w + 150, 30 + len(roles) * row_h + 24
    sx = lambda v: label_w + plot_w * float(v) / top
    svg = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="load per role">']
    for t in range(0, int(top) + 1, step):
        svg.append(f'<line class="grid" x1="{sx(t):.1f}" y1="20" x2="{sx(t):.1f}" y2="{height - 20}"/>')
        svg.append(f'<text class="small" x="{sx(t):.1f}" y="{height - 6}" text-anchor="middle">{t}</text>')
    svg.append(f'<text class="small" x="{label_w}" y="12">duties per person in the week</text>')
    for i, role in enumerate(roles):
        st = load.get(role, {})
        y = 24 + i * row_h
        lo, mean, hi = st.get("min", 0), st.get("mean", 0.0), st.get("max", 0)
        tip = (f"{role}: {persons.get(role, 0)} people, {by_role.get(role, 0)} duties; "
               f"min {lo}, mean {float(mean):.2f}, max {hi}, spread {st.get('spread', 0)}")
        svg.append(f'<g><title>{_e(tip)}</title>')
        svg.append(f'<text class="lbl" x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_e(role.replace("_", " "))}</text>')
        svg.append(f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{max(0.0, sx(mean) - label_w):.1f}" height="{row_h - 10}"/>')
        svg.append(f'<line class="range" x1="{sx(lo):.1f}" y1="{y + row_h / 2 - 1}" x2="{sx(hi):.1f}" y2="{y + row_h / 2 - 1}"/>')
        for v in (lo, hi):
            svg.append(f'<line class="range" x1="{sx(v):.1f}" y1="{y + 5}" x2="{sx(v):.1f}" y2="{y + row_h - 7}"/>')
        svg.append(f'<circle class="mean" cx="{sx(mean):.1f}" cy="{y + row_h / 2 - 1}" r="3"/>')
        svg.append(f'<text class="small" x="{label_w + plot_w + 8}" y="{y + 14}">'
                   f"{lo} / {float(mean):.1f} / {hi} · {persons.get(role, 0):,} people</text></g>")
    svg.append("</svg>")
    out.extend(svg)
    out.append('<table class="data" style="margin-top:10px"><thead><tr><th>role</th><th class="num">people</th>'
               '<th class="num">duties</th><th class="num">min</th><th class="num">mean</th><th class="num">max</th>'
               '<th class="num">spread</th></tr></thead><tbody>')
    for role in roles:
        st = load.get(role, {})
        out.append(f"<tr><td>{_e(role)}</td><td class=\"num\">{persons.get(role, 0):,}</td>"
                   f"<td class=\"num\">{by_role.get(role, 0):,}</td><td class=\"num\">{st.get('min', 0)}</td>"
                   f"<td class=\"num\">{float(st.get('mean', 0)):.2f}</td><td class=\"num\">{st.get('max', 0)}</td>"
                   f"<td class=\"num\">{st.get('spread', 0)}</td></tr>")
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _gaps_section(inst: Instance, gaps: list) -> str:
    names = {s.id: s.name or s.id for s in inst.schools}
    order = {rule: i for i, rule in enumerate(SOFT_RULES)}
    rank = lambda rule: order.get(rule.partition(":")[0], len(order))
    ranked = sorted(gaps, key=lambda g: rank(g.rule))  # stable: worst rules first
    counts = Counter(g.rule for g in gaps)
    out = ['<section id="gaps"><h2>Gaps and reasons</h2>']
    if not gaps:
        out.append('<p class="note">Every duty and school peak meets every rule in full.</p></section>')
        return "\n".join(out)
    summary = ", ".join(f"{counts[r]:,} {rule_label(r)}" for r in sorted(counts, key=lambda r: (rank(r), r)))
    shown = ranked[:MAX_GAP_ROWS]
    note = f"{len(gaps):,} gap rows ({_e(summary)})."
    if len(gaps) > MAX_GAP_ROWS:
        note += f" Showing the first {MAX_GAP_ROWS:,} of {len(gaps):,}, worst rules first; gaps.csv lists them all."
    out.append(f'<p class="note">{note}</p>')
    out.append('<div class="scroll"><table class="data"><thead><tr><th>date</th><th>peak</th><th>school</th>'
               '<th>post / route</th><th>rule</th><th class="num">needed</th><th class="num">got</th>'
               '<th>reason</th></tr></thead><tbody>')
    for g in shown:
        school = f'{_e(names.get(g.school_id, g.school_id))}' if g.school_id else ""
        where = _e(g.post_id) if g.post_id else (f"route {_e(g.route_id)}" if g.route_id else "(school peak)")
        out.append(
            f"<tr><td>{_e(g.date)}</td><td>{_e(g.peak)}</td><td title=\"{_e(g.school_id)}\">{school}</td>"
            f"<td>{where}</td><td><span class=\"rule-chip {_e(g.rule.partition(':')[0])}\">{_e(rule_label(g.rule))}</span></td>"
            f"<td class=\"num\">{g.needed}</td><td class=\"num\">{g.got}</td><td class=\"reason\">{_e(g.reason)}</td></tr>"
        )
    out.append("</tbody></table></div>")
    if len(gaps) > MAX_GAP_ROWS:
        out.append(f'<p class="note">… {len(gaps) - MAX_GAP_ROWS:,} more rows in gaps.csv.</p>')
    out.append("</section>")
    return "\n".join(out)


def _map_section(inst: Instance, school_tally: dict[str, _Tally], gaps_by_school: Counter) -> str:
    out = ['<section id="map"><h2>Schools by coverage</h2>',
           ('<p class="note">Each school at its location (equirectangular projection of the area), coloured by its '
           "week's coverage at min; larger dots for more students; grey lines are patrol routes. "
           "Hover a dot for the school.</p>"), _legend()]
    if not inst.schools:
        out.append('<p class="note">No schools.</p></section>')
        return "\n".join(out)
    lats = [s.location.lat for s in inst.schools]
    lons = [s.location.lon for s in inst.schools]
    lat0 = (min(lats) + max(lats)) / 2
    kx = math.cos(math.radians(lat0))
    xs = [lon * kx for lon in lons]
    span_x = max(xs) - min(xs)
    span_y = max(lats) - min(lats)
    span = max(span_x, span_y, 1e-3)
    span_x, span_y = max(span_x, span * 0.15), max(span_y, span * 0.15)
    max_w, max_h, pad = 980.0, 680.0, 24.0
    scale = min(max_w / span_x, max_h / span_y)
    width, height = span_x * scale + 2 * pad, span_y * scale + 2 * pad
    x_min = (min(xs) + max(xs)) / 2 - span_x / 2
    y_max = (min(lats) + max(lats)) / 2 + span_y / 2
    pos = {s.id: (pad + (s.location.lon * kx - x_min) * scale, pad + (y_max - s.location.lat) * scale)
           for s in inst.schools}
    svg = [(f'<svg width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
           f'aria-label="map of schools by coverage" style="background:#fafbfc;border:1px solid #d5dae0">')]
    for route in inst.routes:
        pts = " ".join(f"{pos[s][0]:.1f},{pos[s][1]:.1f}" for s in route.stops if s in pos)
        if pts.count(",") > 1:
            svg.append(f'<polyline class="route" points="{pts}"><title>route {_e(route.name or route.id)}</title></polyline>')
    # Worst schools drawn last so that they stay visible where dots overlap.
    def badness(s):
        r = school_tally[s.id].ratio if s.id in school_tally else None
        return -1.0 if r is None else -r
    for s in sorted(inst.schools, key=badness):
        t = school_tally.get(s.id, _Tally())
        x, y = pos[s.id]
        r = 3.0 + min(4.0, math.sqrt((s.students or 0) / 400))
        tip = (f"{s.name or s.id} ({s.id}), {s.type.replace('_', ' ')}, district {s.district}: "
               f"coverage {_pct(t.ratio)} ({t.filled}/{t.demanded} people at min), "
               f"{t.short} duties short of min, {gaps_by_school[s.id]} gap rows")
        svg.append(f'<circle class="{coverage_class(t.filled, t.demanded)}" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}">'
                   f"<title>{_e(tip)}</title></circle>")
    # Scale bar: 1 km (or 10 km) in projected units.
    km_per_unit = 111.32  # km per degree of latitude; x was scaled by cos(lat0)
    for km in (0.5, 1, 2, 5, 10, 20, 50, 100):
        if km / km_per_unit * scale >= 60:
            break
    bar = km / km_per_unit * scale
    svg.append(f'<line class="axis" x1="{pad}" y1="{height - 8}" x2="{pad + bar:.1f}" y2="{height - 8}"/>')
    svg.append(f'<text class="small" x="{pad}" y="{height - 12}">{_num(km)} km</text>')
    svg.append("</svg>")
    out.extend(svg)
    out.append("</section>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def report_html(inst: Instance, rows, report, gaps, summary) -> str:
    """``report.html``: one self-contained page (see the module doc)."""
    rows = list(rows)
    gaps = list(gaps)
    summary = dict(summary or {})
    cells: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
    school_tally: dict[str, _Tally] = defaultdict(_Tally)
    for o in getattr(report, "per_duty", []) or []:
        if o.kind == "post":
            cells[(o.school_id, o.date, o.peak)].add(o)
            school_tally[o.school_id].add(o)
    # the police and share views come from the gap rows (the validator's figures, explained)
    police_gaps: dict[tuple[str, str, str], tuple[int, int]] = {}
    share_gaps: dict[tuple[str, str, str], tuple[int, int]] = {}
    for g in gaps:
        if not g.school_id:
            continue
        key = (g.school_id, g.date, g.peak)
        if g.rule == "police_shortfall" and not g.route_id:
            needed, got = police_gaps.get(key, (0, 0))
            police_gaps[key] = (needed + g.needed, got + g.got)
        elif g.rule == "share_shortfall":
            share_gaps[key] = (g.needed, g.got)
    professional_roles = set(inst.policy.professional_roles)
    professionals: Counter = Counter(
        (r.get("school_id"), str(r.get("date")), r.get("peak")) for r in rows
        if r.get("school_id") and r.get("post_id") and r.get("role") in professional_roles)
    slot_notes: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for school_id, date, peak, rule, needed, got in getattr(report, "slot_gaps", []) or []:
        iso = date.isoformat() if hasattr(date, "isoformat") else str(date)
        if rule == "share_shortfall" and (school_id, iso, peak) in share_gaps:
            continue  # the share's figures are in the hover text already
        slot_notes[(school_id, iso, peak)].append(
            "no leader" if rule == "leader_missing" else f"professionals {got}, need {needed}"
            if rule == "share_shortfall" else f"{rule_label(rule)} {got}/{needed}")
    gaps_by_school = Counter(g.school_id for g in gaps if g.school_id)
    kpis = dict(summary.get("kpis") or {})
    kpis.update(getattr(report, "kpis", {}) or {})
    dates = [inst.date_of(d) for d in inst.days]
    title = f"Roster report · {inst.name}"
    week = f"week {min(dates).isoformat()} – {max(dates).isoformat()}"
    facts = (f"{len(inst.schools):,} schools · {sum(len(s.posts) for s in inst.schools):,} posts · "
             f"{len(inst.routes):,} routes · {len(inst.persons):,} people · {len(getattr(report, 'per_duty', []) or []):,} duties")
    parts = [
        *html_head(title, CSS + _bin_css() + _view_css()),
        f'<header class="top"><h1>{_e(title)}</h1><p>{_e(week)} · {_e(facts)}</p></header>',
        ('<nav class="sections"><a href="#kpis">Key figures</a><a href="#districts">Districts</a>'
        '<a href="#heatmap">Heat-map</a><a href="#load">Load per role</a><a href="#gaps">Gaps</a>'
        '<a href="#map">Map</a></nav>'),
        "<main>",
        _kpi_section(inst, rows, report, gaps, summary),
        _district_section(inst, school_tally, gaps_by_school),
        _heatmap_section(inst, cells, slot_notes, police_gaps, share_gaps, professionals),
        _load_section(inst, kpis),
        _gaps_section(inst, gaps),
        _map_section(inst, school_tally, gaps_by_school),
        "</main></body></html>\n",
    ]
    return "\n".join(p for p in parts if p)
