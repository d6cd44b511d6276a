"""Calling the registration hooks and checking what they return before anything runs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from kefu.channels.silence import alarm_staff_problems
from kefu.jobs import CronJob, make_trigger
from kefu.kinds import CaseKind
from kefu.outbound.health import outbox_alarm_problems
from kefu.sla.registration import add_core_jobs, calendar_warnings, check_kind

if TYPE_CHECKING:
    from kefu.app import App


@dataclass
class Registrations:
    """What the enabled plugins registered: case kinds and cron jobs, checked."""

    kinds: dict[str, CaseKind] = field(default_factory=dict)
    jobs: dict[str, tuple[str, CronJob]] = field(default_factory=dict)


def _own_templates(kind: CaseKind, plugin: str) -> CaseKind:
    """``kind`` with its policies' template names without a folder taken as the plugin's own."""

    def qualified(name: str) -> str:
        return name if "/" in name else f"{plugin}/{name}"

    policies = tuple(
        replace(p, template=qualified(p.template), warning_template=qualified(p.warning_template))
        for p in kind.policies
    )
    return kind if policies == kind.policies else replace(kind, policies=policies)


def collect_registrations(app: App) -> tuple[Registrations, list[str]]:
    """Call ``kefu_case_kinds`` and ``kefu_schedule`` on every plugin and validate the results.

    Raises PluginError when a registration hook raises and ValueError naming the
    plugin when a result is malformed: the start (or reload) is refused.
    """
    regs = Registrations()
    warnings: list[str] = []
    for plugin, kinds in app.calls.case_kinds(app.context):
        for kind in kinds:
            if not isinstance(kind, CaseKind):
                raise ValueError(f"plugin {plugin!r}: kefu_case_kinds returned {kind!r}, not a CaseKind")
            # A plugin names its kinds without its own name ("leak" is heating.leak).
            if not kind.name.startswith(plugin + "."):
                kind = replace(kind, name=f"{plugin}.{kind.name}")
            kind = _own_templates(kind, plugin)
            if kind.name in regs.kinds:
                raise ValueError(f"plugin {plugin!r}: case kind {kind.name!r} is declared twice")
            problems, notes = check_kind(app, kind)
            if problems:
                raise ValueError(f"plugin {plugin!r}: case kind {kind.name!r}: " + "; ".join(problems))
            warnings.extend(f"case kind {kind.name}: {note}" for note in notes)
            regs.kinds[kind.name] = kind
    for plugin, jobs in app.calls.schedules(app.context):
        for job in jobs:
            if not isinstance(job, CronJob):
                raise ValueError(f"plugin {plugin!r}: kefu_schedule returned {job!r}, not a CronJob")
            full_id = f"{plugin}.{job.id}"
            if full_id in regs.jobs:
                raise ValueError(f"plugin {plugin!r}: cron job {job.id!r} is declared twice")
            try:
                make_trigger(job.schedule, app.settings.tz)
            except ValueError as exc:
                raise ValueError(f"plugin {plugin!r}: cron job {job.id!r}: {exc}") from exc
            regs.jobs[full_id] = (plugin, job)
    alarm_problems, alarm_warnings = alarm_staff_problems(app.settings)
    staff_problems = app.settings.staff.problems() + alarm_problems + outbox_alarm_problems(app.settings)
    if staff_problems:
        raise ValueError("; ".join(staff_problems))
    warnings.extend(alarm_warnings)
    warnings.extend(calendar_warnings(app))
    add_core_jobs(app, regs)
    return regs, warnings
