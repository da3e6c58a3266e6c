"""Alembic's environment: migrations run on the connection that :func:`scheduler.service.db.migrate`
passes in (``config.attributes["connection"]``); no alembic.ini, no URL in a file."""

from __future__ import annotations

from alembic import context

from scheduler.service.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - migrate() always passes one
    raise RuntimeError("run the migrations through scheduler.service.db.migrate(engine)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
