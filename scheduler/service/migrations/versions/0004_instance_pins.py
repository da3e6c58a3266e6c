"""An instance's pins, read at upload (the page shows pin or unpin without reading the file), and
the instance it was derived from (a pin or an unpin makes a new instance).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("pins", sa.JSON, nullable=True))
        batch.add_column(sa.Column("parent_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_instances_parent", "instances", ["parent_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_constraint("fk_instances_parent", type_="foreignkey")
        batch.drop_column("parent_id")
        batch.drop_column("pins")
