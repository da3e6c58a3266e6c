"""Repairs: a run is a solve or a repair of an earlier run (its absences and first date).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="solve"))
        batch.add_column(sa.Column("parent_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("params", sa.JSON, nullable=True))
        batch.create_foreign_key("fk_runs_parent", "runs", ["parent_id"], ["id"])
    with op.batch_alter_table("absences") as batch:
        batch.add_column(sa.Column("run_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_absences_run", "runs", ["run_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("absences") as batch:
        batch.drop_constraint("fk_absences_run", type_="foreignkey")
        batch.drop_column("run_id")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("fk_runs_parent", type_="foreignkey")
        batch.drop_column("params")
        batch.drop_column("parent_id")
        batch.drop_column("kind")
