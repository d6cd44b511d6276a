"""Imports: households, the fee ledger, station measurement sheets, visits, coal-lab and audit records.

Each import declares its row model (columns with their Chinese and English
headers) and its natural key — account; account+season; account+time;
station+day+staff+household; sample+measure; audit ref — and goes through the
core's one pipeline (:mod:`kefu.api.imports`): CSV in UTF-8 or GB18030 or an XLSX
workbook, bad rows reported by place while the good ones land, never half-written,
and a re-run of the same file changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from kefu.api import OPEN_STATES, Case, Customer
from kefu.api.imports import (
    Code,
    Day,
    Importer,
    ImportReport,
    ImportRow,
    LocalTime,
    Number,
    OptionalPhone,
    Outcome,
    RowError,
    column,
    run,
)
from kefu.plugins.heating import fees, rules
from kefu.plugins.heating.audits import open_audit_case
from kefu.plugins.heating.coal_lab import ask_for_retests, report_means
from kefu.plugins.heating.config import Ctx, HeatingConfig
from kefu.plugins.heating.models import AuditFinding, CoalSample, FeeEntry, Household, Visit
from kefu.plugins.heating.temperature import record_measurement

ACCOUNT = ("户号", "用户编号", "账号", "account_no")
STATION = ("所站", "站", "换热站", "锅炉房", "站所")
_PAYMENT = {
    "已缴": "paid",
    "已交": "paid",
    "paid": "paid",
    "未缴": "unpaid",
    "未交": "unpaid",
    "欠费": "unpaid",
    "unpaid": "unpaid",
    "部分": "partial",
    "partial": "partial",
    "": "unknown",
}


def _values_differ(obj: object, values: Mapping[str, object]) -> bool:
    """Set ``values`` on ``obj``; True if any differed (so re-imports report 'unchanged')."""
    diff = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            diff = True
    return diff


def _known_station(cfg: HeatingConfig, station: str) -> None:
    if cfg.stations and station not in cfg.stations:
        raise RowError(f"station {station!r} is not in [heating.stations] ({', '.join(sorted(cfg.stations))})")


# ------------------------------------------------------------------ households


class HouseholdRow(ImportRow):
    """One household of the station's register."""

    account: Code = column(*ACCOUNT)
    name: str = column("户主", "姓名", "用户名", default="")
    phone: OptionalPhone = column("电话", "手机", "联系电话", "mobile", default=None)
    address: str = column("地址", "住址", default="")
    building: str = column("楼栋", "楼号", "楼", default="")
    station: str = column(*STATION)
    branch: str = column("分公司", default="")
    heated_area: Number = column("供热面积", "面积", "area", default=0.0)
    payment_status: str = column("缴费状态", "交费状态", "payment", default="")


_CONTACT = ("name", "phone", "address", "unit")
_HOUSEHOLD = ("address", "building", "station", "branch", "heated_area", "payment_status")


