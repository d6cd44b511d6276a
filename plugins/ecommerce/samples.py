"""A sample context for every ecommerce template (``kefu check-config`` renders each one)."""

from __future__ import annotations

from datetime import date
from typing import Any

_ORDER = {"order_no": "3391234567890123456", "shop": "main", "print_state": "未打单", "buyer": "tb_buyer01"}
_STAFF = {"staff_name": "王五", "site_name": "某某旗舰店"}


def template_samples() -> dict[str, dict[str, Any]]:
    """Template name → a context it renders with."""
    case = {"case_number": "EC-2026-000001"}
    return {
        "packer_notice.txt": {**_ORDER, **_STAFF, **case, "change": "address", "text": "浙江省杭州市…"},
        "retrieve_notice.txt": {**_ORDER, **_STAFF, **case, "print_state": "已打单"},
        "aftersales_notice.txt": {**_ORDER, **_STAFF, **case, "change": "address", "text": "…"},
        "void_notice.txt": {**_ORDER, **_STAFF, **case},
        "recall_notice.txt": {
            **_ORDER,
            **_STAFF,
            **case,
            "carrier": "中通",
            "tracking_no": "75312345678901",
            "entry_id": 1,
        },
        "refund_task.txt": {**_ORDER, **_STAFF, **case},
        "return_slip.html": {
            **_ORDER,
            **_STAFF,
            **case,
            "carrier": "中通",
            "tracking_no": "75312345678901",
            "entry_id": 1,
            "today": "2026-12-02",
            "recipient_name": "打单小赵",
            "address": "某某旗舰店 打单",
            "letter": {
                "sender_name": "某某旗舰店",
                "return_address": "",
                "phone": "",
                "fonts": ["Noto Serif CJK SC"],
                "page_size": "A4",
            },
        },
        "change_done.txt": {
            **_ORDER,
            **case,
            "site_name": "某某旗舰店",
            "change": "address",
            "text": "…",
            "address": "浙江省杭州市****",
        },
        "promise.txt": {
            **_ORDER,
            **case,
            "site_name": "某某旗舰店",
            "shipped": False,
            "promised_on": date(2026, 12, 2),
            "carrier": "",
            "tracking_no": "",
        },
        "return_policy.txt": {**_ORDER, **case, "site_name": "某某旗舰店", "quality": True, "days": 3},
        "tracking_reminder.txt": {**_ORDER, **case, "site_name": "某某旗舰店"},
        "tracking_overdue.txt": {**_ORDER, **_STAFF, **case},
        "late_escalation.txt": {
            **_STAFF,
            **case,
            "order_no": "3391234567890123456",
            "promised_on": date(2026, 12, 1),
        },
        "dispute_escalation.txt": {
            **_STAFF,
            **case,
            "order_no": "3391234567890123456",
            "why": "已 24 小时无人处理",
            "state": "客服介入中",
        },
        "digest.txt": {
            **_STAFF,
            "day": "2026-12-02",
            "count": 1,
            "rows": [
                {
                    "shop": "main",
                    "order_no": "3391234567890123456",
                    "refund_status": "买家已经申请退款，等待卖家同意",
                    "dispute_state": "",
                    "deadline": "2026-12-03 10:00",
                    "flags": "需退货未填退货单号",
                    "buyer": "t********1",
                }
            ],
            "groups": {
                "买家已经申请退款，等待卖家同意 / 无客服介入": [
                    {
                        "shop": "main",
                        "order_no": "3391234567890123456",
                        "deadline": "2026-12-03 10:00",
                        "flags": "需退货未填退货单号",
                        "buyer": "t********1",
                    }
                ]
            },
        },
        "transfer_follow_up.txt": {
            **_STAFF,
            "payer": "张*",
            "amount": "199.00",
            "paid_on": "2026-12-01",
            "id": 1,
        },
    }
