"""Storage on both engines: migrations, UTC round-trips, the schema check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kefu.db.engine import make_engine, transaction
from kefu.db.models import Case
from kefu.db.schema import SchemaOutdated, check_schema, current_revision, head_revision, upgrade


def test_upgrade_brings_an_empty_database_to_head(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(SchemaOutdated, match="kefu db upgrade"):
        check_schema(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    check_schema(engine)
    engine.dispose()


def test_times_come_back_aware_utc(make_app) -> None:
    app = make_app()
    shanghai = timezone(timedelta(hours=8))
    opened = datetime(2026, 11, 2, 9, 0, tzinfo=shanghai)
    with transaction(app.sessions) as s:
        s.add(
            Case(number="EX-2026-000001", plugin="example", kind="example.request", opened_at=opened, updated_at=opened)
        )
    with app.sessions() as s:
        case = s.scalars(select(Case)).one()
    assert case.opened_at == opened
    assert case.opened_at.tzinfo is not None
    assert case.opened_at.utcoffset() == timedelta(0)
    assert case.opened_at == datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused(make_app) -> None:
    app = make_app()
    naive = datetime(2026, 11, 2, 9, 0)
    with pytest.raises(Exception, match="naive datetime"), transaction(app.sessions) as s:
        s.add(
            Case(number="EX-2026-000002", plugin="example", kind="example.request", opened_at=naive, updated_at=naive)
        )
        s.flush()


def test_models_match_the_migrations(db_url: str) -> None:
    """A model changed without a migration is caught here (alembic's autogenerate diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from kefu.db.models import Base
    from kefu.plugin_tables import import_plugin_models

    import_plugin_models()
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations; run tools/regen_initial_migration.py: {diff}"