class HouseholdImport(Importer[HouseholdRow]):
    """``kefu heating import households``: each household and its customer, keyed by account.

    A station's register runs to a hundred thousand rows, so what is there is read
    as plain tuples and each batch is written with one executemany per table.
    """

    name = "households"
    row_model = HouseholdRow
    key_label = "account"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.now = ctx.now()
        self.customers: dict[str, tuple[int | None, tuple[object, ...]]] = {}
        self.households: dict[str, tuple[int | None, tuple[object, ...]]] = {}
        self._reset()

    def _reset(self) -> None:
        self.new_customers: list[dict[str, object]] = []
        self.new_households: list[dict[str, object]] = []
        self.customer_updates: list[dict[str, object]] = []
        self.household_updates: list[dict[str, object]] = []

    def key(self, row: HouseholdRow) -> str:
        """The account number."""
        return row.account

    def start(self, session: Session) -> None:
        """The plugin's customers and households by account, as (id, values)."""
        self.customers = {
            ref: (cid, tuple(rest))
            for ref, cid, *rest in session.execute(
                select(Customer.ref, Customer.id, *(getattr(Customer, c) for c in _CONTACT)).where(
                    Customer.plugin == self.ctx.name
                )
            )
            if ref is not None
        }
        self.households = {
            account: (hid, tuple(rest))
            for account, hid, *rest in session.execute(
                select(Household.account, Household.id, *(getattr(Household, c) for c in _HOUSEHOLD))
            )
        }
        self._reset()

    def check(self, row: HouseholdRow) -> None:
        """A known station and a payment status we read."""
        _known_station(self.cfg, row.station)
        if row.payment_status.lower() not in _PAYMENT:
            raise RowError(f"{row.payment_status!r} is not 已缴/未缴/部分", "payment_status")

    def apply(self, session: Session, row: HouseholdRow) -> Outcome:
        """Create or update the customer and the household (written at the batch's end)."""
        station = row.station
        branch = row.branch or (self.cfg.stations[station].branch if station in self.cfg.stations else "")
        values = (row.address, row.building, station, branch, row.heated_area, _PAYMENT[row.payment_status.lower()])
        contact = (row.name, row.phone, row.address, station)
        cust = self.customers.get(row.account)
        outcome: Outcome = "unchanged"
        if cust is None:
            self.new_customers.append(
                {
                    "plugin": self.ctx.name,
                    "ref": row.account,
                    "created_at": self.now,
                    **dict(zip(_CONTACT, contact, strict=True)),
                }
            )
            self.customers[row.account] = (None, contact)
        elif cust[1] != contact:
            self.customer_updates.append({"id": cust[0], **dict(zip(_CONTACT, contact, strict=True))})
            self.customers[row.account] = (cust[0], contact)
            outcome = "updated"
        hh = self.households.get(row.account)
        if hh is None:
            self.new_households.append(
                {"account": row.account, "updated_at": self.now, **dict(zip(_HOUSEHOLD, values, strict=True))}
            )
            self.households[row.account] = (None, values)
            return "created"
        if hh[1] != values:
            self.household_updates.append(
                {"id": hh[0], "updated_at": self.now, **dict(zip(_HOUSEHOLD, values, strict=True))}
            )
            self.households[row.account] = (hh[0], values)
            outcome = "updated"
        return outcome

    def end_batch(self, session: Session) -> None:
        """The batch's writes: new customers, then their households, then the updates."""
        if self.new_customers:
            # Core's executemany: the ORM's bulk insert spends longer on each row than SQLite does.
            session.execute(insert(cast(Table, Customer.__table__)), self.new_customers)
        if self.new_households:
            accounts = [h["account"] for h in self.new_households]
            ids = {
                ref: cid
                for ref, cid in session.execute(
                    select(Customer.ref, Customer.id).where(
                        Customer.plugin == self.ctx.name, Customer.ref.in_(accounts)
                    )
                )
            }
            for hh in self.new_households:
                hh["customer_id"] = ids[str(hh["account"])]
            session.execute(insert(cast(Table, Household.__table__)), self.new_households)
        if self.customer_updates:
            session.execute(update(Customer), self.customer_updates)
        if self.household_updates:
            session.execute(update(Household), self.household_updates)
        self._reset()


def import_households(ctx: Ctx, path: Path | str, *, dry_run: bool = False) -> ImportReport:
    """``kefu heating import households FILE``: create or update each household and its customer."""
    return run(ctx, HouseholdImport(ctx), path, dry_run=dry_run)


# ------------------------------------------------------------------ fees


class FeeRow(ImportRow):
    """One line of the finance office's ledger."""

    account: Code = column(*ACCOUNT)
    season: int = column("采暖期", "供暖期", "年度", "season_year")
    amount_due: Number = column("应收", "应缴", "应收金额", "due")
    amount_paid: Number = column("实收", "已缴", "实收金额", "paid", default=0.0)
    paid_on: Day | None = column("缴费日期", "交费日期", "paid_date", default=None)


