"""A sample context for every market template (``kefu check-config`` renders them all)."""

from __future__ import annotations

from typing import Any

_LINE = {
    "tenant": "王经营户",
    "shop_no": "3F-018",
    "floor": "3F",
    "kind": "租金",
    "period": "2026-11",
    "owed": "3200.00",
    "due_on": "2026-11-10",
    "days_overdue": 3,
    "notice_date": "2026-11-13",
    "pay_by": "2026-11-20",
    "step": "overdue-1",
    "site_name": "商贸城管理部",
    "staff_name": "李经理",
    "items": [
        {
            "kind": "租金",
            "period": "2026-11",
            "amount": "3200.00",
            "paid": "0.00",
            "owed": "3200.00",
            "due_on": "2026-11-10",
        }
    ],
}


def template_samples() -> dict[str, dict[str, Any]]:
    """Template name (relative to the plugin) → a context it renders with."""
    return {
        "fee_reminder.sms.txt": _LINE,
        "fee_notice.html": {
            **_LINE,
            "recipient_name": "王经营户",
            "address": "3F 3F-018 号商铺",
            "case_number": "",
            "today": "2026-11-13",
            "letter": {
                "sender_name": "商贸城管理部",
                "return_address": "商贸城一楼管理部",
                "phone": "",
                "fonts": ["Noto Serif CJK SC"],
                "page_size": "A4",
            },
        },
        "arrears_escalation.txt": {**_LINE, "case_number": "MA-2026-000001", "days_overdue": 30},
        "watch_overdue.txt": _LINE,
        "missed_patrol.txt": {
            "case_number": "MP-2026-000001",
            "route": "三楼",
            "window": "2026-11-13 10:30",
            "missed": "3F-B、3F-C",
            "label": "regular",
            "staff_name": "带队副经理",
            "site_name": "商贸城管理部",
        },
        "deputy_missed.txt": {
            "window": "2026-11-13 10:30",
            "on_duty": "dep1",
            "staff_name": "安保部经理",
            "site_name": "商贸城管理部",
        },
        "fire_inspection.txt": {
            "case_number": "MF-2027-000001",
            "reason": "春节假期",
            "due_on": "2027-02-05",
            "checklist": ["消防通道是否畅通"],
            "staff_name": "安保部经理",
            "site_name": "商贸城管理部",
        },
        "event_task.txt": {
            "case_number": "ME-2027-000001",
            "event": "冰洗节",
            "starts": "2027-05-10",
            "days": 30,
            "floor": "3F",
            "staff_name": "三楼经理",
            "site_name": "商贸城管理部",
        },
        "hazard.txt": {
            "case_number": "MH-2026-000001",
            "place": "三楼消防通道",
            "problem": "消防通道堆货",
            "reported_by": "guard",
            "fix_within": "24 小时",
            "staff_name": "安保部经理",
            "site_name": "商贸城管理部",
        },
        "hazard_major.txt": {
            "case_number": "MH-2026-000002",
            "place": "三楼配电间",
            "problem": "电线短路冒烟",
            "reported_by": "guard",
            "fix_within": "24 小时",
            "staff_name": "总经理",
            "site_name": "商贸城管理部",
        },
        "shop_closed.txt": {
            "shop_no": "3F-018",
            "floor": "3F",
            "tenant": "T018",
            "since": "2026-11-10",
            "days": 3,
            "watch": "担保贷款",
            "staff_name": "管理部经理",
            "site_name": "商贸城管理部",
        },
        "request_alert.txt": {
            "case_number": "MT-2026-000001",
            "shop_no": "3F-018",
            "tenant": "T018",
            "floor": "3F",
            "request": "转让",
            "note": "拟转让给亲属",
            "watch": "",
            "staff_name": "管理部经理",
            "site_name": "商贸城管理部",
        },
        "request_review.txt": {
            "case_number": "MT-2026-000001",
            "shop_no": "3F-018",
            "tenant": "T018",
            "floor": "3F",
            "request": "转让",
            "note": "拟转让给亲属",
            "watch": "",
            "staff_name": "三楼经理",
            "site_name": "商贸城管理部",
        },
        "check_task.txt": {
            "case_number": "MC-2026-000001",
            "check": "防火检查（每月一次）",
            "period": "2026-11",
            "due_on": "2026-11-30",
            "staff_name": "安保部经理",
            "site_name": "商贸城管理部",
        },
        "complaint_ack.sms.txt": {
            "case_number": "MK-2026-000001",
            "hours": "24",
            "site_name": "商贸城管理部",
            "shop_no": "3F-A018",
            "text": "投诉",
        },
        "complaint_callback.sms.txt": {
            "case_number": "MK-2026-000001",
            "site_name": "商贸城管理部",
        },
        "complaint_staff.txt": {
            "case_number": "MK-2026-000001",
            "hours": "24",
            "site_name": "商贸城管理部",
            "shop_no": "3F-A018",
            "text": "投诉3F-A018卖假货",
            "staff_name": "三楼经理",
        },
        "unsigned_patrol.txt": {
            "round_id": 12,
            "route": "三楼",
            "window": "2026-11-13 10:30",
            "persons": "guard",
            "missed": "无",
            "staff_name": "安保部经理",
            "site_name": "商贸城管理部",
        },
        "overdue_list.txt": {
            "floor": "3F",
            "day": "2026-11-13",
            "staff_name": "李经理",
            "site_name": "商贸城管理部",
            "rows": [
                {
                    "shop_no": "3F-018",
                    "tenant": "王经营户",
                    "kind": "租金",
                    "period": "2026-11",
                    "owed": "3200.00",
                    "due_on": "2026-11-10",
                    "days_overdue": 3,
                }
            ],
        },
    }
