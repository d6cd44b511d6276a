"""Importing projects, buildings, homes and owners from the sales system's CSV export.

One row per home: project, building, room, owner and delivery date (交付日期).
The file may be UTF-8 (with or without BOM) or GB18030 (which Excel on a Chinese
Windows writes); headers may be English or Chinese. Bad rows are reported by line
number and skipped; good rows are imported; running the same file again changes
nothing (homes are keyed by their code, owners by their home).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.api import Customer
from kefu.plugins.complaints.models import Building, Home, Project

PLUGIN = "complaints"

# Accepted header spellings → the field they fill.
HEADERS: dict[str, str] = {
    "project_code": "project_code", "项目编码": "project_code", "项目代码": "project_code",
    "project": "project_name", "project_name": "project_name", "项目": "project_name", "项目名称": "project_name",
    "building": "building", "楼栋": "building", "楼号": "building",
    "room": "room", "房号": "room", "房间号": "room", "单元房号": "room",
    "home": "home_ref", "home_ref": "home_ref", "房屋编码": "home_ref",
    "owner": "owner", "owner_name": "owner", "业主": "owner", "业主姓名": "owner", "姓名": "owner",
    "phone": "phone", "mobile": "phone", "手机": "phone", "手机号": "phone", "联系电话": "phone", "电话": "phone",
    "email": "email", "邮箱": "email", "电子邮箱": "email",
    "address": "address", "地址": "address", "通讯地址": "address",
    "delivered_on": "delivered_on", "delivery_date": "delivered_on", "交付日期": "delivered_on", "交房日期": "delivered_on",
}
REQUIRED = ("project_code", "building", "room", "owner", "delivered_on")
_PHONE = re.compile(r"^\+?\d[\d-]{6,19}$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass
class ImportReport:
    """What an import did: counts, and each bad row with its line number and reason."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the staff member who ran the import."""
        return (f"{self.created} homes created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.errors)} bad rows")


def decode(data: bytes) -> str:
    """The text of a CSV export: UTF-8 (BOM or not), else GB18030 (a superset of GBK and GB2312)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def parse_date(text: str) -> date:
    """A delivery date as staff write it: 2024-06-01, 2024/6/1, 2024年6月1日, 20240601."""
    value = text.strip()
    if re.fullmatch(r"\d{8}", value):
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    match = _DATE.match(value)
    if not match:
        raise ValueError(f"delivery date {text!r} is not a date (write 2024-06-01)")
    return date(*(int(g) for g in match.groups()))


def home_ref(project_code: str, building: str, room: str) -> str:
    """The home's code when the file gives none: project-building-room (JY-3-1201)."""
    return f"{project_code}-{building}-{room}"


@dataclass(frozen=True)
class HomeRow:
    """One valid row of the file."""

    line: int
    ref: str
    project_code: str
    project_name: str
    building: str
    room: str
    owner: str
    phone: str | None
    email: str | None
    address: str | None
    delivered_on: date


