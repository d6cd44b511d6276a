"""The one import pipeline: encodings, XLSX, header search, bad rows by place, never half-written."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Hashable, Iterator
from datetime import date

import openpyxl
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

from kefu.imports import (
    Code,
    Day,
    Importer,
    ImportFileError,
    ImportRow,
    Number,
    OptionalPhone,
    Outcome,
    RowError,
    column,
    parse_day,
    run_import,
)

META = MetaData()
ORDERS = Table(
    "orders",
    META,
    Column("id", Integer, primary_key=True),
    Column("order_no", String(32), unique=True, nullable=False),
    Column("buyer", String(8)),
    Column("phone", String(20)),
    Column("amount", String(20)),
    Column("day", String(10)),
)


class OrderRow(ImportRow):
    order_no: Code = column("订单号", "订单编号")
    buyer: str = column("买家", "收货人")
    phone: OptionalPhone = column("手机", "联系电话", default=None)
    amount: Number = column("金额", "实付金额", default=0.0)
    day: Day | None = column("日期", "下单日期", default=None)


class OrderImport(Importer[OrderRow]):
    name = "orders"
    row_model = OrderRow
    key_label = "order"

    def __init__(self) -> None:
        self.known: dict[str, tuple[str, str | None, str]] = {}
        self.starts = 0

    def key(self, row: OrderRow) -> Hashable:
        return row.order_no

    def start(self, session: Session) -> None:
        self.starts += 1
        self.known = {r.order_no: (r.buyer, r.phone, r.amount) for r in session.execute(select(ORDERS))}

    def check(self, row: OrderRow) -> None:
        if row.buyer == "refused":
            raise RowError("this buyer is refused", "buyer")

    def apply(self, session: Session, row: OrderRow) -> Outcome:
        values = (row.buyer, row.phone, f"{row.amount:g}")
        old = self.known.get(row.order_no)
        if old == values:
            return "unchanged"
        data = {
            "buyer": row.buyer,
            "phone": row.phone,
            "amount": values[2],
            "day": row.day.isoformat() if row.day else None,
        }
        if old is None:
            # buyer is String(8): a longer name is refused by PostgreSQL only at write time, so
            # the check is made here to be the same on both engines, after the write began.
            session.execute(insert(ORDERS).values(order_no=row.order_no, **data))
            if len(row.buyer) > 8:
                raise RowError("buyer name longer than 8 characters", "buyer")
            self.known[row.order_no] = values
            return "created"
        session.execute(ORDERS.update().where(ORDERS.c.order_no == row.order_no).values(**data))
        self.known[row.order_no] = values
        return "updated"


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = create_engine(db_url)
    META.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _orders(session: Session) -> dict[str, str]:
    return {r.order_no: r.buyer for r in session.execute(select(ORDERS))}


HEADER = "订单号,买家,手机,金额,日期\n"


def test_gb18030_with_chinese_headers_keeps_long_numbers_exact(session: Session) -> None:
    text = HEADER + '="123456789012345678",张三,139 0000 0031,"1,234.50",2026年11月2日\n'
    report = run_import(OrderImport(), session, data=text.encode("gb18030"), name="o.csv")
    assert (report.encoding, report.created, report.bad) == ("gb18030", 1, [])
    row = session.execute(select(ORDERS)).one()
    assert (row.order_no, row.phone, row.amount, row.day) == (
        "123456789012345678",
        "+8613900000031",
        "1234.5",
        "2026-11-02",
    )


def test_utf8_with_bom_and_english_headers(session: Session) -> None:
    text = "order_no,buyer,phone\nA1,Li,+86 139-0000-0031\nA2,Wang,008613900000032\n"
    report = run_import(OrderImport(), session, data=("\ufeff" + text).encode("utf-8"), name="o.csv")
    assert (report.encoding, report.created) == ("utf-8-sig", 2)
    assert {r.phone for r in session.execute(select(ORDERS))} == {
        "+8613900000031",
        "+8613900000032",
    }


def _xlsx(rows: list[list[object]], title: str | None = "2026年11月订单明细") -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "订单"
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=5)
        ws.append([])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _exact_digits(data: bytes, written: str, exact: str) -> bytes:
    """The workbook with a numeric cell as an ERP writes it: all 18 digits (openpyxl rounds them)."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        files = {n: book.read(n) for n in book.namelist()}
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    assert f"<v>{written}</v>" in sheet
    files["xl/worksheets/sheet1.xml"] = sheet.replace(f"<v>{written}</v>", f"<v>{exact}</v>").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        for name, body in files.items():
            book.writestr(name, body)
    return out.getvalue()


