"""The core's actions on a case page, each through the same function the ``kefu cases`` commands call.

Each action takes the case's owner context bound to the writer's transaction, acts
with the signed-in person's staff key as the actor (so it is a case event with their
name) and returns the line the page shows. A ``ValueError`` (CaseError,
IllegalTransition, TransitionRefused, ReplyError) refuses it; the transaction then
rolls back and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.console.access import Viewer
from kefu.db.models import Case, Customer, Letter
from kefu.kinds import DONE_STATES, OPEN_STATES
from kefu.outbound.replies import REPLY_TEMPLATES, attach_evidence, letter_to_customer, reply_to_customer
from kefu.sla import cases as core

if TYPE_CHECKING:
    from kefu.app import App
    from kefu.context import PluginContext

File = tuple[str, str, bytes]
Handler = Callable[["PluginContext[Any]", Case, Mapping[str, str], str, File | None], str]

# Staying within what a reason field of the history holds.
_REASON = 1000


def _reason(values: Mapping[str, str]) -> str | None:
    text = (values.get("reason") or "").strip()
    return text[:_REASON] or None


def _assign(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    owner = (values.get("owner") or "").strip()
    core.assign(ctx, case, owner, actor=actor, reason=_reason(values))
    person = ctx.person(owner)
    return f"已派给 {person.name if person else owner}"


def _step(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    step = (values.get("step") or "").strip()
    core.set_step(ctx, case, step, actor=actor, reason=_reason(values))
    return f"已进入步骤：{step}"


def _pause(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    reason = _reason(values)
    if not reason:
        raise core.CaseError("暂停需要填写原因（等待客户或第三方）")
    core.record_event(ctx, case, "paused", actor=actor, reason=reason, to_state="waiting_customer")
    return "已暂停计时"


def _resume(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    if case.state != "waiting_customer":
        raise core.CaseError(f"工单 {case.number} 未暂停")
    core.record_event(ctx, case, "resumed", actor=actor, reason=_reason(values), to_state="in_progress")
    return "已恢复计时"


def _reply(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    template = (values.get("template") or "").strip() or None
    channel = (values.get("channel") or "email").strip()
    if channel not in ("email", "sms"):
        raise core.CaseError(f"unknown channel {channel!r}")
    once = (values.get("once") or "").strip() or None
    row = reply_to_customer(
        ctx, case, channel=channel, actor=actor, template=template, text=values.get("text") or "", once=once
    )
    if row is None and once:
        return "这条回复已经提交过，未重复发送"
    held = " (静默时段，稍后发送)" if row is not None and (row.data or {}).get("held") else ""
    return f"回复已排队（{'邮件' if channel == 'email' else '短信'}）{held}"


def _note(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    text = (values.get("text") or "").strip()
    if not text:
        raise core.CaseError("备注不能为空")
    core.record_event(ctx, case, "note", actor=actor, reason=text[:_REASON])
    return "已添加内部备注"


def _resolve(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    core.resolve(ctx, case, actor=actor, reason=_reason(values))
    return "已标记为已解决，回访时限开始"


def _close(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    core.close(ctx, case, actor=actor, reason=_reason(values))
    return "已关闭"


def _reopen(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    core.reopen(ctx, case, actor=actor, reason=_reason(values))
    return "已重新打开"


def _callback(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    answer = (values.get("answer") or values.get("score") or "").strip()
    score = {"satisfied": 5, "unsatisfied": 2}.get(answer)
    if score is None:
        try:
            score = int(answer)
        except ValueError as exc:
            raise core.CaseError("请选择回访结果（满意 / 不满意 / 1–5 分）") from exc
    core.record_callback(ctx, case, score, actor=actor, reason=_reason(values) or "控制台回访")
    return f"回访已记录（{score} 分）：" + ("已关闭" if case.state == "closed" else "不满意，已重新打开")


def _letter(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    once = (values.get("once") or "").strip() or None
    if letter_to_customer(ctx, case, text=values.get("text") or "", actor=actor, once=once) is None and once:
        return "这封信已经提交过，未重复打印"
    return "书面答复已排队打印，生成后可在「信件」中预览并记录 EMS 单号"


def _ems(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    letter_id = int(values.get("letter") or 0)
    number = (values.get("ems") or "").strip()
    letter = ctx.db().get(Letter, letter_id)
    if letter is None or letter.case_id != case.id:
        raise core.CaseError("没有这封信件")
    if not number:
        raise core.CaseError("请填写 EMS 单号")
    letter.ems_number, letter.posted_at = number[:64], ctx.now()
    core.record_event(ctx, case, "letter_posted", actor=actor, reason=f"EMS {number}", data={"letter_id": letter.id})
    return f"已记录寄出（EMS {number}）"


def _evidence(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, file: File | None) -> str:
    if file is None or not file[2]:
        raise core.CaseError("请选择要上传的文件")
    name, ctype, content = file
    if len(content) > 20 * 1024 * 1024:
        raise core.CaseError("文件超过 20 MB")
    attach_evidence(
        ctx, case, filename=name, content_type=ctype, content=content, actor=actor, note=(values.get("text") or "")
    )
    return f"已添加证据：{name}"


def _ack(ctx: PluginContext[Any], case: Case, values: Mapping[str, str], actor: str, _f: File | None) -> str:
    core.acknowledge_escalation(ctx, case, actor=actor, reason=_reason(values))
    return "已确认升级，提醒不再重复"


# name → (label, handler, the states it applies to)
CORE_ACTIONS: dict[str, tuple[str, Handler, frozenset[str]]] = {
    "assign": ("派单", _assign, OPEN_STATES),
    "step": ("下一步", _step, OPEN_STATES),
    "pause": ("暂停", _pause, OPEN_STATES - {"waiting_customer"}),
    "resume": ("恢复", _resume, frozenset({"waiting_customer"})),
    "reply": ("回复客户", _reply, OPEN_STATES | DONE_STATES),
    "note": ("内部备注", _note, OPEN_STATES | DONE_STATES),
    "resolve": ("解决", _resolve, OPEN_STATES),
    "close": ("关闭", _close, OPEN_STATES | frozenset({"resolved", "callback"})),
    "reopen": ("重新打开", _reopen, DONE_STATES),
    "callback": ("记录回访", _callback, frozenset({"resolved", "callback"})),
    "letter": ("打印信件", _letter, OPEN_STATES | DONE_STATES),
    "ems": ("记录寄出", _ems, OPEN_STATES | DONE_STATES),
    "evidence": ("添加证据", _evidence, OPEN_STATES | DONE_STATES),
    "ack": ("确认升级", _ack, OPEN_STATES),
}


def available(case: Case, viewer: Viewer) -> set[str]:
    """The core actions that apply to ``case`` in its state (the viewer may see it: checked before)."""
    return {name for name, (_label, _fn, states) in CORE_ACTIONS.items() if case.state in states}


def run_core_action(
    app: App,
    session: Session,
    case: Case,
    viewer: Viewer,
    action: str,
    values: Mapping[str, str],
    file: File | None = None,
) -> str:
    """Run core ``action`` on ``case`` as ``viewer`` in ``session``; its line for the page."""
    entry = CORE_ACTIONS.get(action)
    if entry is None:
        raise core.CaseError(f"没有操作 {action}")
    label, handler, states = entry
    if case.state not in states:
        raise core.CaseError(f"工单 {case.number} 当前为「{case.state}」，不能{label}")
    return handler(app.context(case.plugin, session), case, values, viewer.key, file)


def _scoped(session: Session, viewer: Viewer, numbers: list[str]) -> tuple[list[Case], list[str]]:
    cases = list(session.scalars(select(Case).where(Case.number.in_(numbers), viewer.scope())))
    found = {c.number for c in cases}
    return cases, [n for n in numbers if n not in found]


def bulk_plan(
    session: Session, viewer: Viewer, numbers: list[str], op: str, values: Mapping[str, str]
) -> dict[str, Any]:
    """What a bulk action would do: how many cases it applies to and how many messages it would queue."""
    cases, missing = _scoped(session, viewer, numbers)
    applies = [c for c in cases if c.state in CORE_ACTIONS[op][2]]
    messages = 0
    if op == "reply":
        channel = values.get("channel") or "email"
        ids = {c.customer_id for c in applies if c.customer_id}
        customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))} if ids else {}
        for case in applies:
            cust = customers.get(case.customer_id) if case.customer_id else None
            if cust is not None and (cust.email if channel == "email" else cust.phone):
                messages += 1
    return {
        "cases": len(applies),
        "skipped": len(cases) - len(applies) + len(missing),
        "messages": messages,
        "label": {"assign": "派单", "resolve": "解决", "close": "关闭", "reply": "模板回复"}[op],
    }


def run_bulk(
    app: App, session: Session, viewer: Viewer, numbers: list[str], op: str, values: Mapping[str, str]
) -> dict[str, Any]:
    """Apply ``op`` to each case in scope, each in a savepoint: a refused one is reported, the rest done."""
    cases, missing = _scoped(session, viewer, numbers)
    done = queued = 0
    refused = [f"{n}：无权或不存在" for n in missing]
    for case in cases:
        try:
            with session.begin_nested():
                line = run_core_action(app, session, case, viewer, op, values)
        except ValueError as exc:
            refused.append(f"{case.number}：{exc}")
            continue
        done += 1
        queued += op == "reply" and "排队" in line
    return {"done": done, "queued": queued, "refused": refused}


__all__ = ["CORE_ACTIONS", "REPLY_TEMPLATES", "available", "bulk_plan", "run_bulk", "run_core_action"]
