"""Pure rules of the desk: the print state and status read from each ERP's fields, which event may
move an order, the seed's remark formats and the shipping promise. No database here."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

# The print state, in the only order it moves (第五篇 售前 ⑤⑥: 未打单 → 已打单 → 已打包 → 已发货).
NOT_PRINTED, PRINTED, PACKED, SHIPPED = "未打单", "已打单", "已打包", "已发货"
PRINT_STATES = (NOT_PRINTED, PRINTED, PACKED, SHIPPED)
PRINT_RANK = {state: i for i, state in enumerate(PRINT_STATES)}

# Order status as kefu keeps it; closed and finished are terminal.
UNPAID, PAID, SHIPPED_STATUS, FINISHED, CLOSED = "unpaid", "paid", "shipped", "finished", "closed"
STATUS_RANK = {UNPAID: 0, PAID: 1, SHIPPED_STATUS: 2, FINISHED: 3, CLOSED: 3}
STATUS_LABEL = {UNPAID: "待付款", PAID: "已付款", SHIPPED_STATUS: "已发货", FINISHED: "交易成功", CLOSED: "已关闭"}

# Taobao/Tmall 订单报表 订单状态 (the export's wording; the longer phrases first).
TAOBAO_STATUS: dict[str, str] = {
    "等待买家付款": UNPAID,
    "买家已付款，等待卖家发货": PAID,
    "等待卖家发货": PAID,
    "卖家部分发货": PAID,
    "卖家已发货，等待买家确认": SHIPPED_STATUS,
    "等待买家确认收货": SHIPPED_STATUS,
    "交易成功": FINISHED,
    "交易关闭": CLOSED,
    "付款以后用户退款成功，交易自动关闭": CLOSED,
    "付款以前，卖家或买家主动关闭交易": CLOSED,
}

# 聚水潭 order status codes.
JST_STATUS: dict[str, str] = {
    "WaitPay": UNPAID,
    "WaitConfirm": PAID,
    "WaitFConfirm": PAID,
    "WaitOuterSent": PAID,
    "Delivering": PAID,
    "Question": PAID,
    "Merged": CLOSED,
    "Split": CLOSED,
    "Sent": SHIPPED_STATUS,
    "Cancelled": CLOSED,
}


def wdt_status(code: int) -> str:
    """旺店通 ``trade_status``: 5 已取消, 10–15 待付款, 16–55 in the warehouse's hands (30 待客审,
    55 已审核), 95 已发货 (113 异常发货), 100–110 已完成."""
    if code == 5:
        return CLOSED
    if code < 16:
        return UNPAID
    if code < 95:
        return PAID
    if code < 100 or code == 113:
        return SHIPPED_STATUS
    return FINISHED


_TRUE = {"1", "true", "yes", "y", "是", "已打印", "已打单", "t"}


def truthy(text: str) -> bool:
    """An export's yes: 1, true, 是, 已打印."""
    return text.strip().lower() in _TRUE


