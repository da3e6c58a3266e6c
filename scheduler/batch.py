"""``schoolpost batch``: a city rostered district by district, merged into one roster.

Flow: read the city document -> validate it whole and check its pins -> split it by ``school.district``
(:mod:`scheduler.districts`) -> solve each district as its own instance (:func:`solve_part`, in local
processes or on a Dask cluster, :mod:`scheduler.parallel`) -> write each district's files as soon
as it is done -> merge rosters, gaps and figures -> check the merged roster against the whole city
with the validator -> write the city files.

Output folder::

    OUT/roster.csv, roster.json, gaps.csv   the whole city (districts one after the other)
    OUT/summary.json                        city figures, per-district figures, the validator's verdict
    OUT/districts.csv                       one row per district
    OUT/districts/<district>/               that district's roster.csv, roster.json, gaps.csv,
                                            summary.json and batch.json (its input key)

**Resumable.** A district's key is the SHA-256 of its sub-instance document and the solve
options. A district folder whose ``batch.json`` has the same key, and whose files still have the
SHA-256 it lists (not edited since), is reused, not solved again. Each
district folder is first written under a hidden temporary name and renamed when complete, so a
batch killed midway keeps every district finished before; a district stopped by Ctrl-C (status
``interrupted``) is not kept, so the next run solves it again.

**A folder of instance files** instead of a city file: each file is one part, named by its file
stem (:func:`scheduler.districts.folder_parts`), solved, kept and resumed as a district is; the
merged roster is checked against the merged document of all the files.

**A unit or route reaching schools in two districts** joins them into one part (``north+south``,
:mod:`scheduler.districts`), so its people are planned once and never booked twice at one time.
Such units and routes are reported (stdout and ``summary.json``'s ``cross_district``) with how to
plan the districts apart: one unit per district, or the route split at the district boundary.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from models import InstanceError, instance_from_data, load_document
from models.errors import printable
from scheduler.districts import cross_district, folder_parts, instance_files, split_by_district
from scheduler.names import safe_name
from scheduler.output import ROSTER_OUTPUTS, csv_rows, json_text, output_folder, write_files
from scheduler.parallel import (
    DASK_WAIT_SECONDS,
    Stopped,
    Unfinished,
    default_processes,
    names_text,
    run_jobs,
    stop_at_once,
)

PART_FILES = ("roster.csv", "roster.json", "gaps.csv", "summary.json")

#: the per-district figures in districts.csv and summary.json, from each district's summary
DISTRICT_COLUMNS = ("district", "schools", "persons", "status", "strategy", "objective", "best_bound", "gap",
                    "shortfall", "police_shortfall", "fill_rate", "share_compliance", "assignments", "gaps",
                    "wall_time", "reproducible", "reused", "note")


def part_key(doc: dict, options: dict) -> str:
    from scheduler.cpsat.solver import ORTOOLS_VERSION

    text = json.dumps({"doc": doc, "options": options, "ortools": ORTOOLS_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def solve_part(name: str, doc: dict, options: dict) -> dict:
    """Solve one district (runs in a worker process); returns its files as text and its summary."""
    from scheduler.pipeline import solve_files

    try:
        inst = instance_from_data(doc)
    except InstanceError as exc:
        return {"name": name, "error": str(exc)}
    _, summary, _report, _, files = solve_files(inst, **options)
    return {"name": name, "files": files, "summary": summary,
            "sizes": {"schools": len(inst.schools), "persons": len(inst.persons)}}


def _digest(content: str | bytes) -> str:
    return hashlib.sha256(content.encode("utf-8") if isinstance(content, str) else content).hexdigest()


def _write_part(root: Path, folder: str, key: str, out: dict) -> None:
    """Publish a district folder whole (:func:`scheduler.output.write_files`); its batch.json
    holds the input key and the SHA-256 of each file, so that a later run reuses it only as written."""
    files = dict(out["files"])
    digests = {name: _digest(files[name]) for name in PART_FILES}
    files["batch.json"] = json_text({"district": out["name"], "key": key, "sizes": out["sizes"], "files": digests})
    write_files(root / folder, files, replaces="all")


def _reusable(folder: Path, key: str) -> dict | None:
    """The district of ``folder`` when it was solved from the same input (``key``) and its files
    are as that run wrote them; else None (it is solved again): a roster edited by hand since is
    not merged as the batch's own."""
    try:
        meta = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
        if meta.get("key") != key or not isinstance(meta.get("files"), dict):
            return None
        if any(meta["files"].get(name) != _digest((folder / name).read_bytes()) for name in PART_FILES):
            return None
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return {"name": str(meta["district"]), "summary": summary, "sizes": dict(meta.get("sizes", {}))}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _district_row(name: str, out: dict, reused: bool) -> dict:
    s = out["summary"]
    k = s.get("kpis", {})
    return {
        "district": name, "schools": out["sizes"].get("schools"), "persons": out["sizes"].get("persons"),
        "status": s["status"], "strategy": s.get("strategy"), "objective": s["objective"],
        "best_bound": s["best_bound"], "gap": s["gap"], "shortfall": s["terms"].get("shortfall", 0),
        "police_shortfall": s["terms"].get("police_shortfall", 0), "fill_rate": k.get("fill_rate"),
        "share_compliance": k.get("share_compliance"), "assignments": s["assignments"], "gaps": s["gaps"],
        "wall_time": s["wall_time"], "reproducible": bool(s.get("reproducible", False)), "reused": reused,
        "note": s.get("note") or "",
    }


