"""The heating plugin's case kinds, their numbers and their 24x7 deadlines from ``[heating]``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from kefu.kinds import CaseKind, DeadlinePolicy
from kefu.plugins.heating.config import HeatingConfig

LEAK = "heating.leak"
GENERAL = "heating.general"
LOW_TEMP = "heating.low_temp"
OUTAGE = "heating.outage"
SHUTOFF_CHECK = "heating.shutoff_check"
SHUTOFF_ESCALATION = "heating.shutoff_escalation"
VISIT_SHORTFALL = "heating.visit_shortfall"
AUDIT = "heating.audit"
COAL_RETEST = "heating.coal_retest"

# Customer-facing kinds: acknowledged, dispatched to the station on duty, called back.
CUSTOMER_KINDS = (LEAK, GENERAL, LOW_TEMP)


@dataclass(frozen=True)
class KindSpec:
    """What the plugin needs to know of a kind beyond the core's CaseKind."""

    title: str
    prefix: str
    urgent: bool
    resolve_within: timedelta | None
    chain: bool  # escalates station on duty → branch head → CS-centre head


def kind_specs(cfg: HeatingConfig) -> dict[str, KindSpec]:
    """Every kind with its deadline taken from config (never a constant)."""
    d = cfg.deadlines
    return {
        LEAK: KindSpec("跑冒滴漏报修", "HT", True, d.leak, True),
        GENERAL: KindSpec("供暖一般投诉", "HT", False, d.general, True),
        LOW_TEMP: KindSpec("室温不达标", "HT", False, d.low_temp, True),
        OUTAGE: KindSpec("停缓供", "HTO", True, None, False),
        SHUTOFF_CHECK: KindSpec("关栓抽查", "HTS", False, d.shutoff_check, False),
        SHUTOFF_ESCALATION: KindSpec("欠费未关栓", "HTS", False, d.shutoff_check, False),
        VISIT_SHORTFALL: KindSpec("包保走访不足", "HTV", False, None, False),
        AUDIT: KindSpec("稽查整改", "HTA", False, d.audit_rectification, False),
        COAL_RETEST: KindSpec("煤质复检", "HTC", False, d.coal_retest, False),
    }


def case_kinds(cfg: HeatingConfig) -> list[CaseKind]:
    """The CaseKinds registered with the core, with their 24x7 deadlines.

    The declared chain is only the fallback the core uses if the plugin's deadline
    hook keeps failing (the CS-centre head); normally :func:`kefu_deadline_due`
    walks the case's own chain: its station on duty → branch head → CS-centre head.
    """
    fallback = (cfg.cs_centre_head,) if cfg.cs_centre_head else ()
    out = []
    for name, spec in kind_specs(cfg).items():
        policies: list[DeadlinePolicy] = []
        if spec.resolve_within is not None:
            policies.append(DeadlinePolicy.resolution(
                spec.resolve_within, clock="24x7", chain=fallback, channels=("sms", "email"),
                repeat_every=cfg.deadlines.escalate_every,
                # 专人24小时值守 (seed): heating escalations go out day and night.
                working_hours_only=False,
            ))
        if name in CUSTOMER_KINDS:
            policies.append(DeadlinePolicy.callback(cfg.deadlines.callback_wait, clock="24x7"))
        out.append(CaseKind(name=name, title=spec.title, prefix=spec.prefix, urgent=spec.urgent,
                            policies=tuple(policies)))
    return out
