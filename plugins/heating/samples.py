"""Sample render contexts for every heating template (``kefu check-config`` renders them)."""

from __future__ import annotations

from typing import Any

from kefu.plugins.heating import kinds

_CASE = {
    "case_number": "HT-2026-000123",
    "title": "3号楼2单元暖气漏水",
    "kind": kinds.LEAK,
    "own_kind": kinds.LEAK,
    "opened_at": "2026-11-02 09:00",
    "station": "长白一号换热站",
    "address": "长白新城3号楼2单元301",
    "site_name": "供热公司客服中心",
}
_STAFF = {**_CASE, "staff_name": "张师傅"}


# The hook passes its ctx.name; a direct caller (a test) gets this package's folder name.
_FOLDER = __name__.split(".")[-2]


def template_samples(plugin: str = _FOLDER) -> dict[str, dict[str, Any]]:
    """Full template name (``<plugin>/ack.sms.txt``) → a context with every variable the plugin passes it."""
    outage = {
        **_CASE,
        "where": "S01",
        "cause": "停电",
        "expected_end": "18:00",
        "households": 120,
        "cause_group": "停水、停电",
        "hours": 3.5,
    }
    fee = {
        "account": "CB-000123",
        "owed": "2350.00",
        "season": "2026-2027",
        "season_start": "11月01日",
        "season_end": "03月31日",
        "campaign": "before",
        "site_name": _CASE["site_name"],
    }
    own: dict[str, dict[str, Any]] = {
        "ack.sms.txt": {**_CASE, "due": "11-02 13:00", "hours": 4},
        "callback.sms.txt": _CASE,
        "ack.email.txt": {**_CASE, "due": "11-02 13:00", "hours": 4, "recipient_name": "张先生"},
        "callback.email.txt": {**_CASE, "recipient_name": "张先生"},
        "outage_start.sms.txt": outage,
        "outage_end.sms.txt": outage,
        "fee_before.sms.txt": fee,
        "fee_during.sms.txt": {**fee, "campaign": "during"},
        "dispatch.txt": {**_STAFF, "due": "11-02 13:00", "hours": 4},
        "dispatch.sms.txt": {**_STAFF, "due": "11-02 13:00", "hours": 4},
        "reopened.txt": _STAFF,
        "reopened.sms.txt": _STAFF,
        "outage_report.txt": {**outage, "staff_name": "王经理"},
        "outage_report.sms.txt": {**outage, "staff_name": "王经理"},
        "outage_summary.txt": {**outage, "staff_name": "刘主任"},
        "shutoff_task.txt": {**_STAFF, "households": 12},
        "shutoff_task.sms.txt": {**_STAFF, "households": 12},
        "shutoff_escalation.txt": {**_STAFF, "account": "CB-000123"},
        "shutoff_escalation.sms.txt": {**_STAFF, "account": "CB-000123"},
        "visit_shortfall.txt": {**_STAFF, "period": "2026-11", "reasons": ["本月走访 4 次，少于 6 次"]},
        "visit_reminder.txt": {
            "station": "长白一号换热站",
            "week": "2026-11-02",
            "staff_name": "李",
            "site_name": _CASE["site_name"],
        },
        "visit_reminder.sms.txt": {
            "station": "长白一号换热站",
            "week": "2026-11-02",
            "staff_name": "李",
            "site_name": _CASE["site_name"],
        },
        "visit_summary.txt": {
            "period": "2026-11",
            "staff_name": "刘主任",
            "site_name": _CASE["site_name"],
            "per_week": 1,
            "per_month": 6,
            "far_end_households": 5,
            "rows": [{"station": "长白一号换热站", "visits": 7, "far_end": 5, "short": "达标"}],
        },
        "coal_report.txt": {
            "staff_name": "燃料部",
            "site_name": _CASE["site_name"],
            "rows": [{"sample": "C-2026-001", "measure": "sulfur_pct", "first": 0.61, "second": 0.63, "mean": 0.62}],
        },
        "coal_retest.txt": {
            **_STAFF,
            "sample": "C-2026-002",
            "measure": "ash_pct",
            "first": 21.3,
            "second": 21.9,
            "difference": 0.6,
            "tolerance": 0.2,
        },
        "hotline_reply.txt": {
            **_CASE,
            "hotline_ref": "96123-20261102-0042",
            "resolved_at": "2026-11-02 11:30",
            "result": "已更换阀门",
        },
        "fee_letter.html": {
            **fee,
            "heated_area": 85.5,
            "recipient_name": "王某",
            "address": "长白新城1号楼1单元101",
            "case_number": "",
            "today": "2026-10-08",
            "letter": {
                "sender_name": "供热公司",
                "return_address": "长白路1号",
                "phone": "96123",
                "fonts": ["Noto Serif CJK SC"],
                "page_size": "A4",
            },
        },
        "rectification_notice.html": {
            "case_number": "HTA-2026-000007",
            "recipient_name": "王某",
            "address": "格林小区5号楼地下室",
            "account": "CB-000456",
            "finding": "地下室下挖、外扩",
            "area_m2": 13.0,
            "height_m": 2.4,
            "found_on": "2026-11-02",
            "due_date": "2026年11月17日",
            "today": "2026-11-02",
            "site_name": _CASE["site_name"],
            "letter": {
                "sender_name": "供热公司",
                "return_address": "长白路1号",
                "phone": "96123",
                "fonts": ["Noto Serif CJK SC"],
                "page_size": "A4",
            },
        },
    }
    return {f"{plugin}/{name}": sample for name, sample in own.items()}
