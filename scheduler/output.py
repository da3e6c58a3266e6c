"""Writing the roster files: roster.csv, roster.json, gaps.csv, summary.json.

All files of one run are written into a hidden folder beside the output folder, which is then
swapped in for it in one step (:func:`write_files`): a reader, an error, a crash or ``kill -9``
sees the old files or the new ones, never half a file and never a mix of two runs.
"""

from __future__ import annotations

import csv
import ctypes
import errno
import functools
import io
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from models import ASSIGNMENT_COLUMNS, GAP_COLUMNS, Gap, csv_cell, csv_value, format_hhmm
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
    """Rows as CSV text; a cell that would start a spreadsheet formula gets a leading ``'``
    (:func:`models.csv_cell`; readers take it off with :func:`models.csv_value`)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
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


#: what a roster run writes at the top of its folder; ``write_files(replaces=ROSTER_OUTPUTS)`` drops
#: these when the new set lacks them (an earlier roster's calendars, sheets and report)
ROSTER_OUTPUTS = frozenset({"roster.csv", "roster.json", "gaps.csv", "summary.json", "changes.csv",
                            "roster.xlsx", "duty-sheets.html", "report.html", "calendars"})
#: the hidden folder a publish is built in, beside the output folder: ``.<name>.schoolpost-<pid>-...``
STAGING = ".schoolpost-"


def output_folder(path: str | Path, option: str = "-o/--output") -> Path:
    """The output folder a command was given, checked before any work is done: one error naming
    ``option`` for an empty name, a file in the way, a folder that cannot be made under a file,
    a link that points nowhere, or the current folder (or one holding it), whose swap would pull
    the folder from under the planner's shell."""
    from models import InstanceError

    text = os.fspath(path)
    if not text.strip():
        raise InstanceError(option, "is empty; name a folder for the files")
    out = Path(text)
    if out.is_symlink() and not out.exists():
        raise InstanceError(option, f"{out} is a link to nothing ({os.readlink(out)})")
    if out.exists() and not out.is_dir():
        raise InstanceError(option, f"{out} exists and is not a folder")
    for above in Path(os.path.abspath(out)).parents:
        if above.exists():
            if not above.is_dir():
                raise InstanceError(option, f"{out} cannot be made: {above} is a file")
            break
    real = Path(os.path.realpath(out))
    here = Path(os.path.realpath(os.getcwd()))
    if real == here or real in here.parents:
        raise InstanceError(option, f"{out} is the current folder or holds it; give the files a folder of their own")
    _probe(out, option)
    return out


#: an output folder's disk must have this much room left before the work starts
MIN_FREE_BYTES = 4 * 2**20


def _probe(out: Path, option: str) -> None:
    """Make (and remove) a hidden folder where the files will be built, and check the disk has
    room: a read-only, full or unwritable place (``/proc/self``) is refused before any work,
    not after a long solve."""
    from models import InstanceError

    target = Path(os.path.realpath(out)) if out.is_symlink() else Path(os.path.abspath(out))
    where = next((p for p in (target.parent, *target.parent.parents) if p.exists()), Path("/"))
    if _is_mount(target):
        where = target  # a mount point cannot be swapped: its files are built inside it, on its own disk
    place = where
    try:
        # beside the folder (where its new version is built) and, when it exists, inside it (an
        # immutable folder lets its parent change but cannot be replaced or written)
        for place in dict.fromkeys((where, target) if target.is_dir() else (where,)):
            probe = tempfile.mkdtemp(prefix=f".{target.name}{STAGING}probe-", dir=place)
            os.rmdir(probe)
        free = shutil.disk_usage(where).free
    except OSError as exc:
        raise InstanceError(option, f"cannot write in {place}: {exc.strerror or exc}") from None
    if free < MIN_FREE_BYTES:
        raise InstanceError(option, f"the disk holding {where} is full ({free // 1024} KiB free); free some space "
                                    f"or give another folder")


def _is_mount(folder: Path) -> bool:
    """A folder another file system is mounted on (a container's volume, a USB disk): renaming it,
    as the swap of a publish does, fails with 'Device or resource busy'."""
    try:
        return folder.is_dir() and not folder.is_symlink() and os.path.ismount(folder)
    except OSError:
        return False


def write_files(outdir: str | Path, files: Mapping[str, str | bytes], *,
                replaces: frozenset[str] | set[str] | str = frozenset()) -> Path:
    """Publish ``{name: content}`` in the folder ``outdir``, all files or none.

    A name is a file name or a path of them (``calendars/P1.ics``). The new contents are built in a
    hidden folder beside ``outdir`` (with every entry of ``outdir`` that stays: hard links, or
    copies where links cannot be made), then swapped in for ``outdir`` in one step (Linux's
    ``renameat2`` exchange; elsewhere two renames), so a reader, a crash or ``kill -9`` sees the old
    folder whole or the new one whole, never a mix. Entries of ``outdir`` named in ``files`` (their
    first part) are replaced, those in ``replaces`` removed (``"all"``: every other entry, for a
    folder that is wholly the program's), the rest kept. Staging folders that a
    dead process left are removed. Returns the folder written (a link given as ``outdir`` is
    followed: the folder it points to is the one published)."""
    for name in files:
        parts = name.split("/")
        if any(not p or p.startswith(".") or Path(p).name != p or "\\" in p for p in parts):
            raise ValueError(f"unsafe output file name {name!r}")
    outdir = Path(os.path.realpath(outdir) if Path(outdir).is_symlink() else os.path.abspath(outdir))
    if outdir.exists() and not outdir.is_dir():
        raise ValueError(f"{outdir} exists and is not a folder")
    try:
        return _publish(outdir, files, replaces)
    except OSError as exc:  # a disk that fills up, a folder made read-only meanwhile: nothing is published
        from models import InstanceError

        raise InstanceError("-o/--output", f"cannot write the files into {outdir}: {exc.strerror or exc}; "
                                           f"nothing was published") from None


