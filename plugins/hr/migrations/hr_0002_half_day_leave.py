"""half-day leave

Revision ID: hr_0002
Revises: hr_0001
Create Date: 2026-12-02 07:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hr_0002"
down_revision = "hr_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A request of a morning or an afternoon (上午/下午); '' keeps every earlier request whole days.
    with op.batch_alter_table("hr_leaves") as batch_op:
        batch_op.add_column(sa.Column("half", sa.String(length=2), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("hr_leaves") as batch_op:
        batch_op.drop_column("half")
