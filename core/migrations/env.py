"""Alembic environment: runs kefu's migrations on the engine handed in by kefu.db.schema.

Upgrades need no models. ``kefu db revision`` sets ``owner`` (``kefu`` or a plugin's
name): then every installed plugin's models are imported, autogenerate compares
only that owner's tables, and the shared column types are written as imports a
plugin's migration may have (``kefu.api.tables``).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext

from kefu.db.base import UTCDateTime
from kefu.db.branches import CORE
from kefu.db.models import Base

config = context.config
engine = config.attributes["engine"]
owner: str | None = config.attributes.get("owner")
options: dict[str, Any] = {}

if owner is not None:
    from kefu.plugin_tables import import_plugin_models, table_owners

    import_plugin_models()
    owners = table_owners()
    types_module = "kefu.db.base" if owner == CORE else "kefu.api.tables"

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        """Only the owner's tables; a table no installed code declares is left alone."""
        return type_ != "table" or (name is not None and owners.get(name) == owner)

    def render_item(type_: str, obj: Any, autogen: AutogenContext) -> str | bool:
        """Our column types from where the branch may import them."""
        if type_ == "type" and isinstance(obj, UTCDateTime):
            autogen.imports.add(f"import {types_module}")
            return f"{types_module}.UTCDateTime(timezone=True)"
        return False

    options = {"include_object": include_object, "render_item": render_item}

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
