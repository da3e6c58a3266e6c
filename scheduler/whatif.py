"""``schoolpost whatif``: the baseline and its variants solved side by side, compared, explained.

A scenario file (YAML or JSON; docs/WHATIF.md describes it with examples)::

    scenarios:
      - name: rain-monday
        description: rain plan, half as many again at every post on Monday
        operations:
          - scale_demand: {factor: 1.5, days: [mon]}
      - name: event-wednesday
        operations:
          - remove_people: {role: auxiliary_police, fraction: 0.2, days: [wed], seed: 1}

Each variant is the instance document with its operations applied in order
(:func:`apply_operations`), validated like any instance. The baseline (the instance as it is) and
every variant are solved with the same options, in parallel (:mod:`scheduler.parallel`); each
roster is checked by the validator and written to ``OUT/<variant>/``. ``whatif.csv`` and
``whatif.json`` hold the KPIs (rows) of every variant (columns) with deltas against the baseline,
and ``whatif.json`` the explanations: the schools that lose (or gain) the most coverage and the
reasons the gaps table gives for them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from models import InstanceError, instance_from_data, load_document
from scheduler.output import csv_rows, csv_text, json_text, output_folder, write_files
from scheduler.parallel import default_processes, run_jobs
from scheduler.scenarios import apply_operations, load_scenarios

KPI_ROWS: tuple[str, ...] = (
    "status", "reproducible", "objective", "best_bound", "terms.shortfall", "terms.police_shortfall", "terms.skill_shortfall",
    "terms.share_shortfall", "terms.leader_missing", "terms.below_target", "terms.fairness", "terms.continuity",
    "kpis.fill_rate", "kpis.duties_total", "kpis.duties_fully_met", "kpis.police_demand_met",
    "kpis.share_compliance", "kpis.leader_compliance", "assignments", "gaps", "persons", "schools", "wall_time",
)


def solve_variant(name: str, doc: dict, options: dict) -> dict:
    """Solve one variant (runs in a worker process): its files and summary."""
    from scheduler.pipeline import solve_files

    inst = instance_from_data(doc)
    _, summary, _, _, files = solve_files(inst, **options)
    summary = {**summary, "persons": len(inst.persons), "schools": len(inst.schools)}
    files["summary.json"] = json_text(summary)
    return {"name": name, "files": files, "summary": summary}


def _value(summary: dict, row: str):
    cur: Any = summary
    for part in row.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def kpi_table(results: dict[str, dict]) -> list[dict]:
    """One row per KPI: ``kpi``, ``baseline``, then ``<variant>`` and ``<variant> delta``."""
    rows = []
    base = results["baseline"]["summary"]
    for kpi in KPI_ROWS:
        row: dict[str, Any] = {"kpi": kpi.split(".")[-1], "baseline": _value(base, kpi)}
        for name, res in results.items():
            if name == "baseline":
                continue
            v = _value(res["summary"], kpi)
            row[name] = v
            b = row["baseline"]
            row[f"{name} delta"] = (round(v - b, 6) if isinstance(v, int | float) and isinstance(b, int | float)
                                    and not isinstance(v, bool) else "")
        rows.append(row)
    return rows


def _school_losses(files: dict) -> tuple[Counter, dict[str, Counter]]:
    """People missing at ``min`` per school, and the reasons given for them, from gaps.csv."""
    missing: Counter = Counter()
    reasons: dict[str, Counter] = defaultdict(Counter)
    for g in csv_rows(files["gaps.csv"]):
        if g["rule"] != "shortfall" or not g["school_id"]:
            continue
        k = int(g["needed"]) - int(g["got"])
        missing[g["school_id"]] += k
        reasons[g["school_id"]][g["reason"]] += k
    return missing, reasons


def explain(results: dict[str, dict], top: int = 3) -> dict[str, list[str]]:
    """In words, per variant: the largest KPI changes and the schools losing or gaining most."""
    base = results["baseline"]
    base_missing, _ = _school_losses(base["files"])
    out: dict[str, list[str]] = {}
    for name, res in results.items():
        if name == "baseline":
            continue
        lines = []
        s, b = res["summary"], base["summary"]
        for kpi, label in (("terms.shortfall", "people missing at min"), ("terms.police_shortfall", "police missing"),
                           ("terms.share_shortfall", "professionals missing for the share"),
                           ("terms.leader_missing", "school peaks without a leader")):
            dv = (_value(s, kpi) or 0) - (_value(b, kpi) or 0)
            if dv:
                lines.append(f"{label}: {_value(b, kpi) or 0} -> {_value(s, kpi) or 0} ({dv:+d})")
        fr_b, fr_s = _value(b, "kpis.fill_rate"), _value(s, "kpis.fill_rate")
        if fr_b is not None and fr_s is not None and abs(fr_s - fr_b) >= 1e-4:
            lines.append(f"fill rate {fr_b:.1%} -> {fr_s:.1%}")
        missing, reasons = _school_losses(res["files"])
        change = {sid: missing.get(sid, 0) - base_missing.get(sid, 0) for sid in set(missing) | set(base_missing)}
        worse = sorted((sid for sid, d in change.items() if d > 0), key=lambda sid: (-change[sid], sid))[:top]
        for sid in worse:
            why = reasons[sid].most_common(1)[0][0] if reasons[sid] else "no reason recorded"
            lines.append(f"school {sid} loses {change[sid]} (missing {base_missing.get(sid, 0)} -> {missing[sid]}): {why}")
        better = sorted((sid for sid, d in change.items() if d < 0), key=lambda sid: (change[sid], sid))[:top]
        for sid in better:
            lines.append(f"school {sid} gains {-change[sid]} (missing {base_missing[sid]} -> {missing.get(sid, 0)})")
        if not lines:
            lines.append("no change in coverage against the baseline")
        if b["status"] != "optimal" or s["status"] != "optimal":
            lines.append(f"note: the rosters are not proven optimal (gap {b['gap']:.1%} baseline, {s['gap']:.1%} "
                         f"{name}); differences of a few people at one school can come from the search, not "
                         f"the scenario")
        out[name] = lines
    return out


def run_whatif(instance: str | Path, scenarios_path: str | Path, outdir: str | Path, *, options: dict,
               processes: int | None = None, echo=None, stop=None) -> dict:
    """Baseline and variants; writes every roster folder, whatif.csv and whatif.json."""
    from scheduler.duties import MAX_PAIRS, check_size

    max_pairs = options.get("max_pairs", MAX_PAIRS)
    doc = load_document(instance)
    check_size(doc, max_pairs)  # before validating: a very large file is refused in seconds
    instance_from_data(doc)
    spec = load_scenarios(scenarios_path)
    out = output_folder(outdir)
    docs = {"baseline": doc}
    for i, sc in enumerate(spec.scenarios):
        variant = apply_operations(doc, sc, i)
        try:
            check_size(instance_from_data(variant), max_pairs)
        except InstanceError as exc:
            raise InstanceError(f"scenarios[{i}] ({sc.name})", f"the variant is not a valid instance: {exc}") from None
        docs[sc.name] = variant
    jobs = [(name, solve_variant, (name, d, options)) for name, d in docs.items()]
    results: dict[str, dict] = {}
    for name, res in run_jobs(jobs, processes=processes or default_processes(options.get("workers", 1)), stop=stop):
        results[name] = res
        if echo:
            echo(f"  {name}: {res['summary']['status']}, objective {res['summary']['objective']:.1f}")
    results = {name: results[name] for name in docs}  # baseline first, then the file's order
    table = kpi_table(results)
    words = explain(results)
    report = {
        "instance": str(instance),
        "scenarios": [sc.model_dump(exclude_none=True) for sc in spec.scenarios],
        "options": options,
        "kpis": table,
        "explanations": words,
        "valid": {name: res["summary"]["valid"] for name, res in results.items()},
    }
    columns = tuple(table[0].keys())
    files: dict[str, str | bytes] = {"whatif.csv": csv_text(table, columns), "whatif.json": json_text(report)}
    for name, res in results.items():
        files.update({f"{name}/{file}": content for file, content in res["files"].items()})
    # one publish: the comparison and every variant's folder together; an earlier run's variant
    # folders (any folder with a roster) go, other entries stay
    earlier = {e.name for e in out.iterdir() if (e / "roster.csv").is_file()} if out.is_dir() else set()
    write_files(out, files, replaces=earlier | {"whatif.csv", "whatif.json"})
    return report


def format_table(table: list[dict]) -> str:
    import pandas as pd

    df = pd.DataFrame(table).set_index("kpi")
    return df.to_string(float_format=lambda v: f"{v:,.4g}" if abs(v) < 10 else f"{v:,.1f}")


