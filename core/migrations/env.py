"""Alembic environment: runs kefu's migrations on the engine handed in by kefu.db.schema."""

from __future__ import annotations

from alembic import context

from kefu.db.models import Base
from kefu.plugin_tables import import_plugin_models

import_plugin_models()
target_metadata = Base.metadata
config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