def merge(inst, root: Path, folders: dict[str, str], rows: list[dict], spanning: dict,
          outputs: tuple[str, ...] = ()) -> tuple[dict, dict, Any]:
    """Merge the district folders; check the merged roster against the whole city; make the
    human ``outputs`` of the merged roster (``scheduler.human``)."""
    from models.roster import ASSIGNMENT_COLUMNS, GAP_COLUMNS
    from scheduler.check import check_rows
    from scheduler.output import csv_text

    roster: list[dict] = []
    gaps: list[dict] = []
    for folder_name in folders.values():
        folder = root / folder_name
        roster += csv_rows((folder / "roster.csv").read_text(encoding="utf-8"))
        gaps += csv_rows((folder / "gaps.csv").read_text(encoding="utf-8"))
    report = check_rows(inst, roster)
    total = {key: sum(r[key] or 0 for r in rows) for key in ("objective", "shortfall", "police_shortfall",
                                                               "assignments", "gaps")}
    summary = {
        "instance": inst.name,
        "districts": len(rows),
        "statuses": {st: sum(1 for r in rows if r["status"] == st) for st in sorted({r["status"] for r in rows})},
        # every district ended by its work budget or proved optimal: the same command gives the same files
        "reproducible": all(r["reproducible"] for r in rows),
        "objective_sum_of_districts": round(total["objective"], 6),
        "objective": report.objective,  # the validator's, on the merged roster and the whole city
        "best_bound": round(sum(r["best_bound"] for r in rows), 6),
        "shortfall": total["shortfall"],
        "police_shortfall": total["police_shortfall"],
        "assignments": total["assignments"],
        "gaps": total["gaps"],
        "valid": report.ok,
        "violations": len(report.violations),
        "terms": report.terms,
        "kpis": report.kpis,
        "cross_district": spanning,
        "per_district": rows,
    }
    files: dict[str, str | bytes] = {
        "roster.csv": csv_text(roster, ASSIGNMENT_COLUMNS),
        "roster.json": json_text(roster),
        "gaps.csv": csv_text(gaps, GAP_COLUMNS),
        "districts.csv": csv_text(rows, DISTRICT_COLUMNS),
        "summary.json": json_text(summary),
    }
    if outputs and report.ok:  # a roster that fails the check is written for inspection, never for staff
        from scheduler.human import human_files
        from scheduler.output import gaps_from_rows

        gap_models = gaps_from_rows(gaps)
        human_summary = {**summary, "status": ", ".join(f"{n} {st}" for st, n in summary["statuses"].items())}
        files.update(human_files(inst, roster, report, gap_models, human_summary, outputs))
    return summary, files, report


def fix_text(spanning: dict) -> list[str]:
    """What the planner reads about units and routes that join districts into one part."""
    lines = []
    for uid, ds in spanning["units"].items():
        lines.append(f"unit {uid} serves schools in {len(ds)} districts ({', '.join(ds)}): they are planned together "
                     f"as one part, so its people are never booked twice; a larger part takes longer. "
                     f"To plan them apart: one unit per district (split {uid}).")
    for rid, ds in spanning["routes"].items():
        lines.append(f"route {rid} has stops in {len(ds)} districts ({', '.join(ds)}): they are planned together as "
                     f"one part. To plan them apart: split the route at the district boundary.")
    return lines


def _require_pins_possible(source: Path, inst, parts: dict[str, dict] | None) -> None:
    """The pins, checked before anything is split or solved (as ``solve`` checks them), in the
    words of the whole city (its ``persons[i]``), or of the folder's file that holds them: a
    district alone would name its own person index, or miss a pin's school of another district."""
    from scheduler.check.pins import require_pins_possible

    if parts is None:
        require_pins_possible(inst)
        return
    files = {path.stem: printable(path.name) for path in instance_files(source)}
    for name, part in parts.items():
        if not any(person.get("pins") for person in part.get("persons") or []):
            continue  # no pin, nothing to check (and no second validation of the file)
        try:
            require_pins_possible(instance_from_data(part))
        except InstanceError as exc:
            raise InstanceError(f"{files[name]}: {exc.path}", exc.message) from None


