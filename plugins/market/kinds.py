"""The market plugin's case kinds."""

from __future__ import annotations

from kefu.api import CaseKind, DeadlinePolicy
from kefu.plugins.market.config import MarketConfig

ARREARS = "arrears"
MISSED_PATROL = "missed_patrol"
PATROL_REPORT = "patrol_report"


def case_kinds(name: str, cfg: MarketConfig) -> list[CaseKind]:
    """欠费 30 d (the market manager's), patrol reports by SMS/mail, 漏巡 (duty deputy, then security)."""
    return [
        CaseKind(name=f"{name}.{ARREARS}", title="欠费逾期", prefix="MA"),
        CaseKind(name=f"{name}.{PATROL_REPORT}", title="巡查上报", prefix="MR"),
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
