"""The complaints plugin's staff-console action: the contractor notice (工程维修通知单) of a repair.

It calls the same function as ``kefu complaints assign-contractor``: the contractor job
opens with its notice, and the repair waits for its acceptance (收方/验收).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from kefu.api import OPEN_STATES, Case, ConsoleAction, ConsoleField, parse_duration
from kefu.plugins.complaints import actions
from kefu.plugins.complaints.config import Ctx
from kefu.plugins.complaints.kinds import case_kinds, is_repair


def contractor_notice(ctx: Ctx, case: Case | None, values: Mapping[str, str], actor: str) -> str:
    """Give the repair to a contractor; the job's number is what the page shows."""
    assert case is not None
    due_text = (values.get("due") or "").strip()
    due: timedelta | None = parse_duration(due_text) if due_text else None
    job = actions.assign_contractor(
        ctx,
        case.number,
        values.get("contractor", ""),
        due=due,
        instructions=values.get("instructions", ""),
        actor=actor,
    )
    return f"已向第三方发出工程维修通知单，工单 {job.number}"


def console_actions(ctx: Ctx) -> list[ConsoleAction]:
    """The actions ``kefu_console_actions`` returns (only when contractors are configured)."""
    cfg = ctx.config
    if not cfg.contractors:
        return []
    repairs = tuple(k.name for k in case_kinds(cfg) if is_repair(k.name))
    run: Any = contractor_notice
    return [
        ConsoleAction(
            name="contractor_notice",
            label="发第三方维修通知单",
            kinds=repairs,
            run=run,
            states=tuple(sorted(OPEN_STATES)),
            fields=(
                ConsoleField(
                    "contractor",
                    "第三方单位",
                    type="select",
                    required=True,
                    choices=tuple((key, c.name) for key, c in sorted(cfg.contractors.items())),
                ),
                ConsoleField("due", "完成时限", help="如 5d、48h；留空按默认"),
                ConsoleField("instructions", "维修要求", type="textarea"),
            ),
        )
    ]