def read_status(fields: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """(status, print state, problem) from whatever status fields a row carries; None for unknown.

    The print state comes from the ERP fields (E店宝 ``print_time``/``delivery_status``, 聚水潭
    ``is_print_express``, 旺店通 ``logistics_print_status``); Taobao's export only says shipped.
    """
    status: str | None = None
    printed: str | None = None
    raw = fields.get("status", "").strip()
    if raw:
        status = TAOBAO_STATUS.get(raw) or JST_STATUS.get(raw)
        if status is None:
            return None, None, f"unknown order status {raw!r}"
    trade = fields.get("trade_status", "").strip()
    if trade:
        if not trade.isdigit():
            return None, None, f"trade_status {trade!r} is not a 旺店通 number"
        status = wdt_status(int(trade))
    delivery = fields.get("delivery_status", "").strip()
    if delivery:
        shipped = delivery in ("1", "2", "已发货", "部分发货", "Sent") or delivery.startswith("已发货")
        if shipped:
            status = SHIPPED_STATUS
        elif status is None and delivery not in ("0", "未发货"):
            return None, None, f"unknown delivery_status {delivery!r}"
        status = status or PAID
    print_status = fields.get("print_status", "").strip()
    if print_status:
        if print_status not in ("0", "1", "2", "3"):
            return None, None, f"logistics_print_status {print_status!r} is not 0–3"
        printed = PRINTED if print_status != "0" else NOT_PRINTED
    if fields.get("is_print_express", "").strip():
        printed = PRINTED if truthy(fields["is_print_express"]) else NOT_PRINTED
    if fields.get("print_time", "").strip():
        printed = PRINTED
    if status in (SHIPPED_STATUS, FINISHED) or fields.get("shipped_at", "").strip():  # 交易成功 was shipped
        printed = SHIPPED
    return status, printed, None


def merged_print_state(stored: str, given: str | None) -> str:
    """The print state only moves forward: a stale export saying 未打单 never undoes 已打包."""
    if given is None:
        return stored
    return given if PRINT_RANK[given] > PRINT_RANK[stored] else stored


def merged_status(stored: str, given: str | None) -> str:
    """The status only moves forward; a terminal one (closed, finished) stays."""
    if given is None or given == stored:
        return stored
    if STATUS_RANK[stored] >= 3:
        return stored
    return given if STATUS_RANK[given] >= STATUS_RANK[stored] else stored


def is_stale(stored_at: datetime | None, event_at: datetime | None) -> bool:
    """An event older than the one the order holds changes nothing."""
    return stored_at is not None and event_at is not None and event_at < stored_at


# ------------------------------------------------------------------ remarks (售前 ③④⑥)

FLAG_RED = 1  # Taobao's seller_flag 1: the 红旗 the seed asks for


def _stamp(day: date, name: str) -> str:
    return f"---{day.isoformat()} {name}"


def remark(kind: str, text: str, day: date, name: str, *, on_slips: bool = False) -> str:
    """The seed's remark, ending ``---YYYY-MM-DD 姓名``.

    ``attribute``: 客户拍下，要求修改成：…，已修改妥当; ``address``: 客户要求修改地址，新地址为：…;
    ``special``: 客户要求：…; ``on_slips`` (the order was printed): …，已在发货单与快递单上修改妥当.
    """
    if kind == "address":
        body = f"客户要求修改地址，新地址为：{text}"
        if on_slips:
            body += "，已在发货单与快递单上修改妥当"
    elif kind == "attribute":
        body = (
            f"客户要求修改成：{text}，已在发货单与快递单上修改妥当"
            if on_slips
            else f"客户拍下，要求修改成：{text}，已修改妥当"
        )
    elif kind == "special":
        body = f"客户要求：{text}"
    else:
        raise ValueError(f"unknown remark kind {kind!r}")
    return body + _stamp(day, name)


# ------------------------------------------------------------------ buyer messages

ORDER_NO = re.compile(r"(?<!\d)(\d{12,20})(?!\d)")
_ADDRESS = re.compile(r"(?:新地址(?:为|是)?|地址(?:改|修改)(?:为|成|到))[：:\s]*(?P<addr>[^\n。]+)")
_ATTRIBUTE = re.compile(r"(?:修改成|改成|换成)[：:\s]*(?P<what>[^\n。，,]+)")


def order_number_in(text: str) -> str | None:
    """The first platform order number (12–20 digits) the text names."""
    match = ORDER_NO.search(text or "")
    return match.group(1) if match else None


def new_address_in(text: str) -> str | None:
    """The new address a buyer writes after 新地址为 / 地址改为."""
    match = _ADDRESS.search(text or "")
    return match.group("addr").strip() if match else None


def attribute_in(text: str) -> str | None:
    """What a buyer wants the item changed to (改成 XL 码)."""
    match = _ATTRIBUTE.search(text or "")
    return match.group("what").strip() if match else None


def score_words(text: str, words: list[str]) -> int:
    """How many of ``words`` the text uses."""
    return sum(1 for w in words if w and w in text)


# ------------------------------------------------------------------ the shipping promise (售前 ⑨)


def promised_day(
    paid_at: datetime,
    in_stock: bool,
    cutoff: time,
    ships_on: Callable[[date], bool],
) -> date:
    """In stock and paid before the cutoff on a shipping day → that day; otherwise the next shipping day.

    ``paid_at`` is in the shop's zone; ``ships_on`` says whether a day is a shipping day.
    """
    day = paid_at.date()
    if in_stock and paid_at.time() < cutoff and ships_on(day):
        return day
    nxt = day + timedelta(days=1)
    for _ in range(60):
        if ships_on(nxt):
            return nxt
        nxt += timedelta(days=1)
    return nxt
