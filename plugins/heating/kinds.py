"""The heating plugin's case kinds, their numbers and their 24x7 deadlines from ``[heating]``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from kefu.api import Case, CaseKind, DeadlinePolicy
from kefu.plugins.heating import rules
from kefu.plugins.heating.config import Ctx, HeatingConfig

# The kinds as this plugin names them; stored with the plugin's name in front
# (``ctx.kind(LEAK)``, ``ctx.kind_of(case)``), which the core adds.
LEAK = "leak"
GENERAL = "general"
LOW_TEMP = "low_temp"
OUTAGE_INQUIRY = "outage_inquiry"
FEE_INQUIRY = "fee_inquiry"
OUTAGE = "outage"
SHUTOFF_CHECK = "shutoff_check"
SHUTOFF_ESCALATION = "shutoff_escalation"
VISIT_SHORTFALL = "visit_shortfall"
AUDIT = "audit"
COAL_RETEST = "coal_retest"

# Customer-facing kinds: acknowledged, dispatched to the station on duty, called back.
CUSTOMER_KINDS = (LEAK, GENERAL, LOW_TEMP, OUTAGE_INQUIRY, FEE_INQUIRY)
# The customer kinds that are questions, answered (resolved) within their reply deadline.
INQUIRY_KINDS = (OUTAGE_INQUIRY, FEE_INQUIRY)
# What each text category of rules.match_text opens (a stated low temperature opens LOW_TEMP).
CATEGORY_KINDS = {"leak": LEAK, "general": GENERAL, "outage": OUTAGE_INQUIRY, "fee": FEE_INQUIRY}


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
        OUTAGE_INQUIRY: KindSpec("停供暖咨询", "HT", False, d.outage_inquiry, True),
        FEE_INQUIRY: KindSpec("采暖费咨询", "HT", False, d.fee_inquiry, True),
        OUTAGE: KindSpec("停缓供", "HTO", True, None, False),
        SHUTOFF_CHECK: KindSpec("关栓抽查", "HTS", False, d.shutoff_check, False),
        SHUTOFF_ESCALATION: KindSpec("欠费未关栓", "HTS", False, d.shutoff_check, False),
        VISIT_SHORTFALL: KindSpec("包保走访不足", "HTV", False, None, False),
        AUDIT: KindSpec("稽查整改", "HTA", False, d.audit_rectification, False),
        COAL_RETEST: KindSpec("煤质复检", "HTC", False, d.coal_retest, False),
    }


# The resolution chain of customer cases, as the core sees it: three placeholders the
# kinds' resolve_role fills per case, when each notification goes out, from the case's
# station: station on duty → branch head → CS-centre head (rules.escalation_level).
CHAIN_LEVELS = ("chain:station", "chain:branch", "chain:centre")


def chain_resolver(cfg: HeatingConfig) -> Callable[[str, Case, Ctx], list[str] | None]:
    """The kinds' ``resolve_role``: a chain placeholder → the [staff] target of this case's level."""

    def resolve_role(role: str, case: Case, ctx: Ctx) -> list[str] | None:
        if role not in CHAIN_LEVELS:
            return None  # the owner (warnings) and any other target: resolved through [staff]
        station = (case.data or {}).get("station") or case.unit
        return rules.escalation_level(station, CHAIN_LEVELS.index(role) + 1, cfg)

    return resolve_role


def spec_of(ctx: Ctx, case: Case) -> KindSpec:
    """What the plugin knows of ``case``'s kind (one of its own)."""
    return kind_specs(ctx.config)[ctx.kind_of(case) or case.kind]


def case_kinds(cfg: HeatingConfig) -> list[CaseKind]:
    """The CaseKinds registered with the core, with their 24x7 deadlines.

    Customer kinds escalate along their station's chain (:data:`CHAIN_LEVELS`,
    answered by :func:`chain_resolver`); the other kinds go to the CS-centre head.
    """
    top = (cfg.cs_centre_head,) if cfg.cs_centre_head else ()
    resolver = chain_resolver(cfg)
    out = []
    for name, spec in kind_specs(cfg).items():
        policies: list[DeadlinePolicy] = []
        if spec.resolve_within is not None:
            policies.append(
                DeadlinePolicy.resolution(
                    spec.resolve_within,
                    clock="24x7",
                    chain=CHAIN_LEVELS if spec.chain else top,
                    channels=("sms", "email"),
                    repeat_every=cfg.deadlines.escalate_every,
                    # 专人24小时值守 (seed): heating escalations go out day and night.
                    working_hours_only=False,
                )
            )
        if name in CUSTOMER_KINDS:
            policies.append(DeadlinePolicy.callback(cfg.deadlines.callback_wait, clock="24x7"))
        out.append(
            CaseKind(
                name=name,
                title=spec.title,
                prefix=spec.prefix,
                urgent=spec.urgent,
                policies=tuple(policies),
                resolve_role=resolver if spec.chain else None,
            )
        )
    return out
