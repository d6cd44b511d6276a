"""The hr plugin's case kinds: leave requests, HR reviews of long absence, the monthly sheet."""

from __future__ import annotations

from datetime import timedelta

from kefu.api import CaseKind, DeadlinePolicy
from kefu.plugins.hr.config import HrConfig

LEAVE = "leave"
REVIEW = "absence_review"
SHEET = "sheet"


def case_kinds(name: str, cfg: HrConfig) -> list[CaseKind]:
    """请假 (HL-), 旷工复核 (HA-: for HR's judgement, never a dismissal), 奖罚评分表 (HS-)."""
    reviewer = (cfg.hr_reviewer,) if cfg.hr_reviewer else ()
    return [
        CaseKind(name=f"{name}.{LEAVE}", title="请假", prefix="HL"),
        CaseKind(
            name=f"{name}.{REVIEW}",
            title="旷工人事复核",
            prefix="HA",
            policies=(DeadlinePolicy.resolution(timedelta(days=7), chain=reviewer),) if reviewer else (),
        ),
        CaseKind(name=f"{name}.{SHEET}", title="奖罚评分表", prefix="HS"),
    ]