def parse_rows(text: str) -> tuple[list[HomeRow], list[tuple[int, str]]]:
    """Valid rows and (line, reason) of the bad ones; a missing column is one error on line 1."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], [(1, "the file is empty")]
    columns = {i: HEADERS.get(h.strip().lower(), HEADERS.get(h.strip())) for i, h in enumerate(header)}
    present = set(columns.values())
    missing = [name for name in REQUIRED if name not in present]
    if missing:
        return [], [(1, f"missing column(s) {', '.join(missing)}; the header was {', '.join(header)}")]
    rows: list[HomeRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        rec = {name: values[i].strip() for i, name in columns.items() if name is not None and i < len(values)}
        try:
            row = _row(line, rec)
        except ValueError as exc:
            errors.append((line, str(exc)))
            continue
        if row.ref in seen:
            errors.append((line, f"home {row.ref} already given on line {seen[row.ref]}"))
            continue
        seen[row.ref] = line
        rows.append(row)
    return rows, errors


def _row(line: int, rec: dict[str, str]) -> HomeRow:
    for name in REQUIRED:
        if not rec.get(name):
            raise ValueError(f"{name} is empty")
    phone = (rec.get("phone") or "").replace(" ", "") or None
    if phone is not None and not _PHONE.match(phone):
        raise ValueError(f"phone {phone!r} is not a phone number")
    email = rec.get("email") or None
    if email is not None and "@" not in email:
        raise ValueError(f"email {email!r} is not an address")
    ref = rec.get("home_ref") or home_ref(rec["project_code"], rec["building"], rec["room"])
    return HomeRow(
        line=line, ref=ref, project_code=rec["project_code"], project_name=rec.get("project_name", ""),
        building=rec["building"], room=rec["room"], owner=rec["owner"], phone=phone, email=email,
        address=rec.get("address") or None, delivered_on=parse_date(rec["delivered_on"]),
    )


def import_homes(session: Session, data: bytes, now: datetime) -> ImportReport:
    """Import the homes CSV into ``session`` (the caller's transaction); idempotent."""
    rows, errors = parse_rows(decode(data))
    report = ImportReport(errors=errors)
    projects = {p.code: p for p in session.scalars(select(Project))}
    buildings = {(b.project_code, b.code) for b in session.scalars(select(Building))}
    homes = {h.ref: h for h in session.scalars(select(Home))}
    customers = {c.ref: c for c in session.scalars(select(Customer).where(Customer.plugin == PLUGIN))}
    pending: list[tuple[HomeRow, Customer]] = []
    for row in rows:
        proj = projects.get(row.project_code)
        if proj is None:
            proj = Project(code=row.project_code, name=row.project_name or row.project_code,
                           delivered_on=row.delivered_on, updated_at=now)
            session.add(proj)
            projects[row.project_code] = proj
        else:
            if row.project_name and proj.name != row.project_name:
                proj.name, proj.updated_at = row.project_name, now
            if proj.delivered_on is None or row.delivered_on < proj.delivered_on:
                proj.delivered_on, proj.updated_at = row.delivered_on, now
        if (row.project_code, row.building) not in buildings:
            session.add(Building(project_code=row.project_code, code=row.building, name=f"{row.building}栋"))
            buildings.add((row.project_code, row.building))
        address = row.address or f"{proj.name}{row.building}栋{row.room}"
        cust = customers.get(row.ref)
        changed = False
        if cust is None:
            cust = Customer(plugin=PLUGIN, ref=row.ref, name=row.owner, phone=row.phone, email=row.email,
                            address=address, unit=row.project_code, created_at=now, data={})
            session.add(cust)
            customers[row.ref] = cust
        else:
            for attr, value in (("name", row.owner), ("phone", row.phone), ("email", row.email),
                                ("address", address), ("unit", row.project_code)):
                if getattr(cust, attr) != value:
                    setattr(cust, attr, value)
                    changed = True
        home = homes.get(row.ref)
        if home is None:
            pending.append((row, cust))
            report.created += 1
            continue
        for attr, text in (("project_code", row.project_code), ("building", row.building), ("room", row.room)):
            if getattr(home, attr) != text:
                setattr(home, attr, text)
                changed = True
        if home.delivered_on != row.delivered_on:
            home.delivered_on, changed = row.delivered_on, True
        if changed:
            home.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()  # one flush gives every new owner its id
    for row, cust in pending:
        session.add(Home(ref=row.ref, project_code=row.project_code, building=row.building, room=row.room,
                         delivered_on=row.delivered_on, customer_id=cust.id, updated_at=now))
    session.flush()
    return report


def import_homes_file(session: Session, path: Path, now: datetime) -> ImportReport:
    """Import the homes CSV at ``path``; an unreadable file raises OSError naming it."""
    return import_homes(session, path.read_bytes(), now)