def run_batch(instance: str | Path, outdir: str | Path, *, by: str = "district", options: dict,
              executor: str = "local", scheduler: str | None = None, processes: int | None = None,
              echo=None, progress=None, stop=None, outputs: tuple[str, ...] = (),
              dask_wait: float = DASK_WAIT_SECONDS) -> tuple[dict, Any]:
    """The batch; returns (city summary, validator report). ``instance`` is a city file, split by
    district, or a folder of instance files, one part each (:func:`scheduler.districts.folder_parts`).
    ``echo(line)`` reports each district; ``progress(n, total)`` says n more of ``total`` districts
    are done; ``outputs``: the human outputs of the merged roster (``scheduler.human.HUMAN_OUTPUTS``)."""
    if by != "district":
        raise InstanceError("--by", f"unknown split {by!r}; this version splits by district")
    if scheduler and executor != "dask":  # not run on this machine after all, unasked
        raise InstanceError("--scheduler", f"is for --executor dask (the executor is {executor}): add --executor "
                                           f"dask, or leave --scheduler out to solve on this machine")
    source = Path(instance)
    if source.is_dir():  # every file validated, agreeing and with ids of its own before anything else
        doc, parts = folder_parts(source)
    else:
        doc, parts = load_document(source), None
    inst = instance_from_data(doc)  # the whole city must be valid before anything is solved
    _require_pins_possible(source, inst, parts)
    out = output_folder(outdir)
    if parts is not None and out.resolve() == source.resolve():
        raise InstanceError("-o/--output", f"{out} is the folder of instance files: the merged roster.json and summary.json "
                                        "would be read as instance files next time; give the files a folder of their own")
    spanning = cross_district(doc) if parts is None else {"units": {}, "routes": {}}
    for line in fix_text(spanning):
        (echo or (lambda _: None))("note: " + line)
    if parts is None:
        parts = split_by_district(doc)
    root = out / "districts"
    taken: set[str] = set()
    folders = {name: safe_name(name, taken, limit=80, empty="district", sep="-") for name in parts}
    keys = {name: part_key(parts[name], options) for name in parts}
    done: dict[str, dict] = {}
    reused: set[str] = set()
    for name in parts:
        hit = _reusable(root / folders[name], keys[name])
        if hit is not None:
            done[name] = hit
            reused.add(name)
            if echo:
                echo(f"  {name}: reused ({hit['summary']['status']}, objective {hit['summary']['objective']:.1f})")
    if progress:
        progress(len(reused), len(parts))
    jobs = [(name, solve_part, (name, parts[name], options)) for name in parts if name not in done]
    workers = processes or default_processes(options.get("workers", 1))
    try:
        for name, result in run_jobs(jobs, executor=executor, scheduler=scheduler, processes=workers, stop=stop,
                                     dask_wait=dask_wait, notify=lambda line: print(line, file=sys.stderr, flush=True)):
            if "error" in result:
                raise InstanceError(f"district {name}", result["error"])
            status = result["summary"]["status"]
            if status == "interrupted":
                raise KeyboardInterrupt
            _write_part(root, folders[name], keys[name], result)
            done[name] = result
            if echo:
                s = result["summary"]
                echo(f"  {name}: {status}, objective {s['objective']:.1f}, shortfall {s['terms'].get('shortfall', 0)}, "
                     f"{s['wall_time']:.1f}s")
            if progress:
                progress(1, len(parts))
    except Unfinished as exc:  # the scheduler or a worker lost: which districts are missing, what is kept
        kept = f"the finished ones are kept in {root}" if done else "none finished"
        raise InstanceError(exc.path, f"{exc.why}; {len(exc.unfinished)} of {len(parts)} districts did not finish "
                                      f"({names_text(exc.unfinished)}); {kept}: run the same command again to go on"
                            ) from None
    if stop is not None and stop.is_set():  # asked while the last district came back
        raise Stopped
    rows = [_district_row(name, done[name], name in reused) for name in parts]
    with stop_at_once() if stop is not None else contextlib.nullcontext():  # a stop now ends the batch
        summary, files, report = merge(inst, root, {n: folders[n] for n in parts}, rows, spanning, outputs)
        write_files(out, files, replaces=ROSTER_OUTPUTS)  # districts/ stays: it lets a later run go on
    return summary, report


