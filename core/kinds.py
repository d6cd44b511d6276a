"""Case kinds and their deadline policies, as plugins declare them through ``kefu_case_kinds``.

A plugin declares one :class:`CaseKind` per kind of matter, with its policies::

    CaseKind(
        name="heating.leak", title="跑冒漏", prefix="HT", urgent=True,
        policies=(
            DeadlinePolicy.resolution(
                cfg.leak_within, clock="24x7",            # "4h" from [heating]
                chain=("rota:station-{unit}", "branch_head", "cs_head"),
                channels=("email", "sms"),
            ),
        ),
    )

    CaseKind(
        name="complaints.repair", title="报修", prefix="CR", reopen_on_reply=True,
        steps=("沟通联系", "现场查看", "责任判定", "方案制定", "工作指派", "维修关闭"),
        policies=(
            DeadlinePolicy.first_response(cfg.first_contact, clock="workday", chain=CHAIN),
            DeadlinePolicy.for_step("现场查看", cfg.site_visit, clock="workday", chain=CHAIN),
            DeadlinePolicy.resolution(cfg.closure, clock="workday", chain=CHAIN),
            DeadlinePolicy.callback(WholeDays(3), chain=("project_cs",)),
        ),
    )

``within`` is a duration (``timedelta`` or "4h") counted on the policy's clock
(``24x7`` or ``workday``), or :class:`WholeDays` (calendar days with the legal
roll-over, or working days). A chain level names a role of ``[staff.roles]``, a
person of ``[staff.people]`` or a rota (``rota:NAME``); ``{unit}`` in it is
replaced by the case's unit (one duty rota per station).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from kefu.durations import parse_duration

if TYPE_CHECKING:
    from kefu.context import PluginContext
    from kefu.db.models import Case

Clock = Literal["24x7", "workday"]
Channel = Literal["email", "sms"]

# The lifecycle's states (see kefu.sla.lifecycle for the transitions).
OPEN_STATES = frozenset({"new", "acknowledged", "assigned", "in_progress", "waiting_customer"})
DONE_STATES = frozenset({"resolved", "callback", "closed"})


@dataclass(frozen=True)
class WholeDays:
    """A period of whole days: calendar days (legal roll-over) or working days ("5 个工作日")."""

    days: int
    working: bool = False

    def __str__(self) -> str:
        return f"{self.days} {'working' if self.working else 'calendar'} days"


@dataclass(frozen=True)
class Level:
    """One level of an escalation chain: who (role, person or ``rota:NAME``) and on which channels.

    ``channels`` None means the policy's channels.
    """

    who: str
    channels: tuple[Channel, ...] | None = None


@dataclass(frozen=True)
class DeadlinePolicy:
    """When a deadline of a case runs, how long it has, and who hears of it.

    A deadline runs while the case is in one of ``active_states`` (and, for a step
    policy, while the case is at ``step``): entering that window opens a new round,
    leaving it meets the deadline, and time spent in ``pause_states`` does not count.
    ``warn_at`` (share of the time, None → ``[sla] warn_at``) warns the current owner;
    at breach the chain's first level is told, then each ``repeat_every``
    (None → ``[sla] repeat_every``) the next level, the top level repeating up to
    ``max_repeats`` times, until the escalation is acknowledged or the deadline met.
    ``working_hours_only`` (None → not ``urgent`` of the kind) holds staff
    notifications until working time.
    """

    name: str
    within: timedelta | WholeDays
    clock: Clock = "24x7"
    chain: tuple[Level, ...] = ()
    active_states: frozenset[str] = OPEN_STATES
    pause_states: frozenset[str] = frozenset({"waiting_customer"})
    step: str | None = None
    warn_at: float | None = None
    repeat_every: timedelta | None = None
    max_repeats: int | None = None
    channels: tuple[Channel, ...] = ("email",)
    working_hours_only: bool | None = None
    template: str = "core/escalation.txt"
    warning_template: str = "core/warning.txt"

    @staticmethod
    def _within(within: timedelta | WholeDays | str) -> timedelta | WholeDays:
        return within if isinstance(within, WholeDays) else parse_duration(within)

    @staticmethod
    def _chain(chain: tuple[Level | str, ...] | list[Level | str]) -> tuple[Level, ...]:
        return tuple(level if isinstance(level, Level) else Level(level) for level in chain)

    @classmethod
    def first_response(
        cls,
        within: timedelta | WholeDays | str,
        *,
        chain: tuple[Level | str, ...] | list[Level | str] = (),
        **options: object,
    ) -> DeadlinePolicy:
        """First contact with the customer (回复): runs while the case is ``new``."""
        return cls(
            name="first_response",
            within=cls._within(within),
            chain=cls._chain(chain),
            active_states=frozenset({"new"}),
            **options,  # type: ignore[arg-type]
        )

    @classmethod
    def resolution(
        cls,
        within: timedelta | WholeDays | str,
        *,
        chain: tuple[Level | str, ...] | list[Level | str] = (),
        **options: object,
    ) -> DeadlinePolicy:
        """Resolution (关闭/解决): runs from opening (and each reopening) until resolved."""
        return cls(
            name="resolution",
            within=cls._within(within),
            chain=cls._chain(chain),
            active_states=OPEN_STATES,
            **options,  # type: ignore[arg-type]
        )

    @classmethod
    def callback(
        cls,
        within: timedelta | WholeDays | str,
        *,
        chain: tuple[Level | str, ...] | list[Level | str] = (),
        **options: object,
    ) -> DeadlinePolicy:
        """The callback (回访): runs from resolution until the customer's answer is recorded."""
        return cls(
            name="callback",
            within=cls._within(within),
            chain=cls._chain(chain),
            active_states=frozenset({"resolved", "callback"}),
            pause_states=frozenset(),
            **options,  # type: ignore[arg-type]
        )

    @classmethod
    def for_step(
        cls,
        step: str,
        within: timedelta | WholeDays | str,
        *,
        chain: tuple[Level | str, ...] | list[Level | str] = (),
        **options: object,
    ) -> DeadlinePolicy:
        """A process step (现场查看, 工作指派 …): runs while the open case is at ``step``."""
        return cls(
            name=f"step:{step}",
            within=cls._within(within),
            chain=cls._chain(chain),
            step=step,
            active_states=OPEN_STATES,
            **options,  # type: ignore[arg-type]
        )

    def describe(self) -> str:
        """``4h 24x7`` / ``2h workday`` / ``3 calendar days``, for listings."""
        if isinstance(self.within, WholeDays):
            return str(self.within)
        from kefu.durations import format_duration

        return f"{format_duration(self.within)} {self.clock}"


