"""Hotline calls: one shape for the command line, the call-centre API and the daily CSV export.

A call carries the caller's number, the time, a category, an address or account
number and the operator's text. Its identity is the hotline's own ticket number
(工单号) when there is one, else a digest of the call itself, so an import run
twice — or an API push retried — stores every call once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kefu.channels.config import HotlineChannel
from kefu.intake.store import NewItem

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


def call_item(call: dict[str, Any], cfg: HotlineChannel, tz: ZoneInfo, received_at: datetime,
              *, source: str) -> NewItem:
    """Validate one call and give its stored form; :class:`BadCall` when it is not usable."""
    record = {k: (str(call[k]).strip() if call.get(k) is not None else "") for k in FIELDS}
    unknown = sorted(set(call) - set(FIELDS))
    if unknown:
        raise BadCall(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    if not record["caller"]:
        raise BadCall("caller (the caller's number) is missing")
    if not record["text"] and not record["category"]:
        raise BadCall("both category and text are empty")
    at = parse_time(record["at"], cfg, tz) if record["at"] else received_at
    record["at"] = at.isoformat()
    key = record["call_id"] or "sha256:" + hashlib.sha256(json.dumps(
        [record[k] for k in ("caller", "at", "category", "address", "account", "text")],
        ensure_ascii=False).encode()).hexdigest()
    return NewItem(channel=CHANNEL, source_key=key, kind="hotline",
                   raw=json.dumps({**record, "source": source}, ensure_ascii=False).encode("utf-8"),
                   received_at=received_at, sender=record["caller"], subject=record["category"] or None,
                   data={"source": source})


@dataclass
class CsvReport:
    """What an import found: good items, and bad rows with their line numbers."""

    items: list[NewItem] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    encoding: str = ""


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text of a CSV export: UTF-8 (with or without BOM), else GB18030 (also reads GBK/GB2312)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise BadCall("the file is neither UTF-8 nor GB18030; save it as UTF-8 CSV and import again")


def read_csv(path: Path, cfg: HotlineChannel, tz: ZoneInfo, received_at: datetime) -> CsvReport:
    """Read the city hotline's export with the configured column mapping."""
    text, encoding = decode_csv(path.read_bytes())
    report = CsvReport(encoding=encoding)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = [h.strip() for h in reader.fieldnames or []]
    mapping = {f: h for f, h in cfg.columns.model_dump().items() if h}
    required = [mapping[f] for f in ("caller", "at", "category", "text")]
    missing = [h for h in required if h not in headers]
    if missing:
        raise BadCall(f"{path}: column(s) {', '.join(missing)} not found; the file has "
                      f"{', '.join(headers) or 'no header'} (set [channels.hotline.columns])")
    for row in reader:
        line = reader.line_num
        clean = {(k or "").strip(): (v or "") for k, v in row.items()}
        if not any(v.strip() for v in clean.values()):
            continue
        call = {f: clean.get(h, "") for f, h in mapping.items() if h in headers}
        try:
            report.items.append(call_item(call, cfg, tz, received_at, source=f"csv:{path.name}"))
        except BadCall as exc:
            report.errors.append((line, str(exc)))
    return report