def test_xlsx_with_a_merged_title_row_and_numeric_cells(session: Session) -> None:
    data = _xlsx(
        [
            ["订单编号", "收货人", "联系电话", "实付金额", "下单日期"],
            [4242, "张三", 13900000031, 85.5, date(2026, 11, 2)],
            ["B2", "李四", "not a phone", 1, None],
            [2e17, "王五", None, 1e-7, "2026/11/3"],
        ]
    )
    data = _exact_digits(data, "4242", "123456789012345678")
    report = run_import(OrderImport(), session, data=data, name="o.xlsx")
    assert (report.encoding, report.created) == ("xlsx", 2)
    [bad] = report.bad
    assert (bad.where.sheet, bad.where.row, bad.column) == ("订单", 5, "phone (联系电话)")
    assert "not a phone" in bad.reason and str(bad.where) == "sheet '订单' row 5"
    rows = {r.order_no: r for r in session.execute(select(ORDERS))}
    assert set(rows) == {"123456789012345678", "200000000000000000"}
    assert rows["123456789012345678"].phone == "+8613900000031"
    assert rows["200000000000000000"].amount == "1e-07" and rows["123456789012345678"].day == "2026-11-02"


def test_missing_required_column_names_itself_and_its_aliases(session: Session) -> None:
    with pytest.raises(ImportFileError) as err:
        run_import(OrderImport(), session, data="订单号,手机\nA1,13900000031\n".encode(), name="o.csv")
    assert "buyer (buyer/买家/收货人)" in str(err.value) and "o.csv" in str(err.value)


def test_truncated_last_line_is_a_bad_row_and_the_rest_land(session: Session) -> None:
    text = HEADER + "A1,张三,13900000031,1,2026-11-02\nA2,李四,139000"
    data = text.encode("utf-8")[:-1] + "四".encode()[:2]  # cut inside the last character too
    report = run_import(OrderImport(), session, data=data, name="o.csv")
    assert report.created == 1
    [bad] = report.bad
    assert bad.where.row == 3 and "the file ends inside this line" in bad.reason


def test_duplicate_rows_are_bad_rows_naming_the_first(session: Session) -> None:
    text = HEADER + "A1,张三,,1,\nA2,李四,,2,\nA1,张三,,1,\n"
    report = run_import(OrderImport(), session, data=text.encode(), name="o.csv")
    assert report.created == 2 and report.errors == [(4, "order 'A1' already given on line 2")]


def test_wrong_width_rows_are_bad_rows_and_an_empty_row_with_a_comma_is_skipped(
    session: Session,
) -> None:
    text = (
        HEADER + "A1,张三,,1,\n"  # line 2: good
        ",\n"  # line 3: empty, one comma too few: not a row at all
        "A2,李四,,2\n"  # line 4: a field short
        "A3,王五,,3,,extra\n"  # line 5: a field too many, with data
        "A4,赵六,,4,,\n"  # line 6: one trailing empty field: nothing lost
        "A5,钱七,,5,\n"
    )  # line 7: good
    report = run_import(OrderImport(), session, data=text.encode(), name="o.csv")
    assert [line for line, _ in report.errors] == [4, 5]
    assert "has 4 fields where the header has 5" in report.errors[0][1]
    assert sorted(_orders(session)) == ["A1", "A4", "A5"] and report.read == 5  # blank lines are not rows


def test_a_failed_write_leaves_out_only_its_row_and_rerun_changes_nothing(session: Session) -> None:
    lines = [f"A{i},b{i},,{i},\n" for i in range(1, 1201)]
    lines[700] = "A701,much-too-long-name,,701,\n"
    lines[10] = "A11,refused,,11,\n"
    data = (HEADER + "".join(lines)).encode()
    importer = OrderImport()
    report = run_import(importer, session, data=data, name="o.csv")
    assert report.created == 1198 and [line for line, _ in report.errors] == [12, 702]
    assert importer.starts == 3  # at start, after the batch rolled back, after the failed row
    orders = _orders(session)
    assert len(orders) == 1198 and "A701" not in orders and "A702" in orders and "A700" in orders
    again = run_import(OrderImport(), session, data=data, name="o.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1198)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26-11-02", "2026-11-02"),  # DingTalk 每日统计: 26-11-02 星期一
        ("26-11-02 星期一", "2026-11-02"),
        ("2026/11/02 星期一", "2026-11-02"),
        ("2026-11-02 周一", "2026-11-02"),
        ("2026-11-02(周一)", "2026-11-02"),
        ("2026-11-02（一）", "2026-11-02"),
        ("2026年11月2日", "2026-11-02"),
    ],
)
def test_dates_as_attendance_exports_write_them(text: str, expected: str) -> None:
    assert parse_day(text) == date.fromisoformat(expected)


