"""A sample context for every hr template (``kefu check-config`` renders them all)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

_LEAVE = {
    "name": "张三",
    "kind": "病假",
    "start": date(2026, 11, 5),
    "end": date(2026, 11, 6),
    "reason": "发烧",
    "state": "已批准",
    "leave_id": 12,
    "due": date(2026, 11, 9),
}
_ROW = {
    "employee": "zhang",
    "name": "张三",
    "department": "客服部",
    "days_worked": 20,
    "late": 1,
    "early": 0,
    "missing": 1,
    "absent_days": "0.0",
    "proxy_year": 0,
    "bonus_frozen": False,
    "penalties": "10.00",
    "leave_deductions": "0.00",
    "pay_after": "4990.00",
    "minimum": "2300.00",
    "breach": False,
}
_SHEET = {
    "period": "2026-11",
    "due": date(2026, 12, 9),
    "rows": [_ROW],
    "mode": "deduct",
    "rules_version": "考勤制度 2026 版",
    "breaches": ["李四（li）"],
    "count": 1,
}
_LETTER = {
    "sender_name": "客服部",
    "return_address": "",
    "phone": "",
    "fonts": ["Noto Serif CJK SC"],
    "page_size": "A4",
}
_AT = datetime(2026, 11, 7, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
_DUTY = {"name": "张三", "rota": "cs-duty", "starts_at": _AT, "ends_at": _AT, "new_name": "李四", "old_names": "王五"}


def template_samples() -> dict[str, dict[str, Any]]:
    """Template name (relative to the plugin) → a context it renders with."""
    out: dict[str, dict[str, Any]] = {}
    common = {"case_number": "HL-2026-000001", "recipient_name": "李经理", "site_name": "客服部"}
    for name in ("leave_request", "leave_decided", "certificate_reminder", "certificate_escalation"):
        out[f"{name}.txt"] = out[f"{name}.sms.txt"] = dict(_LEAVE)
    out["absence_review.txt"] = {
        "name": "张三",
        "words": "连续旷工15个工作日",
        "note": "本案仅供人事复核，不是除名决定。",
    }
    out["sheet.txt"] = out["sheet.html"] = out["sheet_reminder.txt"] = out["sheet_reminder.sms.txt"] = dict(_SHEET)
    out["duty_reminder.txt"] = out["duty_reminder.sms.txt"] = {
        "name": "张三",
        "rota": "cs-duty",
        "day": date(2026, 11, 7),
    }
    for name in ("duty_change_off", "duty_change_on"):
        out[f"{name}.txt"] = out[f"{name}.sms.txt"] = dict(_DUTY)
    out["sheet.html"] = {**_SHEET, "today": date(2026, 12, 9), "address": "", "letter": _LETTER}
    return {name: {**common, **ctx} for name, ctx in out.items()}
