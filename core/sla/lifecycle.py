"""The case lifecycle: states, legal transitions and the errors for illegal ones.

new → acknowledged → assigned → in_progress → waiting_customer → resolved →
callback (回访) → closed, with reopen from resolved, callback and closed. A plugin's
process steps (现场查看 → 责任判定 …) live inside the open states as ``case.step``.
"""

from __future__ import annotations

from kefu.kinds import DONE_STATES, OPEN_STATES

STATES: tuple[str, ...] = (
    "new",
    "acknowledged",
    "assigned",
    "in_progress",
    "waiting_customer",
    "resolved",
    "callback",
    "closed",
)

LABELS: dict[str, str] = {
    "new": "新建",
    "acknowledged": "已受理",
    "assigned": "已派单",
    "in_progress": "处理中",
    "waiting_customer": "等待客户",
    "resolved": "已解决",
    "callback": "回访中",
    "closed": "已关闭",
}

# Any open state may move to any other open state (reassignment, waiting on the customer and
# back), be resolved, or be closed outright (duplicate, withdrawn); done states only move on
# through callback to closed, or are reopened.
_TRANSITIONS: dict[str, frozenset[str]] = {
    **{state: (OPEN_STATES - {state, "new"}) | {"resolved", "closed"} for state in OPEN_STATES},
    "resolved": frozenset({"callback", "closed"}),
    "callback": frozenset({"closed"}),
    "closed": frozenset(),
}
REOPEN_FROM = DONE_STATES


class IllegalTransition(ValueError):
    """A state change the lifecycle does not allow; the message says what would be allowed."""

    def __init__(self, number: str, current: str, wanted: str) -> None:
        allowed = sorted(_TRANSITIONS.get(current, frozenset()))
        hint = f"allowed from {current!r}: {', '.join(allowed) or 'none'}"
        if current in REOPEN_FROM:
            hint += " (or reopen it)"
        super().__init__(f"case {number}: cannot go from {current!r} to {wanted!r}; {hint}")


def check_transition(number: str, current: str, wanted: str, *, reopen: bool = False) -> None:
    """Raise :class:`IllegalTransition` unless ``current`` → ``wanted`` is allowed."""
    if wanted not in STATES:
        raise IllegalTransition(number, current, wanted)
    if reopen:
        if current not in REOPEN_FROM or wanted not in OPEN_STATES:
            raise IllegalTransition(number, current, wanted)
        return
    if wanted not in _TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(number, current, wanted)


def reopen_state(owner: str | None) -> str:
    """Where a reopened case goes: back to its owner if it has one, else to triage."""
    return "assigned" if owner else "new"
