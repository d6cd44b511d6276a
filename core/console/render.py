"""How the console shows things: zh-CN times with the weekday, SLA badges, labels, masking."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from kefu.sla.lifecycle import LABELS

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from kefu.sla.calendar import WorkCalendar

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
DEADLINE_NAMES = {"first_response": "首次响应", "resolution": "处理时限", "callback": "回访"}
CLOCKS = {"24x7": "全天候计时", "working_hours": "工作时间计时", "working_days": "工作日计时"}
EVENT_NAMES = {
    "opened": "新建",
    "assigned": "派单",
    "step": "进入步骤",
    "state": "状态变更",
    "resolved": "已解决",
    "closed": "已关闭",
    "reopened": "重新打开",
    "callback_answered": "回访结果",
    "staff_reply": "回复客户",
    "customer_reply": "客户回复",
    "note": "内部备注",
    "evidence_added": "添加证据",
    "paused": "暂停",
    "resumed": "恢复",
    "escalation_acknowledged": "确认升级",
    "deadline_due_set": "调整时限",
    "notification_cancelled": "取消通知",
    "plugin_error": "插件错误",
    "letter_posted": "信件寄出",
    "letter_queued": "打印信件",
    "letter_archived": "信件生成",
}
OUTBOX_STATES = {
    "queued": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "delivered": "已送达",
    "failed": "失败",
    "dead": "发送失败",
    "skipped": "未发送",
    "cancelled": "已取消",
}
CHANNELS = {"email": "邮件", "sms": "短信", "letter": "信件", "hotline": "热线", "upload": "上传", "import": "导入"}


def state_label(state: str) -> str:
    """新建, 处理中 … for a case state."""
    return LABELS.get(state, state)


def deadline_label(name: str) -> str:
    """首次响应, 处理时限, 回访, or 步骤 现场查看 for ``step:现场查看``."""
    if name.startswith("step:"):
        return f"步骤 {name[5:]}"
    return DEADLINE_NAMES.get(name, name)


def local_time(value: datetime | None, tz: ZoneInfo, calendar: WorkCalendar | None = None) -> str:
    """``12月2日 周三 14:05`` in the site's zone, with the holiday's name on a holiday (``10月1日 周四（国庆节）``)."""
    if value is None:
        return "-"
    local = value.astimezone(tz)
    text = f"{local.month}月{local.day}日 {WEEKDAYS[local.weekday()]} {local:%H:%M}"
    if calendar is not None:
        name = holiday_name(calendar, local.date())
        if name:
            text += f"（{name}）"
    return text


def holiday_name(calendar: WorkCalendar, day: date) -> str | None:
    """The working calendar's name of ``day`` when it is a day off that is not a plain weekend."""
    info = calendar.day(day)
    if info.working:
        return "调休上班" if info.name and day.weekday() >= 5 else None
    return _cn_holiday(info.name) if info.name else None


_HOLIDAYS_CN = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def _cn_holiday(name: str) -> str:
    return _HOLIDAYS_CN.get(name, name)


def skipped_days(calendar: WorkCalendar, start: datetime, end: datetime, tz: ZoneInfo) -> list[str]:
    """The named days off between ``start`` and ``end`` (what a working-time deadline skipped)."""
    out: list[str] = []
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last and len(out) < 20:
        name = holiday_name(calendar, day)
        if name and not calendar.day(day).working:
            label = f"{day.month}月{day.day}日{name}"
            if label not in out:
                out.append(label)
        day += timedelta(days=1)
    return out


def span(delta: timedelta) -> str:
    """``3小时5分`` / ``2天4小时`` / ``45秒``: how long, for a badge."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分{secs}秒"  # seconds too: the badge visibly counts down
    if minutes:
        return f"{minutes}分{secs}秒"
    return f"{secs}秒"


def badge(due: datetime | None, now: datetime) -> tuple[str, str]:
    """(text, css class) of an SLA badge: ``剩 3小时5分`` (ok, soon) or ``超时 20分`` (late)."""
    if due is None:
        return "无时限", "none"
    left = due - now
    if left.total_seconds() <= 0:
        return f"超时 {span(left)}", "late"
    return f"剩 {span(left)}", "soon" if left <= timedelta(hours=2) else "ok"


def mask_name(name: str | None) -> str:
    """张先生 → 张**: a customer's name as a masked list shows it."""
    if not name:
        return ""
    return name[:1] + "*" * max(len(name) - 1, 1)
