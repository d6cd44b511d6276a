"""The heating plugin's staff-console actions: an outage starts (the plugin's page) and ends (its case);
and its page's phone-callback list (回访电话表), whose answers are recorded on each case's page.

Both call the same functions as ``kefu heating outage start|end``, with the signed-in
person as the actor; an :class:`~kefu.plugins.heating.outages.OutageError` is the
refusal the page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kefu.api import Case, ConsoleAction, ConsoleField, ConsolePage
from kefu.plugins.heating import customer_cases, kinds, outages
from kefu.plugins.heating.config import Ctx

CAUSES = ("停水", "停电", "设备故障", "管网渗漏")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").replace("、", ",").split(",") if part.strip()]


def start_outage(ctx: Ctx, _case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """停缓供 starts: households texted, the chain told, the outage case opened."""
    case, sent = outages.start_outage(
        ctx,
        stations=_names(values.get("stations", "")),
        buildings=_names(values.get("buildings", "")),
        cause=values.get("cause", "").strip(),
        note=values.get("note") or None,
        expected_end=values.get("expected_end") or None,
        actor=actor,
    )
    return f"{case.number}：停缓供已开始，已短信通知 {sent} 户"


def end_outage(ctx: Ctx, case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """Heat is back: the same households texted, the summary to the head, the case closed."""
    assert case is not None
    _case, sent = outages.end_outage(ctx, case.number, actor=actor, note=values.get("note") or None)
    return f"{case.number}：已恢复供热，已短信通知 {sent} 户"


def phone_list(ctx: Ctx) -> tuple[list[str], list[list[str]]]:
    """回访电话表: resolved cases whose callback SMS went unanswered, as ``kefu heating callbacks`` lists them."""
    rows = [
        [
            case.number,
            case.title,
            case.unit or "",
            f"{cb.asked_at.astimezone(ctx.tz):%m-%d %H:%M}",
            str((case.data or {}).get("account") or ""),
        ]
        for case, cb in customer_cases.phone_list(ctx)
    ]
    return ["工单号", "标题", "所站", "短信回访时间", "户号"], rows


def console_actions(ctx: Ctx) -> list[ConsoleAction | ConsolePage]:
    """The actions and pages ``kefu_console_actions`` returns."""
    stations = tuple((key, f"{key} {s.name}") for key, s in sorted(ctx.config.stations.items()))
    station_help = "所站编号，逗号分隔：" + "、".join(k for k, _ in stations) if stations else "所站编号，逗号分隔"
    run_start: Any = start_outage
    run_end: Any = end_outage
    rows: Any = phone_list
    return [
        ConsolePage(name="phone_list", title="回访电话表（短信未答复，请电话回访）", rows=rows, case_column=0),
        ConsoleAction(
            name="outage_start",
            label="停缓供开始",
            on="plugin",
            run=run_start,
            roles=("admin", "head", "agent"),
            fields=(
                ConsoleField("stations", "所站", help=station_help),
                ConsoleField("buildings", "楼栋", help="楼栋，或 所站/楼栋，逗号分隔"),
                ConsoleField("cause", "原因", type="select", required=True, choices=tuple((c, c) for c in CAUSES)),
                ConsoleField("expected_end", "预计恢复时间"),
                ConsoleField("note", "说明", type="textarea"),
            ),
        ),
        ConsoleAction(
            name="outage_end",
            label="恢复供热",
            kinds=(kinds.OUTAGE,),
            run=run_end,
            states=("new", "acknowledged", "assigned", "in_progress", "waiting_customer"),
            fields=(ConsoleField("note", "说明"),),
        ),
    ]
