"""Importing projects, buildings, homes and owners from the sales system's export.

One row per home: project, building, room, owner and delivery date (交付日期).
The file is a CSV in UTF-8 (with or without BOM) or GB18030 (which Excel on a
Chinese Windows writes), or an XLSX workbook; headers may be English or Chinese.
It goes through the core's one import pipeline: bad rows are reported by line and
left out, good rows are imported, and running the same file again changes nothing
(homes are keyed by their code, owners by their home).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.api import Customer
from kefu.api.imports import (
    DEFAULT_COUNTRY,
    Code,
    Day,
    Importer,
    ImportReport,
    ImportRow,
    OptionalPhone,
    Outcome,
    column,
    run,
    run_import,
)
from kefu.plugins.complaints.config import Ctx
from kefu.plugins.complaints.kinds import PACKAGE
from kefu.plugins.complaints.models import Building, Home, Project


def home_ref(project_code: str, building: str, room: str) -> str:
    """The home's code when the file gives none: project-building-room (JY-3-1201)."""
    return f"{project_code}-{building}-{room}"


class HomeRow(ImportRow):
    """One home of the sales system's export."""

    project_code: Code = column("项目编码", "项目代码")
    project_name: str = column("project", "项目", "项目名称", default="")
    building: Code = column("楼栋", "楼号")
    room: Code = column("房号", "房间号", "单元房号")
    home_ref: Code = column("home", "房屋编码", default="")
    owner: str = column("owner_name", "业主", "业主姓名", "姓名")
    phone: OptionalPhone = column("mobile", "手机", "手机号", "联系电话", "电话", default=None)
    email: str | None = column("邮箱", "电子邮箱", default=None)
    address: str | None = column("地址", "通讯地址", default=None)
    delivered_on: Day = column("delivery_date", "交付日期", "交房日期")

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError(f"{value!r} is not an address")
        return value

    @property
    def ref(self) -> str:
        """The home's code: given, or project-building-room."""
        return self.home_ref or home_ref(self.project_code, self.building, self.room)


class HomeImport(Importer[HomeRow]):
    """Homes keyed by their code, with their project, building and owner."""

    name = "homes"
    noun = "homes"
    row_model = HomeRow
    key_label = "home"

    def __init__(self, now: datetime, plugin: str = PACKAGE) -> None:
        self.plugin = plugin
        self.now = now
        self.projects: dict[str, Project] = {}
        self.buildings: set[tuple[str, str]] = set()
        self.homes: dict[str, Home] = {}
        self.customers: dict[str, Customer] = {}
        self.pending: list[tuple[HomeRow, Customer]] = []

    def key(self, row: HomeRow) -> str:
        """The home's code."""
        return row.ref

    def start(self, session: Session) -> None:
        """Projects, buildings, homes and owners already there."""
        self.projects = {p.code: p for p in session.scalars(select(Project))}
        self.buildings = {(b.project_code, b.code) for b in session.scalars(select(Building))}
        self.homes = {h.ref: h for h in session.scalars(select(Home))}
        self.customers = {
            c.ref: c
            for c in session.scalars(select(Customer).where(Customer.plugin == self.plugin))
            if c.ref is not None
        }
        self.pending = []

    def apply(self, session: Session, row: HomeRow) -> Outcome:
        """Create or update the project, building, owner and home."""
        proj = self.projects.get(row.project_code)
        if proj is None:
            proj = Project(
                code=row.project_code,
                name=row.project_name or row.project_code,
                delivered_on=row.delivered_on,
                updated_at=self.now,
            )
            session.add(proj)
            self.projects[row.project_code] = proj
        else:
            if row.project_name and proj.name != row.project_name:
                proj.name, proj.updated_at = row.project_name, self.now
            if proj.delivered_on is None or row.delivered_on < proj.delivered_on:
                proj.delivered_on, proj.updated_at = row.delivered_on, self.now
        if (row.project_code, row.building) not in self.buildings:
            session.add(Building(project_code=row.project_code, code=row.building, name=f"{row.building}栋"))
            self.buildings.add((row.project_code, row.building))
        address = row.address or f"{proj.name}{row.building}栋{row.room}"
        cust = self.customers.get(row.ref)
        changed = False
        if cust is None:
            cust = Customer(
                plugin=self.plugin,
                ref=row.ref,
                name=row.owner,
                phone=row.phone,
                email=row.email,
                address=address,
                unit=row.project_code,
                created_at=self.now,
                data={},
            )
            session.add(cust)
            self.customers[row.ref] = cust
        else:
            for attr, value in (
                ("name", row.owner),
                ("phone", row.phone),
                ("email", row.email),
                ("address", address),
                ("unit", row.project_code),
            ):
                if getattr(cust, attr) != value:
                    setattr(cust, attr, value)
                    changed = True
        home = self.homes.get(row.ref)
        if home is None:
            self.pending.append((row, cust))
            return "created"
        for attr, text in (("project_code", row.project_code), ("building", row.building), ("room", row.room)):
            if getattr(home, attr) != text:
                setattr(home, attr, text)
                changed = True
        if home.delivered_on != row.delivered_on:
            home.delivered_on, changed = row.delivered_on, True
        if changed:
            home.updated_at = self.now
            return "updated"
        return "unchanged"

    def end_batch(self, session: Session) -> None:
        """The batch's new homes, once their owners have ids."""
        if not self.pending:
            return
        session.flush()
        for row, cust in self.pending:
            home = Home(
                ref=row.ref,
                project_code=row.project_code,
                building=row.building,
                room=row.room,
                delivered_on=row.delivered_on,
                customer_id=cust.id,
                updated_at=self.now,
            )
            session.add(home)
            self.homes[row.ref] = home
        self.pending = []


def import_homes(
    session: Session,
    data: bytes,
    now: datetime,
    *,
    name: str = "homes",
    dry_run: bool = False,
    country: str = DEFAULT_COUNTRY,
) -> ImportReport:
    """Import the homes file's bytes into ``session`` (the caller's transaction); idempotent."""
    return run_import(HomeImport(now), session, data=data, name=name, dry_run=dry_run, context={"country": country})


def import_homes_file(ctx: Ctx, path: Path, *, dry_run: bool = False) -> ImportReport:
    """Import the homes file at ``path`` in ``ctx``'s transaction; an unreadable file raises
    ImportFileError naming it."""
    return run(ctx, HomeImport(ctx.now(), ctx.name), path, dry_run=dry_run)