def test_a_month_and_day_take_their_year_from_the_files_title(session: Session) -> None:
    title = "每日统计表 统计日期：2026-12-21 至 2027-01-20\n"
    text = title + HEADER + "A1,b1,,1,12-25 星期五\nA2,b2,,2,01-05\nA3,b3,,3,02-01\nA4,b4,,4,13-45\n"
    report = run_import(OrderImport(), session, data=text.encode(), name="o.csv")
    days = dict(session.execute(select(ORDERS.c.order_no, ORDERS.c.day)).all())
    assert days == {"A1": "2026-12-25", "A2": "2027-01-05"}
    assert report.errors == [
        (5, "day (日期): '02-01' is not within the file's dates 2026-12-21 – 2027-01-20"),
        (6, "day (日期): '13-45' is not a date (write 2026-11-02)"),
    ]
    untitled = run_import(OrderImport(), session, data=(HEADER + "B1,b,,1,11-02\n").encode(), name="p.csv")
    assert "has no year and the file's title names no dates" in untitled.errors[0][1]


class PreparedImport(OrderImport):
    """Records the rows each batch was prepared with."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared: list[list[str]] = []

    def prepare(self, session: Session, rows: list[OrderRow]) -> None:
        self.prepared.append([r.order_no for r in rows])


def test_each_batch_is_prepared_and_after_a_rollback_only_the_rows_left(session: Session) -> None:
    lines = ["A1,b1,,1,\n", "A2,much-too-long-name,,2,\n", "A3,b3,,3,\n", "A4,b4,,4,\n", "A5,b5,,5,\n"]
    importer = PreparedImport()
    report = run_import(importer, session, data=(HEADER + "".join(lines)).encode(), name="o.csv", batch_rows=3)
    assert report.created == 4 and [line for line, _ in report.errors] == [3]
    # batch 1 prepared, rolled back and prepared again, then only A3 after A2's failed write; batch 2 once.
    assert importer.prepared == [["A1", "A2", "A3"], ["A1", "A2", "A3"], ["A3"], ["A4", "A5"]]


def test_dry_run_shows_the_changes_and_writes_nothing(session: Session) -> None:
    run_import(OrderImport(), session, data=(HEADER + "A1,张三,,1,\n").encode(), name="o.csv")
    text = HEADER + "A1,张三,,2,\nA2,李四,,2,\nA3,,,,\n"
    report = run_import(OrderImport(), session, data=text.encode(), name="o.csv", dry_run=True)
    assert [(c.key, c.outcome) for c in report.changes] == [
        ("'A1'", "updated"),
        ("'A2'", "created"),
    ]
    assert report.summary() == "o.csv: dry run, nothing written; 3 read, 1 created, 1 updated, 0 unchanged, 1 bad"
    assert report.bad[0].message == "buyer (买家): is empty"
    assert _orders(session) == {"A1": "张三"}
    assert session.execute(select(ORDERS.c.amount)).scalar_one() == "1"


def test_a_nul_byte_makes_its_row_bad_on_both_engines(session: Session) -> None:
    text = HEADER + "A1,张\x00三,,1,\nA2,李四,,2,\n"
    report = run_import(OrderImport(), session, data=text.encode(), name="o.csv")
    assert report.errors == [(2, "holds a NUL byte (the file is damaged here)")]
    assert _orders(session) == {"A2": "李四"}


def test_neither_utf8_nor_gb18030_is_refused() -> None:
    from kefu.imports.reading import read_table

    with pytest.raises(ImportFileError, match="neither UTF-8 nor GB18030"):
        read_table(data=b"\x81\x30\xff\xff,a\n", name="x.csv")
    with pytest.raises(ImportFileError, match=r"x.xls: an Excel 97-2003 workbook \(.xls\); save it as .xlsx"):
        read_table(data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), name="x.xls")
    with pytest.raises(ImportFileError, match="not a readable XLSX workbook"):
        read_table(data=b"PK\x03\x04 truncated", name="x.xlsx")


def test_progress_bar_only_when_asked_or_on_a_terminal(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    data = (HEADER + "".join(f"A{i},b,,1,\n" for i in range(2500))).encode()
    run_import(OrderImport(), session, data=data, name="o.csv")  # stderr is not a terminal here
    assert capsys.readouterr().err == ""
    run_import(OrderImport(), session, data=data, name="o.csv", progress=True)
    assert "orders" in capsys.readouterr().err


def test_mutated_files_never_crash_and_every_row_is_accounted_for(session: Session) -> None:
    import random

    rng = random.Random(15)
    good = (
        HEADER + "".join(f"A{i},买家{i},1390000{i:04d},{i}.5,2026-11-{i % 28 + 1:02d}\n" for i in range(40))
    ).encode("gb18030")
    for case in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 12)):
            if not data:
                break
            at = rng.randrange(len(data))
            how = rng.randrange(4)
            if how == 0:
                data[at] = rng.randrange(256)
            elif how == 1:
                del data[at]
            elif how == 2:
                data[at:at] = rng.choice([b",", b'"', b"\n", b"\r\n", b'="', b"\x00"])
            else:
                del data[at:]
        nested = session.begin_nested()
        try:
            report = run_import(OrderImport(), session, data=bytes(data), name=f"m{case}.csv")
        except ImportFileError:
            nested.rollback()
            continue
        assert report.read == report.created + report.updated + report.unchanged + len(report.bad)
        nested.rollback()
