"""phone numbers in E.164

Customers', contacts' and staff's numbers were stored as they were written
(13900000031, 139 0000 0031, 86-139…); every entry point now stores E.164
(+8613900000031), so the stored rows are rewritten to match. A number that is
not a possible one is left as it was and counted in the migration's log.
Outbox rows keep their recipient: their idempotency keys were made with it, and
the Twilio sender puts every To in E.164 when it sends.

Revision ID: 0002_phones_e164
Revises: 0001
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import context, op

from kefu.phones import PhoneError, to_e164

revision = "0002_phones_e164"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# (table, primary key, phone column, contacts' kind)
_PHONES = (("customers", "id", "phone", None), ("staff", "key", "phone", None),
           ("contacts", "id", "value", "phone"))


def _country() -> str:
    try:
        return str(context.config.attributes.get("default_country") or "CN")
    except AttributeError:  # run outside an Alembic environment with a config
        return "CN"


def upgrade() -> None:
    bind = op.get_bind()
    country = _country()
    for table_name, pk, column, kind in _PHONES:
        columns = [sa.column(pk), sa.column(column, sa.String)]
        if kind is not None:
            columns.append(sa.column("kind", sa.String))
        table = sa.table(table_name, *columns)
        query = sa.select(table.c[pk], table.c[column]).where(table.c[column].is_not(None))
        if kind is not None:
            query = query.where(table.c.kind == kind)
        changes: list[dict[str, object]] = []
        left = 0
        for row_id, value in bind.execute(query):
            try:
                e164 = to_e164(value, country)
            except PhoneError:
                left += 1
                continue
            if e164 != value:
                changes.append({"row_id": row_id, "e164": e164})
        if changes:
            bind.execute(table.update().where(table.c[pk] == sa.bindparam("row_id"))
                         .values({column: sa.bindparam("e164")}), changes)
        if left:
            log.warning("%s.%s: %d number(s) are not possible phone numbers and were left as written",
                        table_name, column, left)


def downgrade() -> None:
    # E.164 is a form every older version reads; the numbers as first written are not kept.
    pass
