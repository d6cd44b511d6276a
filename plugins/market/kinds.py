"""The market plugin's case kinds."""

from __future__ import annotations

from datetime import timedelta

from kefu.api import Case, CaseKind, DeadlinePolicy, Level
from kefu.plugins.market.config import MarketConfig

ARREARS = "arrears"
MISSED_PATROL = "missed_patrol"
PATROL_REPORT = "patrol_report"
FIRE_INSPECTION = "fire_inspection"
HAZARD = "hazard"
REQUEST = "request"
CHECK = "check"
COMPLAINT = "complaint"
FIRST_REVIEW, DECISION, REJECTED_FIRST = "初审", "审批", "初审驳回"
FIX, RECHECK = "整改", "复查"
EVENT_TASK = "event_task"


def _first_review_done(case: Case, to_state: str) -> str | None:
    """No decision on a request before the floor manager's first review (严把审核第一关)."""
    if to_state in ("resolved", "closed") and case.step not in (DECISION, REJECTED_FIRST):
        return "楼层经理初审尚未完成 (kefu market request review)"
    return None


def case_kinds(name: str, cfg: MarketConfig) -> list[CaseKind]:
    """欠费 30 d (the market manager's), patrol reports by SMS/mail, 漏巡 (duty deputy, then security)."""
    return [
        CaseKind(name=f"{name}.{ARREARS}", title="欠费逾期", prefix="MA"),
        CaseKind(name=f"{name}.{PATROL_REPORT}", title="巡查上报", prefix="MR"),
        CaseKind(
            name=f"{name}.{REQUEST}",
            title="转让/出租/装修申请",
            prefix="MT",
            steps=(FIRST_REVIEW, DECISION, REJECTED_FIRST),
            guard=_first_review_done,
            policies=(
                DeadlinePolicy.for_step(FIRST_REVIEW, cfg.watch.review_within, chain=(cfg.market_manager,)),
                DeadlinePolicy.for_step(DECISION, cfg.watch.decide_within, chain=(cfg.general_manager,)),
            ),
        ),
        CaseKind(
            name=f"{name}.{COMPLAINT}",
            title="客商投诉",
            prefix="MK",
            reopen_on_reply=False,
            policies=(
                # The reply runs while nobody has taken the complaint up (new or just assigned):
                # the floor manager answering moves it on (in_progress), which meets it.
                DeadlinePolicy(
                    name="reply",
                    within=cfg.complaints.reply_within,
                    chain=(Level("floor_manager@{unit}"), Level(cfg.market_manager)),
                    active_states=frozenset({"new", "assigned"}),
                    channels=("sms", "email"),
                ),
                DeadlinePolicy.callback(cfg.complaints.callback_within, chain=("floor_manager@{unit}",)),
            ),
        ),
        CaseKind(
            name=f"{name}.{CHECK}",
            title="定期检查",
            prefix="MC",
            policies=(DeadlinePolicy.resolution(timedelta(days=31), chain=(cfg.security_manager,)),),
        ),
        CaseKind(
            name=f"{name}.{HAZARD}",
            title="隐患整改",
            prefix="MH",
            steps=(FIX, RECHECK),
            policies=(
                DeadlinePolicy.for_step(
                    FIX,
                    cfg.hazards.fix_within,
                    chain=(cfg.security_manager, cfg.market_manager),
                    channels=("sms", "email"),
                ),
                DeadlinePolicy.for_step(RECHECK, cfg.hazards.recheck_within, chain=(cfg.security_manager,)),
            ),
        ),
        CaseKind(
            name=f"{name}.{FIRE_INSPECTION}",
            title="地毯式消防安全检查",
            prefix="MF",
            policies=(
                DeadlinePolicy.resolution(cfg.events.inspect_before, chain=(cfg.security_manager, cfg.market_manager)),
            ),
        ),
        CaseKind(
            name=f"{name}.{EVENT_TASK}",
            title="活动筹备",
            prefix="ME",
            policies=(DeadlinePolicy.resolution(timedelta(days=30), chain=(cfg.market_manager,)),),
        ),
        CaseKind(
            name=f"{name}.{MISSED_PATROL}",
            title="漏巡",
            prefix="MP",
            urgent=True,
            policies=(
                DeadlinePolicy.first_response(
                    cfg.patrols.escalate_after,
                    chain=(cfg.security_manager,),
                    channels=("sms", "email"),
                ),
            ),
        ),
    ]
