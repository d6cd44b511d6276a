"""What a plugin needs for its own tables and their migrations.

A plugin declares its models on :class:`Base` in the ``models`` module beside its
hooks module, names each table after itself (``notes_items``) and points at core
rows through the foreign-key targets below. Its revisions live in the
``migrations/`` folder beside its hooks module (``kefu db revision <plugin>``
writes them); see docs/plugin-tables.md.
"""

from __future__ import annotations

from kefu.db.base import Base, UTCDateTime, table_of
from kefu.db.branches import CORE

#: The Alembic branch of the core's revisions; a plugin's first revision depends on one of them.
CORE_BRANCH = CORE

# Core rows a plugin's table may reference, as ``ForeignKey(CASE_ID)``.
CASE_ID = "cases.id"
CUSTOMER_ID = "customers.id"
STAFF_ID = "staff.id"

__all__ = ["CASE_ID", "CORE_BRANCH", "CUSTOMER_ID", "STAFF_ID", "Base", "UTCDateTime", "table_of"]
