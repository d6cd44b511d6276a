"""Sample render contexts for every complaints template (``kefu check-config`` renders each)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"

_CASE = {
    "case_number": "BX-2026-000001",
    "title": "卫生间漏水",
    "project": "JY",
    "home": "JY-3-1201",
    "step": "现场查看",
    "site_name": "锦园客服中心",
}
_CUSTOMER = {"customer_name": "张三"}
_STAFF = {"staff_name": "李工", "role": "repair_engineer"}

_SPECIFIC: dict[str, dict[str, Any]] = {
    "repair_ack": {"class_title": "水管漏水"},
    "repair_visit": {"visit_at": "11月03日 10:00"},
    "feedback_reply": {"reply": "已安排整改，预计本周完成。"},
    "low_score_alert": {"score": 2},
    "escalation": {"deadline": "现场查看", "due": "11月03日 09:00", "owner": "li", "role_title": "维修管理岗"},
    "contractor_reminder": {"contractor_name": "恒安防水", "due": "11月09日 09:00"},
    "repair_notice": {"contractor_name": "恒安防水", "due": "2026年11月09日 09:00"},
    "warranty_notice": {
        "expires": "2027年05月31日",
        "items": "防水、外墙面防渗漏",
        "item_list": ["防水", "外墙面防渗漏"],
        "lead_days": 60,
    },
    "defect_list": {
        "expires": "2027年05月31日",
        "rows": [{"home": "JY-3-1201", "owner": "张三", "case_number": "BX-2026-000001", "title": "漏水"}],
    },
    "task": {"due": "2026年11月16日"},
    "compensation_letter": {
        "recipient_name": "恒安防水工程有限公司",
        "parent_number": "BX-2026-000001",
        "amount": "3,000.00",
        "pay_within_days": 15,
    },
    "compensation_payment": {"payee": "张三", "amount": "3,000.00", "party": "恒安防水工程有限公司", "note": ""},
    "defect_report": {
        "period": "2026-10",
        "total": 1,
        "rows": [{"project": "JY", "trade": "防水", "cause": "施工", "count": 1, "cases": "BX-2026-000001"}],
    },
    "kpi_report": {
        "period": "2026-10",
        "rows": [
            {
                "scope": "project",
                "name": "JY",
                "opened": 3,
                "closure_rate": "66.7%",
                "timeliness": "50.0%",
                "satisfaction": "4.00",
            }
        ],
    },
}

_LETTER = {
    "case_number": "WX-2026-000001",
    "parent_number": "BX-2026-000001",
    "contractor_name": "恒安防水工程有限公司",
    "contractor_contact": "王经理",
    "contractor_address": "北京市朝阳区某路1号",
    "project": "锦园",
    "home": "3栋1201",
    "fault": "卫生间地面渗水至楼下",
    "instructions": "",
    "due": "2026年11月09日 09:00",
    "site_name": "锦园客服中心",
    "recipient_name": "恒安防水工程有限公司",
    "address": "北京市朝阳区某路1号",
    "today": date(2026, 11, 2),
    "letter": {
        "sender_name": "锦园客服中心",
        "return_address": "",
        "phone": "",
        "fonts": ["Noto Serif CJK SC"],
        "page_size": "A4",
    },
}


def template_samples() -> dict[str, dict[str, Any]]:
    """Template file name (the plugin's own) → a context that renders it with every variable defined."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(TEMPLATES.glob("*.txt")):
        rule = path.name.split(".", 1)[0]
        out[path.name] = {**_CASE, **_CUSTOMER, **_STAFF, **_SPECIFIC.get(rule, {})}
    out["repair_notice_letter.html"] = dict(_LETTER)
    out["compensation_letter.html"] = {
        **_LETTER,
        "case_number": "PF-2026-000001",
        "amount": "3,000.00",
        "terms": "含楼下邻居吊顶修复",
        "party_contact": "王经理",
        "evidence": ["现场照片.jpg", "维修报价单"],
        "pay_within_days": 15,
    }
    return out
