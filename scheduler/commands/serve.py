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


DB_OPTION = click.option("--db", "db_url", default=None,
                         help="Database URL (SQLAlchemy), e.g. postgresql+psycopg://user@host/schoolpost; "
                              "default: a SQLite file in the data folder.")
DATA_OPTION = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Folder for the runs' files (and the SQLite database). "
                                "[default: ~/.local/share/schoolpost]")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Another than this machine's (loopback) needs a planner's access "
                   "token first (schoolpost token add), and then every request needs a token.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@DB_OPTION
@DATA_OPTION
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Solves at once; the others wait in the queue.")
@click.option("--history-weeks", type=click.IntRange(0, 52), default=4, show_default=True,
              help="Published weeks before an instance's week whose duties count in its fairness (the week just "
                   "before also in its continuity); 0: none. The policy switches them off per instance.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where solves run: local worker processes, or the Dask cluster that batch uses.")
@click.option("--scheduler", "dask_scheduler", default=None, help="The Dask scheduler's address (tcp://host:port).")
def serve_command(host, port, db_url, data_dir, jobs, history_weeks, executor, dask_scheduler):
    """Serve the planners' page (upload, solve, roster, repair, publish) and the REST API (/docs) at
    http://HOST:PORT/. Stop with Ctrl-C: running solves keep their best roster."""
    import uvicorn

    from scheduler.service.access import has_planner_token
    from scheduler.service.app import Settings, create_app

    folder = data_dir or default_data_dir()
    local = _loopback(host)
    try:
        if not local and not has_planner_token(folder, db_url):
            raise InstanceError("--host", f"{host} is reachable from other machines: make a planner's access "
                                          "token first (schoolpost token add NAME --role planner), or listen on "
                                          "127.0.0.1")
        if executor == "dask" and not dask_scheduler:
            raise InstanceError("--scheduler", "--executor dask needs the scheduler's address (tcp://host:port)")
        app = create_app(Settings(data_dir=folder, db_url=db_url, slots=jobs, require_auth=not local,
                                  history_weeks=history_weeks,
                                  scheduler=dask_scheduler if executor == "dask" else None))
        app.state.runner.connect()  # a Dask scheduler that does not answer: one line, before the page starts
    except Exception as exc:  # a database that cannot be reached or migrated: one line, not a traceback
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, (SQLAlchemyError, OSError)):
            raise InstanceError("--db" if db_url else "--data-dir", f"cannot open the database: "
                                f"{str(exc).splitlines()[0]}") from None
        raise
    click.echo(f"schoolpost serves http://{host}:{port}/ (API: /docs); data in {folder}; Ctrl-C stops", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@click.group()
def token_command():
    """Access tokens for schoolpost serve: a planner's edits and publishes, a viewer's reads. With
    any token made, every request needs one (the page asks for it once)."""


@token_command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["planner", "viewer"]), default="viewer", show_default=True)
@DB_OPTION
@DATA_OPTION
def token_add(name, role, db_url, data_dir):
    """Make a token for NAME and print it: it is shown this once (only its hash is kept)."""
    from scheduler.service.access import add_token

    token = add_token(data_dir or default_data_dir(), db_url, name, role)
    click.echo(token)
    click.echo(f"{role} token for {name}: keep it; it cannot be shown again (schoolpost token revoke {name} "
               f"ends it)", err=True)


@token_command.command("list")
@DB_OPTION
@DATA_OPTION
def token_list(db_url, data_dir):
    """The tokens by name and role (never the tokens themselves)."""
    from scheduler.service.access import list_tokens

    for t in list_tokens(data_dir or default_data_dir(), db_url):
        state = f"revoked {t['revoked_at'][:16]}" if t["revoked_at"] else "active"
        click.echo(f"{t['name']}\t{t['role']}\tmade {t['created_at'][:16]}\t{state}")


@token_command.command("revoke")
@click.argument("name")
@DB_OPTION
@DATA_OPTION
def token_revoke(name, db_url, data_dir):
    """End NAME's token at once."""
    from scheduler.service.access import revoke_token

    revoke_token(data_dir or default_data_dir(), db_url, name)
    click.echo(f"revoked {name}'s token", err=True)


@click.command()
@click.option("--person", default=None, help="A person's id: their published duties.")
@click.option("--school", default=None, help="A school's id: its published duties.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="From this date on.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@DB_OPTION
@DATA_OPTION
def history_command(person, school, since, as_json, db_url, data_dir):
    """Published duties of a person or a school, week by week (each week's newest version), from
    the database of schoolpost serve."""
    import json

    from scheduler.service.access import history

    if (person is None) == (school is None):
        raise click.UsageError("give one of --person or --school")
    rows = history(data_dir or default_data_dir(), db_url, person=person, school=school,
                   since=since.date() if since else None)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no published duties of {person or school}" + (f" since {since.date()}" if since else ""), err=True)
        return
    for r in rows:
        where = r["post_id"] or r["route_id"]
        who = f"{r['person_name']} ({r['person_id']}, {r['role']})" if school else r["school_id"] or "route"
        click.echo(f"{r['date']}  {r['start']}-{r['end']}  {r['peak']:<10} {where:<28} {who}  [{r['roster']} v{r['version']}]")
    weeks = sorted({r["date"][:10] for r in rows})
    click.echo(f"{len(rows)} duties on {len(weeks)} days", err=True)
