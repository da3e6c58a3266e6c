"""``schoolpost serve``: the planners' web page and REST API, with roster history in a database.

- :mod:`scheduler.service.db`: the tables (SQLAlchemy 2) and their migrations (Alembic);
- :mod:`scheduler.service.jobs`: solves as background jobs, each in its own ``schoolpost solve``
  process (the command line's messages, progress log and all-or-nothing files), queued;
- :mod:`scheduler.service.views`: what the roster page shows, read from a run's files;
- :mod:`scheduler.service.app`: the FastAPI application (REST API and the server-rendered page).
"""
