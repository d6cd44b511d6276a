"""claim leases: outbox.lease_until, and room for a process identity in claimed_by

Revision ID: 0003_claim_leases
Revises: 0002_phones_e164
Create Date: 2026-12-02 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kefu.db.base

revision = "0003_claim_leases"
down_revision = "0002_phones_e164"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_until", kefu.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column(
            "claimed_by",
            existing_type=sa.String(length=128),
            type_=sa.String(length=255),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "claimed_by",
            existing_type=sa.String(length=255),
            type_=sa.String(length=128),
            existing_nullable=True,
        )
        batch_op.drop_column("lease_until")
