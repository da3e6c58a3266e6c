"""``schoolpost serve``: the planners' web page and REST API on this machine."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from models import InstanceError


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "schoolpost"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; only this machine (loopback) in this version.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option("--db", "db_url", default=None,
              help="Database URL (SQLAlchemy), e.g. postgresql+psycopg://user@host/schoolpost; "
                   "default: a SQLite file in the data folder.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the runs' files (and the SQLite database). [default: ~/.local/share/schoolpost]")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Solves at once; the others wait in the queue.")
def serve_command(host, port, db_url, data_dir, jobs):
    """Serve the planners' page (upload, solve, roster, publish) and the REST API (/docs) at
    http://HOST:PORT/. Stop with Ctrl-C: running solves keep their best roster."""
    import uvicorn

    from scheduler.service.app import Settings, create_app

    if not _loopback(host):
        # access tokens and roles are not in this version: the page answers only this machine
        raise InstanceError("--host", f"{host} is not this machine: the service listens on a loopback address "
                                      "only (127.0.0.1, ::1 or localhost) until access tokens are configured")
    folder = data_dir or default_data_dir()
    try:
        app = create_app(Settings(data_dir=folder, db_url=db_url, slots=jobs))
    except Exception as exc:  # a database that cannot be reached or migrated: one line, not a traceback
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, (SQLAlchemyError, OSError)):
            raise InstanceError("--db" if db_url else "--data-dir", f"cannot open the database: "
                                f"{str(exc).splitlines()[0]}") from None
        raise
    click.echo(f"schoolpost serves http://{host}:{port}/ (API: /docs); data in {folder}; Ctrl-C stops", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
