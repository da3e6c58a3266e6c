"""``schoolpost template OUT.xlsx``: the instance spreadsheet with notes and a worked example
(docs/SPREADSHEET.md); ``--from INSTANCE`` writes an existing instance in the same layout instead."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from models import load_instance


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file in ``path``'s folder, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="Write this instance (YAML, JSON or .xlsx) instead of the worked example.")
def template_command(out: Path, force: bool, source: Path | None) -> None:
    """Write OUT.xlsx: one sheet per input table, with notes and a worked example."""
    from models.spreadsheet import instance_to_xlsx, template_bytes

    if out.suffix.lower() != ".xlsx":
        _fail(f"{out}: the template is an Excel workbook; give a file name ending in .xlsx")
    if out.is_dir():
        _fail(f"{out} is a folder")
    if out.exists() and not force:
        _fail(f"{out} exists; use --force to overwrite it")
    data = instance_to_xlsx(load_instance(source)) if source is not None else template_bytes()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(out, data)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")
    what = f"{source} as a workbook" if source is not None else "the instance template"
    click.echo(f"wrote {what} to {out}")