class FeeImport(Importer[FeeRow]):
    """Amount due and paid per account and season; sets each household's payment status."""

    name = "fees"
    row_model = FeeRow
    key_label = "account/season"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.now = ctx.now()
        self.households: dict[str, Household] = {}
        self.entries: dict[tuple[str, int], FeeEntry] = {}
        self.paid: dict[int, set[str]] = {}

    def key(self, row: FeeRow) -> tuple[str, int]:
        """Account and season."""
        return row.account, row.season

    def start(self, session: Session) -> None:
        """Households and ledger entries."""
        self.households = {h.account: h for h in session.scalars(select(Household))}
        self.entries = {(e.account, e.season_year): e for e in session.scalars(select(FeeEntry))}

    def check(self, row: FeeRow) -> None:
        """The account is a known household."""
        if row.account not in self.households:
            raise RowError(f"account {row.account!r} is not a known household; import households first")

    def apply(self, session: Session, row: FeeRow) -> Outcome:
        """Create or update the entry; the household's payment status follows it."""
        values = {"amount_due": row.amount_due, "amount_paid": row.amount_paid, "paid_on": row.paid_on}
        entry = self.entries.get((row.account, row.season))
        outcome: Outcome = "unchanged"
        if entry is None:
            entry = FeeEntry(account=row.account, season_year=row.season, imported_at=self.now, **values)
            session.add(entry)
            self.entries[(row.account, row.season)] = entry
            outcome = "created"
        elif _values_differ(entry, values):
            entry.imported_at = self.now
            outcome = "updated"
        paid, due = row.amount_paid, row.amount_due
        self.households[row.account].payment_status = (
            "paid" if paid + 0.005 >= due else ("partial" if paid > 0 else "unpaid")
        )
        if paid + 0.005 >= due:
            self.paid.setdefault(row.season, set()).add(row.account)
        return outcome

    def end_batch(self, session: Session) -> None:
        """A reminder still waiting is moot once its household paid: cancel it with the reason."""
        ctx = self.ctx.with_session(session)
        for season, accounts in self.paid.items():
            fees.cancel_paid_reminders(ctx, accounts, season, "fee ledger import")
        self.paid.clear()


def import_fees(ctx: Ctx, path: Path | str, *, dry_run: bool = False) -> ImportReport:
    """Fee ledger: amount due and paid per account and season; sets each household's payment status."""
    return run(ctx, FeeImport(ctx), path, dry_run=dry_run)


# ------------------------------------------------------------------ visits


class VisitRow(ImportRow):
    """One 包保走访 visit."""

    station: str = column(*STATION)
    visited_on: Day = column("走访日期", "日期", "date")
    staff: str = column("走访人", "包保人", "责任人", default="")
    account: Code = column(*ACCOUNT, default="")
    note: str = column("情况", "备注", "问题", default="")


class VisitImport(Importer[VisitRow]):
    """Visits keyed by station, day, staff and household; far-end read from the station."""

    name = "visits"
    row_model = VisitRow
    key_label = "visit"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.households: dict[str, Household] = {}
        self.visits: set[tuple[str, date, str, str]] = set()

    def key(self, row: VisitRow) -> tuple[str, str, str, str]:
        """Station, day, staff, household."""
        return row.station, row.visited_on.isoformat(), row.staff, row.account

    def start(self, session: Session) -> None:
        """Households and the visits already recorded."""
        self.households = {h.account: h for h in session.scalars(select(Household))}
        self.visits = {(v.station, v.visited_on, v.staff, v.account) for v in session.scalars(select(Visit))}

    def check(self, row: VisitRow) -> None:
        """A known station and, when given, a known household."""
        _known_station(self.cfg, row.station)
        if row.account and row.account not in self.households:
            raise RowError(f"account {row.account!r} is not a known household", "account")

    def apply(self, session: Session, row: VisitRow) -> Outcome:
        """Record the visit unless it is there."""
        found = (row.station, row.visited_on, row.staff, row.account)
        if found in self.visits:
            return "unchanged"
        far = False
        if row.account:
            st = self.cfg.stations.get(row.station)
            far = bool(st and self.households[row.account].building in st.far_end_buildings)
        session.add(
            Visit(
                station=row.station,
                visited_on=row.visited_on,
                staff=row.staff,
                account=row.account,
                far_end=far,
                note=row.note or None,
            )
        )
        self.visits.add(found)
        return "created"


def import_visits(ctx: Ctx, path: Path | str, *, dry_run: bool = False) -> ImportReport:
    """包保走访 records: one row per visit; far-end is read from the station's far-end buildings."""
    return run(ctx, VisitImport(ctx), path, dry_run=dry_run)


def record_visit(
    ctx: Ctx,
    station: str,
    visited_on: date,
    *,
    staff: str = "",
    account: str = "",
    note: str | None = None,
    households: dict[str, Household] | None = None,
) -> str:
    """Record one visit (idempotent on station, day, staff, household); 'created' or 'unchanged'."""
    cfg = ctx.config
    if cfg.stations and station not in cfg.stations:
        raise ValueError(f"station {station!r} is not in [heating.stations]")
    session = ctx.db()
    found = session.scalars(
        select(Visit).where(
            Visit.station == station, Visit.visited_on == visited_on, Visit.staff == staff, Visit.account == account
        )
    ).first()
    if found is not None:
        return "unchanged"
    far = False
    if account:
        hh = (households or {}).get(account) or session.scalars(
            select(Household).where(Household.account == account)
        ).first()
        if hh is None:
            raise ValueError(f"account {account!r} is not a known household")
        st = cfg.stations.get(station)
        far = bool(st and hh.building in st.far_end_buildings)
    session.add(Visit(station=station, visited_on=visited_on, staff=staff, account=account, far_end=far, note=note))
    session.flush()
    return "created"


