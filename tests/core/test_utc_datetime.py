"""UTCDateTime: aware UTC in, aware UTC out, on both engines; SQLite's fast path keeps the stored text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, select, text

from kefu.db.base import UTCDateTime

BEIJING = timezone(timedelta(hours=8))


def test_round_trip_and_order_of_stored_text(db_url: str) -> None:
    engine = create_engine(db_url)
    meta = MetaData()
    table = Table("utc_probe", meta, Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    meta.create_all(engine)
    values = [
        datetime(2026, 11, 2, 9, 0, tzinfo=BEIJING),
        datetime(2026, 11, 2, 1, 0, 0, 5, tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
        None,
    ]
    try:
        with engine.begin() as conn:
            conn.execute(table.insert(), [{"id": i, "at": v} for i, v in enumerate(values)])
            back = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
            assert back == values
            assert all(v is None or v.tzinfo is UTC for v in back)
            # Whole seconds keep six fraction digits on SQLite, so text comparisons order by time.
            at_or_before = select(table.c.id).where(table.c.at <= datetime(2026, 11, 2, 1, 0, 0, 5, tzinfo=UTC))
            assert sorted(conn.execute(at_or_before).scalars()) == [0, 1]
            if engine.dialect.name == "sqlite":
                stored = conn.execute(text("SELECT at FROM utc_probe WHERE id = 0")).scalar_one()
                assert stored == "2026-11-02 01:00:00.000000"
            with pytest.raises(Exception, match="naive datetime"):
                conn.execute(table.insert(), [{"id": 9, "at": datetime(2026, 11, 2, 9, 0)}])
    finally:
        meta.drop_all(engine)
        engine.dispose()


def test_sqlite_text_written_with_a_zone_by_another_tool_reads_as_that_moment(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    meta = MetaData()
    table = Table("utc_probe2", meta, Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    meta.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO utc_probe2 (id, at) VALUES (1, '2026-11-02 09:00:00+08:00'), "
                    "(2, '2026-11-02 01:00:00')"
                )
            )
            back = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
        assert back == [datetime(2026, 11, 2, 1, 0, tzinfo=UTC)] * 2
        assert all(v.tzinfo is UTC for v in back)
    finally:
        meta.drop_all(engine)
        engine.dispose()
