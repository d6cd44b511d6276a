"""The log masker on Chinese phrasing, in tracebacks, and in database errors."""

from __future__ import annotations

import logging
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kefu.db.engine import make_engine
from kefu.logs import MaskingFormatter, mask_personal

# (what a log line says, what must not survive, what the masked line shows)
TABLE = [
    ("电话13812345678", "13812345678", "电话138****5678"),
    ("手机号：138 1234 5678", "1234 5678", "手机号：138****5678"),
    ("手机号:138-1234-5678请回电", "1234-5678", "手机号:138****5678请回电"),
    ("联系方式+86-138-1234-5678", "138-1234", "联系方式+86*******5678"),
    ("联系方式+86 138 1234 5678。", "138 1234", "联系方式+86*******5678。"),
    ("来电号码8613812345678", "8613812345678", "来电号码861******5678"),
    ("张三13812345678李四", "13812345678", "张三138****5678李四"),
    ("住户（13912345678）报修", "13912345678", "住户（139****5678）报修"),
    ("身份证号11010519491231002X", "11010519491231002X", "身份证号110***********002X"),
    ("身份证号：11010519491231002x。", "11010519491231002x", "身份证号：110***********002x。"),
    ("身份证110105194912310021号", "110105194912310021", "身份证110***********0021号"),
    ("身份证 110105 19491231 002X", "19491231", "身份证 110***********002X"),
    ("邮箱zhang.san@example.com谢谢", "zhang.san@example.com", "邮箱z***@example.com谢谢"),
    ("发到wang_wu+cs@mail.163.com，", "wang_wu+cs", "发到w***@mail.163.com，"),
    ("座机010-12345678转分机", "12345678", "座机010****5678转分机"),
    ("固话0451 8765432", "8765432", "固话045****5432"),
]

LEFT_ALONE = [
    "case HT-2026-000123 due 2026-11-02T09:00:00+08:00 (job 1700000000)",
    "工单 BX-2026-000001 已于 2026-11-02 13:45:12 关闭，评分 5",
    "订单号 20261130123456789012（20 位）",
    "批次 3000 条，耗时 12.5 秒",
]


@pytest.mark.parametrize(("line", "secret", "masked"), TABLE)
def test_chinese_phrasing_is_masked(line: str, secret: str, masked: str) -> None:
    out = mask_personal(line)
    assert secret not in out
    assert out == masked


@pytest.mark.parametrize("line", LEFT_ALONE)
def test_case_numbers_dates_and_counts_are_left_alone(line: str) -> None:
    assert mask_personal(line) == line


def test_exception_text_and_traceback_are_masked() -> None:
    try:
        raise ValueError("客户电话13812345678无法解析")
    except ValueError:
        info = sys.exc_info()
    rec = logging.LogRecord("kefu.intake", logging.ERROR, __file__, 1, "item failed", (), info)
    line = MaskingFormatter(journald=True).format(rec)
    assert "Traceback" in line and "ValueError" in line
    assert "13812345678" not in line and "138****5678" in line
    assert all(part.startswith("<3>") for part in line.splitlines())


def test_sql_parameters_never_reach_the_error_text(db_url: str) -> None:
    # A unique violation on both engines: the error's text would list the bound values.
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe_pii (v VARCHAR(100) PRIMARY KEY)"))
        value = "\x0013812345678 zhang.san@example.com"
        with pytest.raises(SQLAlchemyError) as err, engine.begin() as conn:
            conn.execute(text("INSERT INTO probe_pii (v) VALUES (:v)"), {"v": value})
            conn.execute(text("INSERT INTO probe_pii (v) VALUES (:v)"), {"v": value})
        rec = logging.LogRecord("kefu", logging.ERROR, __file__, 1, "db: %s", (err.value,), None)
        line = MaskingFormatter(journald=False).format(rec)
        assert "13812345678" not in str(err.value) and "13812345678" not in line
        assert "zhang.san" not in line
    finally:
        engine.dispose()


def test_postgresql_refusing_a_nul_byte_does_not_print_the_values() -> None:
    from kefu.testing.databases import postgres_available, postgres_schema
    from kefu.testing.fixtures import skip_or_fail

    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    with postgres_schema() as url:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE probe_nul (v TEXT)"))
            with pytest.raises(Exception) as err, engine.begin() as conn:
                conn.execute(text("INSERT INTO probe_nul (v) VALUES (:v)"), {"v": "电话\x0013812345678"})
            assert "13812345678" not in str(err.value)
        finally:
            engine.dispose()
