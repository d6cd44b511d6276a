"""The complaints plugin's case kinds, and its deadlines on the SLA engine's calendar.

Each kind's steps and deadline policies come from ``[complaints]``; the SLA engine
opens, meets and times the deadlines. The plugin handles them when due
(``kefu_deadline_due``) because its escalation goes up each project's own roles.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from kefu.api import Case, CaseKind, Deadline, DeadlinePolicy, Level
from kefu.plugins.complaints.config import REPAIR_STEPS, ROLE_NAMES, ComplaintsConfig, Ctx

# The kinds as this plugin names them; stored with the plugin's name in front
# (``ctx.kind(REPAIR)``, ``ctx.kind_of(case)``), which the core adds.
REPAIR = "repair"
COMPLAINT = "complaint"
INQUIRY = "inquiry"
SUGGESTION = "suggestion"
THIRD_PARTY = "third_party"
COMPENSATION = "compensation"
ASSESSMENT = "assessment"
MILESTONE = "milestone"
DEFECT_REPORT = "defect_report"

FEEDBACK = {"complaint": COMPLAINT, "inquiry": INQUIRY, "suggestion": SUGGESTION}
COMPENSATION_STEPS: tuple[str, ...] = ("协商谈判", "责任方函件", "付款申请", "资料存档")
THIRD_PARTY_STEPS: tuple[str, ...] = ("维修通知", "维修施工", "收方验收")
ASSESSMENT_STEPS: tuple[str, ...] = ("组织评估", "整改方案")


# What a caller without a context (a test, a report over a session) takes as the plugin's
# name: this package's folder. Hooks and commands pass ``ctx.name``.
PACKAGE = __name__.split(".")[-2]


def repair_kind(cls_name: str, cfg: ComplaintsConfig) -> str:
    """The kind of a repair of class ``cls_name``: the default class is plain ``repair``."""
    return REPAIR if cls_name == cfg.repair.default_class else f"{REPAIR}.{cls_name}"


def is_repair(kind: str | None) -> bool:
    """True for a repair of any class (``kind`` as the plugin names it)."""
    return kind is not None and (kind == REPAIR or kind.startswith(REPAIR + "."))


def acceptance_refusal(case: Case, to_state: str) -> str | None:
    """The repair kinds' guard: no resolve or close while a contractor's 收方验收 is outstanding.

    The seed requires 收方、验收 before a contractor's repair closes; as the kind's
    ``guard`` this holds for every path (``kefu cases resolve``, ``kefu complaints
    resolve``, a plugin), and the acceptance clears ``acceptance_pending``.
    """
    pending = (case.data or {}).get("acceptance_pending") or []
    if to_state in ("resolved", "closed") and pending:
        return (
            f"收方验收 outstanding for contractor job(s) {', '.join(pending)}; run `kefu complaints accept JOB` first"
        )
    return None


def case_kinds(cfg: ComplaintsConfig) -> list[CaseKind]:
    """Every kind of case the plugin owns, with its deadline policies from ``[complaints]``.

    One repair kind per repair class, so each has its own closure time (plumbing
    leak 48 h, general 7 d). Chains name the plugin's roles (engineer → repair
    manager → head) and :func:`resolve_role` reads their holders per project.
    """
    satisfied = cfg.callback.reopen_below
    callback = DeadlinePolicy.callback(cfg.callback.within)
    repair_steps = tuple(
        DeadlinePolicy.for_step(step, rule.within, clock=rule.clock) for step, rule in cfg.repair.steps.items()
    )
    out = [
        CaseKind(
            repair_kind(name, cfg),
            f"报修/报事（{cls.title}）",
            "BX",
            urgent=cls.urgent,
            steps=REPAIR_STEPS,
            policies=(*repair_steps, DeadlinePolicy.resolution(cls.closure, clock=cls.closure_clock), callback),
            satisfied_from=satisfied,
            guard=acceptance_refusal,
        )
        for name, cls in cfg.repair.classes.items()
    ]
    fb = cfg.feedback
    for kind, title, prefix in ((COMPLAINT, "投诉", "TS"), (INQUIRY, "咨询", "ZX"), (SUGGESTION, "建议", "JY")):
        out.append(
            CaseKind(
                kind,
                title,
                prefix,
                satisfied_from=satisfied,
                policies=(
                    DeadlinePolicy.first_response(fb.reply_within, clock=fb.clock),
                    DeadlinePolicy.resolution(fb.resolve_within, clock=fb.clock),
                    callback,
                ),
            )
        )
    tp = cfg.third_party
    out.append(
        CaseKind(
            THIRD_PARTY,
            "第三方维修",
            "WX",
            steps=THIRD_PARTY_STEPS,
            policies=(
                DeadlinePolicy.for_step("维修施工", tp.default_due),
                DeadlinePolicy.for_step("收方验收", tp.acceptance_within),
            ),
        )
    )
    comp = cfg.compensation
    out.append(
        CaseKind(
            COMPENSATION,
            "客户赔付",
            "PF",
            steps=COMPENSATION_STEPS,
            policies=tuple(
                DeadlinePolicy.for_step(step, within)
                for step, within in zip(
                    COMPENSATION_STEPS,
                    (comp.negotiation_within, comp.letter_within, comp.payment_within, comp.archive_within),
                    strict=True,
                )
            ),
        )
    )
    lead = timedelta(days=max(cfg.assessment.milestone_lead_days, 1))
    out.append(
        CaseKind(
            ASSESSMENT,
            "交付后客户体验评估",
            "PG",
            steps=ASSESSMENT_STEPS,
            policies=(
                DeadlinePolicy.for_step(ASSESSMENT_STEPS[0], lead),
                DeadlinePolicy.for_step(ASSESSMENT_STEPS[1], cfg.assessment.rectification_within),
            ),
        )
    )
    out.append(CaseKind(MILESTONE, "风控节点评估", "FK", policies=(DeadlinePolicy.resolution(lead),)))
    # [complaints] warn_share times every warning, explicit due times included (the engine's share).
    # The chains are plain role names that resolve_role reads per project: kefu_deadline_due
    # walks them; the core's own chain uses them if the hook keeps failing (sweep fallback).
    return [
        replace(
            k,
            resolve_role=resolve_role,
            policies=tuple(
                replace(
                    p,
                    warn_at=cfg.warn_share,
                    chain=tuple(Level(role) for role in chain_of(cfg, k.name)),
                    repeat_every=cfg.escalation_repeat,
                    max_repeats=cfg.escalation_max_repeats,
                )
                for p in k.policies
            ),
        )
        for k in out
    ]


def resolve_role(target: str, case: Case, ctx: Ctx) -> list[str] | None:
    """Who chain target ``target`` means for ``case``: the role's holders in the case's project.

    A complaints role (``repair_manager``) is read from ``[complaints.projects.<code>.roles]``
    (else ``[complaints.roles]``): staff keys as they are, rotas as ``rota:NAME``. Any other
    target is None, resolved through ``[staff]`` as usual.
    """
    if target not in ROLE_NAMES:
        return None
    cfg = ctx.config
    people = ctx.people
    holders = [h if h in people else f"rota:{h}" for h in cfg.roles_for(case.unit).holders(target)]
    if not holders:
        raise ValueError(
            f"nobody holds role {target!r} for project {case.unit!r}: set "
            f"[complaints.projects.{case.unit}.roles] {target} or [complaints.roles] {target}"
        )
    return holders


def current_round(case: Case) -> int:
    """The case's round: 1, then +1 each time it was reopened (counted by the plugin)."""
    return int(case.data.get("round", 1))


def chain_of(cfg: ComplaintsConfig, kind: str | None) -> list[str]:
    """The roles a breach of a ``kind`` case's deadlines goes up, first the one warned before breach."""
    if is_repair(kind) or kind == THIRD_PARTY:
        return list(cfg.repair.escalation)
    if kind in (COMPLAINT, INQUIRY, SUGGESTION, COMPENSATION):
        return list(cfg.feedback.escalation)
    return ["risk_control", "head"]


def chain_for(ctx: Ctx, case: Case) -> list[str]:
    """The roles a breach of ``case``'s deadlines goes up (:func:`chain_of` its kind)."""
    return chain_of(ctx.config, ctx.kind_of(case))


def open_deadline_rows(ctx: Ctx, case: Case) -> list[Deadline]:
    """The case's open deadlines (as the SLA engine keeps them)."""
    return list(ctx.db().scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "open")))