def _publish(outdir: Path, files: Mapping[str, str | bytes], replaces) -> Path:
    parent = outdir.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(parent, outdir.name)
    _remove_stale(outdir, "")  # staging folders of versions that built inside the output folder
    if _is_mount(outdir):  # it cannot be swapped for another folder
        return _write_inside(outdir, files, replaces)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{outdir.name}{STAGING}{os.getpid()}-", dir=parent))
    except PermissionError:  # no right to write beside it: file by file inside it (never half a file)
        return _write_inside(outdir, files, replaces)
    try:
        _fill(stage, files)
        if outdir.is_dir():
            top = {name.split("/")[0] for name in files}
            for entry in os.scandir(outdir):
                if entry.name not in top and replaces != "all" and entry.name not in replaces \
                        and STAGING not in entry.name:
                    _carry(Path(entry.path), stage / entry.name)
            os.chmod(stage, stat.S_IMODE(outdir.stat().st_mode))
            if not _exchange(stage, outdir):
                old = stage.with_name(stage.name + "-old")
                os.rename(outdir, old)
                os.rename(stage, outdir)
                stage = old
        else:
            os.chmod(stage, 0o777 & ~_umask())
            os.rename(stage, outdir)
        _sync(parent)
    finally:
        if stage.is_symlink():
            stage.unlink()
        else:
            shutil.rmtree(stage, ignore_errors=True)
    return outdir


def _fill(folder: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        text_options: dict[str, Any] = {} if mode == "wb" else {"encoding": "utf-8", "newline": ""}
        with open(path, mode, **text_options) as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())


def _carry(src: Path, dst: Path) -> None:
    """An entry of the old folder into the new one: links as links (never followed), files as
    hard links (copies where the file system has none), folders entry by entry."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(src, dst)


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries in one step (``renameat2(RENAME_EXCHANGE)``); False where the
    system or file system cannot."""
    fn = getattr(_libc(), "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@functools.cache
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _remove_stale(folder: Path, name: str) -> None:
    """Staging folders for ``name`` in ``folder`` whose process is gone (a crash or ``kill -9``)."""
    prefix = f".{name}{STAGING}" if name else STAGING
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(prefix):].split("-")[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue  # not one of ours
        shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sync(folder: Path) -> None:
    """Make the swap itself durable (the folder's entry list on disk)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_inside(outdir: Path, files: Mapping[str, str | bytes], replaces) -> Path:
    """Where nothing may be written beside the output folder, or the folder is a mount point that
    cannot be swapped: build inside it, then move each entry into place (no half-written file, but
    a crash in the moves can mix two runs)."""
    outdir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGING}{os.getpid()}-", dir=outdir))
    try:
        _fill(stage, files)
        top = sorted({name.split("/")[0] for name in files})
        gone = {e.name for e in os.scandir(outdir) if STAGING not in e.name} if replaces == "all" else set(replaces)
        for name in sorted(gone - set(top)):
            target = outdir / name
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.is_dir():
                shutil.rmtree(target)
        for name in top:
            target = outdir / name
            if target.is_symlink():
                target.unlink()
            elif target.is_dir():
                os.replace(target, stage / (".old-" + name))
            os.replace(stage / name, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return outdir


def gap_dicts(gaps: list[Gap]) -> list[dict]:
    return [g.model_dump() for g in gaps]


def gaps_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Gap]:
    """gaps.csv rows (text cells, as :func:`csv_rows` reads them) back into :class:`Gap` models;
    ValueError, TypeError or KeyError when they are not rows of a gaps.csv."""
    return [Gap(**{**row, "needed": int(row["needed"]), "got": int(row["got"])}) for row in rows]


def csv_rows(text: str) -> list[dict[str, str]]:
    """The rows of a CSV the project wrote, each cell as it was before the formula guard."""
    return [{k: csv_value(v) if isinstance(v, str) else v for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text, newline=""))]


def roster_files(rows: list[dict], gaps: list[Gap], summary: dict) -> dict[str, str | bytes]:
    return {
        "roster.csv": csv_text(rows, ASSIGNMENT_COLUMNS),
        "roster.json": json_text(rows),
        "gaps.csv": csv_text(gap_dicts(gaps), GAP_COLUMNS),
        "summary.json": json_text(summary),
    }