@dataclass(frozen=True)
class CaseKind:
    """A kind of case a plugin owns (``heating.leak``).

    ``prefix`` starts its case numbers (``HT`` → ``HT-2026-000123``); ``urgent``
    lets its customer notifications ignore quiet hours (leaks, outages) and its
    staff escalations go out at once, day or night. ``steps`` are the plugin's
    process steps within ``in_progress`` (the repair engineer's 现场查看 → 责任判定 …);
    ``policies`` its deadlines. ``reopen_on_reply``: a customer's reply to a
    resolved or closed case reopens it. ``satisfied_from``: the lowest callback
    score (1–5) that counts as satisfied; a lower one reopens the case
    ("每件必回访，直至用户满意为止").

    ``guard(case, to_state)`` (optional, pure, fast) returns the reason to refuse a
    state change, or None to allow it; it is asked for every change, whoever makes
    it (``kefu cases close``, a plugin, intake), and a refusal raises
    :class:`kefu.sla.cases.TransitionRefused` with that reason, writing nothing::

        guard=lambda case, to: ("收方验收 outstanding: " + ", ".join(case.data["acceptance_pending"])
                                if to in ("resolved", "closed") and case.data.get("acceptance_pending")
                                else None)

    ``resolve_role(target, case, ctx)`` (optional) says who a chain target means for
    this case: a list of targets (staff keys, ``[staff.roles]`` roles, ``rota:NAME``),
    or None to resolve it the usual way. Chain targets of a kind with ``resolve_role``
    are not checked against ``[staff]`` at start (the plugin answers for them). A
    plugin keeps per-project roles in its own config this way; roles named per unit
    (``repair_manager@{unit}``, with ``repair_manager@P01`` in ``[staff.roles]``) need
    no function.
    """

    name: str
    title: str
    prefix: str
    urgent: bool = False
    steps: tuple[str, ...] = field(default_factory=tuple)
    policies: tuple[DeadlinePolicy, ...] = field(default_factory=tuple)
    reopen_on_reply: bool = False
    satisfied_from: int = 4
    guard: Callable[[Case, str], str | None] | None = None
    resolve_role: Callable[[str, Case, PluginContext], list[str] | None] | None = None

    def policy(self, name: str) -> DeadlinePolicy | None:
        """The policy called ``name`` (``resolution``, ``step:现场查看``), or None."""
        return next((p for p in self.policies if p.name == name), None)
