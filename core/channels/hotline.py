"""Hotline calls: one shape for the command line, the call-centre API and the daily CSV export.

A call carries the caller's number (stored in E.164, ``+8613812345678``), the
time, a category, an address or account number and the operator's text. Its
identity is the hotline's own ticket number (工单号) when there is one, else a
digest of the call itself, so an import run twice — or an API push retried —
stores every call once. The daily export (CSV or XLSX, headers per
``[channels.hotline.columns]``) goes through the core's import pipeline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.config import HotlineChannel
from kefu.db.models import InboundItem
from kefu.imports import Importer, ImportReport, ImportRow, Outcome, column, run_import
from kefu.intake.store import NewItem, store_items
from kefu.phones import DEFAULT_COUNTRY, PhoneError, to_e164

CHANNEL = "hotline"
FIELDS = ("call_id", "caller", "at", "category", "address", "account", "text", "operator")


class BadCall(ValueError):
    """A call record that cannot be stored; the message says which field and why."""


def parse_time(value: str, cfg: HotlineChannel, tz: ZoneInfo) -> datetime:
    """A call time in ISO form or one of ``time_formats``, local time unless it names its zone."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for fmt in cfg.time_formats:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise BadCall(f"time {value!r} is not a date and time (e.g. 2026-11-02 09:30:00)")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def call_item(
    call: dict[str, Any],
    cfg: HotlineChannel,
    tz: ZoneInfo,
    received_at: datetime,
    *,
    source: str,
    country: str = DEFAULT_COUNTRY,
) -> NewItem:
    """Validate one call and give its stored form; :class:`BadCall` when it is not usable.

    The caller's number is stored in E.164 (``country`` for numbers written without one).
    """
    record = {k: (str(call[k]).strip() if call.get(k) is not None else "") for k in FIELDS}
    unknown = sorted(set(call) - set(FIELDS))
    if unknown:
        raise BadCall(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    if not record["caller"]:
        raise BadCall("caller (the caller's number) is missing")
    try:
        record["caller"] = to_e164(record["caller"], country)
    except PhoneError as exc:
        raise BadCall(f"caller: {exc}") from exc
    if not record["text"] and not record["category"]:
        raise BadCall("both category and text are empty")
    at = parse_time(record["at"], cfg, tz) if record["at"] else received_at
    record["at"] = at.isoformat()
    key = (
        record["call_id"]
        or "sha256:"
        + hashlib.sha256(
            json.dumps(
                [record[k] for k in ("caller", "at", "category", "address", "account", "text")], ensure_ascii=False
            ).encode()
        ).hexdigest()
    )
    return NewItem(
        channel=CHANNEL,
        source_key=key,
        kind="hotline",
        raw=json.dumps({**record, "source": source}, ensure_ascii=False).encode("utf-8"),
        received_at=received_at,
        sender=record["caller"],
        subject=record["category"] or None,
        data={"source": source},
    )


class CallRow(ImportRow):
    """One call of the hotline's export; its headers come from ``[channels.hotline.columns]``."""

    call_id: str = column(default="")
    caller: str = column(default="")
    at: str = column(default="")
    category: str = column(default="")
    address: str = column(default="")
    account: str = column(default="")
    text: str = column(default="")
    operator: str = column(default="")


class CallImport(Importer[CallRow]):
    """Calls keyed by ticket number (or their digest), stored raw as inbound items."""

    name = "hotline"
    row_model = CallRow
    key_label = "ticket"
    missing_hint = " (set [channels.hotline.columns] to the export's header names)"

    def __init__(self, cfg: HotlineChannel, tz: ZoneInfo, received_at: datetime, source: str, country: str) -> None:
        self.cfg, self.tz, self.received_at = cfg, tz, received_at
        self.source, self.country = source, country
        self.mapped = {f for f, h in cfg.columns.model_dump().items() if h}
        self.checked: tuple[CallRow, NewItem] | None = None
        self.batch: list[NewItem] = []
        self.keys: set[str] = set()

    def headers(self) -> dict[str, tuple[str, ...]]:
        """The configured header of each field, beside its own name."""
        return {f: (f, h) if h else (f,) for f, h in self.cfg.columns.model_dump().items()}

    def required(self) -> list[str]:
        """Caller, time, category and text must be columns of the file (cells may be empty)."""
        return ["caller", "at", "category", "text"]

    def key(self, row: CallRow) -> Hashable | None:
        """The hotline's ticket number, when the export has one."""
        return row.call_id or None

    def start(self, session: Session) -> None:
        """Nothing is cached across batches but the batch's own calls."""
        self.batch, self.keys = [], set()

    def item(self, row: CallRow) -> NewItem:
        """The row's stored form (validated once per row)."""
        values = {k: v for k, v in row.model_dump().items() if k in self.mapped}
        return call_item(values, self.cfg, self.tz, self.received_at, source=self.source, country=self.country)

    def check(self, row: CallRow) -> None:
        """A call with a caller, a time we read and something said."""
        self.checked = (row, self.item(row))

    def apply(self, session: Session, row: CallRow) -> Outcome:
        """Queue the call for storing; unchanged when it is stored already."""
        item = self.checked[1] if self.checked and self.checked[0] is row else self.item(row)
        if (
            item.source_key in self.keys
            or session.scalar(
                select(InboundItem.id).where(
                    InboundItem.channel == item.channel, InboundItem.source_key == item.source_key
                )
            )
            is not None
        ):
            return "unchanged"
        self.batch.append(item)
        self.keys.add(item.source_key)
        return "created"

    def end_batch(self, session: Session) -> None:
        """Store the batch's new calls in one go."""
        store_items(session, self.batch)
        self.batch, self.keys = [], set()


def import_calls(
    session: Session,
    path: Path,
    cfg: HotlineChannel,
    tz: ZoneInfo,
    received_at: datetime,
    *,
    country: str = DEFAULT_COUNTRY,
    dry_run: bool = False,
) -> ImportReport:
    """Import the hotline's export (CSV or XLSX) as inbound items in ``session``'s transaction."""
    importer = CallImport(cfg, tz, received_at, f"csv:{path.name}", country)
    return run_import(importer, session, path, dry_run=dry_run, context={"tz": tz, "country": country})