# ------------------------------------------------------------------ measurements (测温)


class MeasurementRow(ImportRow):
    """One reading of a station's 测温回馈单."""

    account: Code = column(*ACCOUNT)
    measured_at: LocalTime = column("测温时间", "时间", "日期")
    temp_c: Number = column("室温", "温度", "temperature", "temp")
    station: str = column(*STATION, default="")


class MeasurementImport(Importer[MeasurementRow]):
    """Readings keyed by account and time; below the threshold opens a low-temperature case."""

    name = "measurements"
    row_model = MeasurementRow
    key_label = "account/time"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.households: dict[str, Household] = {}

    def key(self, row: MeasurementRow) -> tuple[str, str]:
        """Account and the time of the reading."""
        return row.account, row.measured_at.isoformat()

    def start(self, session: Session) -> None:
        """Households by account."""
        self.households = {h.account: h for h in session.scalars(select(Household))}

    def check(self, row: MeasurementRow) -> None:
        """A known household and an indoor temperature."""
        if row.account not in self.households:
            raise RowError(f"account {row.account!r} is not a known household; import households first")
        if not -30 <= row.temp_c <= 40:
            raise RowError(f"{row.temp_c:g} °C is not an indoor temperature", "temp_c")

    def apply(self, session: Session, row: MeasurementRow) -> Outcome:
        """Store the reading and apply the threshold rule."""
        outcome = record_measurement(
            self.ctx, self.households[row.account], row.measured_at.astimezone(UTC), row.temp_c
        )
        return "created" if outcome == "created" else "unchanged"


def import_measurements(ctx: Ctx, path: Path | str, *, dry_run: bool = False) -> ImportReport:
    """A station's 测温回馈单: account, time, indoor temperature."""
    return run(ctx, MeasurementImport(ctx), path, dry_run=dry_run)


# ------------------------------------------------------------------ coal lab (煤质化验)


class CoalRow(ImportRow):
    """One measure of one sample, tested twice."""

    sample: Code = column("样品编号", "煤样编号", "编号")
    material: str = column("样品类型", "类型", default="")
    measure: str = column("项目", "指标", "化验项目")
    first: Number = column("第一次", "一次", "test1")
    second: Number = column("第二次", "二次", "test2")
    tested_on: Day | None = column("化验日期", "日期", "date", default=None)


class CoalImport(Importer[CoalRow]):
    """Double tests keyed by sample and measure; retests asked for, the means reported."""

    name = "coal lab"
    row_model = CoalRow
    key_label = "sample/measure"

    def __init__(self, ctx: Ctx, digest: str) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.digest = digest
        # One time stamp for the run: the rows it wrote are read back by it at the end.
        self.now: datetime = ctx.now()
        self.existing: dict[tuple[str, str], CoalSample] = {}

    def key(self, row: CoalRow) -> tuple[str, str]:
        """Sample and measure."""
        return row.sample, row.measure

    def start(self, session: Session) -> None:
        """The samples already tested."""
        self.existing = {(s.sample, s.measure): s for s in session.scalars(select(CoalSample))}

    def apply(self, session: Session, row: CoalRow) -> Outcome:
        """Store the double test; a result within tolerance closes the sample's open retest."""
        result = rules.coal_double_test(
            row.measure, row.first, row.second, self.cfg.coal_lab.tolerance, self.cfg.coal_lab.default_tolerance
        )
        values = {
            "material": row.material or "coal",
            "first": result.first,
            "second": result.second,
            "difference": result.difference,
            "mean": result.mean,
            "state": "retest" if result.retest else "ok",
            "tested_on": row.tested_on,
        }
        found = self.existing.get((row.sample, row.measure))
        if found is not None and not _values_differ(found, values):
            return "unchanged"
        outcome: Outcome
        if found is None:
            found = CoalSample(sample=row.sample, measure=row.measure, updated_at=self.now, **values)
            session.add(found)
            self.existing[(row.sample, row.measure)] = found
            outcome = "created"
        else:
            found.tests += 1
            found.updated_at = self.now
            outcome = "updated"
        if not result.retest and found.case_id is not None:
            case = session.get(Case, found.case_id)
            if case is not None and case.state in OPEN_STATES:
                self.ctx.record_event(
                    case, "retested", actor="import", to_state="closed", reason=f"复检合格，均值 {result.mean}"
                )
        return outcome

    def finish(self, session: Session, report: ImportReport) -> None:
        """Retest cases for the samples out of tolerance, and the report of means to fuel."""
        session.flush()
        written = list(
            session.scalars(select(CoalSample).where(CoalSample.updated_at == self.now).order_by(CoalSample.id))
        )
        report.notes.extend(ask_for_retests(self.ctx, [s for s in written if s.state == "retest"]))
        report_means(self.ctx, [s for s in written if s.state == "ok"], self.digest)


