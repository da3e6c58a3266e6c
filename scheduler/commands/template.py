"""``schoolpost template OUT.xlsx``: the instance spreadsheet with notes and a worked example
(docs/SPREADSHEET.md); ``--from INSTANCE`` writes an existing instance in the same layout instead."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from models import load_instance
from scheduler.output import write_file


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


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
        write_file(out, data)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")
    what = f"{source} as a workbook" if source is not None else "the instance template"
    click.echo(f"wrote {what} to {out}")
