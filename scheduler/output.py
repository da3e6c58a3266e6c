"""Writing the roster files: roster.csv, roster.json, gaps.csv, summary.json.

All files of one run are written into a hidden temporary folder beside the output and then
moved into place one by one with ``os.replace``; an error or an interruption leaves no
half-written file behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from models import ASSIGNMENT_COLUMNS, GAP_COLUMNS, Gap, format_hhmm
from scheduler.duties import Problem


def roster_rows(problem: Problem, assignments: Iterable[tuple[int, int]]) -> list[dict[str, str]]:
    """SPEC rows, sorted by date, start, place and person (deterministic)."""
    rows = []
    for p, d in assignments:
        duty, person = problem.duties[d], problem.persons[p]
        rows.append({
            "date": duty.date.isoformat(),
            "weekday": duty.weekday,
            "peak": duty.peak,
            "school_id": duty.school_id,
            "post_id": duty.post_id,
            "route_id": duty.route_id,
            "person_id": person.id,
            "person_name": person.name or "",
            "role": person.role,
            "start": format_hhmm(duty.start),
            "end": format_hhmm(duty.end),
        })
    rows.sort(key=lambda r: (r["date"], r["start"], r["end"], r["school_id"], r["post_id"], r["route_id"],
                             r["person_id"]))
    return rows


def csv_text(rows: list[dict], columns: tuple[str, ...]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def json_text(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, allow_nan=False) + "\n"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_file(path: str | Path, data: bytes) -> None:
    """Write one file atomically: a temporary file in its folder (created if missing), then
    ``os.replace``; the file gets the usual mode (0666 less the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(outdir: str | Path, files: dict[str, str | bytes]) -> None:
    """Write ``{name: content}`` into ``outdir`` so that no file is ever seen half-written.

    A name is a plain file name, or ``folder/file`` for a folder of files (``calendars/P1.ics``):
    such a folder is written whole and swapped in for the previous one, so it never mixes files
    of two runs."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".schoolpost-", dir=outdir))
    folders: set[str] = set()
    try:
        for name, content in files.items():
            parts = name.split("/")
            if len(parts) > 2 or any(not p or p.startswith(".") or Path(p).name != p or "\\" in p for p in parts):
                raise ValueError(f"unsafe output file name {name!r}")
            if len(parts) == 2:
                folders.add(parts[0])
                (tmp / parts[0]).mkdir(exist_ok=True)
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(tmp / name, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
        for name in files:
            if "/" not in name:
                os.replace(tmp / name, outdir / name)
        for folder in sorted(folders):
            target = outdir / folder
            if target.is_symlink():  # a link in the folder's place is replaced, never written through
                os.unlink(target)
            elif target.is_dir():
                os.replace(target, tmp / (".old-" + folder))
            elif target.exists():
                raise ValueError(f"{target} exists and is not a folder")
            os.replace(tmp / folder, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def gap_dicts(gaps: list[Gap]) -> list[dict]:
    return [g.model_dump() for g in gaps]


def gaps_from_rows(rows: Iterable[dict[str, str]]) -> list[Gap]:
    """gaps.csv rows (text cells) back into :class:`Gap` models; ValueError, TypeError or KeyError
    when they are not rows of a gaps.csv."""
    return [Gap(**{**row, "needed": int(row["needed"]), "got": int(row["got"])}) for row in rows]


def roster_files(rows: list[dict], gaps: list[Gap], summary: dict) -> dict[str, str]:
    return {
        "roster.csv": csv_text(rows, ASSIGNMENT_COLUMNS),
        "roster.json": json_text(rows),
        "gaps.csv": csv_text(gap_dicts(gaps), GAP_COLUMNS),
        "summary.json": json_text(summary),
    }