def import_coal_lab(ctx: Ctx, path: Path | str, *, dry_run: bool = False) -> ImportReport:
    """Lab results: store each double test, ask for retests, send the report of means."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    return run(ctx, CoalImport(ctx, digest), path, dry_run=dry_run)


# ------------------------------------------------------------------ audits (稽查)


class AuditRow(ImportRow):
    """One auditor's record."""

    ref: Code = column("稽查编号", "编号", "记录号")
    account: Code = column(*ACCOUNT)
    kind: str = column("类型", "稽查类型", "问题类型")
    area_m2: Number = column("面积", "涉及面积", "area", default=0.0)
    height_m: Number | None = column("层高", "高度", "height", default=None)
    found_on: Day | None = column("稽查日期", "日期", "date", default=None)
    note: str = column("情况", "备注", "说明", default="")


_AUDIT_KINDS = {title: key for key, title in rules.AUDIT_KINDS.items()} | {
    "私增面积": "private_area_increase",
    "地下室": "basement_extension",
    "地下室外扩": "basement_extension",
    "赠送面积": "gifted_area",
    "拆改": "layout_change",
}


class AuditImport(Importer[AuditRow]):
    """Findings keyed by ref: each opens a rectification case and queues its 整改通知书."""

    name = "audit"
    row_model = AuditRow
    key_label = "ref"

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.known: set[str] = set()
        self.households: dict[str, tuple[Household, Customer]] = {}
        self.notes: dict[str, str] = {}

    def key(self, row: AuditRow) -> str:
        """The audit record's number."""
        return row.ref

    def start(self, session: Session) -> None:
        """Records already imported, and households with their customers."""
        self.known = set(session.scalars(select(AuditFinding.ref)))
        self.households = {
            hh.account: (hh, cust)
            for hh, cust in session.execute(
                select(Household, Customer).join(Customer, Customer.id == Household.customer_id)
            )
        }

    def check(self, row: AuditRow) -> None:
        """A kind we know and a known household (for records not yet imported)."""
        if row.ref in self.known:
            return
        if (row.kind if row.kind in rules.AUDIT_KINDS else _AUDIT_KINDS.get(row.kind)) is None:
            raise RowError(f"{row.kind!r} is not one of {', '.join(rules.AUDIT_KINDS.values())}", "kind")
        if row.account not in self.households:
            raise RowError(f"account {row.account!r} is not a known household; import households first")

    def apply(self, session: Session, row: AuditRow) -> Outcome:
        """Record the finding; one that counts opens its case."""
        if row.ref in self.known:
            return "unchanged"
        kind = row.kind if row.kind in rules.AUDIT_KINDS else _AUDIT_KINDS[row.kind]
        hh, cust = self.households[row.account]
        finding = AuditFinding(
            ref=row.ref,
            account=row.account,
            kind=kind,
            area_m2=row.area_m2,
            height_m=row.height_m,
            found_on=row.found_on or self.ctx.local_now().date(),
            data={"note": row.note},
        )
        session.add(finding)
        self.known.add(row.ref)
        if rules.audit_finding_counts(kind, row.height_m, self.cfg.audit.basement_height_m):
            session.flush()
            finding.case_id = open_audit_case(self.ctx, finding, hh, cust)
        else:
            self.notes[row.ref] = (
                f"{row.ref}: recorded, not a finding (层高 {row.height_m} m ≤ {self.cfg.audit.basement_height_m} m)"
            )
        return "created"

    def finish(self, session: Session, report: ImportReport) -> None:
        """Say which records were kept without a case."""
        report.notes.extend(note for ref, note in self.notes.items() if ref in self.known)


def import_audit(ctx: Ctx, path: Path | str, *, dry_run: bool = False) -> ImportReport:
    """Auditor records: each finding opens an audit case and queues its 整改通知书 letter."""
    return run(ctx, AuditImport(ctx), path, dry_run=dry_run)
